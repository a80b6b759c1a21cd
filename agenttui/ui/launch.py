"""Open the TUI on some paths, or on the demo agent's live traffic (wired by ``cli.py``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from agenttui import shutdown
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
    max_memory: int | None = None,
) -> int:
    """Run the dashboard until the user quits or a signal ends it; returns the exit code
    (128 + the signal's number after SIGTERM, SIGHUP or SIGINT).

    ``health_urls`` (``--health-url``) override the doctor's health endpoints; ``max_memory``
    is the memory budget in bytes (see :meth:`Session.set_memory_budget`).

    Raises:
        agenttui.ingest.sources.SourceError: A path cannot be read (before the screen switches).
    """
    session = Session(paths)  # checks the paths before the screen switches
    session.set_memory_budget(max_memory)
    shutdown.register(session.close)
    from agenttui.ui.app import AgentTUI

    try:
        app = AgentTUI(
            session,
            title=title,
            doctor=settings_for_tui(health_urls),
            replay=replay,
            show_secrets=show_secrets,
        )
        shutdown.save_terminal()
        with shutdown.deliver_to(app.end_on_signal):  # the app exits from its own loop
            app.run()
    finally:
        session.close()
    return app.return_code or 0


def run_demo(
    replay: ReplayOptions | None = None,
    health_urls: list[str] | None = None,
    max_memory: int | None = None,
) -> int:
    """Start the demo agent's traffic in a temporary directory and show it; the doctor polls
    the demo agent's own ``/health`` (unless ``health_urls`` name other endpoints). The
    traffic process and both temporary directories go however the TUI ends."""
    from agenttui.demo.process import health_url, start_traffic, stop_traffic

    with (
        tempfile.TemporaryDirectory(prefix="agenttui-demo-") as tmp,
        tempfile.TemporaryDirectory(prefix="agenttui-demo-work-") as work,
    ):
        # The demo agent's scratch files go to a directory removed with the demo's.
        proc = start_traffic(Path(tmp), env={"AGENT_WORKDIR": work})
        hook = shutdown.register(lambda: stop_traffic(proc))
        try:
            demo_health = health_url(Path(tmp))
            urls = health_urls or ([demo_health] if demo_health else None)
            return run_tui(
                [tmp],
                title="agenttui --demo",
                replay=replay,
                health_urls=urls,
                max_memory=max_memory,
            )
        finally:
            shutdown.unregister(hook)
            stop_traffic(proc)
