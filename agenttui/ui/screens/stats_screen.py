"""Live statistics over a moving window: events and errors per second, per-tool calls, error
rate and p50/p95/p99 with sparklines, the slowest traces; and per model (the whole log): LLM
calls, errors, latency, tokens and when each was first and last seen."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Sparkline, Static

from agenttui.doctor.results import Flip
from agenttui.model.live import LiveStats, ToolWindow, live_stats
from agenttui.model.traces import ModelStats
from agenttui.session import Session
from agenttui.ui.format import clock, count, duration, model_name, one_line, safe, short_id
from agenttui.ui.health import health_flips
from agenttui.ui.widgets.nav_table import NavTable

REFRESH_SECONDS = 2.0
WINDOW_S = 15 * 60.0
BUCKETS = 60


def tool_line(w: ToolWindow, width: int = 48) -> Text:
    """``name  calls  err%  p50 p95 p99`` of one tool, fixed width."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(f"{one_line(w.tool, 14):<14}", style="bold")
    text.append(f"{count(w.calls):>6}")
    rate = f"{100 * w.error_rate:5.1f}%"
    text.append(f" {rate}", style="bold red" if w.errors else "dim")
    text.append(f" {duration(w.p50_ms):>6} {duration(w.p95_ms):>6} {duration(w.p99_ms):>6}")
    text.truncate(width, pad=True)
    return text


MODEL_HEADING = (
    f"{'model':<18}{'calls':>6}  {'err%':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'tokens':>6}"
    "  first–last seen"
)


