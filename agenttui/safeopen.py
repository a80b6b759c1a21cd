"""Open files that others may have planted without ever blocking on them.

A FIFO named ``failed_x.json`` in a watched directory blocks a plain ``open()`` forever; a
device may stream without end. Every capture, history, config and log file is opened with
``O_NONBLOCK`` (opening a FIFO then returns at once) and checked with ``fstat`` on the opened
descriptor (no race with a file swapped in after a ``stat``): anything but a regular file is
refused with :class:`NotRegularFile`, an :class:`OSError` whose text says what it is.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device or directory: it is listed, never read."""

    def __init__(self, path: str, kind: str) -> None:
        """``kind`` is what the path is (``a FIFO (named pipe)``...)."""
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", path)
        self.kind = kind


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, for people (``a regular file``, ``a FIFO``...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def open_regular(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> BinaryIO:
    """Open a regular file for reading in binary mode, never blocking on a special file.

    Raises:
        NotRegularFile: It is not a regular file.
        OSError: It cannot be opened (``ELOOP`` for a symlink when not ``follow_symlinks``).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(os.fspath(path), kind_of(st.st_mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(
    path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True
) -> tuple[bytes, os.stat_result]:
    """At most ``limit`` bytes of a regular file and its ``fstat``.

    Raises:
        NotRegularFile: It is not a regular file.
        OSError: It cannot be read.
    """
    with open_regular(path, follow_symlinks=follow_symlinks) as f:
        st = os.fstat(f.fileno())
        return f.read(limit), st


__all__ = ["NotRegularFile", "kind_of", "open_regular", "read_regular"]
