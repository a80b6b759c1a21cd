"""Snapshot tests (pytest-textual-snapshot) of the list and trace screens on a fixed fixture.

The fixture has fixed timestamps and the UI shows times in UTC, so the SVGs do not depend on
the machine. Update them with ``pytest tests/test_ui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.event_screen import EventScreen
from agenttui.ui.screens.groups_screen import ErrorGroupsScreen
from agenttui.ui.screens.help_screen import HelpScreen
from agenttui.ui.screens.stats_screen import StatsScreen
from agenttui.ui.screens.tools_screen import ToolsScreen
from agenttui.ui.screens.trace_screen import TraceScreen
from agenttui.ui.screens.unattributed_screen import UnattributedScreen
from agenttui.ui.widgets.root_cause import RootCause
from tests.test_ui_fixtures import write_logs
from tests.test_ui_pilot import ready, wait_for


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentTUI:
    """The app on the fixture, with a path that reads the same on every machine."""
    write_logs(tmp_path / "logs")
    monkeypatch.chdir(tmp_path)
    return AgentTUI(Session(["logs"]), title="agenttui")


async def _list_ready(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    await pilot.pause()


async def _failed_trace(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    await pilot.press("e", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
    screen = app.screen
    assert isinstance(screen, TraceScreen)
    await wait_for(pilot, lambda: len(screen.events) > 0)
    cause = screen.query_one(RootCause)
    await wait_for(pilot, lambda: cause.found is not None)  # the failure class and fix
    await pilot.pause()


SnapCompare = Callable[..., Any]


def test_list_screen_100x30(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(100, 30), run_before=_list_ready)


def test_list_screen_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_list_ready)


def test_failed_trace_screen_100x30(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(100, 30), run_before=_failed_trace)


def test_failed_trace_screen_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_failed_trace)


# ------------------------------------------------------------------ every screen at 80x24
# Each screen is opened the way a user opens it, on the same fixed fixture; 80x24 is the smallest
# terminal agenttui promises to be usable in.


async def _event_of_failed_call(pilot: Pilot[None]) -> None:
    """List -> next failure -> trace -> enter on the failed call: its traceback."""
    await _failed_trace(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, EventScreen))
    await pilot.pause()


def _open(action: str, screen_type: type[Screen[None]]) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, AgentTUI)
        await ready(pilot, app)
        await app.run_action(action)
        await wait_for(pilot, lambda: isinstance(app.screen, screen_type))
        await pilot.pause(0.3)  # the screen's first worker result
        await pilot.pause()

    return run_before


def test_event_screen_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_event_of_failed_call)


@pytest.mark.parametrize(
    ("action", "screen_type"),
    [
        ("groups", ErrorGroupsScreen),
        ("stats", StatsScreen),
        ("tools", ToolsScreen),
        ("help", HelpScreen),
        ("unattributed", UnattributedScreen),
    ],
    ids=["groups", "stats", "tools", "help", "unattributed"],
)
def test_screen_80x24(
    snap_compare: SnapCompare, app: AgentTUI, action: str, screen_type: type[Screen[None]]
) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open(action, screen_type))
