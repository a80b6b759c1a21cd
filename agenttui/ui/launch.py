"""Open the TUI on some paths, or on the demo agent's live traffic (wired by ``cli.py``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from agenttui.doctor.settings import settings_for_tui
from agenttui.replay.options import ReplayOptions
from agenttui.session import Session


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
    from agenttui.ui.app import AgentTUI

    try:
        AgentTUI(
            session,
            title=title,
            doctor=settings_for_tui(health_urls),
            replay=replay,
            show_secrets=show_secrets,
        ).run()
    finally:
        session.close()
    return 0


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
