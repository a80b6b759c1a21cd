"""Tell a structured log from the rest: binary files, source code, dependencies and caches.

A file is a log when its first lines are structured logs: JSON objects with log fields,
``key=value`` lines, or either wrapped by a container runtime (Docker's json-file, CRI). In a
directory given by hand a file named like a log (``*.log``...) is read too unless it is binary.

Safety: no symlink is followed out of the place being searched; FIFOs, sockets and devices are
never opened (``lstat`` first, then ``O_NONBLOCK | O_NOFOLLOW`` and ``fstat`` again); every read is
bounded.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import Any

import orjson

from agenttui.ingest import shapes

HEAD_BYTES = 16 << 10
"""Bytes read from a file's start to tell whether it is a structured log."""
TAIL_BYTES = 256 << 10
"""Bytes read from a file's end to count its requests and failures."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SKIP_DIRS = frozenset(
    {"node_modules", "__pycache__", "site-packages", "dist-packages", "venv", "env", "virtualenv"}
)
SOURCE_SUFFIXES = _words(
    ".py .pyi .pyc .pyo .pyx .ipynb .js .mjs .cjs .ts .tsx .jsx .go .rs .c .h .cc .cpp .hpp "
    ".java .kt .rb .php .sh .bash .zsh .pl .lua .swift .scala .cs .toml .ini .cfg .yaml .yml "
    ".md .rst .html .htm .css .scss .lock .sql .xml .svg .tf .mod .sum .in"
)
BINARY_SUFFIXES = _words(
    ".png .jpg .jpeg .gif .ico .pdf .so .o .a .dylib .dll .exe .whl .zip .xz .zst .tar .jar "
    ".class .db .sqlite .sqlite3 .pkl .pt .bin .woff .woff2 .ttf"
)
LOG_NAME = re.compile(r"\.(log|jsonl|ndjson|out|err)(\.\d+)?(\.gz|\.bz2)?$|\.log\.|_log$", re.I)
LOG_KEYS = _words(
    "timestamp time ts @timestamp level levelname severity event msg message request_id "
    "__REALTIME_TIMESTAMP resourceLogs resourceSpans record"
)
NOT_REGULAR = "not a regular file (FIFO, socket or device): never opened"
OUT_OF_BOUNDS = "symlink out of the searched directory: not followed"
CRI_LINE = re.compile(rb"^\S+ (stdout|stderr) [FP] (.*)$")


@dataclass(slots=True)
class Candidate:
    """A file (or journald) that holds structured logs."""

    path: str
    shape: str
    size: int
    mtime: float
    origin: str
    """Where it was found (``./logs``, ``$AGENTTUI_LOGS``...)."""
    requests: int = 0
    """Distinct request ids in the last :data:`TAIL_BYTES` of the file."""
    failures: int = 0
    """Failed requests (or error lines without a request id) in those last lines."""
    sampled: bool = False
    """Whether the counts cover only the end of the file."""


# --------------------------------------------------------------------------- one file


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def skip_dir(path: str, name: str) -> str | None:
    """Why a directory is never searched for logs, or None."""
    if name.startswith("."):
        return "hidden directory (.git, .venv, caches...)"
    lower = name.lower()
    if lower in SKIP_DIRS or lower.endswith("cache") or lower.endswith("_cache"):
        return "dependencies or cache"
    if os.path.exists(os.path.join(path, "pyvenv.cfg")):
        return "a Python virtualenv"
    return None


def _structured(lines: list[bytes]) -> str | None:
    """The shape of lines that are structured logs, else None."""
    cri = 0
    inner: list[bytes] = []
    for line in lines:
        m = CRI_LINE.match(line)
        if m:
            cri += 1
            inner.append(m.group(2))
    if cri and cri * 2 >= len([x for x in lines if x.strip()]):
        return "container (CRI) " + s if (s := _structured(inner)) else None
    for line in lines:
        line = line.strip()
        if line[:1] != b"{":
            continue
        try:
            obj: Any = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        log = obj.get("log")
        if isinstance(log, str) and "stream" in obj and "time" in obj:
            wrapped = _structured([log.strip().encode()])
            return "container (docker) " + wrapped if wrapped else None
        if LOG_KEYS & obj.keys():
            return shapes.detect([line]).shape.name
        return None
    verdict = shapes.detect(lines)
    if verdict.decided and verdict.shape.name == "logfmt":
        return "logfmt"
    return None


def _open_regular(path: str, bounds: str | None) -> tuple[int, os.stat_result] | str:
    """A read-only descriptor of a regular file, or why it is not opened."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return exc.strerror or "cannot be read"
    target = path
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        if bounds is not None and os.path.commonpath([real, os.path.realpath(bounds)]) != (
            os.path.realpath(bounds)
        ):
            return OUT_OF_BOUNDS
        target = real
        try:
            st = os.stat(real)
        except OSError:
            return "broken symlink"
    if not stat.S_ISREG(st.st_mode):
        return NOT_REGULAR
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        return exc.strerror or "cannot be read"
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return NOT_REGULAR
    return fd, st


