"""Replay history: each replay's input, settings, verdict, output and timing, as JSON files.

Kept in the private state directory (:mod:`agenttui.state`), never next to the production
logs::

    STATE/replays/<capture key>/<UTC time>-<verdict>.json

The capture key is derived from the capture's request id (else its file path), so the history
follows a capture that is copied elsewhere. Records are masked (:mod:`agenttui.output.secrets`)
before they are written, created 0600 through directory descriptors that never follow a
symlink, and capped: :data:`MAX_RECORD_BYTES` per record, :data:`MAX_RECORDS` per capture,
:data:`MAX_TOTAL_BYTES` in all (the oldest go first). Reading trusts nothing: a file that is not
a regular file, not owned by the user or too large is listed with its problem, never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from agenttui.output.secrets import mask_fields
from agenttui.replay.captures import Capture
from agenttui.state import StateDirError, open_dir, write_new
from agenttui.state import state_dir as state_dir

MAX_ENTRIES_READ: Final = 200
"""At most this many past replays are read for one capture (newest first)."""
MAX_RECORD_BYTES: Final = 256 << 10
"""A record is cut to this size: long texts keep their end, then the outputs go."""
MAX_FIELD_CHARS: Final = 32 << 10
MAX_RECORDS: Final = 50
"""Replays kept per capture (the oldest are removed)."""
MAX_TOTAL_BYTES: Final = 64 << 20
"""Replay history kept in all (the oldest records are removed)."""
_NAME_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[a-z-]+(?:-\d+)?\.json$")


class HistoryError(StateDirError):
    """The state directory cannot be used (one line)."""


def capture_key(capture: Capture) -> str:
    """A directory name for the capture's history: readable prefix plus a hash."""
    ident = capture.request_id or os.path.abspath(capture.path)
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", ident)[-40:].strip("._-") or "capture"
    digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{prefix}-{digest}"


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        return f"…({len(value) - MAX_FIELD_CHARS:,} characters cut)" + value[-MAX_FIELD_CHARS:]
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v) for v in value[:500]]
    return value


def _encode(record: dict[str, Any]) -> bytes:
    data = json.dumps(_cut(record), ensure_ascii=True, indent=1, default=str).encode()
    for drop in ("stdout", "stderr", "answer", "trace", "diff", "traceback"):
        if len(data) <= MAX_RECORD_BYTES:
            break
        record[drop] = "(dropped: the record was over its size cap)"
        data = json.dumps(_cut(record), ensure_ascii=True, indent=1, default=str).encode()
    return data


def save(root: Path, capture: Capture, entry: dict[str, Any]) -> Path:
    """Write one replay's record (masked, capped) and return its path.

    Raises:
        HistoryError: The state directory cannot be trusted, created or written.
    """
    key = capture_key(capture)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    verdict = re.sub(r"[^a-z]+", "-", str(entry.get("verdict", "unknown"))).strip("-")
    # Cut first (the end of each text is kept), then mask: masking is linear but not free.
    record = mask_fields(
        _cut(
            {
                "capture": capture.path,
                "capture_request_id": capture.request_id,
                "input": capture.input(),
                **entry,
            }
        )
    )
    data = _encode(record)
    try:
        with open_dir(root, "replays", key) as fd:
            name = write_new(fd, f"{stamp}-{verdict or 'unknown'}.json", data)
            _prune_capture(fd)
        _prune_total(root)
    except StateDirError as exc:
        raise HistoryError(f"cannot save the replay: {exc}") from None
    except OSError as exc:
        raise HistoryError(
            f"{root / 'replays' / key}: cannot save the replay: {exc.strerror or exc}"
        ) from None
    return root / "replays" / key / name


def _own_records(fd: int) -> list[tuple[str, os.stat_result]]:
    """Record files of a capture directory, oldest first, that are ours and regular."""
    out = []
    for name in os.listdir(fd):
        if not _NAME_RE.match(name):
            continue
        with contextlib.suppress(OSError):
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                out.append((name, st))
    return sorted(out)


def _prune_capture(fd: int) -> None:
    records = _own_records(fd)
    for name, _st in records[: max(0, len(records) - MAX_RECORDS)]:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=fd)


