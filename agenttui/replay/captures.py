"""Failure captures: the ``failed_*.json`` files an agent writes when a request fails.

A capture holds the request's input (``query``, ``request_id``, ``context``) and what went wrong
(``error``, ``traceback``, ``timestamp``, ``failed_tool``). Captures are found under the paths
given on the command line (``sources.captures_in``) and in extra ``--captures`` directories,
re-scanned cheaply (one ``stat`` per file; only new or changed files are parsed again), and linked
to their trace by request id, or lacking one, by query and nearest time.

A capture that is not valid JSON, or lacks fields, is kept with its :attr:`Capture.problem`,
never dropped. Everything in a capture is untrusted text.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agenttui.ingest import sources
from agenttui.ingest.records import parse_time
from agenttui.model.traces import TraceIndex
from agenttui.safeopen import open_regular

MAX_CAPTURE_BYTES = 16 << 20
"""Larger capture files are listed with a problem instead of being read."""
MAX_DEPTH = 64
"""Captures nested deeper than this are listed with a problem instead of being used."""
MAX_FIELD_CHARS = 64 << 10
"""Longer ``error``/``traceback`` texts are cut to their last characters (the end of a
traceback holds the error) and the capture says so."""
LINK_WINDOW_S = 120.0
"""A capture without request id links to a failed trace with its query this close in time."""
_STAMP_RE = re.compile(r"failed_(\d{10,16})")


@dataclass(slots=True)
class Capture:
    """One capture file, read (or not: see :attr:`problem`)."""

    path: str
    request_id: str | None = None
    query: str | None = None
    error: str | None = None
    traceback: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    timestamp: float | None = None
    """Epoch seconds: the capture's ``timestamp``, else its file name's stamp, else its mtime."""
    failed_tool: str | None = None
    written_by: str | None = None
    """The capture's ``written_by`` marker (the demo agent writes one)."""
    problem: str | None = None
    """Why it cannot be fully used (not JSON, missing fields...), or None."""
    stat_key: tuple[int, int] = (0, 0)
    """``(mtime_ns, size)`` when read, to notice changes."""

    @property
    def name(self) -> str:
        """The file name."""
        return os.path.basename(self.path)

    @property
    def replayable(self) -> bool:
        """Whether it has an input to replay (a non-empty string query)."""
        return isinstance(self.query, str) and bool(self.query)

    def input(self) -> dict[str, Any]:
        """The request to send to a replay target: ``{"query", "request_id", "context"}``."""
        return {"query": self.query, "request_id": self.request_id, "context": self.context}


def _too_deep(value: Any) -> bool:
    """Whether a decoded JSON value nests deeper than :data:`MAX_DEPTH` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def _loads(raw: bytes) -> Any:
    """Python's json: accepts what orjson refuses (lone surrogates, NaN, huge integers)."""
    return json.loads(raw.decode("utf-8", errors="surrogateescape"))


def _text_field(
    obj: dict[str, Any], key: str, problems: list[str], required: bool = True
) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            problems.append(f'no "{key}"')
        return None
    if not isinstance(value, str):
        problems.append(f'"{key}" is not a string')
        return json.dumps(value, default=str)[:10_000]
    return value


def load(path: str) -> Capture:
    """Read one capture file; every problem is recorded on the result, nothing raises."""
    cap = Capture(path)
    try:
        with open_regular(path) as f:
            st = os.fstat(f.fileno())
            cap.stat_key = (st.st_mtime_ns, st.st_size)
            cap.timestamp = st.st_mtime
            if st.st_size > MAX_CAPTURE_BYTES:
                cap.problem = f"too large ({st.st_size:,} bytes; limit {MAX_CAPTURE_BYTES:,})"
                return cap
            raw = f.read(MAX_CAPTURE_BYTES + 1)
    except OSError as exc:
        cap.problem = f"cannot read: {exc.strerror or exc}"
        return cap
    if len(raw) > MAX_CAPTURE_BYTES:
        cap.problem = f"too large (over {MAX_CAPTURE_BYTES:,} bytes)"
        return cap
    stamp = _STAMP_RE.match(cap.name)
    if stamp:
        cap.timestamp = parse_time(int(stamp.group(1))) or cap.timestamp
    try:
        obj = _loads(raw)
    except RecursionError:
        cap.problem = f"nested deeper than {MAX_DEPTH} levels"
        return cap
    except ValueError as exc:
        cap.problem = f"not valid JSON: {str(exc).splitlines()[0][:200]}"
        return cap
    if _too_deep(obj):
        cap.problem = f"nested deeper than {MAX_DEPTH} levels"
        return cap
    if not isinstance(obj, dict):
        cap.problem = f"not a JSON object (a {type(obj).__name__})"
        return cap
    problems: list[str] = []
    cap.query = _text_field(obj, "query", problems)
    if cap.query == "":
        problems.append('"query" is empty')
    cap.request_id = _text_field(obj, "request_id", problems) or None
    cap.error = _text_field(obj, "error", problems)
    cap.traceback = _text_field(obj, "traceback", problems, required=False)
    for name in ("error", "traceback"):
        value = getattr(cap, name)
        if value is not None and len(value) > MAX_FIELD_CHARS:
            setattr(cap, name, "…" + value[-MAX_FIELD_CHARS:])
            problems.append(f'"{name}" cut to its last {MAX_FIELD_CHARS:,} characters')
    marker = obj.get("written_by")
    cap.written_by = marker if isinstance(marker, str) else None
    context = obj.get("context")
    if isinstance(context, dict):
        cap.context = context
    elif context is not None:
        problems.append('"context" is not an object')
    ts = parse_time(obj.get("timestamp"))
    if ts is not None:
        cap.timestamp = ts
    elif "timestamp" not in obj:
        problems.append('no "timestamp"')
    else:
        problems.append('"timestamp" is not a time')
    failed = obj.get("failed_tool")
    if isinstance(failed, dict) and isinstance(failed.get("tool"), str):
        cap.failed_tool = failed["tool"]
    elif isinstance(failed, str):
        cap.failed_tool = failed
    cap.problem = "; ".join(problems) or None
    return cap