def compact(n: int) -> str:
    """A count in at most six characters: ``9876``, ``123k``, ``4.5M``."""
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def model_lines(models: dict[str, ModelStats]) -> Text:
    """One line per model, oldest first: calls, error rate, p50/p95/p99, tokens, and the times
    of its first and latest call (UTC)."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(MODEL_HEADING, style="bold")
    for name, m in sorted(models.items(), key=lambda item: item[1].first_seen or 0.0):
        text.append("\n")
        text.append(f"{model_name(name, 17):<18}", style="bold")
        text.append(f"{count(m.calls):>6}")
        rate = 100 * m.errors / m.completed if m.completed else 0.0
        text.append(f" {rate:5.1f}%", style="bold red" if m.errors else "dim")
        text.append(f" {duration(m.p50_ms):>6} {duration(m.p95_ms):>6} {duration(m.p99_ms):>6}")
        text.append(f" {compact(m.tokens) if m.tokens else '-':>6}")
        text.append(f"  {clock(m.first_seen)}–{clock(m.last_seen)}", style="dim")
    return text


def flip_marks(flips: list[Flip], start: float, end: float, width: int) -> tuple[str, int]:
    """A row of ``width`` cells with ``▲`` where health checks went unhealthy within
    ``[start, end]`` (aligned with the sparklines above it); (row, flips outside the window)."""
    cells = [" "] * max(0, width)
    outside = 0
    span = end - start
    for flip in flips:
        if span <= 0 or not start <= flip.at <= end or not cells:
            outside += 1
            continue
        cells[min(len(cells) - 1, int((flip.at - start) / span * len(cells)))] = "▲"
    return "".join(cells), outside


class StatsScreen(Screen[None]):
    """Moving-window statistics, refreshed every two seconds."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,s", "back", "Back"),
        Binding("n", "step(1)", "Next", show=False),
        Binding("N", "step(-1)", "Previous", show=False),
    ]

    DEFAULT_CSS = """
    StatsScreen #stats-note { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    StatsScreen .label { width: 50; height: 1; padding: 0 1; }
    StatsScreen .row { height: 1; }
    StatsScreen Sparkline { width: 1fr; height: 1; }
    StatsScreen #health-flips { display: none; }
    StatsScreen #flips-marks { width: 1fr; height: 1; color: $warning; }
    StatsScreen #rate-errors > Sparkline > .sparkline--max-color { color: $error; }
    StatsScreen #rate-errors > Sparkline > .sparkline--min-color { color: $error 30%; }
    StatsScreen #tools-box { height: auto; max-height: 50%; border-top: solid $primary-muted;
                             border-title-align: left; }
    StatsScreen #models { height: auto; max-height: 8; padding: 0 1;
                          border-top: solid $primary-muted; border-title-align: left; }
    StatsScreen #slowest { height: 1fr; border-top: solid $primary-muted;
                           border-title-align: left; }
    """

    class Ready(Message):
        """Statistics computed by a thread worker."""

        def __init__(self, stats: LiveStats) -> None:
            """Remember the statistics."""
            super().__init__()
            self.stats = stats

    def __init__(self, session: Session) -> None:
        """Show the live statistics of ``session``."""
        super().__init__()
        self.session = session
        self.stats: LiveStats | None = None
        self._rows: list[tuple[Horizontal, Static, Sparkline]] = []
        """The per-tool rows: (row, its label, its sparkline)."""
        self._slow_ids: list[str] = []

    def compose(self) -> ComposeResult:
        """Note, two rate sparklines, per-tool rows, slowest traces, footer."""
        yield Static(Text("Computing…", end=""), id="stats-note")
        with Horizontal(classes="row", id="rate-events"):
            yield Static(classes="label", id="events-label")
            yield Sparkline([], id="events-spark")
        with Horizontal(classes="row", id="rate-errors"):
            yield Static(classes="label", id="errors-label")
            yield Sparkline([], id="errors-spark")
        with Horizontal(classes="row", id="health-flips"):
            yield Static(classes="label", id="flips-label")
            yield Static(id="flips-marks")
        with VerticalScroll(id="tools-box"):
            yield Static(classes="label", id="tools-heading")
        yield Static(id="models")
        table = NavTable(id="slowest", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        """Columns, first computation, refresh timer."""
        box = self.query_one("#tools-box")
        box.border_title = "per tool: calls over the window"
        models = self.query_one("#models", Static)
        models.border_title = "per model: LLM calls in the whole log"
        models.display = False
        heading = Text(
            f"{'tool':<14}{'calls':>6}  {'err%':>5} {'p50':>6} {'p95':>6} {'p99':>6}",
            style="bold",
            end="",
        )
        self.query_one("#tools-heading", Static).update(heading)
        table = self.query_one("#slowest", DataTable)
        table.border_title = "slowest requests in the window (enter: open)"
        for name, width in (
            ("time", 8),
            ("request", 13),
            ("status", 6),
            ("took", 7),
            ("query", None),
        ):
            table.add_column(name, key=name, width=width)
        table.focus()
        self.compute()
        self.set_interval(REFRESH_SECONDS, self.compute)

    @work(thread=True, exclusive=True, exit_on_error=False, group="live-stats")
    def compute(self) -> None:
        """Compute the statistics in a thread."""
        with self.session.read():
            stats = live_stats(self.session.index, window_s=WINDOW_S, buckets=BUCKETS)
        self.post_message(self.Ready(stats))

    @on(Ready)
    def _show(self, message: Ready) -> None:
        s = self.stats = message.stats
        span = s.end - s.start
        note = Text(no_wrap=True, overflow="ellipsis", end="")
        if not s.end and not s.requests:
            note.append("No timed request or tool call in the logs yet: nothing to chart.")
        else:
            note.append(
                f"window {clock(s.start)}–{clock(s.end)} UTC ({duration(span * 1000)}, "
                f"newest line = now), {BUCKETS} buckets of {duration(s.bucket_s * 1000)}: "
                f"{count(s.requests)} requests, {count(s.failed)} failed"
            )
        self.query_one("#stats-note", Static).update(note)
        peak_events = max(s.events_per_s, default=0.0)
        peak_errors = max(s.errors_per_s, default=0.0)
        self.query_one("#events-label", Static).update(
            Text(f"events/s   now {_last(s.events_per_s):>7.1f}  peak {peak_events:>7.1f}", end="")
        )
        self.query_one("#errors-label", Static).update(
            Text(
                f"errors/s   now {_last(s.errors_per_s):>7.1f}  peak {peak_errors:>7.1f}",
                style="red" if peak_errors else "",
                end="",
            )
        )
        self.query_one("#events-spark", Sparkline).data = s.events_per_s
        self.query_one("#errors-spark", Sparkline).data = s.errors_per_s
        self._show_flips(s)
        self._show_tools(s.tools)
        models = self.query_one("#models", Static)
        models.display = bool(s.models)
        if s.models:
            models.update(model_lines(s.models))
        self._show_slowest(s)

    def _show_flips(self, s: LiveStats) -> None:
        """Mark the health endpoint's flips to unhealthy under the error rate."""
        flips = health_flips(self.app)
        row = self.query_one("#health-flips")
        row.display = bool(flips)
        if not flips:
            return
        marks = self.query_one("#flips-marks", Static)
        cells, outside = flip_marks(flips, s.start, s.end, marks.size.width or BUCKETS)
        last = flips[-1]
        label = Text(no_wrap=True, overflow="ellipsis", end="")
        label.append("health     ", style="bold yellow")
        label.append(safe(f"▲ {last.what()} unhealthy {clock(last.at)}"), style="yellow")
        if outside:
            label.append(f" ({outside} outside)", style="dim")
        self.query_one("#flips-label", Static).update(label)
        marks.update(Text(cells, style="bold yellow", end=""))

    def _show_tools(self, tools: list[ToolWindow]) -> None:
        """One row per tool. The rows are kept and relabelled (the tools reorder by error rate
        every refresh): only the surplus is removed or the lack mounted, so that no row is
        filled while it is being removed."""
        box = self.query_one("#tools-box", VerticalScroll)
        rows = self._rows
        if len(rows) > len(tools):
            for row, _label, _spark in rows[len(tools) :]:
                row.remove()
            del rows[len(tools) :]
        elif len(rows) < len(tools):
            added = []
            for _ in range(len(tools) - len(rows)):
                label = Static(classes="label tool-label")
                spark = Sparkline([], classes="tool-spark")
                row = Horizontal(label, spark, classes="row tool-row")
                rows.append((row, label, spark))
                added.append(row)
            box.mount_all(added)
        for (_row, label, spark), w in zip(rows, tools, strict=True):
            label.update(tool_line(w))
            spark.data = [float(n) for n in w.calls_series]

    def _show_slowest(self, s: LiveStats) -> None:
        table = self.query_one("#slowest", DataTable)
        ids = [t.request_id for t in s.slowest]
        if ids == self._slow_ids:
            return
        self._slow_ids = ids
        row = table.cursor_row
        table.clear()
        for t in s.slowest:
            table.add_row(
                Text(clock(t.start), style="dim"),
                Text(short_id(t.request_id, 13)),
                Text(t.status, style="bold red" if t.status == "error" else "green"),
                Text(duration(t.duration_ms), justify="right"),
                Text(safe(t.query or "")),
                key=t.request_id,
            )
        if ids:
            table.move_cursor(row=min(max(row, 0), len(ids) - 1))

    def selected_request_id(self) -> str | None:
        """The slow trace under the cursor (for ``c`` / ``y`` / ``i``)."""
        table = self.query_one("#slowest", DataTable)
        row = table.cursor_row
        return self._slow_ids[row] if 0 <= row < len(self._slow_ids) else None

    @on(DataTable.RowSelected, "#slowest")
    def _open(self, message: DataTable.RowSelected) -> None:
        rid = message.row_key.value
        if rid is None:
            return
        from agenttui.ui.screens.trace_screen import TraceScreen

        self.app.push_screen(TraceScreen(self.session, rid))

    def action_step(self, step: int) -> None:
        """``n`` / ``N``: next / previous row of the slowest requests."""
        self.query_one("#slowest", NavTable).action_step(step)

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()


def _last(values: list[float]) -> float:
    return values[-1] if values else 0.0
