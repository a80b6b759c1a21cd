"""The health endpoint in the TUI: header, Doctor screen rows, the flip on the statistics and
error groups screens. A real HTTP server on 127.0.0.1 plays the agent."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from agenttui.doctor.results import Flip
from agenttui.doctor.settings import Settings
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.doctor_screen import DoctorScreen
from agenttui.ui.screens.groups_screen import ErrorGroupsScreen, flip_note
from agenttui.ui.screens.stats_screen import StatsScreen, flip_marks
from tests.health_server import HealthServer, health_server
from tests.test_doctor_health import SEED
from tests.test_ui_fixtures import write_logs
from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for

__all__ = ["health_server"]


def header_text(app: AgentTUI) -> str:
    return str(app.main.header.render())


def failures(path: Path, n: int, start: float) -> None:
    """Append ``n`` failed requests at ``start`` and after (the app follows the file)."""
    with path.open("ab") as f:
        for i in range(n):
            rid = f"after-flip-{i}"
            ts = start + i * 0.01
            for line in (
                {"event": "request_start", "request_id": rid, "timestamp": ts, "query": "q"},
                {
                    "event": "request_failed",
                    "request_id": rid,
                    "level": "error",
                    "timestamp": ts + 0.005,
                    "error": "FileNotFoundError: rg-not-installed",
                },
            ):
                f.write(orjson.dumps(line) + b"\n")


async def test_endpoint_in_header_doctor_stats_and_groups(
    health_server: HealthServer, tmp_path: Path
) -> None:
    log = write_logs(tmp_path / "logs")
    health_server.behaviour.answer(SEED)
    settings = Settings(
        env_hosts=False,
        health_urls=[health_server.url],
        health_every=0.2,
        health_timeout=1.0,
    )
    app = AgentTUI(Session([str(log.parent)]), doctor=settings)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: "health: healthy" in header_text(app))
        health_server.behaviour.answer(
            {"status": "unhealthy", "checks": {**SEED["checks"], "tools": False}}  # type: ignore[dict-item]
        )
        await wait_for(pilot, lambda: "health: unhealthy" in header_text(app))
        assert app.health is not None
        flips = app.health.flips()
        assert [f.check for f in flips] == ["", "tools"]
        failures(log, 41, flips[-1].at + 0.5)
        await pilot.press("d")
        assert isinstance(app.screen, DoctorScreen)
        await wait_for(pilot, lambda: "Health endpoints" in screen_text(app))
        text = screen_text(app)
        assert f"health 127.0.0.1:{health_server.port}" in text and "health tools" in text
        assert "false (fail) since" in text and "(was true)" in text
        assert "✗ fail" in text
        await pilot.press("escape", "s")
        assert isinstance(app.screen, StatsScreen)
        await wait_for(pilot, lambda: "tools unhealthy" in screen_text(app))
        assert "▲" in screen_text(app)
        await pilot.press("escape", "E")
        assert isinstance(app.screen, ErrorGroupsScreen)
        stamp = time.strftime("%H:%M:%S", time.gmtime(flips[-1].at))
        await wait_for(
            pilot,
            lambda: f"tools went unhealthy at {stamp}; 41 failures since" in screen_text(app),
        )


def test_flip_marks_and_note() -> None:
    flips = [Flip(100.0, "h:1", "tools", "false"), Flip(500.0, "h:1", "", "unreachable")]
    cells, outside = flip_marks(flips, 0.0, 200.0, 10)
    assert cells == "     ▲    " and outside == 1
    assert flip_marks(flips, 0.0, 0.0, 4) == ("    ", 2)
    assert flip_note(flips[0], []) == (
        f"tools went unhealthy at {time.strftime('%H:%M:%S', time.gmtime(100))}; 0 failures since"
    )
