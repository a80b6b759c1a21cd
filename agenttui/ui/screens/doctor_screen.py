"""The Doctor screen: the production checklist, the agent's health endpoints, the agent
processes and the 429/timeout pressure, refreshed every few seconds by the app's
:class:`~agenttui.ui.health.HealthMonitor` (the screen subscribes to it while open).
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from agenttui.doctor.output import MARKS, endpoint_summary
from agenttui.doctor.results import Checkup, Pressure
from agenttui.doctor.units import age, size
from agenttui.output.sanitize import clean
from agenttui.ui.format import clock
from agenttui.ui.health import SCREEN_SECONDS, HealthMonitor, health_label

STATUS_STYLE = {"ok": "green", "warn": "bold yellow", "fail": "bold red"}
BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int], peak: int) -> str:
    """One block per value, scaled to ``peak`` (a space for zero)."""
    if peak <= 0:
        return "·" * len(values)
    out = []
    for v in values:
        out.append("·" if v <= 0 else BLOCKS[max(1, min(8, round(8 * v / peak)))])
    return "".join(out)


def checks_table(report: Checkup) -> Table:
    """The checks, worst first: status, name, reason (and the fix under it)."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, width=6)
    table.add_column(max_width=24, overflow="fold")
    table.add_column(ratio=1, overflow="fold")
    for c in report.ordered():
        style = STATUS_STYLE[c.status]
        cell = Text(clean(c.reason), end="")
        if c.fix and c.status != "ok":
            cell.append("\nfix: ", style="bold")
            cell.append(clean(c.fix), style="italic")
        table.add_row(
            Text(f"{MARKS[c.status]} {c.status}", style=style),
            Text(clean(c.name), style="bold" if c.status != "ok" else ""),
            cell,
        )
    return table


def processes_table(report: Checkup) -> Table:
    """The agent processes: RSS, CPU, threads, open files, uptime, children."""
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name in ("pid", "name", "user", "RSS", "CPU", "thr", "files", "up", "kids"):
        table.add_column(
            name,
            justify="left" if name in ("name", "user") else "right",
            no_wrap=True,
            overflow="ellipsis",
            max_width=16 if name in ("name", "user") else None,
        )
    for p in report.processes:
        files = f"{p.open_files}/{p.fd_limit}" if p.fd_limit else str(p.open_files)
        table.add_row(
            Text(str(p.pid)),
            Text(clean(p.name)),
            Text(clean(p.user)),
            Text(size(p.rss)),
            Text(f"{p.cpu_pct:.1f}%"),
            Text(str(p.threads)),
            Text(files),
            Text(age(p.uptime_s)),
            Text(str(p.children)),
        )
    return table


def pressure_text(p: Pressure) -> Text:
    """429s and timeouts per minute as two sparklines with totals."""
    text = Text(end="")
    if p.end is None:
        text.append("no timed events in the logs yet", style="dim")
        return text
    peak = max([*p.rate_limited, *p.timeouts, 0])
    for label, values, style in (
        ("429s    ", p.rate_limited, "bold magenta"),
        ("timeouts", p.timeouts, "bold yellow"),
    ):
        total = sum(values)
        text.append(f"{label}  ")
        text.append(sparkline(values, peak), style=style if total else "dim")
        text.append(
            f"  {total} in {p.minutes} min, peak {max(values, default=0)}/min\n",
            style="" if total else "dim",
        )
    start = p.end - (p.minutes - 1) * 60
    text.append(
        f"{'':10}one cell per minute, {clock(start)[:5]} to {clock(p.end)[:5]} UTC "
        f"(the newest log time)",
        style="dim",
    )
    return text


def endpoints_text(report: Checkup) -> Text:
    """Each health endpoint's overall answer, then the flips to unhealthy (newest last)."""
    word, worst = endpoint_summary(report.endpoints)
    text = Text(end="")
    text.append("Health endpoints", style="bold underline")
    text.append("  ")
    text.append(word, style=STATUS_STYLE[worst])
    for probe in report.endpoints:
        style = STATUS_STYLE[
            "fail" if probe.verdict == "fail" else "warn" if probe.verdict == "warn" else "ok"
        ]
        text.append("\n")
        text.append(clean(probe.label), style="bold")
        text.append("  ")
        text.append(clean(probe.reason), style=style)
    several = len(report.endpoints) > 1
    older = len(report.flips) - 5 + report.flips_dropped
    if older > 0:
        text.append(f"\n{older} earlier flips not shown", style="dim")
    for flip in report.flips[-5:]:
        text.append("\n")
        text.append(f"⚑ {clean(flip.describe(several))}", style="bold yellow")
        text.append(f" ({clean(flip.now)})", style="dim")
    text.append("\n")
    return text


