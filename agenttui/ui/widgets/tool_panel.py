"""Per-tool statistics: calls, errors, error rate and latency percentiles."""

from __future__ import annotations

from rich.text import Text

from agenttui.model.traces import ToolStats
from agenttui.ui.format import count, duration, safe
from agenttui.ui.widgets.nav_table import NavTable

COLUMNS = ("tool", "calls", "running", "errors", "err %", "p50", "p95", "p99", "max")


class ToolPanel(NavTable):
    """A table with one row per tool, worst error rate first."""

    DEFAULT_CSS = """
    ToolPanel { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        """An empty panel (see :meth:`show`)."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, ToolStats] | None = None

    def on_mount(self) -> None:
        """Add the columns."""
        for name in COLUMNS:
            self.add_column(Text(name, justify="left" if name == "tool" else "right"), key=name)

    def show(self, stats: dict[str, ToolStats]) -> None:
        """Replace the rows (keeps the cursor on the same tool)."""
        if stats == self._shown:
            return
        self._shown = stats
        selected = None
        if self.row_count and self.cursor_row < self.row_count:
            selected = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        self.clear()
        order = sorted(
            stats.items(),
            key=lambda kv: (-(kv[1].errors / kv[1].completed if kv[1].completed else 0), kv[0]),
        )
        for name, s in order:
            rate = 100 * s.errors / s.completed if s.completed else 0.0
            bad = "bold red" if s.errors else ""
            self.add_row(
                Text(safe(name)),
                Text(count(s.calls), justify="right"),
                Text(count(s.running) if s.running else "·", justify="right", style="yellow"),
                Text(count(s.errors), style=bad, justify="right"),
                Text(f"{rate:.1f}%", style=bad, justify="right"),
                Text(duration(s.p50_ms), justify="right"),
                Text(duration(s.p95_ms), justify="right"),
                Text(duration(s.p99_ms), justify="right"),
                Text(duration(s.max_ms), justify="right"),
                key=name,
            )
        if selected is not None and selected in stats:
            self.move_cursor(row=self.get_row_index(selected))
