"""Runs the doctor in the background: the header's health summary and the Doctor screen.

Each run happens in a thread worker (DNS and TCP checks may take their whole timeout); the
report reaches the UI thread through ``call_from_thread`` and is handed to the header and to an
open :class:`~agenttui.ui.screens.doctor_screen.DoctorScreen`. A run never starts while the
previous one is still going.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from textual.app import App
from textual.css.query import NoMatches

from agenttui.doctor import checks as doctor
from agenttui.session import Session
from agenttui.ui.widgets.header import StatsHeader

if TYPE_CHECKING:
    from agenttui.ui.screens.doctor_screen import DoctorScreen

BACKGROUND_SECONDS = 30.0
"""How often the checks run while the Doctor screen is closed (for the header)."""
SCREEN_SECONDS = 5.0
"""How often they run while the Doctor screen is open."""


class HealthMonitor:
    """Periodic doctor runs for one app."""

    def __init__(self, app: App[None], session: Session, settings: doctor.Settings) -> None:
        """Run the checks of ``settings``, with the 429/timeout pressure of ``session``."""
        self.app = app
        self.session = session
        self.settings = settings
        self.report: doctor.Report | None = None
        self.watcher: doctor.ProcessWatcher | None = None
        if settings.config_error is None and (settings.agent_pid or settings.agent_name):
            self.watcher = doctor.ProcessWatcher(settings.agent_pid, settings.agent_name)
        self._running = threading.Event()
        self.screen: DoctorScreen | None = None
        """The open Doctor screen (it registers itself)."""
        self.runs = 0

    def start(self) -> None:
        """Run now and every ``BACKGROUND_SECONDS`` (faster while the screen is open)."""
        self.run()
        self.app.set_interval(BACKGROUND_SECONDS, self._background_tick)

    def _background_tick(self) -> None:
        if self.screen is None:
            self.run()

    @property
    def busy(self) -> bool:
        """Whether a run is in progress."""
        return self._running.is_set()

    def run(self) -> None:
        """Start a run in a thread worker (no-op while one is in progress)."""
        if self._running.is_set():
            return
        self._running.set()
        self.app.run_worker(
            self._work, thread=True, exit_on_error=False, group="doctor", name="doctor"
        )

    def _work(self) -> None:
        try:
            session = self.session
            ctx = doctor.Context(read=session.read)
            from agenttui.ingest import sources

            ctx.log_dirs = sources.watch_roots(session.specs)
            report = doctor.run(self.settings, ctx, self.watcher)
        finally:
            self._running.clear()
        with contextlib.suppress(RuntimeError):  # RuntimeError: the app is exiting
            self.app.call_from_thread(self._show, report)

    def _show(self, report: doctor.Report) -> None:
        self.report = report
        self.runs += 1
        counts = report.counts()
        worst = "fail" if counts["fail"] else "warn" if counts["warn"] else "ok"
        try:
            header = self.app.get_screen("main").query_one(StatsHeader)
        except (KeyError, NoMatches):
            pass  # not mounted yet, or being torn down
        else:
            header.show_health(report.summary(), worst)
        if self.screen is not None:
            self.screen.show(report)
