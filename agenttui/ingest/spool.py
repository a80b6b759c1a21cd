"""Spool files: standard input and compressed logs, copied to private files that can be read
by offset like any log.

Reads are ``pread`` calls by byte offset, which a pipe or a compressed file cannot serve. So:

* ``-`` (standard input) is copied by a thread into a private file (mode 0600, in a private
  directory under ``$TMPDIR``), which is then read as a live log; the copy is deleted on exit;
* ``agent.log.1.gz`` / ``.bz2`` (rotated logs) are decompressed once into an unnamed temporary
  file and read as a finished file (never tailed).
"""

from __future__ import annotations

import atexit
import bz2
import contextlib
import gzip
import os
import shutil
import tempfile
import threading
import zlib
from typing import IO, Final

from agenttui.safeopen import open_regular

COMPRESSED: Final = (".gz", ".bz2")
"""Suffixes of compressed files that are read (decompressed once)."""
STDIN: Final = "-"
MAX_DECOMPRESSED: Final = 64 << 30
"""A compressed file that expands beyond this is cut there (a note says so)."""


def is_compressed(path: str) -> bool:
    """Whether ``path`` names a gzip or bzip2 file (by its suffix)."""
    return path.endswith(COMPRESSED)


def decompress(path: str) -> tuple[int | None, str | None]:
    """Decompress ``path`` into an unnamed private temporary file.

    Returns:
        (descriptor of the decompressed bytes, a problem to show or None). The descriptor is
        None when nothing could be read; a truncated or corrupt file keeps what came out of it.
    """
    opener = gzip.open if path.endswith(".gz") else bz2.open
    try:
        out = tempfile.TemporaryFile(prefix="agenttui-")  # noqa: SIM115 - returned as an fd
    except OSError as exc:
        return None, f"cannot decompress: {exc.strerror or exc}"
    problem = None
    try:
        # open_regular: a FIFO swapped in after the caller's stat never blocks the read.
        with open_regular(path) as raw, opener(raw, "rb") as src:
            _copy(src, out)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        if out.tell() == 0:
            out.close()
            kind = "gzip" if path.endswith(".gz") else "bzip2"
            return None, f"not a readable {kind} file ({_why(exc)})"
        problem = f"compressed file ends early ({_why(exc)}): read what it holds"
    except _TooBig:
        problem = f"decompressed past {MAX_DECOMPRESSED >> 30} GB: the rest is not read"
    out.flush()
    fd = os.dup(out.fileno())
    out.close()
    return fd, problem


class _TooBig(Exception):
    pass


def _copy(src: gzip.GzipFile | bz2.BZ2File, dst: IO[bytes]) -> None:
    total = 0
    while True:
        data = src.read1(1 << 16)  # what is there: a cut file still gives its start
        if not data:
            return
        total += len(data)
        if total > MAX_DECOMPRESSED:
            raise _TooBig
        dst.write(data)


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]


class StdinSpool:
    """Copies a pipe (standard input) into a private file, in a thread, until end of input."""

    def __init__(self, fd: int) -> None:
        """Start copying from ``fd`` (the descriptor is owned and closed by the spool)."""
        self._src = fd
        self.dir = tempfile.mkdtemp(prefix="agenttui-stdin-")  # mode 0700
        self.path = os.path.join(self.dir, "stdin.log")
        self._out = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self.done = threading.Event()
        """Set at end of input."""
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="agenttui-stdin", daemon=True)
        self._thread.start()
        atexit.register(self.remove)

    def _run(self) -> None:
        try:
            while True:
                data = os.read(self._src, 1 << 16)
                if not data:
                    break
                view = memoryview(data)
                while view:
                    n = os.write(self._out, view)
                    view = view[n:]
        except OSError as exc:
            self.error = exc.strerror or str(exc)
        finally:
            for fd in (self._src, self._out):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the end of input; returns whether it came."""
        return self.done.wait(timeout)

    def remove(self) -> None:
        """Delete the copy (readers holding it open keep their descriptor)."""
        shutil.rmtree(self.dir, ignore_errors=True)


_SPOOL: StdinSpool | None = None


def stdin_spool(fd: int | None = None) -> StdinSpool:
    """The process's one spool of standard input (started on first use).

    Standard input's descriptor is duplicated for the spool; when standard input was a pipe
    and a terminal is available, descriptor 0 then becomes the terminal, so that a TUI reads
    its keys from there (``kubectl logs -f x | agenttui -``).

    Args:
        fd: Read this descriptor instead of standard input (tests); fd 0 is left alone.
    """
    global _SPOOL
    if _SPOOL is None:
        if fd is not None:
            _SPOOL = StdinSpool(fd)
            return _SPOOL
        src = os.dup(0)
        _SPOOL = StdinSpool(src)
        if not os.isatty(0):
            try:
                tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
            except OSError:
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.close(devnull)
            else:
                os.dup2(tty, 0)
                os.close(tty)
    return _SPOOL


def spooled_label(path: str) -> str | None:
    """``stdin`` when ``path`` is the spool of standard input, else None."""
    if _SPOOL is not None and os.path.abspath(path) == os.path.abspath(_SPOOL.path):
        return "stdin"
    return None


def reset_for_tests() -> None:
    """Forget the spool (tests start several)."""
    global _SPOOL
    if _SPOOL is not None:
        _SPOOL.remove()
    _SPOOL = None
