"""Hold a new log file from the moment it is created (Linux inotify, in a child process).

A log deleted and created again many times a second (a crash loop, a misconfigured rotation)
may live a few milliseconds: by the time the watcher's batch of events is looked at, a file
that was created, written and deleted in between is gone, and so are its lines. ``tail -F``
opens a file as soon as the kernel says it was created; so does this: a small process of its
own (:mod:`agenttui.ingest.grab_child`) opens each file created in the watched directories the
moment inotify says so and hands the descriptor over a Unix socket; a thread here keeps those
the sources name and queues them; the session then reads each as a generation of its path
(see :meth:`agenttui.session.Session.poll`), however long it lived. Opening in a thread of this
process was not enough: it had to wait for the interpreter lock (a garbage collection, a long
C call in the reading thread), and a file that lived 10 ms was sometimes gone by then.

watchfiles (used for everything else) batches events and opens nothing; Python has no
inotify binding; so the child calls the C library (``ctypes``). Where inotify or the child is
not available this does nothing (the watcher still finds new files, later).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import stat
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Final

MAX_QUEUED: Final = 256
"""Descriptors held for the session at most (beyond, new files wait for the watcher)."""
READY_S: Final = 5.0
"""How long the child may take to start watching."""


class Grabber:
    """Opens files created in some directories as soon as they appear."""

    def __init__(self, dirs: list[str], wanted: Callable[[str], bool]) -> None:
        """Watch ``dirs`` (not recursively) for new files for which ``wanted(path)``."""
        self._wanted = wanted
        self.queue: deque[tuple[str, int, int, int]] = deque()
        """(path, descriptor, device, inode) of each file grabbed, oldest first."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        if not dirs or not sys.platform.startswith("linux"):
            return
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-m",
                    "agenttui.ingest.grab_child",
                    str(theirs.fileno()),
                    *dirs,
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            mine.close()
            return
        finally:
            theirs.close()
        self._sock = mine
        mine.settimeout(READY_S)
        try:
            hello = mine.recv(64)
        except OSError:
            hello = b""
        mine.settimeout(None)
        if not hello.startswith(b"ready ") or hello.split()[1:] == [b"0"]:
            self.close()  # no inotify here, or no directory could be watched
            return
        self._thread = threading.Thread(target=self._run, name="agenttui-grab", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        """Whether files are being grabbed (inotify is there)."""
        return self._thread is not None

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([sock], [], [], 0.5)
                if not ready:
                    continue
                data, fds, _flags, _addr = socket.recv_fds(sock, 65536, 4)
            except (OSError, ValueError):
                return
            if not data and not fds:
                return  # the child is gone
            # Exactly the one newline the child adds: a name may end with its own.
            path = os.fsdecode(data[:-1] if data.endswith(b"\n") else data)
            for fd in fds:
                self._keep(path, fd)

    def _keep(self, path: str, fd: int) -> None:
        """Queue a descriptor the child opened, if the sources name its path."""
        try:
            if len(self.queue) >= MAX_QUEUED or not self._wanted(path):
                os.close(fd)
                return
            st = os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
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
        """Stop the child and the thread, and close every descriptor not taken."""
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # the child sees its end closed and exits
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(1)
        if self._thread is not None:
            self._thread.join(1)  # it looks at the stop flag every 0.5 s
            self._thread = None
        if sock is not None:
            sock.close()
        for _path, fd, _dev, _ino in self.take():
            with contextlib.suppress(OSError):
                os.close(fd)
