"""Per-tool statistics, refreshed every two seconds."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from agenttui.model.traces import ToolStats
from agenttui.session import Session
from agenttui.ui.messages import ShowList
from agenttui.ui.widgets.tool_panel import ToolPanel

REFRESH_SECONDS = 2.0


def tool_query(name: str) -> str:
    """The list filter for one tool: ``tool:NAME`` (quoted when it holds spaces)."""
    if any(c.isspace() for c in name) or '"' in name:
        return 'tool:"' + name.replace('"', "") + '"'
    return f"tool:{name}"


class ToolsScreen(Screen[None]):
    """The tool panel on a screen of its own (readable at 80x24)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,t", "back", "Back"),
        Binding("enter", "filter", "Filter list to tool"),
        Binding("n", "step(1)", "Next", show=False),
        Binding("N", "step(-1)", "Previous", show=False),
    ]

    DEFAULT_CSS = """
    ToolsScreen #tools-note { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    class StatsReady(Message):
        """Tool statistics computed by a thread worker."""

        def __init__(self, stats: dict[str, ToolStats]) -> None:
            """Remember the statistics."""
            super().__init__()
            self.stats = stats

    def __init__(self, session: Session) -> None:
        """Show the tool statistics of ``session``."""
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        """A note, the table and the footer."""
        yield Static(
            Text(
                "Tool calls, worst error rate first. enter: filter the list to that tool.",
                end="",
            ),
            id="tools-note",
        )
        yield ToolPanel(id="tool-panel")
        yield Footer()

    def on_mount(self) -> None:
        """Compute now and every two seconds."""
        self.query_one(ToolPanel).focus()
        self.compute()
        self.set_interval(REFRESH_SECONDS, self.compute)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tool-stats")
    def compute(self) -> None:
        """Compute the statistics (sorting durations is O(n log n): in a thread)."""
        with self.session.read():
            stats = self.session.index.tool_stats()
        self.post_message(self.StatsReady(stats))

    @on(StatsReady)
    def _show(self, message: StatsReady) -> None:
        self.query_one(ToolPanel).show(message.stats)

    @on(DataTable.RowSelected)
    def _row_selected(self, _message: DataTable.RowSelected) -> None:
        self.action_filter()

    def action_filter(self) -> None:
        """``enter``: back to the list, filtered to the highlighted tool's traces."""
        panel = self.query_one(ToolPanel)
        if not panel.row_count:
            return
        name = panel.coordinate_to_cell_key(panel.cursor_coordinate).row_key.value
        if name is None:
            return
        self.post_message(ShowList(query=tool_query(name)))

    def action_step(self, step: int) -> None:
        """``n`` / ``N``: next / previous tool."""
        self.query_one(ToolPanel).action_step(step)

    def action_back(self) -> None:
        """Back to the list."""
        self.app.pop_screen()
