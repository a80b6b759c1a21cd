"""Log file generations and their descriptors, under a budget.

Files are read with ``os.pread`` by byte offset, never mmap (a truncated mapped file raises
SIGBUS). Every generation of a path (a new inode, or the same file after a truncation) gets its
own id so that byte offsets stay meaningful.

Descriptors are a budget, not a given: a file is re-opened by its path when needed and checked
by (device, inode), so idle files beyond :data:`FD_BUDGET` are closed (least recently used
first) and a generation that was rotated away or deleted is drained to its end and closed
within seconds. Running out of descriptors (EMFILE) closes idle ones and tries again; when that
is not enough it is reported once (:attr:`FileTable.fd_problem`) and retried later.

This module never writes, locks, truncates or moves the files it reads.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Final

from agenttui.ingest.copies import HEAD_BYTES, MIN_COPY_HEAD, CopyTracking
from agenttui.ingest.ids import MAX_FILE_IDS, FileIds

__all__ = [
    "FD_BUDGET",
    "HEAD_BYTES",
    "MAX_FILE_IDS",
    "MAX_LINE",
    "MIN_COPY_HEAD",
    "FileTable",
    "LogFile",
    "describe",
]

FD_BUDGET: Final = 64
"""Descriptors kept open on log files at most (idle ones beyond it are closed)."""
MAX_LINE: Final = 1 << 20
"""Lines longer than this are cut: indexed from their first part, marked, never held whole
(see :mod:`agenttui.ingest.lines`); reading one back gives that part."""
FD_SLACK: Final = 16
"""Descriptors on files with unread bytes may exceed the budget by this much."""
DELETED_GRACE_S: Final = 0.5
"""A deleted file read to its end is closed when it has not grown for this long."""
RENAMED_GRACE_S: Final = 2.0
"""A renamed-away file read to its end is closed when it has not grown for this long (a
writer may append to it until it re-opens its log: logrotate ``create`` before the signal)."""

_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)
"""Read-only; never blocks on a pipe without a writer; never becomes a controlling tty."""
_NO_FDS: Final = (errno.EMFILE, errno.ENFILE)
_basename: Final = functools.lru_cache(maxsize=256)(os.path.basename)
"""A file's name from its path (asked for each tool call ``watch`` prints)."""


@dataclass(slots=True, eq=False)
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
    """A newer generation replaced this one (rotation); it is drained, then closed."""
    gone: bool = False
    """The bytes are no longer there (truncated, or deleted and closed): offsets are void."""
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
    pinned: bool = False
    """Its descriptor cannot be re-opened by path (an unnamed decompressed copy): kept."""
    grew_at: float = 0.0
    """When new bytes were last read from it (monotonic seconds)."""
    replaced: bool = False
    """Its path was found showing another file when re-opening it (closed meanwhile)."""
    long_from: int = -1
    """Where the search for the newline of a line longer than the cap stopped (-1: none)."""

    @property
    def name(self) -> str:
        """Short name for display."""
        return self.label or _basename(self.path) or self.path


