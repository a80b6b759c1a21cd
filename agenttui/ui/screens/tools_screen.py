"""Per-tool statistics, refreshed every two seconds."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from agenttui.model.traces import ToolStats
from agenttui.session import Session
from agenttui.ui.widgets.tool_panel import ToolPanel

REFRESH_SECONDS = 2.0


class ToolsScreen(Screen[None]):
    """The tool panel on a screen of its own (readable at 80x24)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,t", "back", "Back"),
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
                "Completed tool calls by tool, worst error rate first. Refreshed every 2 s.", end=""
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

    def action_back(self) -> None:
        """Back to the list."""
        self.app.pop_screen()
