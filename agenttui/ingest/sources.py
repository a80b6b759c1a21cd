"""Sources: find log files (files, directories, globs) and read their lines by byte offset.

Files are read with ``os.pread`` on a kept file descriptor, never mmap (a truncated mapped file
raises SIGBUS). A partial last line is left unread until its newline arrives. Rotation is detected
by inode (rename and re-create), by size (truncation, ``copytruncate``) and by the path going
away; every generation of a file gets its own id so that byte offsets stay meaningful, and an old
generation stays readable through its open descriptor as long as the index refers to it.

This module never writes, locks, truncates or moves the files it reads.
"""

from __future__ import annotations

import errno
import glob
import operator
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, count
from pathlib import Path
from typing import Any, Final

CHUNK: Final = 1 << 20
"""Bytes read per pread call."""

CAPTURE_GLOB: Final = "failed_*.json"
"""Failure capture files: they are not log streams."""

_SKIP_SUFFIXES: Final = (".xz", ".zst", ".zip")
"""Compressed files that are not read (gzip and bzip2 are: see :mod:`agenttui.ingest.spool`)."""
_MAX_DEPTH: Final = 4
HEAD_BYTES: Final = 1024
"""Bytes of a file's start kept as its fingerprint (truncation and copy detection)."""
MIN_COPY_HEAD: Final = 16
"""A new file is taken for a copy of a known one only if at least this much of the start matches."""


class SourceError(Exception):
    """A path given by the user cannot be used (one line, for the user)."""


@dataclass(slots=True)
class LogFile:
    """One generation of one log file."""

    id: int
    path: str
    fd: int | None = None
    dev: int = 0
    ino: int = 0
    offset: int = 0
    """Bytes consumed: every complete line before this offset has been read."""
    problem: str | None = None
    """Why the file cannot be read right now (shown to the user), or None."""
    retired: bool = False
    """A newer generation replaced this one (rotation); its bytes stay readable via ``fd``."""
    gone: bool = False
    """The bytes are no longer there (the file was truncated): offsets into it are void."""
    head: bytes | None = None
    """The first bytes of the file (up to ``HEAD_BYTES``), once read: a truncation followed by
    new writes past ``offset`` changes them, and a ``copytruncate`` copy starts with them."""
    shape: Any = None
    """The :class:`agenttui.ingest.shapes.Shape` its lines are read with (None until told)."""
    shape_reason: str = ""
    """Why that shape (for ``agenttui formats``)."""
    label: str | None = None
    """Name shown instead of the file name (``stdin``)."""
    spooled: bool = False
    """Read from a private copy (standard input, a decompressed file), not from ``path``."""
    finished: bool = False
    """A file that is read once and never tailed (a compressed rotated log)."""

    @property
    def name(self) -> str:
        """Short name for display."""
        return self.label or os.path.basename(self.path) or self.path


@dataclass(slots=True)
class Spec:
    """What the user asked to read: a file, a directory or a glob."""

    text: str
    kind: str
    """``file``, ``dir``, ``glob`` or ``stdin``."""


def is_capture(path: str) -> bool:
    """Whether ``path`` names a failure capture file (``failed_*.json``)."""
    name = os.path.basename(path)
    return name.startswith("failed_") and name.endswith(".json")


def parse_specs(paths: list[str]) -> list[Spec]:
    """Check the paths given on the command line.

    Raises:
        SourceError: A path does not exist (and is not a glob), or is not readable.
    """
    specs: list[Spec] = []
    for text in paths:
        if text == "-":
            if any(s.kind == "stdin" for s in specs):
                raise SourceError("-: standard input can be read only once")
            specs.append(Spec(text, "stdin"))
        elif os.path.isdir(text):
            if not os.access(text, os.R_OK | os.X_OK):
                raise SourceError(f"{text}: permission denied")
            specs.append(Spec(text, "dir"))
        elif os.path.exists(text):
            if not os.path.isfile(text):
                kind = "a pipe" if stat.S_ISFIFO(os.stat(text).st_mode) else "not a regular file"
                raise SourceError(
                    f"{text}: {kind}: agenttui reads regular files (by offset) and directories"
                )
            if not os.access(text, os.R_OK):
                raise SourceError(f"{text}: permission denied")
            specs.append(Spec(text, "file"))
        elif glob.has_magic(text):
            specs.append(Spec(text, "glob"))
        else:
            raise SourceError(f"{text}: no such file or directory")
    return specs


