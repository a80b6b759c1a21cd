"""One trace: summary, waterfall of its tool calls, and its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from agenttui.ingest.records import Kind
from agenttui.model.events import Event
from agenttui.model.traces import FAILED, Span, Trace
from agenttui.session import Session
from agenttui.ui.format import (
    STATUS_MARK,
    STATUS_STYLE,
    clock_ms,
    count,
    duration,
    model_name,
    one_line,
    safe,
    stamp,
)
from agenttui.ui.messages import IndexChanged
from agenttui.ui.widgets.nav_table import NavTable
from agenttui.ui.widgets.root_cause import RootCause
from agenttui.ui.widgets.waterfall import Waterfall

if TYPE_CHECKING:
    from agenttui.model.traces import TraceIndex


SOURCE_WIDTH = 10
"""Width of the events table's source column (host or file)."""


_STARTS: Final = {Kind.TOOL_START: "tool", Kind.LLM_START: "llm"}
_ENDS: Final = {
    Kind.TOOL_OK: "tool",
    Kind.TOOL_FAIL: "tool",
    Kind.LLM_OK: "llm",
    Kind.LLM_FAIL: "llm",
}


def _ends_of_starts(events: list[Event]) -> dict[int, Event]:
    """Each start event's end, paired in the order read as the index pairs them: same call
    id, else the first open call of the same tool (of any tool, or any LLM call, when the end
    does not name one); tool calls and LLM calls never pair with each other."""
    opened: list[Event] = []
    out: dict[int, Event] = {}
    for event in events:
        rec = event.record
        if rec.kind in _STARTS:
            opened.append(event)
            continue
        family = _ENDS.get(rec.kind)
        if family is None:
            continue
        same = [e for e in opened if _STARTS[e.record.kind] == family]
        chosen = None
        if rec.call_id is not None:
            chosen = next((e for e in same if e.record.call_id == rec.call_id), None)
        if chosen is None:
            chosen = next(
                (
                    e
                    for e in same
                    if (family == "llm" or rec.tool is None or e.record.tool == rec.tool)
                    and (rec.call_id is None or e.record.call_id is None)
                ),
                None,
            )
        if chosen is not None:
            opened.remove(chosen)
            out[id(chosen)] = event
    return out


def span_events(spans: list[Span], events: list[Event]) -> list[Event | None]:
    """For each span, the event that best explains it.

    That is the call's end event (success or failure, with the error and traceback, the
    tokens and the finish reason), or its start event while it runs; None when its event was
    not read.
    """
    by_loc = {event.loc: event for event in events}
    ends = _ends_of_starts(events)
    out: list[Event | None] = []
    for span in spans:
        first = None if span.loc is None else by_loc.get(span.loc)
        out.append(None if first is None else ends.get(id(first), first))
    return out


def span_notes(spans: list[Span], explained: list[Event | None]) -> list[str]:
    """What the waterfall writes after an LLM call's bar: its tokens and why it stopped."""
    notes = []
    for i, span in enumerate(spans):
        if span.kind != "llm":
            notes.append("")
            continue
        parts = [] if span.tokens is None else [f"{count(span.tokens)} tok"]
        event = explained[i] if i < len(explained) else None
        if event is not None and event.record.finish:
            parts.append(event.record.finish)
        notes.append(" · ".join(parts))
    return notes


def summary_text(index: TraceIndex, trace: Trace, query: str | None) -> Text:
    """The top of the trace screen: id, status, times, counts, query, error."""
    status = trace.status
    text = Text(end="")
    text.append(safe(trace.request_id), style="bold")
    text.append("  ")
    text.append(f"{STATUS_MARK[status]} {status}", style=STATUS_STYLE[status])
    text.append("  took ", style="dim")
    if trace.total_ms is not None:
        text.append(duration(trace.total_ms), style="bold")
    else:
        text.append("(running)", style="yellow")
    text.append("  started ", style="dim")
    text.append(stamp(trace.start_or_none))
    calls = trace.tool_calls
    text.append(f"\n{count(calls)} tool call{'' if calls == 1 else 's'}")
    if trace.tool_errors:
        text.append(f", {count(trace.tool_errors)} failed", style="bold red")
    llm = trace.llm_calls
    if llm:
        text.append(f", {count(llm)} LLM call{'' if llm == 1 else 's'}")
        failed = sum(1 for row in trace.llm_rows() if row[1] == FAILED)
        if failed:
            text.append(f", {count(failed)} failed", style="bold red")
    text.append(f", {count(trace.events)} event{'' if trace.events == 1 else 's'}")
    models = index.trace_models(trace)
    tokens = trace.total_tokens
    if models or tokens is not None:
        text.append("\nmodel: ", style="bold")
        text.append(safe(", ".join(models)) if models else "(not logged)", style="magenta")
        if tokens is not None:
            text.append(f"  {count(tokens)} tokens")
    text.append("\nquery: ", style="bold")
    text.append(safe(query) if query else "(none)", style="" if query else "dim")
    error = index.error_text(trace)
    if error:
        text.append("\nerror: ", style="bold red")
        text.append(safe(error), style="red")
    return text


