"""The live list of traces: a line-API ScrollView that renders only the visible rows.

Scales to hundreds of thousands of traces: the widget keeps one sort key per trace
(``(has_time, start, first_seen, request_id)``) in ascending order and renders a row only when it is
on screen, from a small cache of strips keyed by what the row shows.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from agenttui.model.traces import Trace, TraceIndex
from agenttui.session import Session
from agenttui.ui.format import STATUS_MARK, clock, duration, one_line, short_id

SortKey = tuple[int, float, int, str]
"""``(has_time, start, first_seen, request_id)``: ascending = oldest first."""

SYNC_FILTER_LIMIT = 20_000
"""Filter in the UI thread up to this many traces; above, a thread worker does it."""


def sort_key(trace: Trace, seen: int) -> SortKey:
    """The position of a trace: by start time, traces without a time by first-seen (oldest).

    Args:
        trace: The trace.
        seen: Its position in the index's insertion order (breaks ties).
    """
    start = trace.start
    if math.isnan(start):
        return (0, 0.0, seen, trace.request_id)
    return (1, start, seen, trace.request_id)


def matches(index: TraceIndex, trace: Trace, needle: str) -> bool:
    """Whether the trace's request id, query or error contains ``needle`` (lower case)."""
    if needle in trace.request_id.lower():
        return True
    if trace.query is not None and needle in trace.query.lower():
        return True
    error = index.error_text(trace)
    return error is not None and needle in error.lower()


Predicate = Callable[[TraceIndex, Trace], bool]
"""A filter over traces (see :mod:`agenttui.model.query`)."""


def _matcher(needle: str | Predicate) -> Predicate:
    if callable(needle):
        return needle
    return lambda index, trace: matches(index, trace, needle)


