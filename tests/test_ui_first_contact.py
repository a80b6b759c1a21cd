"""The first screen of ``agenttui`` without a path: the picker (several logs) and the "no logs"
screen (none), driven by keys, and their snapshots at 80x24."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from agenttui.ingest.discover import Discovery, discover
from agenttui.ingest.sniff import Candidate
from agenttui.ui.first_contact import FirstContactApp
from agenttui.ui.screens.picker_screen import NoLogsScreen, PickerScreen
from tests.test_ui_fixtures import BASE_TS, write_logs

SnapCompare = Callable[..., Any]


async def wait_for(pilot: Pilot[Any], cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``cond()`` holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


NOW = BASE_TS + 600


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTTUI_LOGS", raising=False)


def several(root: Path) -> Discovery:
    """Three logs and a capture folder with fixed times, found from ``root``."""
    for i, name in enumerate(("logs/api.log", "logs/worker.jsonl", "agent.log")):
        path = write_logs((root / name).parent, n=6 + 3 * i, name=Path(name).name)
        os.utime(path, (NOW - 60 * (i + 1) ** 2, NOW - 60 * (i + 1) ** 2))
    (root / "captures").mkdir()
    (root / "captures" / "failed_1.json").write_text("{}")
    return discover(str(root), system=False)


def nothing(root: Path) -> Discovery:
    return discover(str(root), system=False)


async def test_picker_opens_the_highlighted_log_with_the_captures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    found = several(tmp_path)
    assert len(found.candidates) == 3
    app = FirstContactApp(found, lambda: nothing(tmp_path), now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("j", "k", "G", "g", "j", "enter")
    assert app.return_value == [found.candidates[1].path, str(tmp_path / "captures")]


async def test_picker_space_selects_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    found = several(tmp_path)
    app = FirstContactApp(found, lambda: nothing(tmp_path), now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("space", "j", "space", "enter")  # space moves on: rows 0 and 2
    paths = [c.path for c in found.candidates]
    assert app.return_value == [paths[0], paths[2], str(tmp_path / "captures")]


async def test_picker_quits_without_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = FirstContactApp(several(tmp_path), lambda: nothing(tmp_path), now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("q")
    assert app.return_value is None


async def test_no_logs_screen_finds_logs_that_appear(tmp_path: Path) -> None:
    found = nothing(tmp_path)
    app = FirstContactApp(found, lambda: nothing(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, NoLogsScreen))
        text = "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert "Waiting for traces" not in text
        for hint in ("agenttui PATH", "[logs] paths", "AGENTTUI_LOGS", "agenttui -"):
            assert hint in text
        assert "./logs: not there" in text
        log = write_logs(tmp_path / "logs")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == [str(log)]


async def test_no_logs_then_several_shows_the_picker(tmp_path: Path) -> None:
    app = FirstContactApp(nothing(tmp_path), lambda: several(tmp_path), now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, NoLogsScreen))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))


def _fixed(found: Discovery, root: Path) -> Discovery:
    """Paths relative to ``root`` and sizes as found: the same SVG on every machine."""
    found.candidates = [
        Candidate(
            os.path.relpath(c.path, root),
            c.shape,
            c.size,
            c.mtime,
            c.origin,
            c.requests,
            c.failures,
        )
        for c in found.candidates
    ]
    found.captures = [os.path.relpath(d, root) for d in found.captures]
    found.looked = [line.replace(str(root), ".") for line in found.looked]
    return found


def test_picker_snapshot_80x24(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "box"
    root.mkdir()
    found = _fixed(several(root), root)
    monkeypatch.chdir(root)
    app = FirstContactApp(found, lambda: found, now=NOW)
    assert snap_compare(app, terminal_size=(80, 24))


def test_no_logs_snapshot_80x24(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "box"
    root.mkdir()
    found = _fixed(nothing(root), root)
    monkeypatch.chdir(root)
    app = FirstContactApp(found, lambda: found)
    assert snap_compare(app, terminal_size=(80, 24))
