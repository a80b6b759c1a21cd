"""The keys every list shares (j/k, g/G, /, n/N, ?), following resume, bookmarks, the filter
input, the tools table, the command palette and the event screen, driven by Pilot."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.widgets import Input, Static

from agenttui.session import Session
from agenttui.ui.app import PALETTE, AgentTUI
from agenttui.ui.screens.event_screen import EventScreen
from agenttui.ui.screens.groups_screen import ErrorGroupsScreen
from agenttui.ui.screens.help_screen import HelpScreen
from agenttui.ui.screens.main_screen import MainScreen
from agenttui.ui.screens.tools_screen import ToolsScreen, tool_query
from agenttui.ui.screens.trace_screen import TraceScreen
from agenttui.ui.widgets.nav_table import NavTable
from agenttui.ui.widgets.tool_panel import ToolPanel
from agenttui.ui.widgets.trace_columns import Columns
from tests.test_ui_fixtures import BASE_TS, fixture_lines, write_logs
from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    write_logs(tmp_path / "logs")
    return tmp_path / "logs"


async def test_g_G_top_bottom_and_following_resumes(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        assert tl.following
        await pilot.press("G")
        assert tl.cursor == tl.row_count - 1
        assert not tl.following
        # New traces arrive: the cursor stays on its trace.
        held = tl.selected
        with (logs / "agent.log").open("ab") as f:
            f.write(
                orjson.dumps(
                    {
                        "event": "request_start",
                        "request_id": "new-1",
                        "timestamp": "2025-11-26T09:00:00Z",
                    }
                )
                + b"\n"
            )
        await wait_for(pilot, lambda: tl.total_count == 13)
        assert tl.selected == held
        await pilot.press("g")  # top = the newest row: following again
        assert tl.cursor == 0 and tl.following
        with (logs / "agent.log").open("ab") as f:
            f.write(
                orjson.dumps(
                    {
                        "event": "request_start",
                        "request_id": "new-2",
                        "timestamp": "2025-11-26T09:00:01Z",
                    }
                )
                + b"\n"
            )
        await wait_for(pilot, lambda: tl.total_count == 14)
        assert tl.selected == "new-2"
        await pilot.press("j", "k")  # up to the newest again: still following
        assert tl.following
        await pilot.press("end")
        assert not tl.following
        await pilot.press("home")
        assert tl.following
        assert "following new traces" in screen_text(app)


async def test_error_groups_moved_to_E_and_tables_share_the_keys(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorGroupsScreen))
        screen = app.screen
        assert isinstance(screen, ErrorGroupsScreen)
        await wait_for(pilot, lambda: bool(screen.groups))
        table = screen.query_one(NavTable)
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("slash")  # / on any screen edits the list's filter
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.main.query_one("#search", Input).has_focus


async def test_slash_again_edits_the_filter_and_bad_queries_keep_the_last(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await pilot.press("slash", *"status:error", "enter")
        assert tl.row_count == 3
        await pilot.press("slash")
        search = app.main.query_one("#search", Input)
        assert search.value == "status:error"
        assert search.cursor_position == len("status:error")
        # Half-typed: " dur>" does not parse; the last complete filter stays, the problem shows.
        await pilot.press("space", *"dur")
        before = (tl.needle, tl.row_count)
        await pilot.press(">")
        assert (tl.needle, tl.row_count) == before
        error = app.main.query_one("#query-error", Static)
        assert error.has_class("-visible")
        await pilot.press(*"1ms")
        await wait_for(pilot, lambda: tl.needle == "status:error dur>1ms")
        assert not error.has_class("-visible")


async def test_bookmarks_are_listed_and_jumped_to(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await pilot.press("j", "m", "j", "j", "j", "m", "home")
        marked = set(tl.bookmarks)
        assert len(marked) == 2
        await pilot.press("b")
        first = tl.selected
        await pilot.press("b")
        assert {first, tl.selected} == marked
        await pilot.press("B")
        assert set(tl.visible_request_ids()) == marked
        await pilot.press("escape")
        assert tl.row_count == 12


async def test_enter_on_a_tool_filters_the_list(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ToolsScreen))
        panel = app.screen.query_one(ToolPanel)
        await wait_for(pilot, lambda: panel.row_count > 0)
        await pilot.press("j")
        tool = panel.coordinate_to_cell_key(panel.cursor_coordinate).row_key.value
        assert tool is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await wait_for(pilot, lambda: tl.needle == f"tool:{tool}")
        assert 0 < tl.row_count < 12
    assert tool_query("my tool") == 'tool:"my tool"'


async def test_palette_offers_each_help_action_once(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
    assert len(titles) == len(set(titles))
    for needed in (
        "Newest failure",
        "Error groups",
        "Live stats",
        "Failure captures",
        "Replay",
        "Copy request id",
        "Incident note",
        "Bookmarks",
        "Doctor",
        "Quit",
    ):
        assert needed in titles
    for _title, _help, action in PALETTE:
        assert action == "quit" or callable(getattr(app, f"action_{action}"))


def test_the_error_column_shows_at_80_columns() -> None:
    cols = Columns.for_width(78)  # 80 minus the scrollbar gutter
    assert cols.error >= 16
    assert cols.query >= 8
    assert cols.heading().rstrip().endswith("error")


async def test_event_screen_line_numbers_and_real_line_breaks(tmp_path: Path) -> None:
    lines = fixture_lines(3)
    lines.append(
        orjson.dumps(
            {
                "timestamp": "2025-11-26T08:25:00Z",
                "event": "tool_call_failed",
                "request_id": "req-multi",
                "tool": "call_llm",
                "level": "error",
                "error": "ValueError: bad answer",
                "answer": "first line\nsecond line\x1b[2J",
                "exception": [
                    {
                        "exc_type": "ValueError",
                        "exc_value": "bad answer",
                        "frames": [
                            {
                                "filename": "a.py",
                                "lineno": 3,
                                "name": "f",
                                "locals": {"call": "ToolCall(\n    tool='line two'\n)", "n": "1"},
                            }
                        ],
                    }
                ],
            }
        )
    )
    log = tmp_path / "agent.log"
    log.write_bytes(b"\n".join(lines) + b"\n")
    app = AgentTUI(Session([str(log)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        app.push_screen(TraceScreen(app.session, "req-multi"))
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        screen = app.screen
        assert isinstance(screen, TraceScreen)
        await wait_for(pilot, lambda: bool(screen.events))
        await pilot.press("v", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        event_screen = app.screen
        assert isinstance(event_screen, EventScreen)
        await wait_for(pilot, lambda: event_screen.line is not None)
        assert event_screen.line == len(lines)
        text = screen_text(app)
        assert f"agent.log line {len(lines)}" in text
        assert "\\x0a" not in text and "\\n" in text  # JSON keeps its escapes
        assert "            tool='line two'" in text  # the local with its real line breaks
        answer = str(event_screen.query_one("#multiline-0", Static).content)
        assert answer == "first line\nsecond line\\x1b[2J"  # real break, escape made visible
    assert BASE_TS > 0


async def test_footer_shows_help_and_quit_at_80_columns(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        # The footer paints after the list: wait for its first frame, then read it.
        await wait_for(pilot, lambda: screen_text(app).splitlines()[-1].strip() != "")
        footer = screen_text(app).splitlines()[-1]
        assert "? Help" in footer and "q Quit" in footer
        heading = screen_text(app).splitlines()[2]
        assert heading.rstrip().endswith("error")  # the error column at 80 columns
