"""The agenttui Textual app: one ingest worker thread, a 10 Hz refresh, the screens.

Data flow: a thread worker runs :meth:`Session.scan` then :meth:`Session.follow` and posts
:class:`ScanProgress` / :class:`LogsChanged` messages. Widgets are only touched from the UI
thread: a 10 Hz timer looks at the index counters and, when they moved, places new traces in
the list and updates the header, however fast lines arrive.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from agenttui.commands.replay import ReplayOptions
from agenttui.doctor.checks import Settings as DoctorSettings
from agenttui.doctor.checks import settings_for_tui
from agenttui.ingest import sources
from agenttui.session import Progress, Session
from agenttui.ui.capture_watch import CaptureWatcher
from agenttui.ui.format import safe, set_show_secrets
from agenttui.ui.health import HealthMonitor
from agenttui.ui.messages import LogsChanged, ScanProgress
from agenttui.ui.screens.main_screen import MainScreen
from agenttui.ui.triage_actions import TRIAGE_BINDINGS, TriageActions
from agenttui.ui.widgets.header import Totals

REFRESH_HZ = 10
"""How often the list and the header may repaint."""


class AgentTUI(TriageActions, App[None]):
    """Live dashboard of agent request traces."""

    CSS_PATH = "app.tcss"
    TITLE = "agenttui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        *TRIAGE_BINDINGS,
        Binding("d", "doctor", "Doctor", show=False),
        Binding("C", "captures", "Captures", show=False),
        Binding("r", "replay", "Replay", show=False),
    ]

    def __init__(
        self,
        session: Session,
        title: str | None = None,
        doctor: DoctorSettings | None = None,
        replay: ReplayOptions | None = None,
        *,
        show_secrets: bool = False,
    ) -> None:
        """Show ``session`` (already checked by the command line).

        Args:
            session: The session to read and follow.
            title: Shown in the header instead of ``agenttui``.
            doctor: Run these checks in the background (header health summary); None runs
                them only when the Doctor screen is opened.
            show_secrets: Show secret-looking values as they are (masked by default).
        """
        super().__init__()
        set_show_secrets(show_secrets)
        self.session = session
        self.title = title or "agenttui"
        self.stop_event = threading.Event()
        """Set on quit: ends the ingest worker."""
        self._progress: Progress | None = None
        self._scanning = True
        self._seen: tuple[int, int] = (-1, -1)
        self.doctor_settings = doctor
        self.health: HealthMonitor | None = None
        self.captures = CaptureWatcher(self, session, replay)
        """Failure captures and their links to traces (``C``, ``r``)."""

    @property
    def main(self) -> MainScreen:
        """The main (list) screen."""
        screen = self.get_screen("main")
        assert isinstance(screen, MainScreen)
        return screen

    def _sources_text(self) -> str:
        return ", ".join(sources.display_path(spec.text) for spec in self.session.specs)

    def on_mount(self) -> None:
        """Install the main screen, start reading, start the refresh timer."""
        self.install_screen(
            MainScreen(self.session, safe(self.title), self._sources_text()), "main"
        )
        self.push_screen("main")
        self.ingest()
        self.set_interval(1 / REFRESH_HZ, self._tick)
        self.captures.start()
        if self.doctor_settings is not None:
            self.health = HealthMonitor(self, self.session, self.doctor_settings)
            self.health.start()

    # ---------------------------------------------------------------- ingest

    @work(thread=True, exclusive=True, exit_on_error=False, group="ingest")
    def ingest(self) -> None:
        """Scan the sources, then follow them until quit (runs in a thread)."""
        stop = self.stop_event

        def progress(p: Progress) -> None:
            self.post_message(ScanProgress(p))

        def changed(lines: int) -> None:
            self.post_message(LogsChanged(lines))

        self.session.scan(progress, stop)
        if stop.is_set():
            return
        self.session.follow(changed, stop)

    @on(ScanProgress)
    def _scan_progress(self, message: ScanProgress) -> None:
        self._progress = message.progress
        if message.progress.finished:
            self._scanning = False
            if not self.main.ready:
                return
            self.main.trace_list.sync(resort=True)
            self._seen = (-1, -1)
            self._tick()

    @on(LogsChanged)
    def _logs_changed(self, message: LogsChanged) -> None:
        """Nothing to do here: the timer picks the change up (batched repaint)."""

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                safe(f"{event.worker.group or event.worker.name}: {type(error).__name__}: {error}"),
                title="Error",
                severity="error",
                markup=False,
                timeout=10,
            )

    # ---------------------------------------------------------------- refresh

    def _tick(self) -> None:
        """At most ``REFRESH_HZ`` times a second: place new traces, update the header."""
        main = self.main
        if not main.ready or self._exit:
            return
        try:
            self._refresh(main)
        except NoMatches:
            # The screens are being torn down (the app is exiting): nothing left to refresh.
            return

    def _refresh(self, main: MainScreen) -> None:
        session = self.session
        index = session.index
        with session.lock:
            seen = (index.lines, len(index))
        changed = seen != self._seen
        self._seen = seen
        if changed:
            main.trace_list.sync()
            main.trace_list.refresh()
            for screen in self.screen_stack:
                refresh = getattr(screen, "refresh_trace", None)
                if refresh is not None:
                    refresh()
        main.header.show(self._totals())

    def _totals(self) -> Totals:
        session = self.session
        index = session.index
        with session.lock:
            counts = index.status_counts()  # kept by the index: O(1)
            progress = self._progress
            return Totals(
                lines=index.lines,
                events=index.events,
                traces=len(index),
                ok=counts["ok"],
                error=counts["error"],
                running=counts["running"],
                unparsed=index.unparsed_lines,
                rate=round(session.lines_per_second(), 0),
                problems=len(session.problems),
                scanning=self._scanning,
                done_bytes=progress.done_bytes if progress else 0,
                total_bytes=progress.total_bytes if progress else 0,
            )

    # ---------------------------------------------------------------- actions

    async def action_quit(self) -> None:
        """Stop the ingest worker and exit."""
        self.stop_event.set()
        self.exit()

    def on_unmount(self) -> None:
        """However the app ends, let the ingest thread end too, and kill every replay."""
        self.stop_event.set()
        from agenttui.replay.process import kill_all

        kill_all()

    def action_help(self) -> None:
        """Show the keys."""
        from agenttui.ui.screens.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _on_main(self) -> MainScreen:
        """Return to the main screen (closing the others) and return it."""
        while len(self.screen_stack) > 1 and self.screen is not self.main:
            self.pop_screen()
        return self.main

    def action_next_failure(self) -> None:
        """Go to the list and jump to the next failed trace."""
        self._on_main().action_next_failure()

    def action_search(self) -> None:
        """Go to the list and search."""
        self._on_main().action_search()

    def action_tools(self) -> None:
        """Show the tool statistics."""
        self._on_main().action_tools()

    def action_unattributed(self) -> None:
        """Show the unattributed / raw lines."""
        self._on_main().action_unattributed()

    def action_captures(self) -> None:
        """Show the failure captures."""
        from agenttui.ui.screens.captures_screen import CapturesScreen

        if not isinstance(self.screen, CapturesScreen):
            self.push_screen(CapturesScreen(self.captures))

    def action_replay(self) -> None:
        """Replay the capture of the selected (or open) trace."""
        from agenttui.ui.screens.event_screen import EventScreen
        from agenttui.ui.screens.replay_screen import ReplayScreen

        screen = self.screen
        rid = getattr(screen, "request_id", None)
        if screen is self.main:
            rid = self.main.trace_list.selected
        elif isinstance(screen, EventScreen):  # a traceback / event shows one request too
            rid = screen.event.record.request_id
        capture = self.captures.capture_for(rid if isinstance(rid, str) else None)
        if capture is None:
            self.notify("This trace has no failure capture (C lists the captures).", markup=False)
            return
        self.push_screen(ReplayScreen(self.captures, capture, start=True))

    def action_doctor(self) -> None:
        """Show the Doctor screen (checks, agent processes, 429/timeout pressure)."""
        from agenttui.ui.screens.doctor_screen import DoctorScreen

        if isinstance(self.screen, DoctorScreen):
            return
        if self.health is None:
            self.health = HealthMonitor(self, self.session, settings_for_tui())
            self.health.start()
        self.push_screen(DoctorScreen(self.health))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The app's actions in the command palette (ctrl+p)."""
        yield SystemCommand(
            "Next failure", "Jump to the next failed trace (e)", self.action_next_failure
        )
        yield SystemCommand(
            "Search traces", "Filter by request id, query or error (/)", self.action_search
        )
        yield SystemCommand(
            "Tool statistics", "Calls, errors, p50/p95/p99/max per tool (t)", self.action_tools
        )
        yield SystemCommand(
            "Unattributed / raw lines",
            "Events without request id and non-JSON lines (u)",
            self.action_unattributed,
        )
        yield SystemCommand(
            "Doctor", "Environment, hosts, memory, agent process, 429s (d)", self.action_doctor
        )
        yield SystemCommand("Help", "List the keys (?)", self.action_help)
        yield SystemCommand("Quit", "Quit agenttui (q)", self.exit_cleanly)
        yield from super().get_system_commands(screen)

    def exit_cleanly(self) -> None:
        """Stop the worker and exit (for the command palette)."""
        self.stop_event.set()
        self.exit()
