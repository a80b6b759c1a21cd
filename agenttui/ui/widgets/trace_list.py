"""The live list of traces: a line-API ScrollView that renders only the visible rows.

Scales to hundreds of thousands of traces: the rows, their order, the filter and the cursor live
in :class:`agenttui.model.listing.Listing` (headless, shared with the ``traces`` command); this
widget renders a row only when it is on screen, from a small cache of strips keyed by what the row
shows.
"""

from __future__ import annotations

import math
from typing import ClassVar

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

from agenttui.model.listing import Listing, Predicate, SortKey, is_failure
from agenttui.model.traces import Trace
from agenttui.session import Session
from agenttui.ui.format import STATUS_MARK, clock, duration, one_line, short_id
from agenttui.ui.widgets.trace_columns import Columns, left, right

SYNC_FILTER_LIMIT = 20_000
"""Filter in the UI thread up to this many traces; above, a thread worker does it."""


class TraceList(ScrollView, can_focus=True):
    """Traces, newest first, with a cursor that stays on its trace while new ones arrive."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("g,home", "first", "Newest", show=False),
        Binding("G,end", "last", "Oldest", show=False),
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
        self.listing = Listing(session.read)
        """Rows, filter and cursor (headless)."""
        self.bookmarks: set[str] = set()
        """Request ids bookmarked with ``m`` (shown with ``*`` before the request id)."""
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
        return self.listing.row_count

    @property
    def total_count(self) -> int:
        """Number of traces placed (unfiltered)."""
        return self.listing.total_count

    @property
    def cursor(self) -> int:
        """Display index of the cursor (0 = newest)."""
        return self.listing.cursor

    @property
    def following(self) -> bool:
        """Whether the cursor stays on the newest trace as new ones arrive."""
        return self.listing.following

    @property
    def needle(self) -> str:
        """The active filter text (lower case), empty when not filtering."""
        return self.listing.needle

    def key_at(self, row: int) -> SortKey | None:
        """Sort key of the trace shown at display row ``row``."""
        return self.listing.key_at(row)

    def request_id_at(self, row: int) -> str | None:
        """Request id of the trace shown at display row ``row``."""
        return self.listing.request_id_at(row)

    @property
    def selected(self) -> str | None:
        """Request id under the cursor."""
        return self.listing.selected

    def visible_request_ids(self) -> list[str]:
        """Request ids in display order (newest first). For tests and small lists."""
        return self.listing.visible_request_ids()

    def all_keys(self) -> list[SortKey]:
        """A copy of every placed key, ascending (to filter in a worker)."""
        return list(self.listing.rows)

    def sync(self, *, resort: bool = False) -> bool:
        """Place traces that appeared since the last call; re-sort everything on ``resort``.

        Returns:
            Whether rows were added.
        """
        old_cursor = self.listing.cursor
        if not self.listing.sync(resort=resort):
            return False
        self._after_rows_changed(old_cursor, keep_view=not resort)
        return True

    def set_filter(
        self, needle: str, keys: list[SortKey] | None = None, predicate: Predicate | None = None
    ) -> None:
        """Show only traces matching ``needle``; see :meth:`Listing.set_filter`."""
        old_cursor = self.listing.cursor
        self.listing.set_filter(needle, keys, predicate)
        self._after_rows_changed(old_cursor, keep_view=False)

    def _after_rows_changed(self, old_cursor: int, *, keep_view: bool) -> None:
        cursor = self.listing.cursor
        width = self.scrollable_content_region.width or self.size.width
        self.virtual_size = Size(width, self.listing.row_count)
        if keep_view and self.scroll_y > 0 and cursor != old_cursor:
            # Rows arrived above: keep what the user looks at where it was.
            self.scroll_to(y=self.scroll_y + (cursor - old_cursor), animate=False, immediate=True)
        elif not keep_view or cursor == 0:
            self._scroll_cursor_visible()
        self.refresh()
        self.post_message(self.Moved())

    # ---------------------------------------------------------------- cursor

    def move_to(self, row: int) -> None:
        """Put the cursor on display row ``row`` (clamped) and scroll it into view.

        Away from the newest row the cursor stays on its trace when newer ones arrive; on the
        newest row the list follows new traces again.
        """
        was_following = self.listing.following
        if self.listing.move_to(row) or was_following != self.listing.following:
            self.refresh()
            self.post_message(self.Moved())
        self._scroll_cursor_visible()

    def select_request(self, request_id: str) -> bool:
        """Move the cursor to a request id; False when it is not shown."""
        row = self.listing.row_of(request_id)
        if row is None:
            return False
        self.move_to(row)
        return True

    def _scroll_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        cursor = self.listing.cursor
        top = round(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False, immediate=True)

    def next_failure(self) -> bool:
        """Move to the next failed trace below the cursor (older), wrapping around."""
        row = self.listing.next_row(1, is_failure)
        if row is None:
            return False
        self.move_to(row)
        return True

    def next_match(self, step: int) -> bool:
        """``n`` / ``N``: the next (older, ``step=1``) or previous (newer, ``-1``) match.

        With a filter every shown row is a match: move one row (wrapping). Without one, the
        next or previous failed trace.
        """
        row = self.listing.next_match(step)
        if row is None:
            return False
        self.move_to(row)
        return True

    def next_bookmark(self, step: int = 1) -> bool:
        """Move to the next (older) or previous bookmarked trace shown, wrapping around."""
        marks = self.bookmarks
        if not marks:
            return False
        row = self.listing.next_row(step, lambda _index, trace: trace.request_id in marks)
        if row is None:
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
        self.move_to(self.cursor - 1)

    def action_cursor_down(self) -> None:
        """Move down (older)."""
        self.move_to(self.cursor + 1)

    def action_page_up(self) -> None:
        """Move a page up."""
        self.move_to(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        """Move a page down."""
        self.move_to(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        """Move to the newest trace (and follow new ones)."""
        self.move_to(0)

    def action_last(self) -> None:
        """Move to the oldest trace."""
        self.move_to(self.row_count - 1)

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
        if row >= self.row_count:
            return
        event.stop()
        if row == self.cursor and (event.chain >= 2 or self.has_focus):
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
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count)
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
            if row == 0 and not self.row_count:
                text = self.empty_text if not self.needle else "No trace matches the filter."
                dim = self.get_component_rich_style("trace-list--dim")
                return Strip([Segment(left("  " + text, width), base + dim)], width)
            return Strip.blank(width, base)
        session = self.session
        with session.read():
            trace = session.index.traces.get(key[3])
            if trace is None:
                return Strip.blank(width, base)
            is_cursor = row == self.cursor
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
            Segment(left(clock(trace.start_or_none), cols.time), dim),
            bookmark,
            Segment(left(short_id(trace.request_id, cols.rid), cols.rid), row_style),
            sp,
            Segment(
                left(
                    f"{STATUS_MARK[status]} {label}"
                    + (" ◆" if trace.request_id in self.marked else ""),
                    cols.status,
                ),
                status_style,
            ),
            sp,
            Segment(right(dur, cols.dur), row_style),
            sp,
            Segment(right(str(trace.tool_calls), cols.calls), row_style),
            sp,
            Segment(
                right(str(trace.tool_errors) if trace.tool_errors else "·", cols.errs),
                status_style if trace.tool_errors else dim,
            ),
            sp,
            Segment(left(one_line(trace.query or "", cols.query), cols.query), row_style),
        ]
        if cols.error:
            error = index.error_text(trace) if status == "error" else None
            segments += [
                sp,
                Segment(
                    left(one_line(error or "", cols.error), cols.error),
                    status_style if error else row_style,
                ),
            ]
        return Strip(segments).adjust_cell_length(cols.width, row_style)


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
