"""Hold a new log file from the moment it is created (Linux inotify, in a thread).

A log deleted and created again many times a second (a crash loop, a misconfigured rotation)
may live a few milliseconds: by the time the watcher's batch of events is looked at, a file
that was created, written and deleted in between is gone, and so are its lines. ``tail -F``
opens a file as soon as the kernel says it was created; so does this: on ``IN_CREATE`` /
``IN_MOVED_TO`` for a path the sources name, the file is opened at once and its descriptor
queued; the session then reads it as a generation of that path (see
:meth:`agenttui.session.Session.poll`), however long it lived.

watchfiles (used for everything else) batches events and opens nothing; Python has no
inotify binding; so this is the one place that calls the C library (``ctypes``). Where
inotify is not available it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import stat
import struct
import threading
from collections import deque
from collections.abc import Callable
from typing import Final

IN_CREATE: Final = 0x100
IN_MOVED_TO: Final = 0x80
IN_ONLYDIR: Final = 0x01000000
_EVENT: Final = struct.Struct("iIII")
_FLAGS: Final = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
MAX_QUEUED: Final = 256
"""Descriptors held for the session at most (beyond, new files wait for the watcher)."""


class Grabber:
    """Opens files created in some directories as soon as they appear."""

    def __init__(self, dirs: list[str], wanted: Callable[[str], bool]) -> None:
        """Watch ``dirs`` (not recursively) for new files for which ``wanted(path)``."""
        self._wanted = wanted
        self.queue: deque[tuple[str, int, int, int]] = deque()
        """(path, descriptor, device, inode) of each file grabbed, oldest first."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._dirs: dict[int, str] = {}
        self._fd = -1
        self._thread: threading.Thread | None = None
        libc_name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(libc_name, use_errno=True)
            init, add = libc.inotify_init1, libc.inotify_add_watch
        except (OSError, AttributeError):
            return
        fd = init(os.O_CLOEXEC | os.O_NONBLOCK)
        if fd < 0:
            return
        self._fd = fd
        for d in dirs:
            wd = add(fd, os.fsencode(d), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
            if wd >= 0:
                self._dirs[wd] = d
        if not self._dirs:
            self.close()
            return
        self._thread = threading.Thread(target=self._run, name="agenttui-grab", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        """Whether files are being grabbed (inotify is there)."""
        return self._thread is not None

    def _run(self) -> None:
        fd = self._fd
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                data = os.read(fd, 65536)
            except (OSError, ValueError):
                return
            pos = 0
            while pos + _EVENT.size <= len(data):
                wd, _mask, _cookie, length = _EVENT.unpack_from(data, pos)
                name = data[pos + _EVENT.size : pos + _EVENT.size + length].rstrip(b"\0")
                pos += _EVENT.size + length
                d = self._dirs.get(wd)
                if d is not None and name:
                    self._grab(os.path.join(d, os.fsdecode(name)))

    def _grab(self, path: str) -> None:
        if len(self.queue) >= MAX_QUEUED or not self._wanted(path):
            return
        try:
            fd = os.open(path, _FLAGS)
        except OSError:
            return
        try:
            st = os.fstat(fd)
        except OSError:
            os.close(fd)
            return
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return
        with self._lock:
            self.queue.append((path, fd, st.st_dev, st.st_ino))

    def take(self) -> list[tuple[str, int, int, int]]:
        """The files grabbed since the last call (their descriptors now belong to the caller)."""
        with self._lock:
            out = list(self.queue)
            self.queue.clear()
        return out

    def close(self) -> None:
        """Stop, and close every descriptor not taken."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1)  # it looks at the stop flag every 0.5 s
            self._thread = None
        for _path, fd, _dev, _ino in self.take():
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