def expand(specs: list[Spec]) -> list[str]:
    """The log files the specs name now (captures and compressed files left out), sorted."""
    found: list[str] = []
    for spec in specs:
        if spec.kind == "file":
            found.append(spec.text)
        elif spec.kind == "stdin":
            from agenttui.ingest.spool import stdin_spool

            found.append(stdin_spool().path)
        elif spec.kind == "glob":
            found.extend(p for p in glob.glob(spec.text, recursive=True) if _is_log(p))
        else:
            found.extend(_walk(spec.text))
    return unique_paths(found)


def unique_paths(paths: Iterable[str]) -> list[str]:
    """``paths`` without repeats of the same absolute path, in order."""
    seen: set[str] = set()
    unique = []
    for p in paths:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def captures_in(specs: list[Spec]) -> list[str]:
    """Failure capture files found under the specs."""
    out: list[str] = []
    for spec in specs:
        if spec.kind == "file" and is_capture(spec.text):
            out.append(spec.text)
        elif spec.kind == "glob":
            out.extend(p for p in glob.glob(spec.text, recursive=True) if is_capture(p))
        elif spec.kind == "dir":
            out.extend(sorted(_walk(spec.text, captures=True)))
    return out


def watch_roots(specs: list[Spec]) -> list[str]:
    """Directories to watch for new and changed files."""
    roots: set[str] = set()
    for spec in specs:
        if spec.kind == "dir":
            roots.add(os.path.abspath(spec.text))
        elif spec.kind == "stdin":
            from agenttui.ingest.spool import stdin_spool

            roots.add(stdin_spool().dir)
        elif spec.kind == "file":
            roots.add(os.path.dirname(os.path.abspath(spec.text)))
        else:
            base = spec.text.split("*")[0].split("?")[0].split("[")[0]
            root = base if base.endswith(os.sep) else os.path.dirname(base)
            roots.add(os.path.abspath(root or "."))
    return sorted(r for r in roots if os.path.isdir(r))


def _is_log(path: str) -> bool:
    return os.path.isfile(path) and not is_capture(path) and not path.endswith(_SKIP_SUFFIXES)


def _walk(root: str, *, captures: bool = False, depth: int = 0) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    from agenttui.ingest.sniff import skip_dir, walk_check

    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                # Code, dependencies and caches are not searched (see ingest.sniff).
                if depth < _MAX_DEPTH and skip_dir(entry.path, entry.name) is None:
                    yield from _walk(entry.path, captures=captures, depth=depth + 1)
            elif captures and is_capture(entry.path):
                yield entry.path  # FIFOs and sockets too: listed with a problem, never read
            elif (
                not captures
                and entry.is_file()
                and _is_log(entry.path)
                and walk_check(entry.path) is None
            ):
                yield entry.path
        except OSError:
            continue


