"""Triage in the TUI: three keys from launch to the newest failure's root cause, error groups,
live stats, the query filter (inline errors), n/N, bookmarks and copying."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.widgets import DataTable, Input, Static

from agenttui.model.classify import CLASSES
from agenttui.model.triage import newest_failure
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.event_screen import EventScreen
from agenttui.ui.screens.groups_screen import ErrorGroupsScreen, spark
from agenttui.ui.screens.main_screen import MainScreen
from agenttui.ui.screens.stats_screen import StatsScreen
from agenttui.ui.screens.trace_screen import TraceScreen
from agenttui.ui.widgets import trace_list as trace_list_module
from agenttui.ui.widgets.root_cause import RootCause
from tests.conftest import SAMPLE_LOGS
from tests.test_ui_fixtures import write_logs
from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for


def _sample_app() -> AgentTUI:
    return AgentTUI(Session([str(SAMPLE_LOGS)]))


async def test_three_keys_from_launch_to_root_cause_and_fix() -> None:
    app = _sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        newest = newest_failure(app.session.index)
        assert newest is not None
        # Key 1: "!" opens the newest failure: its error, failure class and fix.
        await pilot.press("exclamation_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        screen = app.screen
        assert isinstance(screen, TraceScreen) and screen.request_id == newest.request_id
        cause = screen.query_one(RootCause)
        await wait_for(pilot, lambda: cause.found is not None)
        assert cause.found is not None and cause.found.cls.key == "rate_limit"
        text = screen_text(app).replace("\n ", " ")
        assert "RateLimitError: 429 Too Many Requests" in text
        assert "cause: rate limit (429)" in text
        assert "fix: Retry with exponential backoff" in text
        # Key 2: enter on the failed call (the waterfall opens on it): the traceback.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "Traceback (most recent call last)" in text
        assert "tool_call_llm" in text and "RateLimitError: 429" in text


async def test_error_groups_screen_lists_every_demo_class_and_opens_a_trace() -> None:
    app = _sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorGroupsScreen))
        screen = app.screen
        assert isinstance(screen, ErrorGroupsScreen)
        await wait_for(pilot, lambda: bool(screen.groups))
        keys = [g.cls.key for g in screen.groups]
        assert set(keys) == {
            "rate_limit",
            "missing_env",
            "wrong_path",
            "permission",
            "missing_binary",
            "wrong_host",
            "timeout",
        }
        counts = [g.count for g in screen.groups]
        assert counts == sorted(counts, reverse=True)  # all in the last 15 minutes
        text = screen_text(app)
        assert "7 error groups, 77 failures" in text
        assert f"class: {CLASSES['rate_limit'].title}" in text
        # Down to the second group: its detail follows the cursor.
        await pilot.press("down")
        await wait_for(pilot, lambda: "group 2/7" in screen_text(app))
        second = screen.groups[1]
        assert second.cls.title in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        assert getattr(app.screen, "request_id", None) == second.newest_request_id
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorGroupsScreen))
        # f: back to the list, filtered to the group's class and tool.
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        tl = app.main.trace_list
        await wait_for(pilot, lambda: tl.needle.startswith("class:"))
        assert tl.row_count == len(second.request_ids)


async def test_stats_screen_has_sparklines_and_slowest() -> None:
    app = _sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await wait_for(
            pilot,
            lambda: (
                screen.stats is not None
                and len(screen.query(".tool-row")) == len(screen.stats.tools)
            ),
        )
        assert screen.stats is not None
        assert screen.stats.requests == 300 and screen.stats.failed == 77
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "events/s" in text and "errors/s" in text and "call_llm" in text
        table = screen.query_one("#slowest", DataTable)
        assert table.row_count == 10
        slowest = screen.stats.slowest[0].request_id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        assert getattr(app.screen, "request_id", None) == slowest


async def test_stats_rows_follow_tools_that_reorder_and_come_and_go() -> None:
    """The tools reorder by error rate at every refresh, and some leave the window: every row
    shown names the tool it charts, right after each refresh (rows are relabelled, never
    filled while being removed)."""
    from dataclasses import replace

    from tests.test_ui_llm import open_stats

    app = _sample_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_stats(pilot)
        base = screen.stats
        assert base is not None and len(base.tools) >= 4
        orders = [
            list(reversed(base.tools)),
            base.tools[:2],
            base.tools[1:] + base.tools[:1],
            base.tools,
        ]
        for tools in orders:
            screen.post_message(StatsScreen.Ready(replace(base, tools=tools)))
            await pilot.pause()
            await pilot.pause()
            rows = [r for r in screen.query(".tool-row") if r.is_attached]
            assert len(rows) == len(tools)
            labels = [str(row.query_one(".tool-label", Static).render()).split()[0] for row in rows]
            assert labels == [w.tool for w in tools]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """The deterministic fixture log of the other pilot tests."""
    write_logs(tmp_path / "logs")
    return tmp_path / "logs"


async def test_query_filter_bad_query_keeps_previous_filter(logs: Path) -> None:
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        failed = [
            r for r in tl.visible_request_ids() if app.session.index.traces[r].status == "error"
        ]
        await pilot.press("colon", *"status:error", "enter")
        await wait_for(pilot, lambda: tl.needle == "status:error")
        assert tl.visible_request_ids() == failed
        # A bad query: inline error under the input; the previous filter stays.
        await pilot.press("slash")
        search = app.screen.query_one("#search", Input)
        search.value = "status:error dur>5x"
        error = app.screen.query_one("#query-error", Static)
        await wait_for(pilot, lambda: error.has_class("-visible"))
        assert 'unknown unit "x" in "dur>5x" at column 14' in screen_text(app)
        assert tl.needle == "status:error" and tl.visible_request_ids() == failed
        # Fixed: the error goes away and the new filter applies (hides non-matching rows).
        search.value = "status:error -tool:fetch_url"
        await wait_for(pilot, lambda: not error.has_class("-visible"))
        await wait_for(pilot, lambda: tl.needle == "status:error -tool:fetch_url")
        index = app.session.index
        assert tl.visible_request_ids() == [
            r for r in failed if all(s.tool != "fetch_url" for s in index.spans(index.traces[r]))
        ]
        await pilot.press("escape")
        assert tl.row_count == 12 and not error.has_class("-visible")


async def test_query_filter_in_a_worker(logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agenttui.ui.screens import main_screen

    monkeypatch.setattr(main_screen, "SYNC_FILTER_LIMIT", 0)
    monkeypatch.setattr(trace_list_module, "SYNC_FILTER_LIMIT", 0)
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await pilot.press("slash", *"status:ok")
        await wait_for(pilot, lambda: tl.needle == "status:ok")
        index = app.session.index
        assert tl.visible_request_ids() == [
            t.request_id for t in reversed(index.ordered()) if t.status == "ok"
        ]


async def test_next_previous_match_bookmarks_and_copy(
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTTUI_STATE_DIR", str(tmp_path / "state"))
    app = AgentTUI(Session([str(logs)]))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign,assignment]
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        failed = [
            r for r in tl.visible_request_ids() if app.session.index.traces[r].status == "error"
        ]
        # Without a filter n / N go to the next / previous failure.
        await pilot.press("n")
        assert tl.selected == failed[0]
        await pilot.press("n")
        assert tl.selected == failed[1]
        await pilot.press("N")
        assert tl.selected == failed[0]
        # m bookmarks the row, shown with "*"; m again removes it.
        await pilot.press("m")
        assert tl.bookmarks == {failed[0]}
        await pilot.pause()
        row = screen_text(app).splitlines()[3 + tl.cursor]
        assert row[8] == "*"
        # c copies the request id; y the whole trace as JSON.
        await pilot.press("c")
        assert copied[-1] == failed[0]
        await pilot.press("y")
        await wait_for(pilot, lambda: len(copied) == 2)
        data = orjson.loads(copied[-1])
        assert data["request_id"] == failed[0] and data["full_events"]
        await pilot.press("m")
        assert tl.bookmarks == set()
        # On a trace, n goes to the next failure.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: getattr(app.screen, "request_id", None) == failed[1])
        await pilot.press("c")
        assert copied[-1] == failed[1]
        # i writes the incident note in the private state directory, never the working one.
        await pilot.press("i")
        note = tmp_path / "state" / "notes" / f"incident-{failed[1]}.md"
        await wait_for(pilot, lambda: note.exists() and note.stat().st_size > 0)
        assert note.read_text().startswith(f"# Incident: request {failed[1]}")
        assert note.stat().st_mode & 0o777 == 0o600
        assert not list(tmp_path.glob("incident-*.md"))


def test_spark() -> None:
    assert spark([0, 1, 2, 4]) == " ▂▄█"
    assert spark([0, 0]) == "  "
    assert spark([]) == ""
