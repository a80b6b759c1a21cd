"""Events without a request id and lines that are not JSON, so that nothing is hidden."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from agenttui.model.events import Event
from agenttui.session import Session
from agenttui.ui.format import clock_ms, count, masked_fields, one_line, safe
from agenttui.ui.render import event_title
from agenttui.ui.widgets.nav_table import NavTable

LIMIT = 2000
"""Newest lines shown."""


class UnattributedScreen(Screen[None]):
    """The newest unattributed events, newest first; enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,u", "back", "Back"),
        Binding("r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    UnattributedScreen #raw-note { height: auto; padding: 0 1; background: $panel; }
    UnattributedScreen DataTable { height: 1fr; }
    """

    class Loaded(Message):
        """Events read by a thread worker."""

        def __init__(self, events: list[Event], total: int, raw: int) -> None:
            """Remember the events and the totals."""
            super().__init__()
            self.events = events
            self.total = total
            self.raw = raw

    def __init__(self, session: Session) -> None:
        """Show the unattributed lines of ``session``."""
        super().__init__()
        self.session = session
        self.events: list[Event] = []
        self.table: DataTable[Text] = NavTable(cursor_type="row", zebra_stripes=True)

    def compose(self) -> ComposeResult:
        """Note, table, footer."""
        yield Static(Text("Loading…", end=""), id="raw-note")
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        """Add columns and load."""
        # The table is held, not queried: keys pressed fast can close the screen before its
        # children are mounted, and a query would then find nothing and crash the app.
        table = self.table
        table.add_column("time", key="time", width=12)
        table.add_column("where", key="where", width=18)
        table.add_column("kind", key="kind", width=8)
        table.add_column("line", key="line")
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="unattributed")
    def load(self) -> None:
        """Read the newest unattributed lines (in a thread)."""
        with self.session.read():
            total = len(self.session.index.unattributed)
            raw = self.session.index.unparsed_lines
        events = self.session.unattributed(LIMIT)
        events.reverse()
        self.post_message(self.Loaded(events, total, raw))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self.events = message.events
        note = Text(end="")
        note.append(f"{count(message.total)} lines without a request id", style="bold")
        note.append(f" ({count(message.raw)} not JSON); ")
        shown = len(message.events)
        note.append(
            f"newest {count(shown)} shown, newest first. enter opens, r reloads.", style="dim"
        )
        self.query_one("#raw-note", Static).update(note)
        table = self.table
        table.clear()
        width = max(20, table.size.width - 50)
        for i, event in enumerate(message.events):
            if event.raw is None:
                kind, line = Text("gone", style="yellow"), Text("(line gone)", style="dim")
            elif event.is_raw:
                kind = Text("raw", style="bold magenta")
                line = Text(one_line(event.raw.decode("utf-8", "backslashreplace"), width))
            else:
                kind = Text("event")
                rec = event.record
                fields = masked_fields(
                    {
                        k: v
                        for k, v in (event.data or {}).items()
                        if k not in ("timestamp", "time", "ts", "@timestamp")
                    }
                )
                assert isinstance(fields, dict)
                line = Text(one_line(_compact(fields) if fields else rec.message or "", width))
            table.add_row(
                Text(clock_ms(event.record.ts), style="dim"),
                Text(one_line(event_title(event), 18)),
                kind,
                line,
                key=str(i),
            )

    @on(DataTable.RowSelected)
    def _open(self, message: DataTable.RowSelected) -> None:
        key = message.row_key.value
        if key is not None and int(key) < len(self.events):
            from agenttui.ui.screens.event_screen import EventScreen

            self.app.push_screen(EventScreen(self.events[int(key)], self.session.line_number))

    def action_reload(self) -> None:
        """Read again."""
        self.load()

    def action_back(self) -> None:
        """Back to the list."""
        self.app.pop_screen()


def _compact(fields: dict[str, object]) -> str:
    return " ".join(f"{safe(k)}={safe(v)}" for k, v in fields.items())
