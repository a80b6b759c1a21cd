"""Failure captures: the list (``C``); ``enter`` opens one and ``r`` replays it
(:mod:`agenttui.ui.screens.replay_screen`).

Every capture string is untrusted: it is cleaned and put into ``Text`` objects, never markup.
The last verdict of each capture is read from the content of its replay records (never from a
file name) in a thread worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import ColumnKey

from agenttui.replay import history
from agenttui.replay.captures import Capture
from agenttui.ui.format import clock, one_line, short_id
from agenttui.ui.screens.replay_screen import ReplayScreen
from agenttui.ui.widgets.replay_texts import SHOWN, VERDICT_STYLE

if TYPE_CHECKING:
    from agenttui.ui.capture_watch import CaptureWatcher


class CapturesScreen(Screen[None]):
    """Every failure capture: time, request, last verdict, error, query, problem."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "replay", "Replay"),
        Binding("enter", "open", "Open", show=False),
    ]

    DEFAULT_CSS = """
    CapturesScreen #captures-title { height: 1; padding: 0 1; background: $panel; }
    CapturesScreen DataTable { height: 1fr; }
    """

    class Verdicts(Message):
        """Last verdicts, read from the history (thread worker)."""

        def __init__(self, verdicts: dict[str, str]) -> None:
            """Remember them."""
            super().__init__()
            self.verdicts = verdicts

    def __init__(self, watcher: CaptureWatcher) -> None:
        """List the captures of ``watcher``."""
        super().__init__()
        self.watcher = watcher
        self._generation = -1
        self._verdicts: dict[str, str] = {}
        self.captures: list[Capture] = []
        self._widths = _widths(80)
        """Cells of the error and query columns: the rest of the screen's width."""

    def compose(self) -> ComposeResult:
        """Title, table, footer."""
        yield Static(id="captures-title")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table; keep it up to date."""
        table = self.query_one(DataTable)
        self._widths = _widths(self.size.width)
        error, query = self._widths
        table.add_column("time UTC", key="time", width=8)
        table.add_column("request", key="rid", width=12)
        table.add_column("last replay", key="verdict", width=12)
        table.add_column("error (or the capture's problem)", key="error", width=error)
        table.add_column("query", key="query", width=query)
        self._reload()
        self.set_interval(1.0, self._reload)
        self._read_verdicts()
        table.focus()

    def on_resize(self, event: events.Resize) -> None:
        """Give the error and query columns the new width, cut again with an ellipsis."""
        widths = _widths(event.size.width)
        if widths == self._widths:
            return
        self._widths = widths
        table = self.query_one(DataTable)
        for key, width in zip(("error", "query"), widths, strict=True):
            table.columns[ColumnKey(key)].width = width
        self._generation = -1
        self._reload()

    def on_screen_resume(self) -> None:
        """Back from a replay: its verdict is in the history now."""
        self._read_verdicts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="capture-verdicts")
    def _read_verdicts(self) -> None:
        caps = self.watcher.store.all()
        self.post_message(
            self.Verdicts(history.last_verdicts(self.watcher.options.history_dir(), caps))
        )

    @on(Verdicts)
    def _got_verdicts(self, message: Verdicts) -> None:
        self._verdicts = message.verdicts
        self._generation = -1
        self._reload()

    def _reload(self) -> None:
        store = self.watcher.store
        if store.generation == self._generation:
            return
        self._generation = store.generation
        caps = store.all()
        self.captures = caps
        table = self.query_one(DataTable)
        selected = self.selected
        table.clear()
        error_w, query_w = self._widths
        for cap in caps:
            verdict = self._verdicts.get(cap.path, "")
            table.add_row(
                Text(clock(cap.timestamp), style="dim"),
                Text(short_id(cap.request_id or "-")),
                Text(verdict, style=VERDICT_STYLE.get(verdict, "")),
                (
                    Text("⚠ " + one_line(cap.problem[:SHOWN], error_w - 2), style="bold yellow")
                    if cap.problem
                    else Text(one_line((cap.error or "")[:SHOWN], error_w), style="red")
                ),
                Text(one_line((cap.query or "")[:SHOWN], query_w)),
                key=cap.path,
            )
        if selected is not None:
            for row, cap in enumerate(caps):
                if cap.path == selected.path:
                    table.move_cursor(row=row)
                    break
        problems = sum(1 for c in caps if c.problem)
        title = Text(f"failure captures: {len(caps)}", style="bold", end="")
        if problems:
            title.append(f"  ({problems} with a problem)", style="yellow")
        title.append("   r: replay · enter: open · esc: back", style="dim")
        self.query_one("#captures-title", Static).update(title)

    @property
    def selected(self) -> Capture | None:
        """The capture under the cursor."""
        table = self.query_one(DataTable)
        if not self.captures or table.cursor_row < 0 or table.cursor_row >= len(self.captures):
            return None
        return self.captures[table.cursor_row]

    def action_back(self) -> None:
        """Back to the list of traces."""
        self.app.pop_screen()

    def action_open(self) -> None:
        """Show the capture (and its replay history) without replaying."""
        cap = self.selected
        if cap is not None:
            self.app.push_screen(ReplayScreen(self.watcher, cap, start=False))

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_replay(self) -> None:
        """Replay the capture under the cursor."""
        cap = self.selected
        if cap is not None:
            self.app.push_screen(ReplayScreen(self.watcher, cap, start=True))


__all__ = ["CapturesScreen", "ReplayScreen"]


def _widths(width: int) -> tuple[int, int]:
    """The error and query columns' cells for a screen ``width`` cells wide: what the fixed
    columns, the cell padding (2 a column) and the scrollbar leave, 55% of it to the error."""
    rest = max(20, width - (8 + 12 + 12) - 5 * 2 - 2)
    error = rest * 55 // 100
    return error, rest - error
