"""The agenttui Textual app: one ingest worker thread, batched refreshes, the screens.

Data flow: a thread worker runs :meth:`Session.scan` then :meth:`Session.follow` and posts
:class:`ScanProgress` / :class:`LogsChanged` messages (a backlog collapses into one). Widgets are
only touched from the UI thread: the first change after a refresh schedules the next one
``1 / REFRESH_HZ`` seconds later, which places new traces in the list, updates the header and
sends :class:`IndexChanged` to the open screens, however fast lines arrive.
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

from agenttui.doctor.settings import Settings as DoctorSettings
from agenttui.doctor.settings import settings_for_tui
from agenttui.ingest import sources
from agenttui.replay.options import ReplayOptions
from agenttui.session import Progress, Session
from agenttui.ui.capture_watch import CaptureWatcher
from agenttui.ui.format import safe, set_show_secrets
from agenttui.ui.health import HealthMonitor
from agenttui.ui.messages import (
    CapturesChanged,
    HealthChecked,
    IndexChanged,
    LogsChanged,
    ScanProgress,
    ShowList,
)
from agenttui.ui.screens.main_screen import MainScreen
from agenttui.ui.triage_actions import TRIAGE_BINDINGS, TriageActions
from agenttui.ui.widgets.header import Totals

PALETTE: tuple[tuple[str, str, str], ...] = (
    ("Newest failure", "Open the newest failed trace: error, class, fix (!)", "newest_failure"),
    ("Next failure", "Jump to the next failed trace in the list (e)", "next_failure"),
    ("Error groups", "Failures grouped by signature, with class and fix (E)", "groups"),
    ("Live stats", "Rates and per-tool p50/p95/p99 over 15 minutes (s)", "stats"),
    ("Tool statistics", "Calls, errors, p50/p95/p99/max per tool (t)", "tools"),
    ("Filter traces", "Words, status:error tool:X dur>5s... (/)", "search"),
    (
        "Unattributed / raw lines",
        "Events without request id and non-JSON lines (u)",
        "unattributed",
    ),
    ("Failure captures", "The failed_*.json captures (C)", "captures"),
    ("Replay", "Replay the selected trace's capture locally (r)", "replay"),
    ("Copy request id", "Copy the selected request id (c)", "copy_id"),
    ("Copy trace JSON", "Copy the selected trace as JSON (y)", "copy_json"),
    ("Incident note", "Write a Markdown incident note of the trace (i)", "incident_note"),
    ("Bookmarks", "List the bookmarked traces (B; m bookmarks, b jumps)", "bookmarks"),
    ("Doctor", "Environment, hosts, memory, agent process, 429s (d)", "doctor"),
    ("Help", "List the keys (?)", "help"),
    ("Quit", "Quit agenttui (q)", "quit"),
)
"""Command palette entries: title, description, app action (``action_<name>``)."""

REFRESH_HZ = 10
"""How often the list and the header may repaint."""


class AgentTUI(TriageActions, App[None]):
    """Live dashboard of agent request traces."""

    CSS_PATH = "app.tcss"
    TITLE = "agenttui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("slash", "search", "Filter", show=False),
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
        self._refresh_pending = False
        """A refresh is scheduled (changes until then are folded into it)."""
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

    def _live_main(self) -> MainScreen | None:
        """The main screen when it is mounted and the app is not shutting down, else None."""
        if self._exit or self.stop_event.is_set():
            return None
        try:
            main = self.get_screen("main")
        except KeyError:  # not installed yet, or already removed on exit
            return None
        return main if isinstance(main, MainScreen) and main.ready else None

    def _sources_text(self) -> str:
        return ", ".join(sources.display_path(spec.text) for spec in self.session.specs)

    def on_mount(self) -> None:
        """Install the main screen, start reading, start the refresh timer."""
        self.install_screen(
            MainScreen(self.session, safe(self.title), self._sources_text()), "main"
        )
        self.push_screen("main")
        self.ingest()
        self._schedule_refresh()
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

        def changed(_lines: int) -> None:
            self.post_message(LogsChanged())

        self.session.scan(progress, stop)
        if stop.is_set():
            return
        self.session.follow(changed, stop)

    @on(ScanProgress)
    def _scan_progress(self, message: ScanProgress) -> None:
        self._progress = message.progress
        if message.progress.finished:
            self._scanning = False
            main = self._live_main()
            if main is None:
                return
            main.trace_list.sync(resort=True)
            self._seen = (-1, -1)
            self._refresh_now()
        else:
            self._schedule_refresh()

    @on(LogsChanged)
    def _logs_changed(self, message: LogsChanged) -> None:
        """Lines arrived: refresh within ``1 / REFRESH_HZ`` seconds (one repaint per batch);
        look for a new capture now (a failure and its capture are written together)."""
        self._schedule_refresh()
        self.captures.poke()

    @on(CapturesChanged)
    def _captures_changed(self, message: CapturesChanged) -> None:
        self.captures.by_request = message.by_request
        main = self._live_main()
        if main is None:
            self.captures.retry()  # the list is not there yet: apply on the next scan
            return
        main.trace_list.marked = frozenset(message.by_request)
        main.trace_list.refresh()

    @on(HealthChecked)
    def _health_checked(self, message: HealthChecked) -> None:
        if self.health is not None:
            self.health.received(message)

    @on(ShowList)
    def _show_list(self, message: ShowList) -> None:
        main = self.show_main()
        if message.query is not None:
            main.search_for(message.query)
        if message.request_id is not None:
            main.trace_list.select_request(message.request_id)

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

    def _schedule_refresh(self) -> None:
        """Refresh once, ``1 / REFRESH_HZ`` seconds from now, unless one is scheduled."""
        if self._refresh_pending or self._exit:
            return
        self._refresh_pending = True
        self.set_timer(1 / REFRESH_HZ, self._refresh_now, name="refresh")

    def _refresh_now(self) -> None:
        """Place new traces, update the header, tell the open screens (UI thread)."""
        self._refresh_pending = False
        main = self._live_main()
        if main is None:
            if not self._exit and not self.stop_event.is_set():
                self._schedule_refresh()  # mounted soon: try again
            return
        try:
            with self.session.read() as index:
                seen = (index.lines, len(index))
            changed = seen != self._seen
            self._seen = seen
            if changed:
                main.trace_list.sync()
                main.trace_list.refresh()
                for screen in self.screen_stack:
                    if screen is not main:
                        screen.post_message(IndexChanged())
            main.header.show(self._totals())
        except NoMatches:
            return  # the screens are being torn down (the app is exiting)
        if self._scanning:
            self._schedule_refresh()  # keep the progress line moving during the scan

    def _totals(self) -> Totals:
        session = self.session
        with session.read() as index:
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

    def show_main(self) -> MainScreen:
        """Return to the main screen (closing the others) and return it."""
        while len(self.screen_stack) > 1 and self.screen is not self.main:
            self.pop_screen()
        return self.main

    def action_next_failure(self) -> None:
        """Go to the list and jump to the next failed trace."""
        self.show_main().action_next_failure()

    def action_search(self) -> None:
        """Go to the list and search."""
        self.show_main().action_search()

    def action_tools(self) -> None:
        """Show the tool statistics."""
        self.show_main().action_tools()

    def action_unattributed(self) -> None:
        """Show the unattributed / raw lines."""
        self.show_main().action_unattributed()

    def action_bookmarks(self) -> None:
        """Go to the list and show the bookmarked traces only."""
        self.show_main().action_bookmarks()

    def action_captures(self) -> None:
        """Show the failure captures."""
        from agenttui.ui.screens.captures_screen import CapturesScreen

        if not isinstance(self.screen, CapturesScreen):
            self.push_screen(CapturesScreen(self.captures))

    def action_replay(self) -> None:
        """Replay the capture of the selected (or open) trace."""
        from agenttui.ui.screens.replay_screen import ReplayScreen

        capture = self.captures.capture_for(self.selected_request_id())
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
        """The actions of the help screen in the command palette (ctrl+p), once each."""
        for title, help, action in PALETTE:
            callback = self.exit_cleanly if action == "quit" else getattr(self, f"action_{action}")
            yield SystemCommand(title, help, callback)
        ours = {title.lower() for title, _, _ in PALETTE}
        for command in super().get_system_commands(screen):
            if command.title.lower() not in ours and command.title.lower() != "keys":
                yield command

    def exit_cleanly(self) -> None:
        """Stop the worker and exit (for the command palette)."""
        self.stop_event.set()
        self.exit()
