"""The TUI on the committed sample logs agrees with ``agenttui traces --json``."""

from __future__ import annotations

import io

import orjson

from agenttui.commands import traces as traces_cmd
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.event_screen import EventScreen
from agenttui.ui.screens.trace_screen import TraceScreen
from tests.conftest import SAMPLE_LOGS
from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for


def _headless() -> list[dict[str, object]]:
    out = io.BytesIO()
    assert traces_cmd.print_traces([str(SAMPLE_LOGS)], out) == 0
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


async def test_sample_logs_list_matches_traces_json() -> None:
    expected = _headless()
    assert len(expected) == 300
    app = AgentTUI(Session([str(SAMPLE_LOGS)]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        # Newest first: the reverse of the headless order (by start).
        assert tl.visible_request_ids() == [t["request_id"] for t in reversed(expected)]
        by_id = {t["request_id"]: t for t in expected}
        # e: the newest failed trace; enter: its trace screen with the JSON's error.
        await pilot.press("home", "e")
        rid = tl.selected
        assert rid is not None and by_id[rid]["status"] == "error"
        newest_failure = next(t for t in reversed(expected) if t["status"] == "error")
        assert rid == newest_failure["request_id"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        text = screen_text(app)
        error = str(by_id[rid]["error"])
        assert error[:40] in text.replace("\n ", " ")
        # Third key: the failing tool call, down to its traceback.
        await pilot.press("w", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Traceback (most recent call last)" in text
        assert error.split(":")[0] in text
