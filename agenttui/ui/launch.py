"""Open the TUI on some paths, or on the demo agent's live traffic (wired by ``cli.py``)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from agenttui import shutdown
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
    from agenttui.replay.process import kill_all
    from agenttui.ui.app import AgentTUI

    shutdown.register(session.close)
    shutdown.register(kill_all)  # nothing a replay started outlives agenttui, however it ends
    try:
        app = AgentTUI(
            session,
            title=title,
            doctor=settings_for_tui(health_urls),
            replay=replay,
            show_secrets=show_secrets,
        )

        shutdown.save_terminal()
        with _replays_die_on_signals(app):
            app.run()
    finally:
        kill_all()
        session.close()
    return app.return_code or 0


@contextlib.contextmanager
def _replays_die_on_signals(app: AgentTUI) -> Iterator[None]:
    """SIGTERM, SIGHUP (an SSH drop) and SIGINT kill every replay at once, then end the app
    from its own loop (the terminal restored; see :mod:`agenttui.shutdown`)."""
    from agenttui.replay.process import kill_all

    def on_signal(signum: int) -> None:
        kill_all()
        end = getattr(app, "end_on_signal", None)  # a stand-in app in tests has only exit()
        if end is not None:
            end(signum)
        else:
            app.exit(return_code=128 + signum)

    with shutdown.signals_end_cleanly(deadline=False), shutdown.deliver_to(on_signal):
        yield


def run_demo(
    replay: ReplayOptions | None = None,
    health_urls: list[str] | None = None,
    max_memory: int | None = None,
) -> int:
    """Start the demo agent's traffic in a temporary directory and show it; the doctor polls
    the demo agent's own ``/health`` (unless ``health_urls`` name other endpoints). The
    traffic process and both temporary directories go however the TUI ends."""
    from agenttui.demo.process import health_url, start_traffic, stop_traffic

    with _scratch("agenttui-demo-") as tmp, _scratch("agenttui-demo-work-") as work:
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


def run_found(
    config_file: str | None,
    *,
    replay: ReplayOptions | None = None,
    show_secrets: bool = False,
    health_urls: list[str] | None = None,
    max_memory: int | None = None,
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
    with contextlib.ExitStack() as stack:
        if "journald" in paths:  # a snapshot of the last hour (journald is not tailed)
            tmp = stack.enter_context(_scratch("agenttui-journal-"))
            paths = [journal_snapshot(tmp) if p == "journald" else p for p in paths]
        return run_tui(
            paths,
            replay=replay,
            show_secrets=show_secrets,
            health_urls=health_urls,
            max_memory=max_memory,
        )


@contextlib.contextmanager
def _scratch(prefix: str) -> Iterator[str]:
    """A private temporary directory, removed on the way out however agenttui ends (a signal's
    deadline included: the removal is a shutdown hook too)."""
    path = tempfile.mkdtemp(prefix=prefix)

    def remove() -> None:
        shutil.rmtree(path, ignore_errors=True)

    shutdown.register(remove)
    try:
        yield path
    finally:
        shutdown.unregister(remove)
        remove()
