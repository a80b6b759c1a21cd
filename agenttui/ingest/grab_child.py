"""The process that opens new log files the moment they are created (see :mod:`.grab`).

Run as ``python -m agenttui.ingest.grab_child SOCKET_FD DIR...``: it watches the directories
with inotify and, for every file created in (or moved into) one of them, opens it and hands
the descriptor to the parent over the Unix socket ``SOCKET_FD`` (``socket.send_fds``), with
its path. Being a process of its own, it never waits for the parent interpreter's lock: a
file that lives a few milliseconds is open before it is deleted, as with ``tail -F``.

It first sends one line, ``ready N`` (N directories watched). It exits when the socket is
closed (the parent stopped or died) and asks the kernel to kill it if the parent dies.
Nothing it reads is executed: names are only joined to the watched directories and opened
read-only, without following a final symlink into a FIFO or a device (regular files only).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import socket
import stat
import struct
import sys
from typing import Final

IN_CREATE: Final = 0x100
IN_MOVED_TO: Final = 0x80
IN_ONLYDIR: Final = 0x01000000
_EVENT: Final = struct.Struct("iIII")
_FLAGS: Final = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
_PR_SET_PDEATHSIG: Final = 1


def main(argv: list[str]) -> int:
    """Watch ``argv[1:]``, hand new files over the socket ``argv[0]``; returns the exit code."""
    sock = socket.socket(fileno=int(argv[0]))
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent is gone already
        return 0
    fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
    dirs: dict[int, str] = {}
    if fd >= 0:
        for d in argv[1:]:
            wd = libc.inotify_add_watch(fd, os.fsencode(d), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
            if wd >= 0:
                dirs[wd] = d
    sock.sendall(f"ready {len(dirs)}\n".encode())
    if not dirs:
        return 0
    while True:
        ready, _, _ = select.select([fd, sock], [], [])
        if sock in ready:  # the parent closed its end (or died): nothing more to do
            return 0
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            continue
        pos = 0
        while pos + _EVENT.size <= len(data):
            wd, _mask, _cookie, length = _EVENT.unpack_from(data, pos)
            name = data[pos + _EVENT.size : pos + _EVENT.size + length].rstrip(b"\0")
            pos += _EVENT.size + length
            watched = dirs.get(wd)
            if watched is not None and name:
                path = os.path.join(os.fsencode(watched), name)
                if not _hand_over(sock, path):
                    return 0


def _hand_over(sock: socket.socket, path: bytes) -> bool:
    """Open ``path`` and send it with its name; False when the parent is gone."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return True  # gone already, or not ours to read
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return True
        socket.send_fds(sock, [path + b"\n"], [fd])
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
