"""Read-only guarantee: agenttui never writes to, locks, truncates or moves the files it reads.

The TUI (driven by Pilot through its screens) and the headless commands run on a log
directory; before and after, every file's inode, size, mtime and content are compared, and
every ``open`` of a log file is recorded to check that it asked for reading only. While the TUI
runs, ``/proc/self/fdinfo`` shows how each descriptor on a log file is open, and
``/proc/locks`` shows no lock on any of them.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agenttui.commands import stats as stats_cmd
from agenttui.commands import traces as traces_cmd
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.trace_screen import TraceScreen
from tests.test_ui_fixtures import write_logs
from tests.test_ui_pilot import ready, wait_for

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT


def snapshot(directory: Path) -> dict[str, tuple[int, int, int, str]]:
    """Inode, size, mtime and content hash of every file under ``directory``."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            st = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(directory))] = (st.st_ino, st.st_size, st.st_mtime_ns, digest)
    return out


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[tuple[str, int]]]:
    """A log directory (two files and a capture) and the record of opens under it."""
    directory = tmp_path / "logs"
    write_logs(directory, n=12)
    write_logs(directory, n=3, name="other.log")
    (directory / "failed_20260101T000000Z.json").write_bytes(b'{"query": "x"}\n')
    for path in directory.iterdir():
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # an mtime that a write would change
    opened: list[tuple[str, int]] = []
    real_open = os.open
    root = str(directory)

    def recording_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        name = os.path.abspath(os.fsdecode(path))
        if name.startswith(root):
            opened.append((name, flags))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    return directory, opened


def descriptors_on(directory: Path) -> dict[str, int]:
    """Open descriptors of this process on files under ``directory``: path -> open flags."""
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            with open(f"/proc/self/fdinfo/{fd}") as info:
                for row in info:
                    if row.startswith("flags:"):
                        out[f"{target}#{fd}"] = int(row.split()[1], 8)
    return out


def locks_on(directory: Path) -> list[str]:
    """Lines of /proc/locks naming an inode of a file under ``directory``."""
    inodes = {str(p.stat().st_ino) for p in directory.iterdir()}
    with open("/proc/locks") as f:
        return [row for row in f if row.split()[5].rsplit(":", 1)[-1] in inodes]


def assert_read_only(opened: list[tuple[str, int]]) -> None:
    assert opened, "no log file was opened: the check would prove nothing"
    for name, flags in opened:
        assert flags & 3 == os.O_RDONLY, f"{name} opened for writing"
        assert not flags & WRITE_FLAGS, f"{name} opened with write flags {flags:o}"


async def test_tui_leaves_the_files_as_they_were(logs: tuple[Path, list[tuple[str, int]]]) -> None:
    directory, opened = logs
    before = snapshot(directory)
    app = AgentTUI(Session([str(directory)]))
    async with app.run_test(size=(100, 30)) as pilot:
        tl = await ready(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        await pilot.press("v", "enter")
        await pilot.pause(0.1)
        await pilot.press("escape", "escape", "u")
        await pilot.pause(0.2)
        await pilot.press("escape", "t")
        await pilot.pause(0.2)
        await pilot.press("escape", "e")
        assert tl.row_count == len(app.session.index) == 12
        fds = descriptors_on(directory)
        assert fds, "the TUI holds no descriptor on the logs"
        for name, flags in fds.items():
            assert flags & 3 == os.O_RDONLY and not flags & WRITE_FLAGS, (name, oct(flags))
        assert locks_on(directory) == []
        await pilot.press("q")
    app.session.close()
    assert_read_only(opened)
    assert snapshot(directory) == before


def test_headless_commands_leave_the_files_as_they_were(
    logs: tuple[Path, list[tuple[str, int]]],
) -> None:
    directory, opened = logs
    before = snapshot(directory)
    for paths in ([str(directory)], [str(directory / "agent.log")]):
        assert traces_cmd.print_traces(paths, io.BytesIO()) == 0
        assert stats_cmd.print_stats(paths, io.BytesIO()) == 0
    # watch: the follow loop, stopped after a moment.
    session = Session([str(directory)])
    session.scan()
    stop = threading.Event()
    thread = threading.Thread(target=session.follow, args=(lambda _n: None, stop), daemon=True)
    thread.start()
    time.sleep(0.2)
    assert locks_on(directory) == []
    stop.set()
    thread.join(timeout=5)
    session.close()
    assert_read_only(opened)
    assert snapshot(directory) == before
