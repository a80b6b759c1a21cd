"""The TUI on an agent's LLM calls (:mod:`tests.llm_story`): waterfall, statistics, filter.

Snapshots are at 80x24; update them with ``pytest tests/test_ui_llm.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.event_screen import EventScreen
from agenttui.ui.screens.stats_screen import StatsScreen
from agenttui.ui.screens.trace_screen import TraceScreen
from agenttui.ui.widgets.root_cause import RootCause
from agenttui.ui.widgets.waterfall import Waterfall
from tests import llm_story
from tests.test_ui_pilot import ready, screen_text, wait_for

SnapCompare = Callable[..., Any]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentTUI:
    llm_story.write(tmp_path / "agent.log")
    monkeypatch.chdir(tmp_path)
    return AgentTUI(Session(["agent.log"]), title="agenttui")


async def _open(pilot: Pilot[None], request_id: str) -> TraceScreen:
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    await pilot.press("slash", *f"id:{request_id}", "enter", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
    screen = app.screen
    assert isinstance(screen, TraceScreen)
    await wait_for(pilot, lambda: len(screen.events) > 0)
    return screen


async def _drift_trace(pilot: Pilot[None]) -> None:
    screen = await _open(pilot, "req-10")
    cause = screen.query_one(RootCause)
    await wait_for(pilot, lambda: cause.found is not None)
    await pilot.pause()


async def open_stats(pilot: Pilot[None]) -> StatsScreen:
    """From launch, ``s``: the statistics screen, once its first figures are shown."""
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    await wait_for(pilot, lambda: screen.stats is not None)
    await pilot.pause()
    return screen


async def _stats(pilot: Pilot[None]) -> None:
    await open_stats(pilot)


def test_trace_with_llm_calls_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_drift_trace)


def test_stats_with_models_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_stats)


async def test_waterfall_rows_and_opening_an_llm_call(app: AgentTUI) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot, "req-10")
        waterfall = screen.query_one(Waterfall)
        await wait_for(pilot, lambda: any(waterfall.notes))
        rows = [waterfall.render_line(y).text for y in (1, 2, 3)]
        assert rows[0].startswith("✦ …4o-2024-11-20")  # the version stays visible
        assert "1,280 tok · tool_calls" in rows[0]
        assert rows[1].startswith("web_search")
        assert "300 tok" in rows[2]
        summary = screen.query_one("#summary", Static).render()
        assert "2 LLM calls" in str(summary) and "1,580 tokens" in str(summary)
        cause = screen.query_one(RootCause)
        await wait_for(pilot, lambda: cause.found is not None)
        assert cause.found is not None and cause.found.cls.key == "model_drift"
        await pilot.press("w", "enter")  # the first row: the planning LLM call
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        event_screen = app.screen
        assert isinstance(event_screen, EventScreen)
        rec = event_screen.event.record
        assert (rec.message, rec.model, rec.finish) == ("llm_call_end", llm_story.NEW, "tool_calls")


async def test_stats_screen_lists_each_model(app: AgentTUI) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await _stats(pilot)
        text = screen_text(app)
        assert "per model: LLM calls in the whole log" in text
        old = next(line for line in text.splitlines() if llm_story.OLD in line)
        assert old.split()[1:3] == ["15", "0.0%"]
        assert llm_story.NEW in text


async def test_filter_by_model_and_tokens(app: AgentTUI) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        trace_list = await ready(pilot, app)
        await pilot.press("slash", *"model:2024-11 status:error", "enter")
        await wait_for(pilot, lambda: len(trace_list.visible_request_ids()) == 4)
        assert sorted(trace_list.visible_request_ids()) == sorted(llm_story.FAILED_ON_NEW)
        search = app.screen.query_one("#search", Input)
        search.value = ""
        await pilot.press("slash", *"tokens<1500", "enter")
        await wait_for(pilot, lambda: trace_list.visible_request_ids() == ["req-4"])
