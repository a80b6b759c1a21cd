"""Open the TUI on some paths, or on the demo agent's live traffic (wired by ``cli.py``)."""

from __future__ import annotations

import contextlib
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from agenttui.doctor.settings import settings_for_tui
from agenttui.replay.options import ReplayOptions
from agenttui.session import Session

if TYPE_CHECKING:
    from agenttui.ui.app import AgentTUI


def run_tui(
    paths: list[str],
    *,
    title: str | None = None,
    replay: ReplayOptions | None = None,
    show_secrets: bool = False,
    health_urls: list[str] | None = None,
) -> int:
    """Run the dashboard until the user quits; returns the exit code.

    ``health_urls`` (``--health-url``) override the doctor's health endpoints.

    Raises:
        agenttui.ingest.sources.SourceError: A path cannot be read (before the screen switches).
    """
    session = Session(paths)  # checks the paths before the screen switches
    from agenttui.replay.process import kill_all
    from agenttui.ui.app import AgentTUI

    try:
        app = AgentTUI(
            session,
            title=title,
            doctor=settings_for_tui(health_urls),
            replay=replay,
            show_secrets=show_secrets,
        )
        with _replays_die_on_signals(app):
            app.run()
    finally:
        kill_all()  # nothing a replay started outlives agenttui
        session.close()
    return app.return_code or 0


@contextlib.contextmanager
def _replays_die_on_signals(app: AgentTUI) -> Iterator[None]:
    """SIGTERM and SIGHUP (an SSH drop) kill every replay at once, then end the app."""
    from agenttui.replay.process import kill_all

    def handler(signum: int, _frame: object) -> None:
        kill_all()
        app.exit(return_code=128 + signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def run_demo(replay: ReplayOptions | None = None, health_urls: list[str] | None = None) -> int:
    """Start the demo agent's traffic in a temporary directory and show it; the doctor polls
    the demo agent's own ``/health`` (unless ``health_urls`` name other endpoints)."""
    from agenttui.demo.process import health_url, start_traffic, stop_traffic

    with tempfile.TemporaryDirectory(prefix="agenttui-demo-") as tmp:
        proc = start_traffic(Path(tmp))
        try:
            demo_health = health_url(Path(tmp))
            urls = health_urls or ([demo_health] if demo_health else None)
            return run_tui([tmp], title="agenttui --demo", replay=replay, health_urls=urls)
        finally:
            stop_traffic(proc)


def run_found(
    config_file: str | None,
    *,
    replay: ReplayOptions | None = None,
    show_secrets: bool = False,
    health_urls: list[str] | None = None,
) -> int:
    """No PATH: find the logs (:mod:`agenttui.ingest.discover`); open the one found, or let the
    user pick (several) or point agenttui at them (none); then the dashboard."""
    from agenttui.ingest.discover import Discovery, discover, journal_snapshot
    from agenttui.ui.first_contact import choose
    from agenttui.ui.screens.picker_screen import open_paths

    def look() -> Discovery:
        return discover(config_file=config_file)

    found = look()
    paths = open_paths(found) or choose(found, look)
    if not paths:
        return 0
    with tempfile.TemporaryDirectory(prefix="agenttui-journal-") as tmp:
        if "journald" in paths:  # a snapshot of the last hour (journald is not tailed)
            paths = [journal_snapshot(tmp) if p == "journald" else p for p in paths]
        return run_tui(paths, replay=replay, show_secrets=show_secrets, health_urls=health_urls)
