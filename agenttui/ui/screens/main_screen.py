"""The main screen: header with totals, the live trace list, search, status line."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from agenttui.session import Session
from agenttui.ui.format import count, safe
from agenttui.ui.widgets.header import StatsHeader
from agenttui.ui.widgets.trace_list import (
    SYNC_FILTER_LIMIT,
    SortKey,
    TraceList,
    TraceListHeading,
    filter_keys,
)


class MainScreen(Screen[None]):
    """Header, column titles, trace list, search input and status line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Binding("e", "next_failure", "Next error"),
        Binding("t", "tools", "Tools"),
        Binding("u", "unattributed", "Raw lines"),
        Binding("escape", "clear_search", "Clear", show=False),
    ]

    DEFAULT_CSS = """
    MainScreen #search { height: 1; border: none; padding: 0 1;
                         background: $boost; display: none; }
    MainScreen #search.-visible { display: block; }
    MainScreen #status { height: 1; padding: 0 1; background: $panel;
                         color: $text-muted; }
    MainScreen TraceList { height: 1fr; }
    """

    class Filtered(Message):
        """A thread worker finished filtering."""

        def __init__(self, needle: str, keys: list[SortKey]) -> None:
            """Remember the needle and the matching keys."""
            super().__init__()
            self.needle = needle
            self.keys = keys

    def __init__(self, session: Session, title: str, sources: str) -> None:
        """Build the screen for ``session``."""
        super().__init__()
        self.session = session
        self._title = title
        self._sources = sources
        self._pending_needle: str | None = None
        self.ready = False
        """Whether the widgets are mounted (the app's timer waits for it)."""

    @property
    def trace_list(self) -> TraceList:
        """The trace list widget."""
        return self.query_one(TraceList)

    @property
    def header(self) -> StatsHeader:
        """The header widget."""
        return self.query_one(StatsHeader)

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield StatsHeader(self._title, self._sources, id="header")
        trace_list = TraceList(self.session, id="traces")
        yield TraceListHeading(trace_list, id="heading")
        yield trace_list
        yield Input(placeholder="search request id, query or error (enter: keep, esc: clear)",
                    id="search")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the list."""
        self.trace_list.focus()
        self.update_status()
        self.ready = True

    def on_unmount(self) -> None:
        """The widgets are going away: the app's timer must leave them alone."""
        self.ready = False

    # ---------------------------------------------------------------- status line

    @on(TraceList.Moved)
    def update_status(self) -> None:
        """Position, filter and follow state in the status line."""
        tl = self.trace_list
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if tl.row_count:
            text.append(f"row {count(tl.cursor + 1)}/{count(tl.row_count)}")
        else:
            text.append("no rows")
        if tl.needle:
            text.append("  filter ")
            text.append(f"“{safe(tl.needle)}”", style="bold")
            text.append(f": {count(tl.row_count)} of {count(tl.total_count)}")
        elif self._pending_needle:
            text.append("  filtering…")
        text.append("  newest first")
        if tl.following and not tl.needle:
            text.append(" · following new traces (move to stop)", style="dim")
        self.query_one("#status", Static).update(text)

    # ---------------------------------------------------------------- search

    def action_search(self) -> None:
        """Show and focus the search input."""
        search = self.query_one("#search", Input)
        search.add_class("-visible")
        search.focus()

    def action_clear_search(self) -> None:
        """Clear the filter and hide the search input."""
        search = self.query_one("#search", Input)
        search.remove_class("-visible")
        if search.value:
            search.value = ""
        self._apply_filter("")
        self.trace_list.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, message: Input.Changed) -> None:
        self._apply_filter(message.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, message: Input.Submitted) -> None:
        if not message.value:
            message.input.remove_class("-visible")
        self.trace_list.focus()

    def _apply_filter(self, needle: str) -> None:
        tl = self.trace_list
        needle = needle.strip().lower()
        if not needle or tl.total_count <= SYNC_FILTER_LIMIT:
            self._pending_needle = None
            if needle != tl.needle:
                tl.set_filter(needle)
            return
        self._pending_needle = needle
        self.update_status()
        self._filter_worker(needle, tl.all_keys())

    @work(thread=True, exclusive=True, exit_on_error=False, group="filter")
    def _filter_worker(self, needle: str, keys: list[SortKey]) -> None:
        """Filter a large list in a thread."""
        self.post_message(self.Filtered(needle, filter_keys(self.session, keys, needle)))

    @on(Filtered)
    def _filtered(self, message: Filtered) -> None:
        if message.needle != self._pending_needle:
            return  # superseded
        self._pending_needle = None
        self.trace_list.set_filter(message.needle, message.keys)

    # ---------------------------------------------------------------- actions

    def action_next_failure(self) -> None:
        """Jump to the next failed trace (wraps around)."""
        if not self.trace_list.next_failure():
            self.notify("No failed trace in the list.", markup=False)

    def action_tools(self) -> None:
        """Open the tool statistics."""
        from agenttui.ui.screens.tools_screen import ToolsScreen

        self.app.push_screen(ToolsScreen(self.session))

    def action_unattributed(self) -> None:
        """Open the unattributed / raw lines view."""
        from agenttui.ui.screens.unattributed_screen import UnattributedScreen

        self.app.push_screen(UnattributedScreen(self.session))

    @on(StatsHeader.UnparsedClicked)
    def _unparsed_clicked(self) -> None:
        self.action_unattributed()

    @on(TraceList.Opened)
    def _open_trace(self, message: TraceList.Opened) -> None:
        from agenttui.ui.screens.trace_screen import TraceScreen

        self.app.push_screen(TraceScreen(self.session, message.request_id))
