"""Pilot test of the captures view and a replay from the TUI (a real child process)."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path

from textual.widgets import DataTable

from agenttui.replay.options import ReplayOptions
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.captures_screen import CapturesScreen, ReplayScreen
from agenttui.ui.widgets.trace_list import TraceList
from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for

ERROR = "RuntimeError: missing environment variable SEARCH_API_KEY"
HOSTILE = "[bold]x[/bold] \x1b[31m $(rm -rf /)"


def _logs(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    (logs / "captures").mkdir(parents=True)
    lines = [
        {
            "event": "request_start",
            "request_id": "req-fail1",
            "query": HOSTILE,
            "timestamp": "2026-11-26T08:31:49Z",
        },
        {
            "event": "tool_call_start",
            "request_id": "req-fail1",
            "tool": "web_search",
            "call_id": "c1",
            "timestamp": "2026-11-26T08:31:49.001Z",
        },
        {
            "event": "tool_call_failed",
            "request_id": "req-fail1",
            "tool": "web_search",
            "call_id": "c1",
            "level": "error",
            "error": ERROR,
            "duration_ms": 1.0,
            "timestamp": "2026-11-26T08:31:49.002Z",
        },
        {
            "event": "request_failed",
            "request_id": "req-fail1",
            "level": "error",
            "error": ERROR,
            "timestamp": "2026-11-26T08:31:49.003Z",
        },
        {
            "event": "request_start",
            "request_id": "req-ok",
            "query": "fine",
            "timestamp": "2026-11-26T08:31:48Z",
        },
        {"event": "request_success", "request_id": "req-ok", "timestamp": "2026-11-26T08:31:48.5Z"},
    ]
    (logs / "agent.log").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (logs / "captures" / "failed_1795681909860.json").write_text(
        json.dumps(
            {
                "request_id": "req-fail1",
                "query": HOSTILE,
                "error": ERROR,
                "traceback": f"Traceback (most recent call last):\n{ERROR}\n",
                "timestamp": "2026-11-26T08:31:49.004Z",
                "context": {},
            }
        )
    )
    (logs / "captures" / "failed_1795681909999.json").write_text("{not json")
    return logs


async def test_captures_view_marks_and_replays(tmp_path: Path) -> None:
    agent = tmp_path / "agent.py"
    agent.write_text(
        "import json, sys\n"
        "req = json.loads(sys.stdin.read())\n"
        "sys.stderr.write(json.dumps({'event': 'request_failed', 'level': 'error', "
        f"'request_id': req['request_id'], 'error': {ERROR!r}}}) + '\\n')\n"
        "sys.exit(1)\n"
    )
    options = ReplayOptions(
        target_command=f"{sys.executable} {agent}", timeout=10, state_dir=str(tmp_path / "state")
    )
    app = AgentTUI(Session([str(_logs(tmp_path))]), replay=options)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await wait_for(pilot, lambda: "req-fail1" in tl.marked)
        await pilot.pause(0.1)
        assert "✗ error ◆" in screen_text(app)

        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, CapturesScreen))
        screen = app.screen
        assert isinstance(screen, CapturesScreen)
        await wait_for(pilot, lambda: screen.query_one(DataTable).row_count == 2)
        text = screen_text(app)
        assert "not valid JSON" in text and "failure captures: 2" in text
        assert "[bold]x[/bold] \\x1b[31m" in text  # shown as text, never markup

        # r on the trace in the list (the newest is the failed one)
        await pilot.press("escape")
        await pilot.press("home", "r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay_screen = app.screen
        assert isinstance(replay_screen, ReplayScreen)
        # r asks first (target, what is applied); nothing runs until y
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "Replay this capture with production input?" in text and "target: command" in text
        assert replay_screen.result is None and not replay_screen.running
        await pilot.press("enter", "r", "escape")  # a pasted line or esc does not run it
        await pilot.pause(0.3)
        assert not replay_screen.running and "replay not run" in screen_text(app)
        await pilot.press("r", "y")
        await wait_for(pilot, lambda: replay_screen.result is not None, timeout=10)
        await wait_for(pilot, lambda: "replay history (1)" in screen_text(app))
        text = screen_text(app)
        assert "REPRODUCED" in text and "original (production)" in text
        assert "replay (local)" in text
    assert list((tmp_path / "state" / "replays").iterdir())


async def test_r_works_on_the_trace_and_event_screens(tmp_path: Path) -> None:
    from agenttui.ui.screens.event_screen import EventScreen
    from agenttui.ui.screens.trace_screen import TraceScreen

    options = ReplayOptions(target_command="true", timeout=10, state_dir=str(tmp_path / "s"))
    app = AgentTUI(Session([str(_logs(tmp_path))]), replay=options)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await wait_for(pilot, lambda: "req-fail1" in tl.marked)
        await pilot.press("home", "enter")  # the newest is the failed one
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("escape", "escape")  # no to the confirmation, then back
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        await pilot.press("v")
        table = app.screen.query_one("#events")
        await wait_for(pilot, lambda: table.row_count >= 2)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.capture.request_id == "req-fail1"


async def test_a_new_failure_is_marked_with_its_capture_at_once(tmp_path: Path) -> None:
    import time

    logs = _logs(tmp_path)
    app = AgentTUI(Session([str(logs)]), replay=ReplayOptions(state_dir=str(tmp_path / "s")))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        await wait_for(pilot, lambda: "req-fail1" in tl.marked)
        for n in range(3):
            rid = f"req-new{n}"
            await pilot.pause(0.4 + 0.3 * n)  # another phase of the 2 s rescan each time
            (logs / "captures" / f"failed_17956819100{n}0.json").write_text(
                json.dumps({"request_id": rid, "query": "q", "error": ERROR, "context": {}})
            )
            t0 = time.monotonic()
            with (logs / "agent.log").open("a") as f:
                f.write(json.dumps({"event": "request_start", "request_id": rid}) + "\n")
                f.write(
                    json.dumps(
                        {"event": "request_failed", "request_id": rid, "level": "error",
                         "error": ERROR}
                    )
                    + "\n"
                )  # fmt: skip
            await wait_for(pilot, partial(_is_marked, tl, rid), timeout=3)
            assert time.monotonic() - t0 < 0.7, n


def _is_marked(trace_list: TraceList, request_id: str) -> bool:
    """Whether the list shows ``request_id`` with its capture mark (read at call time)."""
    return request_id in trace_list.marked