class FileTable:
    """Every file generation the session has read, by id."""

    def __init__(self) -> None:
        self.files: list[LogFile] = []
        self._current: dict[str, LogFile] = {}

    def current(self, path: str) -> LogFile | None:
        """The live generation of ``path``."""
        return self._current.get(os.path.abspath(path))

    def live(self) -> list[LogFile]:
        """The live generation of every known path."""
        return list(self._current.values())

    def open(self, path: str) -> LogFile:
        """Start reading ``path`` (a new generation); a problem is recorded, not raised."""
        lf = LogFile(len(self.files), path)
        self.files.append(lf)
        self._current[os.path.abspath(path)] = lf
        _open(lf)
        return lf

    def rotate(self, old: LogFile) -> LogFile:
        """Retire ``old`` and open the path again as a new generation."""
        old.retired = True
        return self.open(old.path)

    def move(self, lf: LogFile, path: str) -> LogFile | None:
        """``lf``'s file was renamed to ``path``: it is now the live generation there.

        Returns:
            The generation that ``path`` showed before, if any (it was displaced).
        """
        old_key = os.path.abspath(lf.path)
        if self._current.get(old_key) is lf:
            del self._current[old_key]
        key = os.path.abspath(path)
        displaced = self._current.get(key)
        self._current[key] = lf
        lf.path = path
        return displaced if displaced is not lf else None

    def retire(self, lf: LogFile) -> None:
        """``lf`` no longer shows under any watched path; it stays readable and is drained."""
        lf.retired = True
        key = os.path.abspath(lf.path)
        if self._current.get(key) is lf:
            del self._current[key]

    def draining(self) -> list[LogFile]:
        """Retired generations whose bytes are still there: a writer may still append to a
        renamed file until it reopens its log (logrotate ``create`` before the signal)."""
        return [lf for lf in self.files if lf.retired and not lf.gone and lf.fd is not None]

    def copy_of(self, path: str) -> tuple[LogFile | None, bool]:
        """Whether the new file ``path`` is a copy of a live generation (``copytruncate``).

        Returns:
            The generation it starts like (or None), and whether that generation's own file
            has been truncated since (then the copy holds its bytes and takes its place).
        """
        candidates = [
            lf
            for lf in self._current.values()
            if lf.head is not None
            and len(lf.head) >= MIN_COPY_HEAD
            and lf.fd is not None
            and not lf.gone
        ]
        if not candidates:
            return None, False
        start = _head_of(path)
        if not start:
            return None, False
        for lf in candidates:
            if start.startswith(lf.head):  # type: ignore[arg-type]
                return lf, _rewritten(lf)
        return None, False

    def rehome(self, lf: LogFile, path: str) -> bool:
        """Read ``lf`` on from ``path``, a copy of its bytes, its own file being truncated.

        Offsets stay valid (the copy holds the same bytes at the same offsets), so events
        already indexed stay readable and lines not yet read are read from the copy.

        Returns:
            False when ``path`` cannot be opened (nothing changed).
        """
        fresh = LogFile(-1, path)
        _open(fresh)
        if fresh.fd is None:
            return False
        if lf.fd is not None:
            os.close(lf.fd)
        old_key = os.path.abspath(lf.path)
        if self._current.get(old_key) is lf:
            del self._current[old_key]
        lf.fd, lf.dev, lf.ino, lf.path = fresh.fd, fresh.dev, fresh.ino, path
        self._current[os.path.abspath(path)] = lf
        return True

    def close(self) -> None:
        """Close every descriptor."""
        for lf in self.files:
            if lf.fd is not None:
                os.close(lf.fd)
                lf.fd = None

    def pread(self, file_id: int, offset: int, size: int) -> bytes:
        """Read bytes of one generation; empty when they are gone."""
        if not 0 <= file_id < len(self.files):
            return b""
        lf = self.files[file_id]
        if lf.fd is None or lf.gone:
            return b""
        try:
            return os.pread(lf.fd, size, offset)
        except OSError:
            return b""

    def read_line(self, file_id: int, offset: int, limit: int = 64 << 20) -> bytes | None:
        """The line starting at ``offset`` (without its newline), or None if it is gone."""
        parts: list[bytes] = []
        total = 0
        pos = offset
        size = 8192
        while total < limit:
            data = self.pread(file_id, pos, size)
            if not data:
                break
            nl = data.find(b"\n")
            if nl >= 0:
                parts.append(data[:nl])
                break
            parts.append(data)
            total += len(data)
            pos += len(data)
            size = min(size * 4, CHUNK)
        if not parts:
            return None
        return b"".join(parts)


_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)
"""Read-only; never blocks on a pipe without a writer; never becomes a controlling tty."""


def _open(lf: LogFile) -> None:
    from agenttui.ingest import spool

    if spool.is_compressed(lf.path):
        _open_compressed(lf)
        return
    spooled = spool.spooled_label(lf.path)
    if spooled is not None:
        lf.label, lf.spooled = spooled, True
    try:
        fd = os.open(lf.path, _OPEN_FLAGS)
    except OSError as exc:
        lf.problem = _describe(exc)
        return
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        lf.problem = _describe(exc)
        return
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        lf.problem = "not a regular file (skipped)"
        return
    lf.fd, lf.dev, lf.ino, lf.problem = fd, st.st_dev, st.st_ino, None


def _open_compressed(lf: LogFile) -> None:
    """A gzip / bzip2 file: decompressed once into a private file, read as a finished file."""
    from agenttui.ingest import spool

    try:
        st = os.stat(lf.path)
    except OSError as exc:
        lf.problem = _describe(exc)
        return
    if not stat.S_ISREG(st.st_mode):
        lf.problem = "not a regular file (skipped)"
        return
    fd, problem = spool.decompress(lf.path)
    lf.problem = problem
    lf.spooled = lf.finished = True
    if fd is not None:
        lf.fd, lf.dev, lf.ino = fd, st.st_dev, st.st_ino