class FileTable(CopyTracking, FileIds):
    """Every file generation the session has read, by id, and their descriptors.

    Thread-safe for descriptor use: readers of old events (the UI thread) and the ingest thread
    both go through :meth:`pread`/:meth:`fd`, under :attr:`lock`.
    """

    generation = LogFile
    """What a generation is (for :class:`FileIds`)."""

    def __init__(self, budget: int = FD_BUDGET) -> None:
        self.files: list[LogFile] = []
        self._current: dict[str, LogFile] = {}
        self.budget = max(4, budget)
        self._open: OrderedDict[int, LogFile] = OrderedDict()
        """Generations holding a descriptor that can be re-opened, least recently used first."""
        self.lock = threading.RLock()
        self.fd_problem: str | None = None
        """Set once when descriptors ran out (EMFILE): shown to the user, never raised."""
        self.fd_shortages = 0
        self._stones: dict[tuple[str, int, str | None], LogFile] = {}
        """Shared stand-ins of deleted generations (see :meth:`_bury`)."""
        self.truncated: deque[LogFile] = deque(maxlen=64)
        """Generations recently found truncated: a copy of one that shows up later
        (``copytruncate`` seen in the wrong order) holds their unread lines."""
        self._init_ids()

    # ------------------------------------------------------------ generations

    def current(self, path: str) -> LogFile | None:
        """The live generation of ``path``."""
        return self._current.get(os.path.abspath(path))

    def live(self) -> list[LogFile]:
        """The live generation of every known path."""
        return list(self._current.values())

    def open(self, path: str) -> LogFile:
        """Start reading ``path`` (a new generation); a problem is recorded, not raised."""
        lf = self._new(path)
        if lf.id < 0:
            return lf
        self._current[os.path.abspath(path)] = lf
        with self.lock:
            self._attach(lf)
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
        lf.retired = False
        return displaced if displaced is not lf else None

    def retire(self, lf: LogFile) -> None:
        """``lf`` no longer shows under any watched path; it is drained, then closed."""
        lf.retired = True
        key = os.path.abspath(lf.path)
        if self._current.get(key) is lf:
            del self._current[key]

    def active(self) -> list[LogFile]:
        """Live generations holding a descriptor (the recently read ones, within the budget)."""
        return [lf for lf in self._open.values() if not lf.retired and not lf.gone]

    def draining(self) -> list[LogFile]:
        """Retired generations still open: a writer may still append to a renamed or deleted
        file until it re-opens its log."""
        return [lf for lf in self._open.values() if lf.retired and not lf.gone]

    # ------------------------------------------------------------ descriptors

    def fd(self, lf: LogFile) -> int | None:
        """A descriptor on ``lf``'s bytes, re-opened by path if it was closed (None when the
        path now shows another file, or it cannot be opened). Hold :attr:`lock` while using it."""
        with self.lock:
            if lf.fd is not None:
                if lf.id in self._open:
                    self._open.move_to_end(lf.id)
                return lf.fd
            if lf.gone or lf.pinned or lf.ino == 0:
                return None
            fd = self._os_open(lf.path)
            if fd is None:
                return None
            try:
                st = os.fstat(fd)
            except OSError:
                os.close(fd)
                return None
            if (
                (st.st_dev, st.st_ino) != (lf.dev, lf.ino)
                or not stat.S_ISREG(st.st_mode)
                or not _same_start(fd, lf)
            ):
                os.close(fd)
                lf.replaced = True
                return None
            lf.fd = fd
            self._open[lf.id] = lf
            self._trim(keep=lf)
            return fd

    def grabbed(self, path: str, fd: int, dev: int, ino: int) -> LogFile | None:
        """A file opened the moment it was created at ``path`` (see :mod:`.grab`): a new
        generation of ``path`` unless it is one already known (then ``fd`` is closed).

        Returns:
            The new generation (the one it replaces is retired and drained), or None.
        """
        with self.lock:
            current = self._current.get(os.path.abspath(path))
            known = [*self._open.values(), *([current] if current else [])]
            if any((lf.dev, lf.ino) == (dev, ino) and not lf.gone for lf in known):
                with contextlib.suppress(OSError):
                    os.close(fd)
                return None
            lf = self._new(path, fd=fd, dev=dev, ino=ino)
            if lf.id < 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                return None
            lf.grew_at = time.monotonic()
            from agenttui.ingest import spool

            spooled = spool.spooled_label(path)
            if spooled is not None:
                lf.label, lf.spooled = spooled, True
            if current is not None:
                current.retired = True
            self._current[os.path.abspath(path)] = lf
            self._open[lf.id] = lf
            self._trim(keep=lf)
            return lf

    def reattach(self, lf: LogFile) -> None:
        """Try again to open a live generation that could not be opened (a problem)."""
        with self.lock:
            self._attach(lf)

    def open_count(self) -> int:
        """Descriptors held on log files (budgeted ones and pinned ones)."""
        return sum(1 for lf in self.files if lf.fd is not None)

    def _attach(self, lf: LogFile) -> None:
        """Open ``lf.path`` for the first time (records a problem instead of raising)."""
        from agenttui.ingest import spool

        if spool.is_compressed(lf.path):
            self._attach_compressed(lf)
            return
        spooled = spool.spooled_label(lf.path)
        if spooled is not None:
            lf.label, lf.spooled = spooled, True
        try:
            fd = self._os_open(lf.path, raise_other=True)
        except OSError as exc:
            lf.problem = describe(exc)
            return
        if fd is None:
            lf.problem = "too many open files (retried)"
            return
        try:
            st = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            lf.problem = describe(exc)
            return
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            lf.problem = "not a regular file (skipped)"
            return
        lf.fd, lf.dev, lf.ino, lf.problem = fd, st.st_dev, st.st_ino, None
        lf.grew_at = time.monotonic()
        self._open[lf.id] = lf
        self._trim(keep=lf)

    def _attach_compressed(self, lf: LogFile) -> None:
        """A gzip / bzip2 file: decompressed once into a private file, read as a finished file."""
        from agenttui.ingest import spool

        try:
            st = os.stat(lf.path)
        except OSError as exc:
            lf.problem = describe(exc)
            return
        if not stat.S_ISREG(st.st_mode):
            lf.problem = "not a regular file (skipped)"
            return
        fd, problem = spool.decompress(lf.path)
        lf.problem = problem
        lf.spooled = lf.finished = lf.pinned = True
        if fd is not None:
            lf.fd, lf.dev, lf.ino = fd, st.st_dev, st.st_ino

    def _os_open(self, path: str, *, raise_other: bool = False) -> int | None:
        """``os.open`` that survives running out of descriptors (closes idle ones, retries)."""
        for attempt in range(2):
            try:
                return os.open(path, _OPEN_FLAGS)
            except OSError as exc:
                if exc.errno not in _NO_FDS:
                    if raise_other:
                        raise
                    return None
                self.fd_shortages += 1
                if attempt == 0:
                    self._trim(limit=len(self._open) // 2)
                    continue
                if self.fd_problem is None:
                    self.fd_problem = (
                        "too many open files: some logs are read late (raise 'ulimit -n')"
                    )
        return None

    def _trim(self, keep: LogFile | None = None, limit: int | None = None) -> None:
        """Close the least recently used descriptors beyond the budget (or ``limit``).

        Files read to their end go first (rotated-away ones before idle live ones, which are
        re-opened by path when they change). A file with unread bytes is closed only past
        the budget plus :data:`FD_SLACK`: once closed, a file deleted or renamed meanwhile
        cannot be found again, so its unread lines would be lost.
        """
        if limit is None:
            if len(self._open) <= self.budget:
                return
            limit = self.budget * 3 // 4  # a batch at a time: not one sort per open
        if len(self._open) <= limit:
            return
        ranked = sorted((self._rank(f), i, f) for i, f in enumerate(self._open.values()))
        for rank, _i, lf in ranked:
            if len(self._open) <= limit:
                break
            if lf is keep:
                continue
            if rank == 2 and len(self._open) <= self.budget + FD_SLACK:
                break
            self._close(lf)

    def _rank(self, lf: LogFile) -> int:
        """0: read to its end; 1: unread bytes, re-openable by its name; 2: unread bytes of a
        file rotated away or deleted (closing it would lose them)."""
        if lf.fd is None:
            return 0
        try:
            st = os.fstat(lf.fd)
        except OSError:
            return 0
        if st.st_size <= lf.offset:
            return 0
        return 2 if lf.retired or st.st_nlink == 0 else 1

    def _close(self, lf: LogFile) -> None:
        self._open.pop(lf.id, None)
        if lf.fd is not None:
            with contextlib.suppress(OSError):
                os.close(lf.fd)
            lf.fd = None

    def release_drained(self, now: float | None = None) -> list[LogFile]:
        """Close rotated-away and deleted generations read to their end that stopped growing.

        A deleted one (no name left) becomes gone: its bytes are freed with the descriptor.

        Returns:
            The generations closed.
        """
        now = time.monotonic() if now is None else now
        closed = []
        with self.lock:
            for lf in list(self._open.values()):
                if lf.fd is None or lf.pinned:
                    continue
                try:
                    st = os.fstat(lf.fd)
                except OSError:
                    continue
                deleted = st.st_nlink == 0
                if not (lf.retired or deleted) or st.st_size > lf.offset:
                    continue
                # Deleted and replaced by a newer file: its writer has moved on (tail -F
                # closes such a file as soon as it is read). Otherwise a writer may still
                # append to it for a while.
                grace = 0.0 if deleted and lf.retired else DELETED_GRACE_S
                if now - lf.grew_at < (grace if deleted else RENAMED_GRACE_S):
                    continue
                self._close(lf)
                if deleted:
                    lf.gone = True
                    self.retire(lf)
                    self._bury(lf)
                closed.append(lf)
        return closed

    def _bury(self, lf: LogFile) -> None:
        """Replace a deleted, closed generation by one shared stand-in per path and shape:
        nothing of it can be read any more, only its name and shape are still asked for (a
        log deleted and created again 100 times a second makes 8.6 million of them a day)."""
        key = (os.path.abspath(lf.path), id(lf.shape), lf.label)
        stone = self._stones.get(key)
        if stone is None:
            stone = LogFile(-1, lf.path, gone=True, retired=True, shape=lf.shape, label=lf.label)
            stone.shape_reason = lf.shape_reason
            self._stones[key] = stone
        if 0 <= lf.id < len(self.files) and self.files[lf.id] is lf and lf not in self.truncated:
            self.files[lf.id] = stone

    def close(self) -> None:
        """Close every descriptor."""
        with self.lock:
            for lf in self.files:
                if lf.fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(lf.fd)
                    lf.fd = None
            self._open.clear()

    # ------------------------------------------------------------ reading back

    def pread(self, file_id: int, offset: int, size: int) -> bytes:
        """Read bytes of one generation; empty when they are gone."""
        if not 0 <= file_id < len(self.files):
            return b""
        lf = self.files[file_id]
        if lf.gone:
            return b""
        with self.lock:
            fd = self.fd(lf)
            if fd is None:
                return b""
            try:
                return os.pread(fd, size, offset)
            except OSError:
                return b""

    def read_line(self, file_id: int, offset: int, limit: int | None = None) -> bytes | None:
        """The line starting at ``offset`` (without its newline, at most ``limit`` bytes:
        default the long-line cap), or None if it is gone."""
        limit = MAX_LINE if limit is None else limit
        parts: list[bytes] = []
        total = 0
        pos = offset
        size = 8192
        while total < limit:
            data = self.pread(file_id, pos, min(size, limit - total))
            if not data:
                break
            nl = data.find(b"\n")
            if nl >= 0:
                parts.append(data[:nl])
                break
            parts.append(data)
            total += len(data)
            pos += len(data)
            size = min(size * 4, 1 << 20)
        if not parts:
            return None
        return b"".join(parts)


def _same_start(fd: int, lf: LogFile) -> bool:
    """Whether the file open on ``fd`` starts with ``lf``'s known first bytes: an inode number
    is reused once its file is deleted, so identity is (device, inode) and that fingerprint."""
    if not lf.head:
        return True
    try:
        return os.pread(fd, len(lf.head), 0) == lf.head
    except OSError:
        return False


def size_of(lf: LogFile) -> int:
    """Size of the generation's file: by its descriptor, else by its path when that still
    shows the same file (0 when unknown)."""
    try:
        if lf.fd is not None:
            return os.fstat(lf.fd).st_size
        if lf.ino == 0 or lf.gone:
            return 0
        st = os.stat(lf.path)
    except OSError:
        return 0
    return st.st_size if (st.st_dev, st.st_ino) == (lf.dev, lf.ino) else 0


def describe(exc: OSError) -> str:
    """A short, user-facing reason for an ``OSError``."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno in _NO_FDS:
        return "too many open files (retried)"
    return exc.strerror or str(exc)
