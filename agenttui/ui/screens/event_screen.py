"""One event: where it came from, its traceback, and the whole JSON."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from agenttui.model.events import Event
from agenttui.ui.format import safe, stamp
from agenttui.ui.render import event_title, pretty_json, raw_text, traceback_text


def event_header(event: Event) -> Text:
    """File, offset, time, level, message and tool of the event."""
    rec = event.record
    text = Text(end="")
    text.append(event_title(event), style="bold")
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

    def __init__(self, event: Event) -> None:
        """Show ``event``."""
        super().__init__()
        self.event = event

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
        yield Footer()

    def on_mount(self) -> None:
        """Focus the scroll view so that arrows and page keys scroll it."""
        self.query_one(VerticalScroll).focus()

    def action_back(self) -> None:
        """Back to where the event was opened."""
        self.app.pop_screen()