def _head_of(path: str) -> bytes:
    """The first ``HEAD_BYTES`` of a regular file (empty when it cannot be read)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.pread(fd, HEAD_BYTES, 0)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _rewritten(lf: LogFile) -> bool:
    """Whether ``lf``'s file no longer starts with the bytes it started with (truncated,
    possibly written again past the old offset since). Lengthens the kept head as it grows."""
    head = lf.head
    if head is None or lf.fd is None:
        return False
    try:
        data = os.pread(lf.fd, HEAD_BYTES, 0)
    except OSError:
        return False
    if not data.startswith(head):
        return True
    if len(data) > len(head):
        lf.head = data
    return False


def _describe(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "file not found"
    return exc.strerror or str(exc)


@dataclass(slots=True)
class Lines:
    """Complete lines read from one file generation (a CRLF line keeps its ``\r``)."""

    file: LogFile
    offsets: list[int] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)


def read_lines(
    table: FileTable, lf: LogFile, *, max_bytes: int = 2 * CHUNK, end: int | None = None
) -> Lines | None:
    """Read complete lines appended since ``lf.offset`` (at most about ``max_bytes``).

    A partial last line is not consumed: it is read again, whole, once its newline arrives.

    Args:
        table: The table ``lf`` belongs to.
        lf: The file generation.
        max_bytes: Stop after about this many bytes (call again for more).
        end: Do not read past this offset.

    Returns:
        The lines, or None when nothing new is complete.
    """
    if lf.fd is None:
        return None
    start = lf.offset
    limit = max_bytes if end is None else min(max_bytes, end - start)
    if limit <= 0:
        return None
    try:
        data = os.pread(lf.fd, limit, start)
    except OSError as exc:
        lf.problem = _describe(exc)
        return None
    if start == 0 and lf.head is None and data:
        lf.head = data[:HEAD_BYTES]
    last_nl = data.rfind(b"\n")
    if last_nl < 0:
        if len(data) < limit:
            return None
        # One line longer than the window: read on until its newline.
        whole = _read_long_line(lf, start, data)
        if whole is None:
            return None
        data = whole
        last_nl = len(data) - 1
    lines = data.split(b"\n")
    lines.pop()  # the part after the last newline: an incomplete line, or empty
    # Offsets computed at C speed: start, start + len0 + 1, start + len0 + len1 + 2, ...
    offsets = list(map(operator.add, accumulate(map(len, lines), initial=start), count()))
    offsets.pop()
    out = Lines(lf, offsets, lines)
    lf.offset = start + last_nl + 1
    return out


def _read_long_line(lf: LogFile, start: int, head: bytes) -> bytes | None:
    assert lf.fd is not None
    parts = [head]
    pos = start + len(head)
    while True:
        try:
            data = os.pread(lf.fd, CHUNK, pos)
        except OSError as exc:
            lf.problem = _describe(exc)
            return None
        if not data:
            return None
        nl = data.find(b"\n")
        if nl >= 0:
            parts.append(data[: nl + 1])
            return b"".join(parts)
        parts.append(data)
        pos += len(data)


def check_rotation(table: FileTable, lf: LogFile) -> list[LogFile]:
    """Notice rotation or truncation of a live generation.

    Returns:
        Generations that now need reading: the old one (to drain what was written before
        it was renamed) and the new one.
    """
    if lf.finished:
        return [lf] if lf.fd is not None else []
    try:
        st = os.stat(lf.path)
    except FileNotFoundError:
        return [lf] if lf.fd is not None else []  # deleted: drain what is left
    except OSError as exc:
        lf.problem = _describe(exc)
        return []
    if lf.fd is None:
        # It was unreadable or missing: try again.
        _open(lf)
        return [lf] if lf.fd is not None else []
    if (st.st_dev, st.st_ino) != (lf.dev, lf.ino):
        new = table.rotate(lf)
        return [lf, new]
    if st.st_size < lf.offset or _rewritten(lf):
        # Truncated in place (copytruncate) or replaced by a shorter file, possibly written
        # past the old offset again since.
        lf.gone = True
        new = table.rotate(lf)
        return [new]
    return [lf]


def check_retired(lf: LogFile) -> bool:
    """Whether a retired generation has bytes left to read (a truncated one becomes gone)."""
    if lf.fd is None or lf.gone:
        return False
    try:
        size = os.fstat(lf.fd).st_size
    except OSError:
        return False
    if size < lf.offset:
        lf.gone = True
        return False
    return size > lf.offset


def file_size(lf: LogFile) -> int:
    """Current size of the generation's file (0 when unknown)."""
    if lf.fd is None:
        return 0
    try:
        return os.fstat(lf.fd).st_size
    except OSError:
        return 0


def display_path(path: str) -> str:
    """A path shortened for display (relative to the working directory when inside it)."""
    try:
        rel = Path(path).resolve().relative_to(Path.cwd())
    except (ValueError, OSError):
        return path
    return str(rel)
