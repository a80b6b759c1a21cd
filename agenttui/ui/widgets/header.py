"""The header: where the logs come from and totals that update live."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static

from agenttui.ui.format import count, safe


@dataclass(slots=True, frozen=True)
class Totals:
    """What the header shows (compared to skip needless repaints)."""

    lines: int = 0
    events: int = 0
    traces: int = 0
    ok: int = 0
    error: int = 0
    running: int = 0
    unparsed: int = 0
    rate: float = 0.0
    problems: int = 0
    dropped: int = 0
    """Finished traces dropped from memory under the memory budget (still in the files)."""
    scanning: bool = True
    done_bytes: int = 0
    total_bytes: int = 0


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{n}B"


class StatsHeader(Static):
    """Two lines: title and sources, then totals (or the scan progress)."""

    DEFAULT_CSS = """
    StatsHeader { height: 2; background: $panel; padding: 0 1; }
    """

    class UnparsedClicked(Message):
        """The user clicked the unparsed count (opens the raw lines view)."""

    def __init__(self, title: str, sources: str, *, id: str | None = None) -> None:
        """Show ``title`` and ``sources`` (already cleaned) above the totals."""
        super().__init__(id=id)
        self._title = title
        self._sources = sources
        self._totals: Totals | None = None
        self._unparsed_cells: tuple[int, int] = (-1, -1)
        self._health: tuple[str, str] | None = None

    def show_health(self, summary: str, worst: str) -> None:
        """Show the doctor's one-line summary (``ok``, ``2 fail 1 warn``) after the title."""
        if (summary, worst) == self._health:
            return
        self._health = (summary, worst)
        if self._totals is not None:
            self.update(self._build(self._totals))

    def show(self, totals: Totals) -> None:
        """Update the totals (a no-op when nothing changed)."""
        if totals == self._totals:
            return
        self._totals = totals
        self.update(self._build(totals))

    def _build(self, t: Totals) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(self._title, style="bold")
        if self._health is not None:
            summary, worst = self._health
            text.append("  health: ")
            text.append(
                summary,
                style={"fail": "bold red", "warn": "bold yellow"}.get(worst, "green")
                + (" reverse" if self.app.no_color and worst != "ok" else ""),
            )
            text.append(" (d)", style="dim")
        text.append("  ")
        text.append(safe(self._sources), style="dim")
        text.append("  times in UTC", style="dim italic")
        text.append("\n")
        if t.scanning:
            pct = 100 * t.done_bytes / t.total_bytes if t.total_bytes else 0.0
            text.append(f"scanning {pct:3.0f}% ", style="bold yellow")
            text.append(f"{_size(t.done_bytes)}/{_size(t.total_bytes)}  ", style="yellow")
        text.append("traces ")
        text.append(count(t.traces), style="bold")
        text.append(" (")
        text.append(
            f"✗{count(t.error)}",
            style="bold reverse" if self.app.no_color and t.error else "bold red",
        )
        text.append(" ")
        text.append(f"●{count(t.running)}", style="yellow")
        text.append(" ")
        text.append(f"✓{count(t.ok)}", style="green")
        text.append(")")
        if t.dropped:  # the memory budget: said before the rest, which may not fit
            note = f" {count(t.dropped)} older traces not in memory; still in the file"
            used = cell_len(text.plain.split("\n")[-1])
            if used + cell_len(note) > self.size.width - 2:  # padding
                note = f" {count(t.dropped)} older traces: in the file only"
            text.append(note, style="bold yellow")
        text.append("  lines ")
        text.append(count(t.lines), style="bold")
        text.append("  events ")
        text.append(count(t.events), style="bold")
        text.append("  ")
        line_start = len(text.plain) - len(text.plain.split("\n")[-1])
        start = cell_len(text.plain[line_start:])
        label = f"unparsed {count(t.unparsed)}"
        text.append(label, style="underline" + (" bold magenta" if t.unparsed else ""))
        self._unparsed_cells = (start, start + cell_len(label))
        text.append(f"  {t.rate:,.0f} lines/s", style="dim" if not t.rate else "")
        if t.problems:
            text.append(
                f"  ⚠ {t.problems} file problem{'s' if t.problems > 1 else ''}", style="bold red"
            )
        return text

    def on_click(self, event: events.Click) -> None:
        """Select (or open) what was clicked."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y != 1:
            return
        start, end = self._unparsed_cells
        if start <= offset.x < end:
            event.stop()
            self.post_message(self.UnparsedClicked())
