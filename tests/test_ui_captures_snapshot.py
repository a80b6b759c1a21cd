"""Snapshot of the captures screen at 80x24: two captures of the fixed fixture, one linked to a
failed trace, one that cannot be replayed (no query), and no replay run yet. Nothing here depends
on the machine: the captures are written by the test with fixed times."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from agenttui.replay.options import ReplayOptions
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.captures_screen import CapturesScreen
from tests.test_ui_pilot import ready, wait_for

SnapCompare = Callable[..., Any]
ERROR = "RuntimeError: missing environment variable SEARCH_API_KEY"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentTUI:
    logs = tmp_path / "logs"
    (logs / "captures").mkdir(parents=True)
    rows = [
        {"event": "request_start", "request_id": "req-c1", "query": "look up news",
         "timestamp": "2026-11-26T08:31:49Z"},
        {"event": "tool_call_start", "request_id": "req-c1", "tool": "web_search",
         "timestamp": "2026-11-26T08:31:49.100Z"},
        {"event": "tool_call_failed", "request_id": "req-c1", "tool": "web_search",
         "level": "error", "error": ERROR, "timestamp": "2026-11-26T08:31:49.200Z"},
        {"event": "request_failed", "request_id": "req-c1", "level": "error", "error": ERROR,
         "timestamp": "2026-11-26T08:31:50Z"},
    ]  # fmt: skip
    (logs / "agent.log").write_text("".join(json.dumps(r) + "\n" for r in rows))
    linked = {
        "request_id": "req-c1",
        "query": "look up news",
        "error": ERROR,
        "timestamp": "2026-11-26T08:31:50Z",
        "failed_tool": {"tool": "web_search"},
        "context": {"env": {"SEARCH_API_KEY": None, "OPENAI_API_KEY": "sk-live-0123456789abcdef"}},
    }
    broken = {"request_id": "req-c2", "error": "ValueError: bad", "timestamp": "2026-11-26T08:32Z"}
    (logs / "captures" / "failed_1795681910000.json").write_text(json.dumps(linked))
    (logs / "captures" / "failed_1795681920000.json").write_text(json.dumps(broken))
    monkeypatch.chdir(tmp_path)
    options = ReplayOptions(target_command="true", state_dir=str(tmp_path / "state"))
    return AgentTUI(Session(["logs"]), title="agenttui", replay=options)


async def _captures(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    await wait_for(pilot, lambda: "req-c1" in app.captures.by_request)
    await app.run_action("captures")
    await wait_for(pilot, lambda: isinstance(app.screen, CapturesScreen))
    await pilot.pause(0.3)
    await pilot.pause()


def test_captures_screen_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_captures)
