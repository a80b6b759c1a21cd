"""One event: where it came from, its traceback, and the whole JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from agenttui.model.events import Event
from agenttui.ui.format import safe, stamp
from agenttui.ui.render import multiline_values, pretty_json, raw_text, traceback_text

SYNC_COUNT_BYTES = 4 << 20
"""Up to this far into its file an event's line number is counted on the spot, else in a
thread."""


def event_header(event: Event, line: int | None = None) -> Text:
    """File, line number, time, level, message and tool of the event."""
    rec = event.record
    text = Text(end="")
    if line is not None:
        text.append(f"{safe(event.file)} line {line:,}", style="bold")
    else:
        text.append(safe(event.file), style="bold")
    if event.raw is None:
        return text
    if event.is_raw:
        text.append("  not JSON: shown as raw text", style="bold yellow")
        return text
    text.append("  ")
    text.append(stamp(rec.ts))
    if rec.level:
        text.append("  ")
        text.append(safe(rec.level), style="bold red" if rec.is_error else "")
    if rec.message:
        text.append("  ")
        text.append(safe(rec.message), style="bold")
    if rec.tool:
        text.append("  tool ", style="dim")
        text.append(safe(rec.tool))
    if rec.request_id:
        text.append("  request ", style="dim")
        text.append(safe(rec.request_id))
    if rec.error:
        text.append("\n")
        text.append(safe(rec.error), style="bold red")
    return text


class EventScreen(Screen[None]):
    """The full event, pretty-printed and never parsed as markup."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    DEFAULT_CSS = """
    EventScreen #event-header { height: auto; padding: 0 1; background: $panel; }
    EventScreen VerticalScroll { height: 1fr; }
    EventScreen .section { height: auto; padding: 0 1; }
    EventScreen .title { height: 1; padding: 0 1; color: $text-muted; text-style: bold;
                         background: $boost; margin-top: 1; }
    """

    class LineFound(Message):
        """The event's line number was counted (by a thread worker)."""

        def __init__(self, line: int | None) -> None:
            """Remember the line number."""
            super().__init__()
            self.line = line

    def __init__(self, event: Event, line_of: Callable[[int], int | None] | None = None) -> None:
        """Show ``event``; ``line_of(loc)`` counts its line number (e.g.
        :meth:`Session.line_number`)."""
        super().__init__()
        self.event = event
        self._line_of = line_of
        self.line: int | None = None

    def selected_request_id(self) -> str | None:
        """The request the event belongs to (None for an unattributed line)."""
        return self.event.record.request_id

    def compose(self) -> ComposeResult:
        """Header, then traceback and JSON (or the raw line) in a scroll view."""
        event = self.event
        yield Static(event_header(event), id="event-header")
        with VerticalScroll():
            if event.raw is None:
                yield Static(raw_text(event), classes="section", id="raw")
            elif event.is_raw or event.data is None:
                yield Static(Text("not JSON: the line as read", end=""), classes="title")
                yield Static(raw_text(event), classes="section", id="raw")
            else:
                error = event.record.error
                tb = traceback_text(event.exception)
                if tb is not None:
                    yield Static(Text("traceback", end=""), classes="title")
                    yield Static(tb, classes="section", id="traceback")
                elif error:
                    yield Static(Text("error", end=""), classes="title")
                    yield Static(
                        Text(safe(error, multiline=True), style="red", end=""),
                        classes="section",
                        id="traceback",
                    )
                yield Static(Text("event JSON", end=""), classes="title")
                yield Static(pretty_json(event.data), classes="section", id="json")
                for n, (path, value) in enumerate(multiline_values(event.data)):
                    yield Static(Text(f"{path} (line breaks shown)", end=""), classes="title")
                    yield Static(Text(value, end=""), classes="section", id=f"multiline-{n}")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the scroll view so that arrows and page keys scroll it; count the line."""
        self.query_one(VerticalScroll).focus()
        if self._line_of is None or self.event.raw is None:
            return
        if self.event.offset <= SYNC_COUNT_BYTES:  # a few milliseconds at most: count now
            self.post_message(self.LineFound(self._line_of(self.event.loc)))
        else:
            self._count_line()

    @work(thread=True, exclusive=True, exit_on_error=False, group="event-line")
    def _count_line(self) -> None:
        assert self._line_of is not None
        self.post_message(self.LineFound(self._line_of(self.event.loc)))

    @on(LineFound)
    def _line_found(self, message: LineFound) -> None:
        self.line = message.line
        self.query_one("#event-header", Static).update(event_header(self.event, message.line))

    def action_back(self) -> None:
        """Back to where the event was opened."""
        self.app.pop_screen()