class TraceScreen(Screen[None]):
    """Everything about one request."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("w", "focus_waterfall", "Waterfall"),
        Binding("v", "focus_events", "Events"),
        Binding("n", "app.trace_step(1)", "Next", show=False),
        Binding("N", "app.trace_step(-1)", "Previous", show=False),
    ]

    DEFAULT_CSS = """
    TraceScreen #summary { height: auto; max-height: 9; padding: 0 1; background: $panel; }
    TraceScreen #rootcause { height: auto; max-height: 7; padding: 0 1; background: $panel;
                             display: none; }
    TraceScreen #rootcause.-visible { display: block; }
    TraceScreen Waterfall { border-top: solid $primary-muted; border-title-align: left; }
    TraceScreen #events { height: 1fr; border-top: solid $primary-muted;
                          border-title-align: left; }
    """

    class EventsLoaded(Message):
        """The trace's events were read (by a thread worker)."""

        def __init__(self, events: list[Event], seen: int) -> None:
            """Remember the events and the event count they were read at."""
            super().__init__()
            self.events = events
            self.seen = seen

    def __init__(self, session: Session, request_id: str) -> None:
        """Show the trace ``request_id`` of ``session``."""
        super().__init__()
        self.session = session
        self.request_id = request_id
        self.events: list[Event] = []
        self._by_span: list[Event | None] = []
        self._shown_events = -1
        self._query: str | None = None
        self._sources = False
        """Whether this trace's events come from several files or hosts: then a source column
        shows (never a column that says the same on every row)."""

    def compose(self) -> ComposeResult:
        """Summary, waterfall, events table, footer."""
        yield Static(id="summary")
        yield RootCause(self.session, self.request_id, id="rootcause")
        yield Waterfall(id="waterfall")
        yield NavTable(id="events", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        """Fill in what the index knows, then read the events."""
        self._add_columns()
        self.refresh_trace()
        self.query_one(Waterfall).focus()

    def _add_columns(self) -> None:
        table = self.query_one("#events", DataTable)
        table.clear(columns=True)
        columns: list[tuple[str, int | None]] = [
            ("time", 12),
            ("event", 18),
            ("tool", 12),
            ("took", 7),
            ("error", None),
        ]
        if self._sources:
            columns.insert(1, ("source", SOURCE_WIDTH))
        for name, width in columns:
            table.add_column(name, key=name, width=width)

    def _trace(self) -> Trace | None:
        return self.session.index.traces.get(self.request_id)

    def selected_request_id(self) -> str | None:
        """The request this screen shows."""
        return self.request_id

    @on(IndexChanged)
    def _index_changed(self, message: IndexChanged) -> None:
        self.refresh_trace()

    def refresh_trace(self) -> None:
        """Redraw from the index; re-read the events when the trace changed."""
        session = self.session
        with session.read():
            trace = self._trace()
            if trace is None:
                return
            seen = trace.events
            if seen == self._shown_events:
                return
            self._shown_events = seen
            summary = summary_text(session.index, trace, self._query or trace.query)
            spans = session.index.spans(trace)
            end = trace.end_or_none
            if end is None and trace.last == trace.last:
                end = trace.last
            start = trace.start_or_none
        self.query_one("#summary", Static).update(summary)
        waterfall = self.query_one(Waterfall)
        llm = sum(1 for sp in spans if sp.kind == "llm")
        waterfall.border_title = (
            f"tool calls ({len(spans) - llm}), LLM calls ({llm})"
            if llm
            else f"tool calls ({len(spans)})"
        )
        first = waterfall.spans == [] and self._shown_events == seen
        waterfall.set_spans(spans, start, end)
        waterfall.set_notes(span_notes(spans, []))
        if first:  # open on the failed call: enter shows its traceback
            waterfall.cursor = next((i for i, sp in enumerate(spans) if sp.status == "error"), 0)
        self.query_one(RootCause).update_for(seen)
        self.load_events(seen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="trace-events")
    def load_events(self, seen: int) -> None:
        """Read the trace's events from the files (in a thread)."""
        with self.session.read():
            trace = self._trace()
        if trace is None:
            return
        events = self.session.events(trace)
        self.post_message(self.EventsLoaded(events, seen))

    @on(EventsLoaded)
    def _show_events(self, message: EventsLoaded) -> None:
        self.events = message.events
        waterfall = self.query_one(Waterfall)
        self._by_span = span_events(waterfall.spans, message.events)
        waterfall.set_notes(span_notes(waterfall.spans, self._by_span))
        for event in message.events:
            if event.record.kind == Kind.REQUEST_START and event.data is not None:
                query = event.data.get("query")
                if query is not None and query != self._query:
                    self._query = query if isinstance(query, str) else str(query)
                    with self.session.read():
                        trace = self._trace()
                        if trace is not None:
                            self.query_one("#summary", Static).update(
                                summary_text(self.session.index, trace, self._query)
                            )
                break
        table = self.query_one("#events", DataTable)
        row = table.cursor_row
        sources = len({event.source for event in message.events}) > 1
        if sources != self._sources:
            self._sources = sources
            self._add_columns()
        table.clear()
        table.border_title = f"events ({len(message.events)})"
        error_width = max(20, table.size.width - 59 - (SOURCE_WIDTH + 2) * self._sources)
        for i, event in enumerate(message.events):
            cells = self._event_cells(event, error_width)
            if self._sources:
                cells.insert(1, Text(one_line(event.source, SOURCE_WIDTH), style="cyan"))
            table.add_row(*cells, key=str(i))
        if message.events:
            table.move_cursor(row=min(row, len(message.events) - 1))

    @staticmethod
    def _event_cells(event: Event, error_width: int) -> list[Text]:
        rec = event.record
        if event.is_raw:
            note = "(line gone)" if event.raw is None else "(not JSON)"
            return [Text(""), Text(note, style="dim"), Text(""), Text(""), Text("")]
        level = rec.level or ""
        if rec.is_error:
            style = "bold red"
        elif level.startswith("warn"):
            style = "yellow"
        else:
            style = ""
        return [
            Text(clock_ms(rec.ts), style="dim"),
            Text(one_line(rec.message or level, 18), style=style),
            Text(one_line(rec.tool, 12) if rec.tool else model_name(rec.model or "", 12)),
            Text(duration(rec.duration_ms) if rec.duration_ms is not None else "", justify="right"),
            Text(one_line(rec.error or "", error_width), style="red"),
        ]

    @on(DataTable.RowSelected, "#events")
    def _open_event(self, message: DataTable.RowSelected) -> None:
        key = message.row_key.value
        if key is not None and int(key) < len(self.events):
            self._push_event(self.events[int(key)])

    @on(Waterfall.Selected)
    def _open_span(self, message: Waterfall.Selected) -> None:
        if message.index >= len(self._by_span):
            self.notify("The events are still loading.", markup=False)
            return
        event = self._by_span[message.index]
        if event is None:
            self.notify("This call's event could not be read again.", markup=False)
        else:
            self._push_event(event)

    def _push_event(self, event: Event) -> None:
        from agenttui.ui.screens.event_screen import EventScreen

        self.app.push_screen(EventScreen(event, self.session.line_number))

    def action_back(self) -> None:
        """Back to the list."""
        self.app.pop_screen()

    def action_focus_waterfall(self) -> None:
        """Focus the waterfall."""
        self.query_one(Waterfall).focus()

    def action_focus_events(self) -> None:
        """Focus the events table."""
        self.query_one("#events", DataTable).focus()