def find(specs: Sequence[sources.Spec], extra_dirs: Iterable[str] = ()) -> list[str]:
    """Capture files under the specs and the extra directories (each once, sorted)."""
    found = list(sources.captures_in(list(specs)))
    for d in extra_dirs:
        found.extend(sources.captures_in([sources.Spec(d, "dir")]))
    seen: set[str] = set()
    out: list[str] = []
    for p in found:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return sorted(out)


def specs_for(paths: Sequence[str]) -> list[sources.Spec]:
    """Specs for capture paths given on a command line (files named anything are taken as is).

    Raises:
        sources.SourceError: A path does not exist or cannot be read.
    """
    return sources.parse_specs(list(paths))


def collect(paths: Sequence[str]) -> list[str]:
    """Capture files named by command-line paths: files as given, ``failed_*.json`` under
    directories and globs.

    Raises:
        sources.SourceError: A path does not exist or cannot be read.
    """
    out: list[str] = []
    for spec in specs_for(paths):
        if spec.kind == "file":
            out.append(spec.text)
        else:
            out.extend(sources.captures_in([spec]))
    return sources.unique_paths(out)


class CaptureStore:
    """The captures of a session, kept up to date by :meth:`refresh` (thread-safe)."""

    def __init__(self, specs: Sequence[sources.Spec], extra_dirs: Iterable[str] = ()) -> None:
        """Watch the captures under ``specs`` and ``extra_dirs``."""
        self.specs = list(specs)
        self.extra_dirs = list(extra_dirs)
        self.lock = threading.Lock()
        self._by_path: dict[str, Capture] = {}
        self._links: dict[str, str | None] = {}
        """Capture path -> linked request id (None: not linked yet)."""
        self.generation = 0
        """Bumped each time the set of captures or their links change."""

    def refresh(self) -> bool:
        """Look for new, changed and removed capture files. Safe to call from a thread.

        Returns:
            Whether anything changed.
        """
        paths = find(self.specs, self.extra_dirs)
        with self.lock:
            known = dict(self._by_path)
        changed = False
        fresh: dict[str, Capture] = {}
        for p in paths:
            old = known.get(p)
            try:
                st = os.stat(p)
                key = (st.st_mtime_ns, st.st_size)
            except OSError:
                key = (-1, -1)
            if old is not None and old.stat_key == key:
                fresh[p] = old
                continue
            fresh[p] = load(p)
            changed = True
        if set(fresh) != set(known):
            changed = True
        if changed:
            with self.lock:
                self._by_path = fresh
                self._links = {
                    p: link
                    for p, link in self._links.items()
                    if p in fresh and fresh[p] is known.get(p)
                }
                self.generation += 1
        return changed

    def all(self) -> list[Capture]:
        """Every capture, newest first."""
        with self.lock:
            caps = list(self._by_path.values())
        return sorted(caps, key=lambda c: -(c.timestamp or 0.0))

    def get(self, path: str) -> Capture | None:
        """The capture read from ``path``."""
        with self.lock:
            return self._by_path.get(path)

    def link_all(self, index: TraceIndex) -> dict[str, str]:
        """Link every capture to a trace of ``index`` (caller holds the session lock).

        Returns:
            Capture path -> request id of its trace, for the linked ones.
        """
        with self.lock:
            caps = list(self._by_path.values())
            links = self._links
        out: dict[str, str] = {}
        for cap in caps:
            rid = links.get(cap.path)
            if rid is None or rid not in index.traces:
                rid = link(index, cap)
                if rid is not None:
                    with self.lock:
                        if self._links.get(cap.path) != rid:
                            self._links[cap.path] = rid
                            self.generation += 1
            if rid is not None:
                out[cap.path] = rid
        return out

    def by_request(self, index: TraceIndex) -> dict[str, Capture]:
        """Request id -> its newest capture (caller holds the session lock)."""
        links = self.link_all(index)
        out: dict[str, Capture] = {}
        for cap in reversed(self.all()):
            rid = links.get(cap.path)
            if rid is not None:
                out[rid] = cap
        return out


def link(index: TraceIndex, cap: Capture) -> str | None:
    """The request id of ``cap``'s trace in ``index``, or None.

    By request id when the capture has one; else the failed trace with the same query whose
    start is nearest the capture's time (within :data:`LINK_WINDOW_S`).
    """
    if cap.request_id is not None:
        return cap.request_id if cap.request_id in index.traces else None
    if not cap.query:
        return None
    best: tuple[float, str] | None = None
    for t in index.traces.values():
        if t.query != cap.query:
            continue
        if cap.timestamp is None or math.isnan(t.start):
            gap = LINK_WINDOW_S
        else:
            gap = abs(t.start - cap.timestamp)
        if gap <= LINK_WINDOW_S and (best is None or gap < best[0]):
            best = (gap, t.request_id)
    return None if best is None else best[1]


__all__ = ["Capture", "CaptureStore", "collect", "find", "link", "load"]