def _prune_total(root: Path) -> None:
    with open_dir(root, "replays") as top:
        files: list[tuple[str, str, int]] = []
        for key in os.listdir(top):
            try:
                with open_dir(root, "replays", key, create=False) as fd:
                    files += [(name, key, st.st_size) for name, st in _own_records(fd)]
            except (StateDirError, OSError):
                continue
    total = sum(size for _n, _k, size in files)
    for name, key, size in sorted(files):
        if total <= MAX_TOTAL_BYTES:
            break
        with (
            contextlib.suppress(StateDirError, OSError),
            open_dir(root, "replays", key, create=False) as fd,
        ):
            os.unlink(name, dir_fd=fd)
            total -= size


def _read(fd: int, name: str) -> dict[str, Any]:
    """One record, or ``{"file", "problem"}``."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        rfd = os.open(name, flags, dir_fd=fd)
    except OSError as exc:
        return {"problem": f"cannot read: {exc.strerror or exc}"}
    with os.fdopen(rfd, "rb") as f:
        st = os.fstat(rfd)
        if not stat.S_ISREG(st.st_mode):
            return {"problem": "not a regular file: ignored"}
        if st.st_uid != os.geteuid():
            return {"problem": f"owned by uid {st.st_uid}, not by you: ignored"}
        if st.st_size > 2 * MAX_RECORD_BYTES:
            return {"problem": f"too large ({st.st_size:,} bytes): ignored"}
        raw = f.read(2 * MAX_RECORD_BYTES)
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return {"problem": str(exc).splitlines()[0][:200]}
    if not isinstance(obj, dict):
        return {"problem": "not a JSON object"}
    return obj


def load(root: Path, capture: Capture, limit: int = MAX_ENTRIES_READ) -> list[dict[str, Any]]:
    """Past replays of ``capture``, newest first. A file that cannot be used is returned as
    ``{"file": ..., "problem": ...}``, not skipped; a state directory that cannot be trusted
    is one such entry."""
    key = capture_key(capture)
    folder = root / "replays" / key
    try:
        with open_dir(root, "replays", key, create=False) as fd:
            names = sorted((n for n in os.listdir(fd) if n.endswith(".json")), reverse=True)
            out: list[dict[str, Any]] = []
            for name in names[:limit]:
                entry = _read(fd, name)
                entry["file"] = str(folder / name)
                out.append(entry)
            return out
    except FileNotFoundError:
        return []
    except (StateDirError, OSError) as exc:
        return [{"file": str(folder), "problem": f"history not read: {exc}"}]


def verdicts(root: Path, capture: Capture, limit: int = 10) -> list[dict[str, Any]]:
    """The capture's past replay verdicts for an incident note, newest first:
    ``{"verdict", "started", "duration_ms", "error", "reason"}`` (or ``{"problem"}``)."""
    out: list[dict[str, Any]] = []
    for entry in load(root, capture, limit=limit):
        if "problem" in entry:
            out.append({"problem": str(entry["problem"])[:200]})
            continue
        out.append(
            {k: entry.get(k) for k in ("verdict", "started", "duration_ms", "error", "reason")}
        )
    return out


def verdict_hook(
    root: Path, by_request: Callable[[str], Capture | None]
) -> Callable[[str], list[dict[str, Any]]]:
    """An incident-note hook: request id -> the replay verdicts of its capture."""

    def hook(request_id: str) -> list[dict[str, Any]]:
        capture = by_request(request_id)
        return [] if capture is None else verdicts(root, capture)

    return hook


def last_verdicts(root: Path, caps: list[Capture]) -> dict[str, str]:
    """Capture path -> verdict of its newest usable replay record (read from the record, never
    from a file name: a planted ``...-fixed.json`` proves nothing)."""
    out: dict[str, str] = {}
    for cap in caps:
        for entry in load(root, cap, limit=5):
            verdict = entry.get("verdict")
            if "problem" not in entry and isinstance(verdict, str):
                out[cap.path] = verdict[:40]
                break
    return out


__all__ = [
    "HistoryError",
    "capture_key",
    "last_verdicts",
    "load",
    "save",
    "state_dir",
    "verdict_hook",
    "verdicts",
]
