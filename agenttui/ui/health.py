"""Runs the doctor in the background: the header's health summary and the Doctor screen.

Two clocks, each in a thread worker: the checks (DNS and TCP may take their whole timeout)
every :data:`BACKGROUND_SECONDS` (:data:`SCREEN_SECONDS` while the Doctor screen is open), and
the agent's health endpoints every ``[doctor] health_every`` seconds. Each posts a
:class:`~agenttui.ui.messages.HealthChecked` message; the app hands it back to
:meth:`HealthMonitor.received` on the UI thread, which updates the header's ``health:`` label
and calls every subscriber (an open Doctor screen) with the combined :class:`Checkup`. A run
never starts while the previous one of the same kind is still going.

This module knows no screen: screens subscribe to it (no import cycle).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from textual.app import App
from textual.css.query import NoMatches

from agenttui.doctor.endpoint_watch import EndpointWatch
from agenttui.doctor.output import endpoint_summary
from agenttui.doctor.pressure import pressure
from agenttui.doctor.processes import ProcessWatcher
from agenttui.doctor.results import Checkup, Flip, Pressure, Probe, Status
from agenttui.doctor.runner import Context, run, with_endpoints
from agenttui.doctor.settings import Settings
from agenttui.ingest import sources
from agenttui.model.drift import Drift, model_drift
from agenttui.session import Session
from agenttui.ui.messages import HealthChecked
from agenttui.ui.widgets.header import StatsHeader

BACKGROUND_SECONDS = 30.0
"""How often the checks run while the Doctor screen is closed (for the header)."""
SCREEN_SECONDS = 5.0
"""How often they run while the Doctor screen is open."""

Listener = Callable[[Checkup], None]


def health_label(checkup: Checkup | None, probes: list[Probe]) -> tuple[str, Status] | None:
    """The header's ``health:`` text and its severity: the endpoints' status, then the checks.

    ``unhealthy · 3 fail``, ``healthy · ok``, ``2 fail 1 warn`` (no endpoint configured).
    """
    parts: list[str] = []
    worst: Status = "ok"
    if probes:
        word, worst = endpoint_summary(probes)
        parts.append(word)
    if checkup is not None:
        counts = checkup.counts()
        mine: Status = "fail" if counts["fail"] else "warn" if counts["warn"] else "ok"
        if mine == "fail" or (mine == "warn" and worst == "ok"):
            worst = mine
        parts.append(checkup.summary())
    return (" · ".join(parts), worst) if parts else None


class HealthMonitor:
    """Periodic doctor runs and health endpoint polls for one app."""

    def __init__(self, app: App[None], session: Session, settings: Settings) -> None:
        """Run the checks of ``settings``, with the 429/timeout pressure of ``session``."""
        self.app = app
        self.session = session
        self.settings = settings
        self.base: Checkup | None = None
        """The last run of the checks (without the endpoints' rows)."""
        self.report: Checkup | None = None
        """What the screens show: :attr:`base` with the endpoints' newest rows."""
        self.watcher: ProcessWatcher | None = None
        if settings.config_error is None and (settings.agent_pid or settings.agent_name):
            self.watcher = ProcessWatcher(settings.agent_pid, settings.agent_name)
        self.endpoints: EndpointWatch | None = (
            EndpointWatch(settings.health_urls) if settings.health_urls else None
        )
        self._running = threading.Event()
        self._polling = threading.Event()
        self._listeners: list[Listener] = []
        self.runs = 0
        self.polls = 0

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` (on the UI thread) with each new checkup."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    @property
    def watching(self) -> bool:
        """Whether a screen is subscribed (the checks then run every ``SCREEN_SECONDS``)."""
        return bool(self._listeners)

    def start(self) -> None:
        """Run now and every ``BACKGROUND_SECONDS``; poll the endpoints on their own clock."""
        self.run()
        self.app.set_interval(BACKGROUND_SECONDS, self._background_tick)
        if self.endpoints is not None:
            self.poll()
            self.app.set_interval(self.settings.health_every, self.poll)

    def _background_tick(self) -> None:
        if not self._listeners:
            self.run()

    @property
    def busy(self) -> bool:
        """Whether a run of the checks is in progress."""
        return self._running.is_set()

    def flips(self) -> list[Flip]:
        """Health checks that went from ok to failing, oldest first."""
        return self.endpoints.flips() if self.endpoints is not None else []

    def run(self) -> None:
        """Start a run of the checks in a thread worker (no-op while one is in progress)."""
        if self._running.is_set():
            return
        self._running.set()
        self.app.run_worker(
            self._work, thread=True, exit_on_error=False, group="doctor", name="doctor"
        )

    def poll(self) -> None:
        """Poll the health endpoints in a thread worker (no-op while a poll is in progress)."""
        if self.endpoints is None or self._polling.is_set():
            return
        self._polling.set()
        self.app.run_worker(
            self._poll_work, thread=True, exit_on_error=False, group="doctor-health"
        )

    def _log_pressure(self, minutes: int) -> Pressure:
        with self.session.read() as index:
            return pressure(index.traces.values(), index.errors, minutes)

    def _log_models(self) -> list[Drift]:
        with self.session.read() as index:
            return model_drift(index)

    def _work(self) -> None:
        try:
            ctx = Context(
                log_dirs=sources.watch_roots(self.session.specs),
                log_pressure=self._log_pressure,
                log_models=self._log_models,
                endpoints=self.endpoints,
                poll_endpoints=False,
            )
            checkup = run(self.settings, ctx, self.watcher)
        finally:
            self._running.clear()
        self.app.post_message(HealthChecked(checkup))

    def _poll_work(self) -> None:
        s = self.settings
        try:
            if self.endpoints is not None:
                self.endpoints.poll_all(
                    s.health_urls, s.health_timeout, s.memory_warn_pct, s.memory_fail_pct
                )
        finally:
            self._polling.clear()
        self.app.post_message(HealthChecked())

    def received(self, message: HealthChecked) -> None:
        """A run or a poll finished (UI thread): update the header and the subscribers."""
        if message.checkup is not None:
            self.base = message.checkup
            self.runs += 1
        else:
            self.polls += 1
        self._publish()

    def _publish(self) -> None:
        base = self.base
        if base is not None and self.endpoints is not None:
            self.report = with_endpoints(base, self.endpoints, self.settings.health_urls)
        else:
            self.report = base
        probes = (
            self.endpoints.latest(self.settings.health_urls) if self.endpoints is not None else []
        )
        label = health_label(self.report, probes)
        if label is not None:
            try:
                header = self.app.get_screen("main").query_one(StatsHeader)
            except (KeyError, NoMatches):
                pass  # not mounted yet, or being torn down
            else:
                header.show_health(*label)
        if self.report is not None:
            for listener in list(self._listeners):
                listener(self.report)


@runtime_checkable
class HasHealth(Protocol):
    """An app that may run a :class:`HealthMonitor` (screens read the flips through it)."""

    health: HealthMonitor | None


def health_flips(app: object) -> list[Flip]:
    """The health flips of ``app``'s monitor (none when it has no monitor)."""
    if isinstance(app, HasHealth) and app.health is not None:
        return app.health.flips()
    return []
