"""New files are opened the moment they are created, by a child process that never waits for
this interpreter's lock (:mod:`agenttui.ingest.grab`, :mod:`agenttui.ingest.grab_child`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agenttui.ingest.grab import Grabber

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


def _wait(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie nobody reaped yet is gone too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_files_that_live_milliseconds_are_read_whole(tmp_path: Path) -> None:
    """Another process creates, writes and deletes a log 40 times, each living 3 ms, while
    this interpreter is busy in long C calls that never let its lock go (as a reading thread
    in orjson or a garbage collection does): every one is read whole."""
    grabber = Grabber([str(tmp_path)], lambda path: path.endswith(".log"))
    assert grabber.active
    writer_code = (
        "import os, sys, time\n"
        "d = sys.argv[1]\n"
        "time.sleep(0.2)\n"
        "for n in range(40):\n"
        "    p = os.path.join(d, 'agent.log')\n"
        "    with open(p, 'wb') as f:\n"
        "        f.write(b'line %d\\n' % n)\n"
        "    time.sleep(0.003)\n"
        "    os.unlink(p)\n"
        "    open(os.path.join(d, 'other.txt'), 'wb').close()\n"
    )
    try:
        writer = subprocess.Popen([sys.executable, "-c", writer_code, str(tmp_path)])
        while writer.poll() is None:
            sum(range(3_000_000))  # tens of milliseconds without a thread switch
        assert writer.returncode == 0
        _wait(lambda: len(grabber.queue) >= 40)
        got = grabber.take()
        assert all(p == str(tmp_path / "agent.log") for p, _fd, _dev, _ino in got)
        texts = [os.pread(fd, 100, 0) for _p, fd, _dev, _ino in got]
        assert texts == [f"line {n}\n".encode() for n in range(40)]
        for _p, fd, _dev, _ino in got:
            os.close(fd)
    finally:
        grabber.close()


def test_close_ends_the_child_and_its_descriptors(tmp_path: Path) -> None:
    grabber = Grabber([str(tmp_path)], lambda path: True)
    proc = grabber._proc
    assert proc is not None
    (tmp_path / "a.log").write_bytes(b"x\n")
    _wait(lambda: len(grabber.queue) == 1)
    fd = grabber.queue[0][1]
    grabber.close()
    assert proc.poll() is not None
    with pytest.raises(OSError):
        os.fstat(fd)  # closed with the grabber
    assert not grabber.active


def test_the_child_dies_with_its_parent(tmp_path: Path) -> None:
    """Killed without a chance to close (SIGKILL, a crash): the child goes too."""
    code = (
        "import os, sys\n"
        "from agenttui.ingest.grab import Grabber\n"
        f"g = Grabber([{str(tmp_path)!r}], lambda p: True)\n"
        "print(g._proc.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert not _gone(child)
    parent.kill()
    parent.wait(5)
    _wait(lambda: _gone(child))


def test_no_directory_no_child(tmp_path: Path) -> None:
    grabber = Grabber([str(tmp_path / "missing")], lambda path: True)
    assert not grabber.active
    assert grabber._proc is None
    grabber.close()


def test_a_name_ending_with_a_newline_keeps_it(tmp_path: Path) -> None:
    """File names are untrusted: one ending with a newline is not taken for another."""
    grabber = Grabber([str(tmp_path)], lambda path: True)
    try:
        (tmp_path / "agent.log\n").write_bytes(b"x\n")
        _wait(lambda: len(grabber.queue) == 1)
        ((path, fd, _dev, _ino),) = grabber.take()
        assert path == str(tmp_path / "agent.log\n")
        os.close(fd)
    finally:
        grabber.close()
