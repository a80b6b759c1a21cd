"""App-wide triage actions: newest failure (``!``), error groups (``E``), live stats (``s``),
copy via OSC 52 (``c`` request id, ``y`` trace JSON), incident note (``i``), and ``n`` / ``N`` on
the trace screen.

A mixin for :class:`agenttui.ui.app.AgentTUI`, so that the app file only gains its bindings.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel

from agenttui.model.triage import newest_failure
from agenttui.ui.format import safe, short_id
from agenttui.ui.messages import CopyReady, Notice
from agenttui.ui.protocols import ShowsRequest

if TYPE_CHECKING:
    from agenttui.output.incident import ReplayHook
    from agenttui.ui.app import AgentTUI


TRIAGE_BINDINGS: list[BindingType] = [
    Binding("exclamation_mark", "newest_failure", "Newest failure", show=False),
    Binding("E", "groups", "Errors", show=False),
    Binding("s", "stats", "Stats", show=False),
    Binding("c", "copy_id", "Copy id", show=False),
    Binding("y", "copy_json", "Copy JSON", show=False),
    Binding("i", "incident_note", "Incident note", show=False),
]


class TriageActions:
    """Actions shared by every screen (mixed into the app)."""

    BINDINGS: ClassVar[list[BindingType]] = []

    def _app(self) -> AgentTUI:
        return cast("AgentTUI", self)

    def action_newest_failure(self) -> None:
        """``!``: open the newest failed trace (its error, class and fix; enter: traceback)."""
        app = self._app()
        with app.session.read():
            trace = newest_failure(app.session.index)
            rid = None if trace is None else trace.request_id
        if rid is None:
            app.notify("No failed request yet.", markup=False)
            return
        main = app.show_main()
        tl = main.trace_list
        if not tl.select_request(rid) and tl.needle:
            main.action_clear_search()
            tl.select_request(rid)
        from agenttui.ui.screens.trace_screen import TraceScreen

        app.push_screen(TraceScreen(app.session, rid))

    def action_groups(self) -> None:
        """``E``: the error groups."""
        app = self._app()
        from agenttui.ui.screens.groups_screen import ErrorGroupsScreen

        if not isinstance(app.screen, ErrorGroupsScreen):
            app.show_main()
            app.push_screen(ErrorGroupsScreen(app.session))

    def action_stats(self) -> None:
        """``s``: live statistics."""
        app = self._app()
        from agenttui.ui.screens.stats_screen import StatsScreen

        if not isinstance(app.screen, StatsScreen):
            app.show_main()
            app.push_screen(StatsScreen(app.session))

    def selected_request_id(self) -> str | None:
        """The request id of what is on screen: the open trace, the selected group's newest
        trace, or the list's selection."""
        app = self._app()
        screen = app.screen
        if isinstance(screen, ShowsRequest):
            return screen.selected_request_id()
        return app.main.trace_list.selected

    def action_copy_id(self) -> None:
        """``c``: copy the selected request id (OSC 52: works over SSH)."""
        app = self._app()
        rid = self.selected_request_id()
        if rid is None:
            app.notify("No trace selected.", markup=False)
            return
        # Never a control character over OSC 52: pasted into a shell, a newline runs.
        app.copy_to_clipboard(safe(rid))
        app.notify(f"Copied {short_id(rid, 24)} (OSC 52).", markup=False, timeout=3)

    def _verdicts(self) -> ReplayHook:
        """The replay verdicts of a request's capture, for incident notes and copies."""
        from agenttui.replay.history import verdict_hook

        captures = self._app().captures
        return verdict_hook(captures.options.history_dir(), captures.capture_for)

    def action_copy_json(self) -> None:
        """``y``: copy the whole trace as JSON, events included, secrets masked."""
        rid = self.selected_request_id()
        if rid is None:
            self._app().notify("No trace selected.", markup=False)
            return
        self._copy_json(rid)

    @work(thread=True, exclusive=True, exit_on_error=False, group="copy")
    def _copy_json(self, rid: str) -> None:
        from agenttui.output.incident import incident_dict

        app = self._app()
        with app.session.read():
            trace = app.session.index.traces.get(rid)
        if trace is None:
            return
        text = clipboard_json(incident_dict(app.session, trace, self._verdicts()))
        app.post_message(
            CopyReady(text, f"Copied the trace as JSON ({len(text):,} bytes, OSC 52).")
        )

    def action_incident_note(self) -> None:
        """``i``: write a Markdown incident note of the selected trace."""
        rid = self.selected_request_id()
        if rid is None:
            self._app().notify("No trace selected.", markup=False)
            return
        self._write_note(rid)

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident")
    def _write_note(self, rid: str) -> None:
        from agenttui.output.incident import incident_markdown

        app = self._app()
        with app.session.read():
            trace = app.session.index.traces.get(rid)
        if trace is None:
            return
        text = incident_markdown(app.session, trace, self._verdicts())
        from agenttui.ingest.sources import watch_roots
        from agenttui.output.incident import NoteError, write_note

        specs = [s for s in app.session.specs if s.kind != "stdin"]
        try:
            path = write_note(text, rid, app.captures.options.history_dir(), watch_roots(specs))
        except NoteError as exc:
            app.post_message(Notice(safe(str(exc)), severity="error", timeout=10))
            return
        app.post_message(Notice(safe(f"Incident note written to {path}"), timeout=8))

    def on_notice(self, message: Notice) -> None:
        """A thread's toast (handled by name: this class is a mixin of the app)."""
        self._app().notify(
            message.text,
            severity=cast(SeverityLevel, message.severity),
            markup=False,
            timeout=message.timeout,
        )

    def on_copy_ready(self, message: CopyReady) -> None:
        """A thread prepared text for the clipboard."""
        app = self._app()
        app.copy_to_clipboard(message.text)
        app.notify(message.notice, markup=False, timeout=3)

    def action_trace_step(self, step: int) -> None:
        """``n`` / ``N`` on a trace: the next / previous trace of the list (its matches when
        filtered, else failures)."""
        app = self._app()
        from agenttui.ui.screens.trace_screen import TraceScreen

        screen = app.screen
        if not isinstance(screen, TraceScreen):
            return
        tl = app.main.trace_list
        tl.select_request(screen.request_id)
        before = tl.selected
        if not tl.next_match(step) or tl.selected in (None, before):
            app.notify("No other match.", markup=False)
            return
        rid = tl.selected
        assert rid is not None
        app.switch_screen(TraceScreen(app.session, rid))


def clipboard_json(value: object) -> str:
    """JSON for the clipboard: pure printable ASCII (every other character escaped, DEL too),
    so that nothing in it can act on a terminal or a shell it is pasted into."""
    return json.dumps(value, ensure_ascii=True, default=str).replace("\x7f", "\\u007f")


__all__ = ["TRIAGE_BINDINGS", "TriageActions", "clipboard_json"]