class DoctorScreen(Screen[None]):
    """The checks with status colours, reason and fix; the agent; the log pressure."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,d", "back", "Back"),
        Binding("r", "run", "Run now"),
    ]

    DEFAULT_CSS = """
    DoctorScreen #doctor-note { height: 1; padding: 0 1; background: $panel; }
    DoctorScreen #doctor-endpoints { height: auto; }
    DoctorScreen #doctor-body { height: 1fr; padding: 0 1; scrollbar-gutter: stable; }
    """

    def __init__(self, monitor: HealthMonitor) -> None:
        """Show the reports of ``monitor``."""
        super().__init__()
        self.monitor = monitor
        self.shown: Checkup | None = None

    def compose(self) -> ComposeResult:
        """The note line, the scrolling body and the footer."""
        yield Static(id="doctor-note")
        with VerticalScroll(id="doctor-body"):
            yield Static(id="doctor-endpoints")
            yield Static(Text("running the checks…", style="dim"), id="doctor-report")
            yield Static(id="doctor-agent")
            yield Static(id="doctor-pressure")
        yield Footer()

    def on_mount(self) -> None:
        """Show the last report at once, run now, then every few seconds."""
        self.monitor.subscribe(self.show)
        self.query_one("#doctor-body").focus()
        if self.monitor.report is not None:
            self.show(self.monitor.report)
        else:
            self._note()
        self.monitor.run()
        self.set_interval(SCREEN_SECONDS, self.monitor.run)
        self.set_interval(1.0, self._note)

    def on_unmount(self) -> None:
        """Stop receiving reports."""
        self.monitor.unsubscribe(self.show)

    def _note(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("Doctor", style="bold")
        report = self.shown
        if report is None:
            text.append("  running the checks…", style="dim")
        else:
            label = health_label(report, report.endpoints)
            summary, worst = label if label is not None else (report.summary(), "ok")
            text.append("  health: ")
            text.append(summary, style=STATUS_STYLE[worst])
            age = max(0, int(time.time() - report.finished_at))
            text.append(
                f"  checked {age}s ago in {report.elapsed_s:.1f}s, every {SCREEN_SECONDS:g}s",
                style="dim",
            )
            if self.monitor.busy:
                text.append("  running…", style="dim italic")
        self.query_one("#doctor-note", Static).update(text)

    def show(self, report: Checkup) -> None:
        """Replace the body with ``report``."""
        self.shown = report
        self.query_one("#doctor-report", Static).update(checks_table(report))
        if report.endpoints:
            self.query_one("#doctor-endpoints", Static).update(endpoints_text(report))
        parts: list[RenderableType] = []
        if self.monitor.watcher is not None:
            parts.append(Text("\nAgent processes", style="bold underline"))
            if report.processes:
                parts.append(processes_table(report))
            else:
                parts.append(Text("none running", style="bold red"))
            for r in report.restarts[-5:]:
                old = f"pid {r.old_pid} -> " if r.old_pid else ""
                parts.append(
                    Text(f"restart noticed {clock(r.at)} UTC: {old}pid {r.new_pid}", style="yellow")
                )
        else:
            parts.append(
                Text(
                    "\nAgent processes: not watched (set AGENTTUI_AGENT_NAME or "
                    "[doctor] agent_name / agent_pid)",
                    style="dim",
                )
            )
        self.query_one("#doctor-agent", Static).update(Group(*parts))
        if report.pressure is not None:
            pressure = Text(
                f"\n429s and timeouts per minute, last {report.pressure.minutes} min of logs\n",
                style="bold underline",
            )
            pressure.append_text(pressure_text(report.pressure))
            self.query_one("#doctor-pressure", Static).update(pressure)
        self._note()

    def action_run(self) -> None:
        """Run the checks now."""
        self.monitor.run()
        self._note()

    def action_back(self) -> None:
        """Back to where we were."""
        self.app.pop_screen()
