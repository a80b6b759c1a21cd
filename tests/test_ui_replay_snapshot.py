"""Snapshot of the replay screen at 80x24: a finished replay with what it applied (values
masked) and the warnings about what it refused. The result is built, not run, so that the
picture does not depend on the machine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from agenttui.commands.replay import ReplayOptions
from agenttui.replay import runner as replay
from agenttui.replay.captures import load
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.replay_screen import ReplayScreen
from tests.test_ui_pilot import ready, wait_for

SnapCompare = Callable[..., Any]
ERROR = "RuntimeError: missing environment variable SEARCH_API_KEY"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentTUI:
    logs = tmp_path / "logs"
    (logs / "captures").mkdir(parents=True)
    rows = [
        {"event": "request_start", "request_id": "req-r1", "query": "look up news",
         "timestamp": "2026-11-26T08:31:49Z"},
        {"event": "request_failed", "request_id": "req-r1", "level": "error", "error": ERROR,
         "timestamp": "2026-11-26T08:31:50Z"},
    ]  # fmt: skip
    (logs / "agent.log").write_text("".join(json.dumps(r) + "\n" for r in rows))
    capture = {
        "request_id": "req-r1",
        "query": "look up news",
        "error": ERROR,
        "timestamp": "2026-11-26T08:31:49Z",
        "context": {"env": {"LD_PRELOAD": "/tmp/x.so", "MODEL": "m1"}},
    }
    (logs / "captures" / "failed_1795681909860.json").write_text(json.dumps(capture))
    monkeypatch.chdir(tmp_path)
    options = ReplayOptions(target_command="true", state_dir=str(tmp_path / "state"))
    return AgentTUI(Session(["logs"]), title="agenttui", replay=options)


async def _finished(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    cap = load("logs/captures/failed_1795681909860.json")
    screen = ReplayScreen(app.captures, cap, start=False)
    await app.push_screen(screen)
    result = replay.Result(
        capture=cap.path,
        request_id=cap.request_id,
        verdict=replay.REPRODUCED,
        started=1795681999.0,
        duration_ms=412.0,
        target="command: python -m myagent --stdin",
        settings={
            "capture_env": {"MODEL": "m1"},
            "env": {"DATABASE_URL": "postgres://u:****@db/app"},
            "cwd": "/srv/agent",
            "capture_cwd": None,
            "warnings": [
                "LD_PRELOAD: never applied from a capture (it changes how programs "
                "load or run), even when listed in replay.capture_env"
            ],
        },
        error=ERROR,
        original_error=ERROR,
        exit_code=1,
        diff="",
    )
    screen.post_message(ReplayScreen.Finished(result))
    await wait_for(pilot, lambda: screen.result is not None)
    await pilot.pause(0.3)


def test_replay_screen_80x24(snap_compare: SnapCompare, app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_finished)
