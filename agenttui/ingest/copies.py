"""Telling copies from new files: ``copytruncate`` copies, copies seen before or after the
truncation, and the fingerprints (first bytes) that tell them. A mixin of
:class:`agenttui.ingest.files.FileTable`.
"""

from __future__ import annotations

import os
import stat
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agenttui.ingest.files import LogFile

HEAD_BYTES: Final = 1024
"""Bytes of a file's start kept as its fingerprint (truncation and copy detection)."""
MIN_COPY_HEAD: Final = 16
"""A new file is taken for a copy of a known one only if at least this much of the start matches."""


class CopyTracking:
    """Copy detection of a :class:`~agenttui.ingest.files.FileTable`."""

    # Provided by FileTable.
    files: list[LogFile]
    _current: dict[str, LogFile]
    _open: dict[int, LogFile]
    truncated: deque[LogFile]
    recent: deque[LogFile]
    lock: Any

    def fd(self, lf: LogFile) -> int | None:
        raise NotImplementedError

    def retire(self, lf: LogFile) -> None:
        raise NotImplementedError

    def _attach(self, lf: LogFile) -> None:
        raise NotImplementedError

    def _close(self, lf: LogFile) -> None:
        raise NotImplementedError

    def _os_open(self, path: str, *, raise_other: bool = False) -> int | None:
        raise NotImplementedError

    def copy_of(self, path: str) -> tuple[LogFile | None, bool]:
        """Whether the new file ``path`` is a copy of a known generation (``copytruncate``).

        Returns:
            The generation it starts like (or None), and whether that generation's own file
            has been truncated since (then the copy holds its bytes and takes its place).
        """
        if not self.truncated and not any(lf.head for lf in self.recent):
            return None, False
        return self.copy_of_start(self.head_of(path))

    def copy_of_start(
        self, start: bytes, exclude: LogFile | None = None
    ) -> tuple[LogFile | None, bool]:
        """Like :meth:`copy_of`, for a file that starts with ``start``.

        Every recent generation is a candidate (live, truncated, rotated away, itself read
        from a copy): a file can be copied again before the reader caught up with the
        rotations. The one read furthest wins. A live one whose own file still starts the
        same is a file still growing (its copy is not read); any other takes the copy.
        """
        if len(start) < MIN_COPY_HEAD:
            return None, False
        best: LogFile | None = None
        for lf in (*self.recent, *self.truncated):
            head = lf.head
            if (
                lf is not exclude
                and head is not None
                and len(head) >= MIN_COPY_HEAD
                and start.startswith(head)
                and (best is None or lf.offset > best.offset)
            ):
                best = lf
        if best is None:
            return None, False
        live = self._current.get(os.path.abspath(best.path)) is best
        return best, not live or best.gone or self.rewritten(best)

    def adopt(self, original: LogFile, copy: LogFile) -> None:
        """``copy`` (opened as a new file, nothing read from it yet) holds ``original``'s bytes,
        whose own file was truncated: ``original`` reads on from it (offsets stay valid) and
        ``copy`` is dropped."""
        with self.lock:
            self._close(original)
            self._open.pop(copy.id, None)
            self.retire(original)
            key = os.path.abspath(copy.path)
            original.fd, original.dev, original.ino, original.path = (
                copy.fd,
                copy.dev,
                copy.ino,
                copy.path,
            )
            original.gone = original.retired = False
            original.grew_at = time.monotonic()
            if original in self.truncated:
                self.truncated.remove(original)
            copy.fd = None
            copy.gone = copy.retired = True
            self._current[key] = original
            if original.fd is not None:
                self._open[original.id] = original

    def forget(self, lf: LogFile) -> None:
        """Drop a generation nothing was read from (a copy of a file still growing): its path
        is looked at afresh next time."""
        with self.lock:
            self._close(lf)
            self.retire(lf)
            lf.gone = True

    def rehome(self, lf: LogFile, path: str) -> bool:
        """Read ``lf`` on from ``path``, a copy of its bytes, its own file being truncated.

        Offsets stay valid (the copy holds the same bytes at the same offsets), so events
        already indexed stay readable and lines not yet read are read from the copy.

        Returns:
            False when ``path`` cannot be opened (nothing changed).
        """
        with self.lock:
            fresh = type(lf)(-1, path)
            self._attach(fresh)
            if fresh.fd is None:
                return False
            self._open.pop(-1, None)
            self._close(lf)
            old_key = os.path.abspath(lf.path)
            if self._current.get(old_key) is lf:
                del self._current[old_key]
            lf.fd, lf.dev, lf.ino, lf.path = fresh.fd, fresh.dev, fresh.ino, path
            lf.gone = lf.retired = False
            lf.grew_at = time.monotonic()
            if lf in self.truncated:
                self.truncated.remove(lf)
            self._open[lf.id] = lf
            self._current[os.path.abspath(path)] = lf
            return True

    def head_of(self, path: str) -> bytes:
        """The first ``HEAD_BYTES`` of a regular file (empty when it cannot be read)."""
        with self.lock:
            fd = self._os_open(path)
        if fd is None:
            return b""
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return b""
            return os.pread(fd, HEAD_BYTES, 0)
        except OSError:
            return b""
        finally:
            os.close(fd)

    def rewritten(self, lf: LogFile) -> bool:
        """Whether ``lf``'s file no longer starts with the bytes it started with (truncated,
        possibly written again past the old offset since). Lengthens the kept head as it grows."""
        head = lf.head
        if head is None:
            return False
        with self.lock:
            fd = self.fd(lf)
            if fd is None:
                return False
            try:
                data = os.pread(fd, HEAD_BYTES, 0)
            except OSError:
                return False
        if not data.startswith(head):
            return True
        if len(data) > len(head):
            lf.head = data
        return False