def _head(fd: int) -> list[bytes]:
    """The first lines of the file, or one line holding a single NUL byte when its first bytes
    look binary (more than 1% NUL bytes: a log with a stray NUL in a line is still a log)."""
    data = os.pread(fd, HEAD_BYTES, 0)
    nuls = data.count(b"\0")
    if nuls and (nuls * 100 > len(data) or data.startswith(b"\0")):
        return [b"\0"]
    lines = data.split(b"\n")
    if len(lines) > 1:
        lines.pop()
    return lines[: shapes.DETECT_LINES]


def check_file(path: str, *, bounds: str | None = None, by_hand: bool = False) -> str | None:
    """Why ``path`` is not read as a log (None: it is read).

    Args:
        path: The file.
        bounds: A symlink must point inside this directory.
        by_hand: The user named its directory: a file named like a log (``*.log``...) is read
            unless it is binary, even when its lines are not structured.
    """
    name = os.path.basename(path)
    suffix = _suffix(name)
    if suffix in SOURCE_SUFFIXES:
        return f"source code or config ({suffix})"
    if suffix in BINARY_SUFFIXES:
        return f"binary ({suffix})"
    if suffix in (".gz", ".bz2"):
        return None  # a rotated log, compressed: read once (see ingest.spool)
    opened = _open_regular(path, bounds)
    if isinstance(opened, str):
        if by_hand and opened not in (NOT_REGULAR, OUT_OF_BOUNDS) and LOG_NAME.search(name):
            return None  # an unreadable log: the reader reports it as a problem
        return opened
    fd, st = opened
    try:
        lines = _head(fd)
    except OSError as exc:
        return None if by_hand else exc.strerror or "cannot be read"
    finally:
        os.close(fd)
    if lines == [b"\0"]:
        return "binary (NUL bytes)"
    log_name = bool(LOG_NAME.search(name))
    if st.st_size == 0 or not any(x.strip() for x in lines):
        return None if log_name else "empty, not named like a log"
    if _structured(lines) is not None:
        return None
    if by_hand and log_name:
        return None
    return "its first lines are not structured logs"


_verdicts: dict[tuple[str, int, int, int], str | None] = {}


def walk_check(path: str, st: os.stat_result | None = None) -> str | None:
    """:func:`check_file` for a file met in a directory given by hand (cached per version)."""
    try:
        st = st or os.stat(path)
    except OSError:
        return None  # gone meanwhile: the reader says why
    key = (path, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _verdicts:
        if len(_verdicts) > 20_000:
            _verdicts.clear()
        _verdicts[key] = check_file(path, by_hand=True)
    return _verdicts[key]


def describe(path: str, origin: str, bounds: str | None = None) -> Candidate | str:
    """A candidate with its shape and counts, or why ``path`` is not one."""
    reason = check_file(path, bounds=bounds)
    if reason is not None:
        return reason
    opened = _open_regular(path, bounds)
    if isinstance(opened, str):
        return opened
    fd, st = opened
    try:
        head = _head(fd)
        start = max(0, st.st_size - TAIL_BYTES)
        tail = os.pread(fd, TAIL_BYTES, start).split(b"\n")
    except OSError as exc:
        return exc.strerror or "cannot be read"
    finally:
        os.close(fd)
    if start > 0:
        tail = tail[1:]  # partial first line
    shape_name = _structured(head) or ("empty" if st.st_size == 0 else "text")
    if shape_name.startswith("container"):  # count what the runtime wrapped
        head = [unwrap(line) for line in head]
        tail = [unwrap(line) for line in tail]
    verdict = shapes.detect(head)
    requests: set[str] = set()
    failed: set[str] = set()
    for n, line in enumerate(tail):
        if not line.strip():
            continue
        try:
            records = verdict.shape.records(line)
        except Exception:  # a line no shape reads is not counted
            continue
        for rec in records:
            if rec.request_id:
                requests.add(rec.request_id)
            if rec.is_error:
                failed.add(rec.request_id or f"line {n}")
    return Candidate(
        path, shape_name, st.st_size, st.st_mtime, origin, len(requests), len(failed), start > 0
    )


def unwrap(line: bytes) -> bytes:
    """The application's line inside a container runtime's (Docker json-file or CRI)."""
    m = CRI_LINE.match(line)
    if m:
        return m.group(2)
    if line[:1] == b"{" and b'"log"' in line:
        try:
            obj: Any = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line
        if isinstance(obj, dict) and isinstance(obj.get("log"), str):
            return str(obj["log"]).rstrip("\n").encode()
    return line


def skipped_in(root: str, depth: int = 0, max_depth: int = 4) -> list[tuple[str, str]]:
    """Files and folders under ``root`` (given by hand) that are not read as logs, and why."""
    out: list[tuple[str, str]] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if len(out) >= 1000:
            break
        try:
            if entry.is_dir(follow_symlinks=False):
                why = skip_dir(entry.path, entry.name)
                if why is not None:
                    out.append((entry.path + os.sep, why))
                elif depth < max_depth:
                    out.extend(skipped_in(entry.path, depth + 1, max_depth))
            elif not (entry.name.startswith("failed_") and entry.name.endswith(".json")):
                if entry.name.startswith("."):
                    out.append((entry.path, "hidden file"))
                    continue
                reason = walk_check(entry.path)
                if reason is not None:
                    out.append((entry.path, reason))
        except OSError:
            continue
    return out
