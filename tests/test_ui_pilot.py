"""Pilot tests of the agenttui TUI: driven by keys on a deterministic fixture."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from agenttui.output.views import trace_dict
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.format import duration
from agenttui.ui.screens.event_screen import EventScreen
from agenttui.ui.screens.help_screen import HelpScreen
from agenttui.ui.screens.main_screen import MainScreen
from agenttui.ui.screens.tools_screen import ToolsScreen
from agenttui.ui.screens.trace_screen import TraceScreen
from agenttui.ui.screens.unattributed_screen import UnattributedScreen
from agenttui.ui.widgets import trace_list as trace_list_module
from agenttui.ui.widgets.tool_panel import ToolPanel
from agenttui.ui.widgets.trace_list import TraceList
from agenttui.ui.widgets.waterfall import Waterfall
from tests.test_ui_fixtures import HOSTILE_QUERY, fixture_lines, write_logs

SIZE = (100, 30)


async def wait_for(pilot: Pilot[None], cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``cond()`` holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


async def ready(pilot: Pilot[None], app: AgentTUI) -> TraceList:
    """Wait until the initial scan is shown in the list."""
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, MainScreen)
            and app.main.ready
            and not app._scanning
            and app.main.trace_list.total_count == len(app.session.index)
        ),
    )
    return app.main.trace_list


def screen_text(app: AgentTUI) -> str:
    """Everything on screen, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A directory with the deterministic fixture log."""
    write_logs(tmp_path / "logs")
    return tmp_path / "logs"


def make_app(path: Path) -> AgentTUI:
    """An app on ``path``."""
    return AgentTUI(Session([str(path)]))


def expected_order(session: Session) -> list[str]:
    """Request ids newest first, as the headless ``traces`` command orders them (reversed)."""
    return [t.request_id for t in reversed(session.index.ordered())]


async def test_list_navigation_and_trace_screen(logs: Path) -> None:
    app = make_app(logs)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        assert tl.row_count == 12
        assert tl.visible_request_ids() == expected_order(app.session)
        assert tl.cursor == 0
        await pilot.press("j", "down", "j")
        assert tl.cursor == 3
        await pilot.press("k", "up")
        assert tl.cursor == 1
        await pilot.press("end")
        assert tl.cursor == 11
        await pilot.press("home")
        assert tl.cursor == 0
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        screen = app.screen
        assert isinstance(screen, TraceScreen)
        rid = tl.selected
        assert screen.request_id == rid
        trace = app.session.index.traces[rid]
        expected = trace_dict(app.session.index, trace)
        waterfall = screen.query_one(Waterfall)
        assert [s.tool for s in waterfall.spans] == [t["tool"] for t in expected["tools"]]
        await wait_for(pilot, lambda: len(screen.events) == trace.events)
        text = screen_text(app)
        for tool in expected["tools"]:
            assert tool["tool"] in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert tl.cursor == 1


async def test_next_failure_and_traceback(logs: Path) -> None:
    app = make_app(logs)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        failed = [
            rid
            for rid in tl.visible_request_ids()
            if app.session.index.traces[rid].status == "error"
        ]
        assert len(failed) == 3
        seen = []
        for _ in range(4):
            await pilot.press("e")
            seen.append(tl.selected)
        assert seen == [*failed, failed[0]]  # wraps around
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        screen = app.screen
        assert isinstance(screen, TraceScreen)
        assert "ConnectionError: upstream refused" in screen_text(app)
        await wait_for(pilot, lambda: bool(screen.events))
        # The failed tool call is the second span: select it in the waterfall.
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        text = screen_text(app)
        assert "Traceback (most recent call last):" in text
        assert "ConnectionRefusedError: [Errno 111] Connection refused" in text
        assert "The above exception was the direct cause" in text
        assert "ConnectionError: upstream refused" in text
        traceback = text[text.index("Traceback (most recent call last):") :]
        assert traceback.index("ConnectionRefusedError") < traceback.index(
            "ConnectionError: upstream"
        )
        assert "line " in text.splitlines()[0]  # a line number, not a byte offset
        await pilot.press("escape")
        assert isinstance(app.screen, TraceScreen)
        # Enter on the failed event in the events table shows the same traceback.
        await pilot.press("v")
        table = screen.query_one("#events", DataTable)
        failed_row = next(
            i for i, e in enumerate(screen.events) if e.record.message == "tool_call_failed"
        )
        table.move_cursor(row=failed_row)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        assert "ConnectionRefusedError" in screen_text(app)


async def test_search_filters_and_escape_restores(logs: Path) -> None:
    app = make_app(logs)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        rid = tl.visible_request_ids()[5]
        await pilot.press("slash")
        search = app.screen.query_one("#search", Input)
        assert search.has_focus
        await pilot.press(*rid.upper())  # case-insensitive
        await wait_for(pilot, lambda: tl.row_count == 1)
        assert tl.visible_request_ids() == [rid]
        await pilot.press("escape")
        assert tl.row_count == 12
        assert not search.has_class("-visible")
        # Query and error texts match too.
        await pilot.press("slash", *"upstream", "enter")
        await wait_for(pilot, lambda: tl.row_count == 3)
        assert tl.has_focus


async def test_search_in_a_worker(logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agenttui.ui.screens import main_screen

    monkeypatch.setattr(main_screen, "SYNC_FILTER_LIMIT", 0)
    monkeypatch.setattr(trace_list_module, "SYNC_FILTER_LIMIT", 0)
    app = make_app(logs)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await pilot.press("slash", *"question number 1")
        await wait_for(pilot, lambda: tl.needle == "question number 1")
        expected = [
            t.request_id
            for t in reversed(app.session.index.ordered())
            if "question number 1" in (t.query or "")
        ]
        assert len(expected) == 2  # 10 and 11 (request 1 has the hostile query)
        assert tl.visible_request_ids() == expected
        await pilot.press("escape")
        assert tl.row_count == 12


async def test_help_tools_unattributed_and_quit(logs: Path) -> None:
    app = make_app(logs)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "next failed trace" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("t")
        assert isinstance(app.screen, ToolsScreen)
        panel = app.screen.query_one(ToolPanel)
        stats = app.session.index.tool_stats()
        await wait_for(pilot, lambda: panel.row_count == len(stats))
        for name, s in stats.items():
            row = [c.plain for c in panel.get_row(name)]
            rate = 100 * s.errors / s.completed
            assert row == [
                name,
                str(s.calls),
                str(s.running) if s.running else "·",
                str(s.errors),
                f"{rate:.1f}%",
                duration(s.p50_ms),
                duration(s.p95_ms),
                duration(s.p99_ms),
                duration(s.max_ms),
            ]
        await pilot.press("t")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("u")
        assert isinstance(app.screen, UnattributedScreen)
        screen = app.screen
        await wait_for(pilot, lambda: "worker_heartbeat" in screen_text(app))
        text = screen_text(app)
        assert "Traceback (most recent call last): not json" in text
        assert "worker_heartbeat" in text
        # Open the raw line: shown as raw text with a note.
        table = screen.query_one(DataTable)
        table.move_cursor(row=next(i for i, e in enumerate(screen.events) if e.is_raw))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        text = screen_text(app)
        assert "not JSON" in text
        assert "Traceback (most recent call last): not json at all \\x1b[2J" in text
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("q")
        await wait_for(pilot, lambda: app._exit_renderables is not None or not app.is_running)
    assert app.stop_event.is_set()


async def test_live_tail_shows_new_trace(logs: Path) -> None:
    app = make_app(logs)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await pilot.press("down", "down")
        selected = tl.selected
        new_id = "req-live-0001"
        line = orjson.dumps(
            {
                "timestamp": "2030-01-01T00:00:00Z",
                "level": "info",
                "event": "request_start",
                "request_id": new_id,
                "query": "arrived while watching",
            }
        )
        with (logs / "agent.log").open("ab") as f:
            f.write(line + b"\n")
        await wait_for(pilot, lambda: tl.row_count == 13, timeout=8)
        assert tl.visible_request_ids()[0] == new_id
        assert tl.selected == selected  # the cursor stayed on its trace
        assert tl.cursor == 3
        await wait_for(pilot, lambda: "arrived while watching" in screen_text(app))


async def test_hostile_text_is_shown_not_executed(logs: Path) -> None:
    app = make_app(logs)
    async with app.run_test(size=(160, 30)) as pilot:
        tl = await ready(pilot, app)
        rid = next(
            r
            for r in tl.visible_request_ids()
            if app.session.index.traces[r].query == HOSTILE_QUERY
        )
        tl.select_request(rid)
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]x[/] [@click=app.quit]click[/] \\x1b[31mred\\x07" in text
        # A click on the selected row (on the hostile text itself) opens the trace.
        await pilot.click(TraceList, offset=(70, tl.cursor))
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        text = screen_text(app)
        assert "query: [bold red]x[/] [@click=app.quit]click[/] \\x1b[31mred\\x07 end" in text
        assert app.is_running
        assert isinstance(app.screen, TraceScreen)


def test_fixture_has_hostile_line() -> None:
    assert any(
        HOSTILE_QUERY.encode("unicode_escape")[:5] in line or b"@click" in line
        for line in fixture_lines()
    )
