"""Waterfall of a trace's tool and LLM calls: one row per call, bars placed on the trace's time
axis; an LLM call is named by its model, its tokens and finish reason written after its bar."""

from __future__ import annotations

import math
from typing import ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agenttui.model.steps import depths
from agenttui.model.traces import Span
from agenttui.ui.format import STATUS_MARK, duration, model_name, one_line

NAME_WIDTH = 16
DUR_WIDTH = 8


class Waterfall(ScrollView, can_focus=True):
    """Tool and LLM calls of one trace; enter (or a click) selects a span."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("g,home", "first", "First call", show=False),
        Binding("G,end", "last", "Last call", show=False),
        Binding("enter", "select", "Open call"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "waterfall--cursor",
        "waterfall--ok",
        "waterfall--error",
        "waterfall--running",
        "waterfall--dim",
        "waterfall--axis",
        "waterfall--llm",
    }

    DEFAULT_CSS = """
    Waterfall { height: auto; max-height: 12; background: $surface; overflow-x: hidden; }
    Waterfall > .waterfall--cursor { background: $accent 30%; }
    Waterfall:focus > .waterfall--cursor { background: $accent 60%; text-style: bold; }
    Waterfall > .waterfall--ok { color: $success; }
    Waterfall > .waterfall--error { color: $error; text-style: bold; }
    Waterfall > .waterfall--running { color: $warning; }
    Waterfall > .waterfall--dim { color: $text-muted; }
    Waterfall > .waterfall--axis { color: $text-muted; }
    Waterfall > .waterfall--llm { color: $secondary; }
    """

    class Selected(Message):
        """A span was chosen (to open its event)."""

        def __init__(self, index: int) -> None:
            """Remember the span's position."""
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        """An empty waterfall (see :meth:`set_spans`)."""
        super().__init__(id=id)
        self.spans: list[Span] = []
        self.notes: list[str] = []
        """Text written after each span's bar (an LLM call's tokens and finish reason)."""
        self._depths: list[int] = []
        """How deep each span sits under the agent steps around it (names indented)."""
        self.cursor = 0
        self._t0 = 0.0
        self._t1 = 0.0

    def set_spans(self, spans: list[Span], start: float | None, end: float | None) -> None:
        """Show ``spans`` on the time axis from ``start`` to ``end`` (epoch seconds)."""
        self.spans = spans
        self._depths = depths(spans)
        starts = [s.start for s in spans if s.start is not None]
        t0 = start if start is not None else (min(starts) if starts else 0.0)
        ends = [s.start + (s.duration_ms or 0.0) / 1000 for s in spans if s.start is not None]
        t1 = max([t for t in (end, *ends) if t is not None], default=t0)
        self._t0, self._t1 = t0, max(t1, t0)
        self._end = end
        self.cursor = min(self.cursor, max(0, len(spans) - 1))
        self.virtual_size = Size(self.size.width, len(spans) + 1)
        self.refresh(layout=True)

    def set_notes(self, notes: list[str]) -> None:
        """Write ``notes[i]`` after span ``i``'s bar (where the row has room)."""
        if notes != self.notes:
            self.notes = notes
            self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """One axis row plus a row per span."""
        return len(self.spans) + 1

    def action_cursor_up(self) -> None:
        """Previous span."""
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        """Next span."""
        self._move(self.cursor + 1)

    def action_first(self) -> None:
        """The first span."""
        self._move(0)

    def action_last(self) -> None:
        """The last span."""
        self._move(len(self.spans) - 1)

    def action_select(self) -> None:
        """Open the span under the cursor."""
        if self.spans:
            self.post_message(self.Selected(self.cursor))

    def _move(self, row: int) -> None:
        if not self.spans:
            return
        self.cursor = max(0, min(row, len(self.spans) - 1))
        self.scroll_to_region_row(self.cursor + 1)
        self.refresh()

    def scroll_to_region_row(self, row: int) -> None:
        """Keep ``row`` (a line of the widget) visible."""
        height = self.scrollable_content_region.height
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif height and row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def on_click(self, event: events.Click) -> None:
        """Select (or open) what was clicked."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = offset.y + round(self.scroll_y) - 1
        if 0 <= row < len(self.spans):
            event.stop()
            if row == self.cursor:
                self.action_select()
            else:
                self._move(row)

    def _bar_width(self, width: int) -> int:
        return max(4, width - NAME_WIDTH - DUR_WIDTH - 5)

    def render_line(self, y: int) -> Strip:
        """Render the axis (first line) or one span."""
        width = self.scrollable_content_region.width
        base = self.rich_style
        row = y + round(self.scroll_y)
        if row == 0:
            return self._axis(width, base)
        index = row - 1
        if index >= len(self.spans):
            return Strip.blank(width, base)
        depth = self._depths[index] if index < len(self._depths) else 0
        note = self.notes[index] if index < len(self.notes) else ""
        return self._row(self.spans[index], index == self.cursor, width, base, depth, note)

    def _axis(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("waterfall--axis", partial=True)
        bar = self._bar_width(width)
        total = duration((self._t1 - self._t0) * 1000)
        left = "0"
        inner = max(0, bar - len(left) - len(total))
        axis = left + "─" * inner + total if inner else set_cell_size(total, bar)
        text = (
            set_cell_size("call", NAME_WIDTH) + " " + axis + " " + set_cell_size("took", DUR_WIDTH)
        )
        return Strip([Segment(text, style)]).adjust_cell_length(width, base)

    @staticmethod
    def _span_label(span: Span, depth: int) -> str:
        """The span's name (``✦ model`` for an LLM call), indented one cell per step it runs
        in (at most four)."""
        indent = " " * min(depth, 4)
        room = NAME_WIDTH - len(indent)
        if span.kind != "llm":
            return indent + one_line(span.tool, room)
        return indent + "✦ " + model_name(span.tool, room - 2)

    def _row(
        self,
        span: Span,
        is_cursor: bool,
        width: int,
        base: Style,
        depth: int = 0,
        note: str = "",
    ) -> Strip:
        get = self.get_component_rich_style
        row_style = base
        if is_cursor:
            row_style = base + get("waterfall--cursor")
            if self.app.no_color:
                row_style += Style(reverse=True)
        status_style = row_style + get(f"waterfall--{span.status}", partial=True)
        if span.status == "error" and self.app.no_color:
            status_style += Style(bold=True, reverse=not is_cursor)
        dim = row_style + get("waterfall--dim", partial=True)
        bar_width = self._bar_width(width)
        span_range = self._t1 - self._t0
        start = span.start
        if start is None or span_range <= 0:
            offset = 0
        else:
            offset = round((start - self._t0) / span_range * bar_width)
        offset = max(0, min(offset, bar_width - 1))
        if span.status == "running":
            end = self._t1
            length = (
                (end - start) / span_range * bar_width
                if (start is not None and span_range > 0)
                else bar_width - offset
            )
            char = "░"
        else:
            ms = span.duration_ms or 0.0
            length = ms / 1000 / span_range * bar_width if span_range > 0 else 1
            char = "█" if span.status == "ok" else "▇"
        cells = max(1, min(bar_width - offset, math.ceil(length) if length > 0 else 1))
        took = "running" if span.status == "running" else duration(span.duration_ms)
        mark = STATUS_MARK[span.status]
        name_style = row_style
        if span.kind == "llm":
            name_style = row_style + get("waterfall--llm", partial=True)
        rest = bar_width - offset - cells
        before = ""
        if note and len(note) + 1 > rest and len(note) + 1 <= offset:
            before, note = note + " ", ""  # no room after the bar: before it
        note = one_line(note, rest - 1) if note and rest > 4 else ""
        segments = [
            Segment(set_cell_size(self._span_label(span, depth), NAME_WIDTH), name_style),
            Segment(" ", row_style),
            Segment("·" * (offset - len(before)), dim),
            Segment(before, dim),
            Segment(char * cells, status_style),
            Segment(f" {note}" if note else "", dim),
            Segment(" " * (rest - (len(note) + 1 if note else 0)), row_style),
            Segment(" ", row_style),
            Segment(set_cell_size(took.rjust(DUR_WIDTH), DUR_WIDTH), row_style),
            Segment(" " + mark, status_style),
        ]
        return Strip(segments).adjust_cell_length(width, row_style)
