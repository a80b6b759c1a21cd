"""File life cycle while tailing: rotation of every kind, deletion, new files, unreadable files.

The proof test writes numbered lines through every kind of rotation while a session follows the
files, then checks that the set of numbers read is exactly the set written: none lost, none
read twice.

What ``copytruncate`` loses by design: lines the writer appends between logrotate's copy and
its truncation are in neither file (the copy was taken before them, the truncation erases
them). The writer here pauses around copy + truncate, as the test cannot read them either.
The only other wait: a file created and replaced (renamed over) before the reader ever
looked at it cannot be seen by any reader, so the writer lets the reader catch up before
replacing the file. When only the live file is watched (a file path, not the directory),
lines not yet read when the truncation happens are lost too, since the copy is not watched;
the writer then waits until the reader has caught up before rotating. Watching the
directory, agenttui recognises the copy by its first bytes and reads those lines from it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui.ingest import sources
from agenttui.ingest.sources import SourceError
from agenttui.session import Session


def line(n: int, name: str = "n") -> bytes:
    """One numbered log line."""
    return orjson.dumps({"event": name, "request_id": f"r{n}", "n": n}) + b"\n"


class Writer:
    """Writes numbered lines like an application would (O_APPEND), through rotations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.n = 0
        self.written: set[int] = set()
        self.fd = self._open()

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, count: int, fd: int | None = None) -> None:
        """Append ``count`` numbered lines, a few per write, as loggers flush."""
        target = self.fd if fd is None else fd
        for _ in range(count):
            os.write(target, line(self.n))
            self.written.add(self.n)
            self.n += 1

    def reopen(self) -> int:
        """Open the path again (the application's reaction to SIGHUP); returns the old fd."""
        old = self.fd
        self.fd = self._open()
        return old

    def close(self) -> None:
        os.close(self.fd)


def seen_numbers(session: Session) -> tuple[set[int], int, int]:
    """Numbers read, lines read, and events in traces (a duplicate makes a trace hold 2)."""
    with session.read():
        index = session.index
        numbers = {int(rid[1:]) for rid in index.traces}
        events = sum(t.events for t in index.traces.values())
        return numbers, index.lines, events


def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def caught_up(session: Session, writer: Writer, extra: int = 0) -> Callable[[], bool]:
    return lambda: seen_numbers(session)[1] >= len(writer.written) + extra


