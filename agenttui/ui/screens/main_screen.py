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
from textual.widgets.input import Selection

from agenttui.model.listing import Predicate, SortKey, filter_keys
from agenttui.model.query import QueryError, compile_filter
from agenttui.session import Session
from agenttui.ui.format import count, safe
from agenttui.ui.widgets.header import StatsHeader
from agenttui.ui.widgets.trace_list import SYNC_FILTER_LIMIT, TraceList, TraceListHeading


class MainScreen(Screen[None]):
    """Header, column titles, trace list, search input and status line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("exclamation_mark", "app.newest_failure", "Newest failure"),
        Binding("E", "app.groups", "Errors"),
        Binding("slash", "search", "Filter"),
        Binding("colon", "search", "Filter", show=False),
        Binding("n", "next_match(1)", "Next match", show=False),
        Binding("N", "next_match(-1)", "Previous match", show=False),
        Binding("m", "bookmark", "Bookmark", show=False),
        Binding("b", "next_bookmark(1)", "Next bookmark", show=False),
        Binding("B", "bookmarks", "List bookmarks", show=False),
        Binding("e", "next_failure", "Next error", show=False),
        Binding("t", "tools", "Tools", show=False),
        Binding("u", "unattributed", "Raw lines", show=False),
        Binding("escape", "clear_search", "Clear", show=False),
    ]

    DEFAULT_CSS = """
    MainScreen #search { height: 1; border: none; padding: 0 1;
                         background: $boost; display: none; }
    MainScreen #search.-visible { display: block; }
    MainScreen #query-error { height: auto; padding: 0 1; color: $error; display: none; }
    MainScreen #query-error.-visible { display: block; }
    MainScreen #status { height: 1; padding: 0 1; background: $panel;
                         color: $text-muted; }
    MainScreen TraceList { height: 1fr; }
    """

    class Filtered(Message):
        """A thread worker finished filtering."""

        def __init__(
            self, needle: str, keys: list[SortKey], predicate: Predicate | None = None
        ) -> None:
            """Remember the needle, its parsed query and the matching keys."""
            super().__init__()
            self.needle = needle
            self.keys = keys
            self.predicate = predicate

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
        yield Input(
            select_on_focus=False,
            placeholder='filter: words, "a phrase", status:error tool:NAME dur>5s '
            "since:15m class:timeout (enter: keep, esc: clear)",
            id="search",
        )
        yield Static(id="query-error")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the list; its empty state says what is watched."""
        self.trace_list.empty_text = (
            f"Watching {self._sources}: no request traces yet. u: raw lines · ?: help"
        )
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
        """Show and focus the filter input, holding the current filter, cursor at its end."""
        search = self.query_one("#search", Input)
        search.add_class("-visible")
        search.focus()
        search.selection = Selection.cursor(len(search.value))

    def search_for(self, query: str) -> None:
        """Show the search input holding ``query``, filter by it, focus the list."""
        self.action_search()
        self.query_one("#search", Input).value = query
        self.trace_list.focus()

    def selected_request_id(self) -> str | None:
        """The request id under the list's cursor."""
        return self.trace_list.selected

    def action_clear_search(self) -> None:
        """Clear the filter and hide the search input."""
        search = self.query_one("#search", Input)
        search.remove_class("-visible")
        self.query_one("#query-error", Static).remove_class("-visible")
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
        error = self.query_one("#query-error", Static)
        try:
            predicate = compile_filter(needle)
        except QueryError as exc:
            # A bad query: say what is wrong under the input; the previous filter stays.
            error.update(Text(f"✗ {exc} (the previous filter stays)", end=""))
            error.add_class("-visible")
            return
        error.remove_class("-visible")
        if predicate is None:
            needle = ""
        if not needle or tl.total_count <= SYNC_FILTER_LIMIT:
            self._pending_needle = None
            if needle != tl.needle:
                tl.set_filter(needle, predicate=predicate)
            return
        self._pending_needle = needle
        self.update_status()
        self._filter_worker(needle, tl.all_keys(), predicate)

    @work(thread=True, exclusive=True, exit_on_error=False, group="filter")
    def _filter_worker(
        self, needle: str, keys: list[SortKey], predicate: Predicate | None = None
    ) -> None:
        """Filter a large list in a thread."""
        self.post_message(
            self.Filtered(
                needle, filter_keys(self.session.read, keys, predicate or needle), predicate
            )
        )

    @on(Filtered)
    def _filtered(self, message: Filtered) -> None:
        if message.needle != self._pending_needle:
            return  # superseded
        self._pending_needle = None
        self.trace_list.set_filter(message.needle, message.keys, message.predicate)

    # ---------------------------------------------------------------- actions

    def action_next_match(self, step: int) -> None:
        """``n`` / ``N``: next / previous match of the filter (without one: failed trace)."""
        if not self.trace_list.next_match(step):
            self.notify("Nothing to go to.", markup=False)

    def action_bookmark(self) -> None:
        """``m``: bookmark the selected trace (or remove its bookmark)."""
        state = self.trace_list.toggle_bookmark()
        if state is not None:
            self.notify(
                "Bookmarked (*)." if state else "Bookmark removed.", markup=False, timeout=2
            )

    def action_next_bookmark(self, step: int) -> None:
        """``b``: the next bookmarked trace (wraps)."""
        if not self.trace_list.next_bookmark(step):
            self.notify("No bookmark in the list (m bookmarks a trace).", markup=False)

    def action_bookmarks(self) -> None:
        """``B``: list the bookmarked traces only (esc shows all again)."""
        tl = self.trace_list
        if not tl.bookmarks:
            self.notify("No bookmark yet (m bookmarks a trace).", markup=False)
            return
        marks = frozenset(tl.bookmarks)
        search = self.query_one("#search", Input)
        search.add_class("-visible")
        self._pending_needle = None
        with search.prevent(Input.Changed):
            search.value = ""
        tl.set_filter("bookmarks", predicate=lambda _index, trace: trace.request_id in marks)
        tl.focus()

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
