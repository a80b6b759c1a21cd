"""Sub-agent steps in the waterfall: an OpenTelemetry multi-agent run (a planner handing off to
a researcher that calls two tools at once) shows the tools indented under the agent step."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from agenttui.model.steps import depths
from agenttui.model.traces import Span
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.trace_screen import TraceScreen
from agenttui.ui.widgets.waterfall import NAME_WIDTH, Waterfall
from tests.test_shapes import FIXTURES
from tests.test_ui_pilot import ready, wait_for

SnapCompare = Callable[..., Any]


def test_depths_follow_the_agent_steps_times() -> None:
    def span(tool: str, start: float, ms: float | None) -> Span:
        return Span(tool, "ok", start, ms, None)

    spans = [
        span("agent a", 0.0, 100.0),
        span("search", 0.01, 10.0),
        span("agent b", 0.02, 50.0),
        span("fetch", 0.03, 5.0),
        span("late", 0.2, 1.0),
        span("open", 0.05, None),
    ]
    assert depths(spans) == [0, 1, 1, 2, 0, 2]
    assert depths([span("search", 0.0, 1.0)]) == [0]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentTUI:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copyfile(FIXTURES / "otlp_genai.json", logs / "agents.json")
    monkeypatch.chdir(tmp_path)
    return AgentTUI(Session(["logs"], mapping={}), title="agenttui")


async def _open_trace(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
    screen = app.screen
    assert isinstance(screen, TraceScreen)
    await wait_for(pilot, lambda: len(screen.events) > 0)
    waterfall = screen.query_one(Waterfall)
    await wait_for(pilot, lambda: len(waterfall.spans) == 3)
    await pilot.pause()


async def test_tools_are_indented_under_the_sub_agent(app: AgentTUI) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_trace(pilot)
        waterfall = app.screen.query_one(Waterfall)
        names = [waterfall.render_line(y).text[:NAME_WIDTH].rstrip() for y in (1, 2, 3)]
        assert names == ["agent researcher", " web_search", " web_search"]


def test_nested_steps_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_trace)
