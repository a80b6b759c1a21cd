"""The Doctor screen and the header's health summary, driven by the pilot."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agenttui.doctor.settings import Settings, settings_for_tui
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.doctor_screen import DoctorScreen, sparkline
from agenttui.ui.screens.main_screen import MainScreen
from tests.test_doctor import closed_port
from tests.test_ui_fixtures import write_logs
from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    write_logs(tmp_path / "logs")
    return tmp_path / "logs"


@pytest.fixture
def agent() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    marker = f"agenttui-ui-agent-{uuid.uuid4().hex}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    yield marker, proc
    proc.kill()
    proc.wait(5)


def settings(**kw: object) -> Settings:
    s = Settings(
        env_hosts=False,
        env=["AGENTTUI_TEST_MISSING_VAR"],
        hosts=[f"127.0.0.1:{closed_port()}"],
        timeout=1.0,
    )
    for key, value in kw.items():
        setattr(s, key, value)
    return s


def header_text(app: AgentTUI) -> str:
    return str(app.main.header.render())


async def test_header_summary_and_doctor_screen(
    logs: Path, agent: tuple[str, subprocess.Popen[bytes]]
) -> None:
    marker, proc = agent
    app = AgentTUI(Session([str(logs)]), doctor=settings(agent_name=marker))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: "health:" in header_text(app))
        assert "2 fail" in header_text(app)
        await pilot.press("d")
        assert isinstance(app.screen, DoctorScreen)
        await wait_for(pilot, lambda: "Agent processes" in screen_text(app))
        text = screen_text(app)
        assert "AGENTTUI_TEST_MISSING_VAR is not set" in text
        assert "fix:" in text and "refused" in text
        assert "✗ fail" in text
        await pilot.press("end")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert str(proc.pid) in text
        assert "429s" in text and "timeouts" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_restart_noticed_on_screen(
    logs: Path, agent: tuple[str, subprocess.Popen[bytes]]
) -> None:
    marker, proc = agent
    app = AgentTUI(Session([str(logs)]), doctor=settings(agent_name=marker))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DoctorScreen)
        monitor = screen.monitor
        await wait_for(pilot, lambda: monitor.runs >= 1 and not monitor.busy)
        proc.kill()
        proc.wait(5)
        replacement = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)", marker]
        )
        try:
            runs = monitor.runs
            await pilot.press("r")
            await wait_for(pilot, lambda: monitor.runs > runs)
            await pilot.press("end")
            await pilot.pause(0.1)
            text = screen_text(app)
            assert f"pid {proc.pid} -> pid {replacement.pid}" in text
            assert "restarted 1x" in text or "restart noticed" in text
        finally:
            replacement.kill()
            replacement.wait(5)


async def test_checks_never_block_the_ui(logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*_a: object, **_k: object) -> list[object]:
        time.sleep(3)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    app = AgentTUI(Session([str(logs)]), doctor=settings(hosts=["db.example:5432"], timeout=2.0))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        assert app.health is not None and app.health.busy
        started = time.monotonic()
        await pilot.press("j", "j")
        assert tl.cursor == 2
        await pilot.press("d")
        assert isinstance(app.screen, DoctorScreen)
        assert time.monotonic() - started < 1.0
        assert "running the checks" in screen_text(app)
        await wait_for(pilot, lambda: "did not answer" in screen_text(app), timeout=6)


async def test_doctor_key_without_settings_uses_the_config(
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "doctor.toml"
    cfg.write_text('[doctor]\nenv_hosts = false\nbinaries = ["agenttui-missing-tool"]\n')
    monkeypatch.setenv("AGENTTUI_CONFIG", str(cfg))
    monkeypatch.delenv("AGENTTUI_AGENT_NAME", raising=False)
    monkeypatch.delenv("AGENTTUI_AGENT_PID", raising=False)
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert app.health is None and "health:" not in header_text(app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Doctor" in titles
        await pilot.press("d")
        await wait_for(pilot, lambda: "agenttui-missing-tool" in screen_text(app))
        assert "not found on PATH" in screen_text(app)
        await pilot.press("d")
        assert isinstance(app.screen, MainScreen)
        await wait_for(pilot, lambda: "health: 1 fail" in header_text(app))


async def test_broken_config_is_a_failing_check(
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[doctor]\nhosts = "db"\n')
    monkeypatch.setenv("AGENTTUI_CONFIG", str(cfg))
    s = settings_for_tui()
    s.env_hosts = False
    app = AgentTUI(Session([str(logs)]), doctor=s)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("d")
        await wait_for(pilot, lambda: "[doctor] hosts must be a list" in screen_text(app))


def test_sparkline() -> None:
    assert sparkline([0, 1, 4, 8], 8) == "·▁▄█"
    assert sparkline([0, 0], 0) == "··"