def rotate_through_everything(
    log: Path, writer: Writer, session: Session, *, watch_dir: bool, step: Callable[[], None]
) -> dict[str, int]:
    """Write numbered lines through each kind of rotation; ``step`` lets the reader run."""
    d = log.parent
    counts: dict[str, int] = {}

    def burst(k: int = 40) -> None:
        for _ in range(k // 10):
            writer.write(10)
            step()

    burst()
    # 1. logrotate "create": rename, the app keeps writing to the renamed file until it
    #    reopens its log (after the postrotate signal).
    os.rename(log, d / "agent.log.1")
    writer.write(25)  # still into the renamed file
    step()
    old = writer.reopen()
    writer.write(5, fd=old)  # a late write through the old descriptor
    os.close(old)
    burst()
    counts["rename"] = 1
    # 2. copytruncate: copy, then truncate in place; the app keeps its descriptor.
    if watch_dir:
        writer.write(12)  # not read yet when the file is truncated: only the copy has them
    else:
        wait_until(caught_up(session, writer))
    shutil.copyfile(log, d / "agent.log.2")
    with log.open("r+b") as f:
        f.truncate(0)
    burst()
    counts["copytruncate"] = 1
    # 3. Deleted, written to while deleted (the app still has it open), created later.
    burst(20)
    log.unlink()
    writer.write(15)  # into the deleted file
    step()
    time.sleep(0.05)
    step()
    old = writer.reopen()
    os.close(old)
    burst()
    counts["delete_recreate"] = 1
    # 4. Replaced by a shorter file (rename over it: a new inode). A file created and
    #    replaced between two looks of the reader is invisible to any reader: let it look.
    wait_until(caught_up(session, writer))
    tmp = d / "agent.log.tmp"
    with tmp.open("wb") as g:
        for _ in range(3):
            g.write(line(writer.n))
            writer.written.add(writer.n)
            writer.n += 1
    os.replace(tmp, log)
    old = writer.reopen()
    os.close(old)
    burst()
    counts["replaced_shorter"] = 1
    # 5. Truncated in place and written past the old offset again before the reader looks.
    wait_until(caught_up(session, writer))
    with log.open("r+b") as f:
        f.truncate(0)
    writer.write(80)
    step()
    burst()
    counts["truncate_regrow"] = 1
    # 6. The directory gains a file.
    if watch_dir:
        other = Writer(d / "other.log")
        other.n = 1_000_000
        other.write(30)
        step()
        writer.written |= other.written
        other.close()
        counts["new_file"] = 1
    burst()
    return counts


def check_exact(session: Session, writer: Writer) -> None:
    wait_until(caught_up(session, writer))
    time.sleep(0.05)  # anything read twice would show up now
    numbers, lines, events = seen_numbers(session)
    assert numbers == writer.written, (
        sorted(writer.written - numbers)[:10],
        sorted(numbers - writer.written)[:10],
    )
    assert lines == len(writer.written) == events


@pytest.mark.parametrize("watch_dir", [True, False], ids=["directory", "file"])
def test_numbered_lines_through_every_rotation_with_poll(tmp_path: Path, watch_dir: bool) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(100)
    session = Session([str(tmp_path if watch_dir else log)])
    session.scan()
    try:
        rotate_through_everything(
            log, writer, session, watch_dir=watch_dir, step=lambda: _poll(session)
        )

        def poll_until() -> bool:
            session.poll()
            return caught_up(session, writer)()

        wait_until(poll_until)
        check_exact(session, writer)
    finally:
        writer.close()
        session.close()


@pytest.mark.parametrize("watch_dir", [True, False], ids=["directory", "file"])
def test_numbered_lines_through_every_rotation_while_following(
    tmp_path: Path, watch_dir: bool
) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(100)
    session = Session([str(tmp_path if watch_dir else log)])
    session.scan()
    stop = threading.Event()
    follower = threading.Thread(target=session.follow, args=(lambda _n: None, stop), daemon=True)
    follower.start()
    try:
        time.sleep(0.1)  # watchfiles is watching
        counts = rotate_through_everything(
            log, writer, session, watch_dir=watch_dir, step=lambda: time.sleep(0.002)
        )
        assert len(counts) == (6 if watch_dir else 5)
        check_exact(session, writer)
    finally:
        stop.set()
        follower.join(timeout=5)
        writer.close()
        session.close()
    assert not follower.is_alive()


def test_rotated_files_in_a_watched_directory_are_not_read_again(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(10)
    session = Session([str(tmp_path)])
    session.scan()
    for k in range(3, 0, -1):  # logrotate rotate 3: .2 -> .3, .1 -> .2, log -> .1
        if (tmp_path / f"agent.log.{k - 1}").exists():
            os.rename(tmp_path / f"agent.log.{k - 1}", tmp_path / f"agent.log.{k}")
    os.rename(log, tmp_path / "agent.log.1")
    writer.reopen()
    writer.write(5)
    session.poll()
    assert seen_numbers(session) == (writer.written, 15, 15)
    # Old events stay readable under the new name.
    assert session.events(session.index.traces["r3"])[0].data == {
        "event": "n",
        "request_id": "r3",
        "n": 3,
    }
    writer.close()
    session.close()


def test_a_copy_of_a_growing_file_is_not_read_twice(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(20)
    session = Session([str(tmp_path)])
    session.scan()
    shutil.copyfile(log, tmp_path / "agent.log.bak")  # not truncated: a plain copy
    writer.write(5)
    session.poll()
    assert seen_numbers(session)[1:] == (25, 25)
    writer.close()
    session.close()


def test_copytruncate_lines_not_yet_read_are_read_from_the_copy(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(20)
    session = Session([str(tmp_path)])
    session.scan()
    writer.write(7)  # unread when logrotate copies and truncates
    shutil.copyfile(log, tmp_path / "agent.log.1")
    session.poll()  # the copy is seen before the truncation: not read (it is a copy)
    assert seen_numbers(session)[1:] == (27, 27)
    writer.write(3)
    shutil.copyfile(log, tmp_path / "agent.log.1")
    with log.open("r+b") as f:
        f.truncate(0)
    writer.write(4)
    session.poll()
    assert seen_numbers(session) == (writer.written, 34, 34)
    # Events read before the truncation are still readable: the copy holds their bytes.
    assert session.events(session.index.traces["r2"])[0].data == {
        "event": "n",
        "request_id": "r2",
        "n": 2,
    }
    assert session.events(session.index.traces["r32"])[0].raw is not None
    writer.close()
    session.close()


def _deny(monkeypatch: pytest.MonkeyPatch, denied: set[str]) -> None:
    """Make opening the paths in ``denied`` fail with EACCES (root ignores chmod)."""
    real_open = os.open

    def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.abspath(os.fsdecode(path)) in denied:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


def test_unreadable_file_is_a_problem_and_the_rest_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = tmp_path / "good.log", tmp_path / "bad.log"
    good.write_bytes(line(1))
    bad.write_bytes(line(2))
    bad.chmod(0)  # enough when not root
    denied = {str(bad)}
    _deny(monkeypatch, denied)
    session = Session([str(tmp_path)])
    session.scan()
    assert seen_numbers(session)[0] == {1}
    assert session.problems == [f"{sources.display_path(str(bad))}: permission denied"]
    with good.open("ab") as f:
        f.write(line(3))
    session.poll()
    assert seen_numbers(session)[0] == {1, 3}
    denied.clear()  # permission granted: read from the start, once
    bad.chmod(0o644)
    session.poll()
    session.poll()
    assert seen_numbers(session)[0] == {1, 2, 3}
    assert session.problems == []
    assert seen_numbers(session)[1] == 3
    session.close()


def test_pipes_and_directories_named_like_logs_never_block(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(line(1))
    os.mkfifo(tmp_path / "pipe.log")  # no writer: opening it for reading would block
    (tmp_path / "dir.log").mkdir()
    for spec in (str(tmp_path), str(tmp_path / "*.log")):
        session = Session([spec])
        done = threading.Event()

        def run(s: Session = session, finished: threading.Event = done) -> None:
            s.scan()
            s.poll()
            finished.set()

        threading.Thread(target=run, daemon=True).start()
        assert done.wait(5), "reading blocked on a pipe"
        assert seen_numbers(session)[0] == {1}
        session.close()
    with pytest.raises(SourceError, match="pipe"):
        Session([str(tmp_path / "pipe.log")])


def test_a_log_replaced_by_a_pipe_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    log.write_bytes(line(1))
    session = Session([str(log)])
    session.scan()
    log.unlink()
    os.mkfifo(log)
    done = threading.Event()

    def poll_then_say() -> None:
        session.poll()
        done.set()

    threading.Thread(target=poll_then_say, daemon=True).start()
    assert done.wait(5)
    assert session.problems == [f"{sources.display_path(str(log))}: not a regular file (skipped)"]
    session.close()


def _poll(session: Session) -> None:
    """Let the reader look once (the number of lines it read is not needed here)."""
    session.poll()