def filter_keys(
    session: Session, keys: Iterable[SortKey], needle: str | Predicate
) -> list[SortKey]:
    """The keys whose traces match ``needle`` (text or a predicate; keeps the order).

    Safe to call from a thread.
    """
    match = _matcher(needle)
    index = session.index
    out: list[SortKey] = []
    batch: list[SortKey] = []
    it = iter(keys)
    while True:
        batch = list(itertools.islice(it, 5000))
        if not batch:
            return out
        with session.read():
            traces = index.traces
            for key in batch:
                trace = traces.get(key[3])
                if trace is not None and match(index, trace):
                    out.append(key)


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths of the columns for one widget width."""

    width: int
    time: int = 8
    rid: int = 12
    status: int = 9
    dur: int = 7
    calls: int = 5
    errs: int = 4
    query: int = 0
    error: int = 0

    @classmethod
    def for_width(cls, width: int) -> Columns:
        """Lay out the columns in ``width`` cells (an error column from 96 cells on)."""
        rid = 12 if width >= 90 else 10
        fixed = 8 + 1 + rid + 1 + 9 + 1 + 7 + 1 + 5 + 1 + 4 + 1
        rest = max(0, width - fixed)
        if width >= 96:
            query = (rest - 1) * 11 // 20
            error = max(0, rest - 1 - query)
        else:
            query, error = rest, 0
        return cls(width=width, rid=rid, query=query, error=error)

    def heading(self) -> str:
        """The column titles, aligned like the rows."""
        parts = [
            _left("time UTC", self.time),
            _left("request", self.rid),
            _left("status", self.status),
            _right("dur", self.dur),
            _right("calls", self.calls),
            _right("errs", self.errs),
            _left("query", self.query),
        ]
        if self.error:
            parts.append(_left("error", self.error))
        return set_cell_size(" ".join(parts), self.width)


def _left(text: str, width: int) -> str:
    return set_cell_size(text, width) if width > 0 else ""


def _right(text: str, width: int) -> str:
    if width <= 0:
        return ""
    length = cell_len(text)
    if length >= width:
        return set_cell_size(text, width)
    return " " * (width - length) + text


class TraceList(ScrollView, can_focus=True):
    """Traces, newest first, with a cursor that stays on its trace while new ones arrive."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "Newest", show=False),
        Binding("end", "last", "Oldest", show=False),
        Binding("enter", "open", "Open trace"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "trace-list--cursor",
        "trace-list--ok",
        "trace-list--error",
        "trace-list--running",
        "trace-list--dim",
    }

    DEFAULT_CSS = """
    TraceList {
        background: $surface;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    TraceList > .trace-list--cursor { background: $accent 40%; text-style: bold; }
    TraceList:focus > .trace-list--cursor { background: $accent 70%; }
    TraceList > .trace-list--ok { color: $success; }
    TraceList > .trace-list--error { color: $error; text-style: bold; }
    TraceList > .trace-list--running { color: $warning; }
    TraceList > .trace-list--dim { color: $text-muted; }
    """

    class Opened(Message):
        """The user opened a trace (enter, double click, click on the selected row)."""

        def __init__(self, request_id: str) -> None:
            """Remember the request id."""
            super().__init__()
            self.request_id = request_id

    class Moved(Message):
        """The cursor or the rows changed (for the status line)."""

    def __init__(self, session: Session, *, id: str | None = None) -> None:
        """Show the traces of ``session``."""
        super().__init__(id=id)
        self.session = session
        self._rows: list[SortKey] = []
        """All placed traces, ascending."""
        self._view: list[SortKey] = self._rows
        """The rows shown (``_rows`` or the filtered subset), ascending."""
        self._placed = 0
        """Number of traces (in index insertion order) placed in ``_rows``."""
        self._needle = ""
        self._predicate: Predicate | None = None
        """The filter when it is a query (else the needle is plain text)."""
        self.bookmarks: set[str] = set()
        """Request ids bookmarked with ``m`` (shown with ``*`` before the request id)."""
        self._cursor = 0
        """Display index of the cursor (0 = newest)."""
        self._cursor_key: SortKey | None = None
        self.following = True
        """Until the user moves the cursor, it stays on the newest trace."""
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._columns = Columns.for_width(80)
        self.heading: Widget | None = None
        """A widget showing the column titles, refreshed on resize."""
        self.empty_text = "Waiting for traces…"
        self.marked: frozenset[str] = frozenset()
        """Request ids that have a failure capture (marked ◆ after the status)."""

    # ---------------------------------------------------------------- model

    @property
    def row_count(self) -> int:
        """Number of rows shown."""
        return len(self._view)

    @property
    def total_count(self) -> int:
        """Number of traces placed (unfiltered)."""
        return len(self._rows)

    @property
    def cursor(self) -> int:
        """Display index of the cursor (0 = newest)."""
        return self._cursor

    @property
    def needle(self) -> str:
        """The active filter text (lower case), empty when not filtering."""
        return self._needle

    def key_at(self, row: int) -> SortKey | None:
        """Sort key of the trace shown at display row ``row``."""
        if 0 <= row < len(self._view):
            return self._view[len(self._view) - 1 - row]
        return None

    def request_id_at(self, row: int) -> str | None:
        """Request id of the trace shown at display row ``row``."""
        key = self.key_at(row)
        return None if key is None else key[3]

    @property
    def selected(self) -> str | None:
        """Request id under the cursor."""
        return self.request_id_at(self._cursor)

    def visible_request_ids(self) -> list[str]:
        """Request ids in display order (newest first). For tests and small lists."""
        return [key[3] for key in reversed(self._view)]

    def all_keys(self) -> list[SortKey]:
        """A copy of every placed key, ascending (to filter in a worker)."""
        return list(self._rows)

    def sync(self, *, resort: bool = False) -> bool:
        """Place traces that appeared since the last call; re-sort everything on ``resort``.

        Returns:
            Whether rows were added.
        """
        session = self.session
        with session.read():
            traces = session.index.traces
            if resort:
                self._rows[:] = sorted(sort_key(t, i) for i, t in enumerate(traces.values()))
                self._placed = len(traces)
                new: list[SortKey] = []
                fresh = True
            else:
                fresh = False
                if len(traces) <= self._placed:
                    return False
                new = sorted(
                    sort_key(t, i)
                    for i, t in enumerate(
                        itertools.islice(traces.values(), self._placed, None), self._placed
                    )
                )
                self._placed = len(traces)
            if self._needle and new:
                index = session.index
                match = self._match
                matching = [k for k in new if match(index, traces[k[3]])]
            else:
                matching = new
        old_cursor = self._cursor
        if new:
            _merge(self._rows, new)
        if resort and self._needle:
            self._view = filter_keys(session, self._rows, self._match)
        elif self._needle and matching:
            _merge(self._view, matching)
        self._after_rows_changed(old_cursor, keep_view=not fresh)
        return True

    @property
    def _match(self) -> Predicate:
        return self._predicate or _matcher(self._needle)

    def set_filter(
        self, needle: str, keys: list[SortKey] | None = None, predicate: Predicate | None = None
    ) -> None:
        """Show only traces matching ``needle`` (case-insensitive); empty shows all.

        Args:
            needle: The text to look for.
            keys: The matching keys when a worker computed them already (from a copy of
                ``all_keys()``); traces placed since are checked here.
            predicate: The parsed query (:mod:`agenttui.model.query`) that ``needle`` is the text
                of; without it ``needle`` is searched as plain text.
        """
        needle = needle.lower()
        self._needle = needle
        self._predicate = predicate if needle else None
        match = self._match
        old_cursor = self._cursor
        if not needle:
            self._view = self._rows
        elif keys is None:
            self._view = filter_keys(self.session, self._rows, match)
        else:
            known = set(keys)
            extra = [k for k in self._rows if k not in known] if len(keys) else self._rows
            if extra and len(extra) < len(self._rows):
                keys = list(keys)
                _merge(keys, filter_keys(self.session, extra, match))
            elif extra:
                keys = filter_keys(self.session, extra, match)
            self._view = keys
        self._after_rows_changed(old_cursor, keep_view=False)

    def _after_rows_changed(self, old_cursor: int, *, keep_view: bool) -> None:
        count = len(self._view)
        key = self._cursor_key
        if self.following and not self._needle:
            key = None
        if key is not None:
            pos = bisect_left(self._view, key)
            if pos < count and self._view[pos] == key:
                self._cursor = count - 1 - pos
            else:
                self._cursor = min(self._cursor, max(0, count - 1))
                self._cursor_key = self.key_at(self._cursor)
        else:
            self._cursor = 0
            self._cursor_key = self.key_at(0)
        width = self.scrollable_content_region.width or self.size.width
        self.virtual_size = Size(width, count)
        if keep_view and self.scroll_y > 0 and self._cursor != old_cursor:
            # Rows arrived above: keep what the user looks at where it was.
            self.scroll_to(
                y=self.scroll_y + (self._cursor - old_cursor), animate=False, immediate=True
            )
        elif not keep_view:
            self._scroll_cursor_visible()
        self.refresh()
        self.post_message(self.Moved())

    # ---------------------------------------------------------------- cursor

    def move_to(self, row: int) -> None:
        """Put the cursor on display row ``row`` (clamped) and scroll it into view.

        From then on the cursor stays on its trace when newer ones arrive.
        """
        self.following = False
        count = len(self._view)
        row = max(0, min(row, count - 1)) if count else 0
        if row != self._cursor or self._cursor_key != self.key_at(row):
            self._cursor = row
            self._cursor_key = self.key_at(row)
            self.refresh()
            self.post_message(self.Moved())
        self._scroll_cursor_visible()

    def select_request(self, request_id: str) -> bool:
        """Move the cursor to a request id; False when it is not shown."""
        for row, key in enumerate(reversed(self._view)):
            if key[3] == request_id:
                self.move_to(row)
                return True
        return False

    def _scroll_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False, immediate=True)

    def next_failure(self) -> bool:
        """Move to the next failed trace below the cursor (older), wrapping around."""
        count = len(self._view)
        if not count:
            return False
        session = self.session
        traces = session.index.traces
        order = itertools.chain(range(self._cursor + 1, count), range(0, self._cursor + 1))
        with session.read():
            for row in order:
                key = self._view[count - 1 - row]
                trace = traces.get(key[3])
                if trace is not None and trace.status == "error":
                    break
            else:
                return False
        self.move_to(row)
        return True

    def next_match(self, step: int) -> bool:
        """``n`` / ``N``: the next (older, ``step=1``) or previous (newer, ``-1``) match.

        With a filter every shown row is a match: move one row (wrapping). Without one, the
        next or previous failed trace.
        """
        count = len(self._view)
        if not count:
            return False
        if self._needle:
            self.move_to((self._cursor + step) % count)
            return True
        session = self.session
        traces = session.index.traces
        rows = [(self._cursor + step * i) % count for i in range(1, count + 1)]
        with session.read():
            for row in rows:
                trace = traces.get(self._view[count - 1 - row][3])
                if trace is not None and trace.status == "error":
                    break
            else:
                return False
        self.move_to(row)
        return True

    def toggle_bookmark(self) -> bool | None:
        """``m``: bookmark the selected trace, or remove its bookmark.

        Returns:
            Whether it is bookmarked now (None without a selection).
        """
        rid = self.selected
        if rid is None:
            return None
        if rid in self.bookmarks:
            self.bookmarks.discard(rid)
        else:
            self.bookmarks.add(rid)
        self.refresh()
        self.post_message(self.Moved())
        return rid in self.bookmarks

    def action_cursor_up(self) -> None:
        """Move up (newer)."""
        self.move_to(self._cursor - 1)

    def action_cursor_down(self) -> None:
        """Move down (older)."""
        self.move_to(self._cursor + 1)

    def action_page_up(self) -> None:
        """Move a page up."""
        self.move_to(self._cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        """Move a page down."""
        self.move_to(self._cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        """Move to the newest trace."""
        self.move_to(0)

    def action_last(self) -> None:
        """Move to the oldest trace."""
        self.move_to(len(self._view) - 1)

    def action_open(self) -> None:
        """Open the trace under the cursor."""
        rid = self.selected
        if rid is not None:
            self.post_message(self.Opened(rid))

    def on_click(self, event: events.Click) -> None:
        """Select (or open) what was clicked."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = offset.y + round(self.scroll_y)
        if row >= len(self._view):
            return
        event.stop()
        if row == self._cursor and (event.chain >= 2 or self.has_focus):
            self.action_open()
        else:
            self.move_to(row)
        self.focus()

    # ---------------------------------------------------------------- rendering

    def notify_style_update(self) -> None:
        """Styles changed (theme, focus): forget rendered rows."""
        super().notify_style_update()
        self._cache.clear()

    def _on_resize(self, event: events.Resize) -> None:
        self._columns = Columns.for_width(self.scrollable_content_region.width)
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._view))
        self._cache.clear()
        if self.heading is not None:
            self.heading.refresh()

    @property
    def columns(self) -> Columns:
        """The current column layout."""
        return self._columns

    def render_line(self, y: int) -> Strip:
        """Render one visible row."""
        row = y + round(self.scroll_y)
        width = self.scrollable_content_region.width
        base = self.rich_style
        key = self.key_at(row)
        if key is None:
            if row == 0 and not self._view:
                text = self.empty_text if not self._needle else "No trace matches the filter."
                dim = self.get_component_rich_style("trace-list--dim")
                return Strip([Segment(set_cell_size("  " + text, width), base + dim)], width)
            return Strip.blank(width, base)
        session = self.session
        with session.read():
            trace = session.index.traces.get(key[3])
            if trace is None:
                return Strip.blank(width, base)
            is_cursor = row == self._cursor
            cache_key = (
                key[3],
                trace.events,
                trace.status,
                width,
                is_cursor,
                self.has_focus,
                key[3] in self.marked,
                key[3] in self.bookmarks,
            )
            strip = self._cache.get(cache_key)
            if strip is None:
                strip = self._render_row(trace, is_cursor, base)
                self._cache[cache_key] = strip
        return strip

    def _render_row(self, trace: Trace, is_cursor: bool, base: Style) -> Strip:
        cols = self._columns
        index = self.session.index
        style = self.get_component_rich_style
        row_style = base
        if is_cursor:
            row_style = base + style("trace-list--cursor")
            if self.app.no_color:
                row_style += Style(reverse=True)
        dim = row_style + style("trace-list--dim", partial=True)
        status = trace.status
        status_style = row_style + style(f"trace-list--{status}", partial=True)
        if status == "error" and self.app.no_color:
            status_style += Style(bold=True, reverse=not is_cursor)
        if trace.total_ms is not None:
            dur = duration(trace.total_ms)
        elif trace.start_or_none is not None and not math.isnan(trace.last):
            dur = "+" + duration((trace.last - trace.start) * 1000)
        else:
            dur = "-"
        sp = Segment(" ", row_style)
        label = {"ok": "ok", "error": "error", "running": "running"}[status]
        bookmark = (
            Segment("*", row_style + Style(bold=True, color="yellow", reverse=True))
            if trace.request_id in self.bookmarks
            else sp
        )
        segments = [
            Segment(_left(clock(trace.start_or_none), cols.time), dim),
            bookmark,
            Segment(_left(short_id(trace.request_id, cols.rid), cols.rid), row_style),
            sp,
            Segment(
                _left(
                    f"{STATUS_MARK[status]} {label}"
                    + (" ◆" if trace.request_id in self.marked else ""),
                    cols.status,
                ),
                status_style,
            ),
            sp,
            Segment(_right(dur, cols.dur), row_style),
            sp,
            Segment(_right(str(trace.tool_calls), cols.calls), row_style),
            sp,
            Segment(
                _right(str(trace.tool_errors) if trace.tool_errors else "·", cols.errs),
                status_style if trace.tool_errors else dim,
            ),
            sp,
            Segment(_left(one_line(trace.query or "", cols.query), cols.query), row_style),
        ]
        if cols.error:
            error = index.error_text(trace) if status == "error" else None
            segments += [
                sp,
                Segment(
                    _left(one_line(error or "", cols.error), cols.error),
                    status_style if error else row_style,
                ),
            ]
        return Strip(segments).adjust_cell_length(cols.width, row_style)


def _merge(target: list[SortKey], new: list[SortKey]) -> None:
    """Merge sorted ``new`` keys into sorted ``target`` in place."""
    if not new:
        return
    if not target or new[0] >= target[-1]:
        target.extend(new)
    elif len(new) <= 64:
        for key in new:
            insort(target, key)
    else:
        target[:] = list(heapq.merge(target, new))


class TraceListHeading(Widget):
    """The column titles above a :class:`TraceList`."""

    DEFAULT_CSS = """
    TraceListHeading { height: 1; background: $panel; color: $text-muted; text-style: bold; }
    """

    def __init__(self, trace_list: TraceList, *, id: str | None = None) -> None:
        """Follow the column layout of ``trace_list``."""
        super().__init__(id=id)
        self._list = trace_list
        trace_list.heading = self

    def render_line(self, y: int) -> Strip:
        """Render the titles."""
        cols = self._list.columns
        return Strip([Segment(cols.heading(), self.rich_style)]).adjust_cell_length(
            self.size.width, self.rich_style
        )
