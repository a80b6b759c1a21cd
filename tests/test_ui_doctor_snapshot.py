"""Snapshot of the Doctor screen at 80x24 with a fixed checkup (health endpoint included).

The checks of a real run depend on the machine (memory, disk, user), so the screen is shown a
checkup built here, through a monitor that never runs anything. Update the SVG with
``pytest tests/test_ui_doctor_snapshot.py --snapshot-update`` and look at it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from agenttui.doctor.results import Check, Checkup, Flip, Pressure, Probe
from agenttui.doctor.settings import Settings
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.health import HealthMonitor
from agenttui.ui.screens.doctor_screen import DoctorScreen
from tests.test_ui_fixtures import write_logs
from tests.test_ui_pilot import ready, screen_text, wait_for

AT = 1_718_008_310.0
"""08:31:50 UTC."""
URL = "http://127.0.0.1:8000/health"


def fixed_checkup() -> Checkup:
    probe = Probe(
        URL,
        "127.0.0.1:8000",
        AT,
        "fail",
        "unhealthy",
        "unhealthy: says unhealthy (HTTP 200 OK, 3 ms)",
        200,
        3.0,
    )
    fix = "the agent reports this dependency failing"
    checks = [
        Check(
            "health 127.0.0.1:8000",
            "fail",
            f"{probe.reason}; since 08:31:50 (was healthy)",
            "look at the failing checks of this endpoint and the agent's last log lines",
        ),
        Check(
            "health tools",
            "fail",
            'false (fail) since 08:31:50 (was true); {"missing": ["rg-not-installed"]}',
            fix,
        ),
        Check("health api_key", "fail", "false (fail) first seen 08:20:01", fix),
        Check("health memory", "ok", "1.4 (ok) first seen 08:20:01"),
        Check("env SEARCH_API_KEY", "fail", "SEARCH_API_KEY is not set", "set it"),
        Check("memory", "ok", "no container limit; host 16.0 GB 41% used"),
        Check("disk logs", "ok", "40.1 GB free of 100.0 GB (60% used)"),
    ]
    pressure = Pressure(10, AT, [0, 0, 1, 3, 0, 0, 2, 5, 4, 1], [0, 1, 0, 0, 0, 2, 0, 0, 1, 0])
    return Checkup(
        checks,
        pressure=pressure,
        elapsed_s=0.4,
        finished_at=time.time() + 3600,  # "checked 0s ago" whenever the snapshot is taken
        endpoints=[probe],
        flips=[Flip(AT, "127.0.0.1:8000", "tools", "false")],
    )


class FixedMonitor(HealthMonitor):
    """A monitor that shows :func:`fixed_checkup` and runs nothing."""

    def __init__(self, app: App[None], session: Session) -> None:
        super().__init__(app, session, Settings(env_hosts=False, health_urls=[URL]))
        self.report = fixed_checkup()

    def start(self) -> None:
        """Nothing runs."""

    def run(self) -> None:
        """Nothing runs."""

    def poll(self) -> None:
        """Nothing is polled."""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentTUI:
    write_logs(tmp_path / "logs")
    monkeypatch.chdir(tmp_path)
    return AgentTUI(Session(["logs"]), title="agenttui")


async def _doctor(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, AgentTUI)
    await ready(pilot, app)
    app.health = FixedMonitor(app, app.session)
    await pilot.press("d")
    await wait_for(pilot, lambda: "Health endpoints" in screen_text(app))
    assert isinstance(app.screen, DoctorScreen)
    await pilot.pause()


def test_doctor_screen_80x24(snap_compare: Callable[..., Any], app: AgentTUI) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_doctor)
