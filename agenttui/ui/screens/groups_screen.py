"""Error groups: failures grouped by signature, most frequent in the last 15 minutes first,
with their failure class, explanation and fix."""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import ColumnKey

from agenttui.doctor.results import Flip
from agenttui.model.drift import drifted_requests
from agenttui.model.triage import ErrorGroup, cold_starts, error_groups, latest_time
from agenttui.session import Session
from agenttui.ui.format import clock, count, one_line, safe, stamp
from agenttui.ui.health import health_flips
from agenttui.ui.messages import ShowList
from agenttui.ui.widgets.nav_table import NavTable

REFRESH_SECONDS = 2.0
WIDE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("15m", 4),
    ("count", 6),
    ("class", 14),
    ("tools", 12),
    ("last", 8),
    ("trend", 12),
)
NARROW_COLUMNS: tuple[tuple[str, int], ...] = (
    ("15m", 4),
    ("count", 5),
    ("class", 12),
    ("tools", 10),
    ("trend", 6),
)
"""Below :data:`WIDE_FROM` cells the signature keeps room: no ``last``, a shorter trend."""
WIDE_FROM = 110
SPARK_BUCKETS = 12
_BARS = " ▁▂▃▄▅▆▇█"


def spark(values: list[int] | list[float]) -> str:
    """Values as a row of block characters (empty buckets as spaces)."""
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    return "".join(_BARS[0 if v <= 0 else max(1, math.ceil(v / top * 8))] for v in values)


def failures_since(groups: list[ErrorGroup], at: float) -> tuple[int, int]:
    """(failures at or after ``at``, groups whose first failure is at or after it)."""
    failures = sum(len(g.times) - bisect_left(g.times, at) for g in groups)
    started = sum(1 for g in groups if g.first_seen is not None and g.first_seen >= at)
    return failures, started


def flip_note(flip: Flip, groups: list[ErrorGroup], several: bool = False) -> str:
    """``tools went unhealthy at 08:31:50; 41 failures since (2 new groups)``."""
    failures, started = failures_since(groups, flip.at)
    note = f"{flip.describe(several)}; {failures} failure{'s' if failures != 1 else ''} since"
    if started:
        note += f" ({started} new group{'s' if started != 1 else ''})"
    return note


class ErrorGroupsScreen(Screen[None]):
    """The failure groups of the session; enter opens a group's newest trace."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,E", "back", "Back"),
        Binding("enter", "open", "Newest trace", show=False),
        Binding("f", "filter", "Filter list"),
        Binding("n", "step(1)", "Next group", show=False),
        Binding("N", "step(-1)", "Previous group", show=False),
    ]

    DEFAULT_CSS = """
    ErrorGroupsScreen #groups-note { height: 1; padding: 0 1; background: $panel;
                                     color: $text-muted; }
    ErrorGroupsScreen #groups-health { height: auto; max-height: 3; padding: 0 1;
                                       color: $warning; display: none; }
    ErrorGroupsScreen #groups { height: 1fr; min-height: 5; }
    ErrorGroupsScreen #group-detail-box { height: 45%; border-top: solid $primary-muted;
                                          border-title-align: left; }
    ErrorGroupsScreen #group-detail { padding: 0 1; }
    """

    class GroupsReady(Message):
        """Groups computed by a thread worker."""

        def __init__(self, groups: list[ErrorGroup], start: float, end: float) -> None:
            """Remember the groups and the time span of their sparklines."""
            super().__init__()
            self.groups = groups
            self.start = start
            self.end = end

    def __init__(self, session: Session) -> None:
        """Show the error groups of ``session``."""
        super().__init__()
        self.session = session
        self.groups: list[ErrorGroup] = []
        self._span = (0.0, 0.0)
        self._seen = (-1, -1)
        self._columns = WIDE_COLUMNS

    def compose(self) -> ComposeResult:
        """Note, table, detail of the selected group, footer."""
        yield Static(Text("Computing error groups…", end=""), id="groups-note")
        yield Static(id="groups-health")
        yield NavTable(id="groups", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="group-detail-box"):
            yield Static(id="group-detail")
        yield Footer()

    def on_mount(self) -> None:
        """Columns, first computation, refresh timer."""
        table = self.query_one("#groups", DataTable)
        self._columns = WIDE_COLUMNS if self.app.size.width >= WIDE_FROM else NARROW_COLUMNS
        for name, width in (*self._columns, ("signature", self._signature_width())):
            table.add_column(name, key=name, width=width)
        self.query_one("#group-detail-box").border_title = "group"
        table.focus()
        self.compute()
        self.set_interval(REFRESH_SECONDS, self.compute)
        self.set_interval(REFRESH_SECONDS, self._show_flips)

    @work(thread=True, exclusive=True, exit_on_error=False, group="error-groups")
    def compute(self) -> None:
        """Group the failures (in a thread: it walks every failed trace)."""
        session = self.session
        with session.read():
            index = session.index
            seen = (index.lines, len(index))
            if seen == self._seen:
                return
            self._seen = seen
            groups = error_groups(
                index, cold=set(cold_starts(index)), drift=drifted_requests(index)
            )
            end = latest_time(index) or 0.0
        firsts = [g.first_seen for g in groups if g.first_seen is not None]
        start = min(firsts) if firsts else end
        self.post_message(self.GroupsReady(groups, start, end))

    @on(GroupsReady)
    def _show(self, message: GroupsReady) -> None:
        self.groups = message.groups
        self._span = (message.start, message.end)
        total = sum(g.count for g in message.groups)
        recent = sum(g.recent for g in message.groups)
        note = Text(no_wrap=True, overflow="ellipsis", end="")
        if message.groups and message.end:
            note.append(
                f"{count(len(message.groups))} error groups, {count(total)} failures "
                f"({count(recent)} in the last 15 min before {clock(message.end)} UTC)"
            )
        else:
            note.append(f"{count(len(message.groups))} error groups, {count(total)} failures")
        note.append("  enter: newest trace · f: filter the list · c/y: copy", style="dim")
        self.query_one("#groups-note", Static).update(note)
        self._show_flips()
        table = self.query_one("#groups", DataTable)
        row = table.cursor_row
        table.clear()
        sig_width = self._signature_width()
        table.columns[ColumnKey("signature")].width = sig_width
        widths = dict(self._columns)
        for i, g in enumerate(message.groups):
            tools = ", ".join(t or "(request)" for t, _ in g.tools.most_common())
            cells = {
                "15m": Text(
                    count(g.recent), justify="right", style="bold red" if g.recent else "dim"
                ),
                "count": Text(count(g.count), justify="right"),
                "class": Text(one_line(g.cls.key, widths["class"]), style="bold"),
                "tools": Text(one_line(tools, widths["tools"])),
                "last": Text(clock(g.last_seen), style="dim"),
                "trend": Text(
                    spark(g.histogram(message.start, message.end, widths["trend"])), style="red"
                ),
            }
            table.add_row(
                *(cells[name] for name, _ in self._columns),
                Text(one_line(g.signature, sig_width)),
                key=str(i),
            )
        if message.groups:
            table.move_cursor(row=min(max(row, 0), len(message.groups) - 1))
            self._detail(table.cursor_row)
        else:
            self.query_one("#group-detail", Static).update(
                Text("No failures in the logs so far.", style="green", end="")
            )

    def _show_flips(self) -> None:
        """The health endpoint's last flips to unhealthy and the failures since each."""
        flips = health_flips(self.app)
        box = self.query_one("#groups-health", Static)
        box.display = bool(flips)
        if not flips:
            return
        several = len({f.endpoint for f in flips}) > 1
        text = Text(end="")
        for i, flip in enumerate(flips[-2:]):
            text.append("\n" if i else "")
            text.append("⚑ ", style="bold yellow")
            text.append(safe(flip_note(flip, self.groups, several)))
        box.update(text)

    @on(DataTable.RowHighlighted, "#groups")
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        self._detail(message.cursor_row)

    def _detail(self, row: int) -> None:
        if not 0 <= row < len(self.groups):
            return
        g = self.groups[row]
        text = Text(end="")
        text.append(safe(g.signature), style="bold red")
        text.append("\nclass: ", style="bold")
        text.append(g.cls.title, style="bold yellow")
        text.append(f"  ({safe(g.evidence)})", style="dim")
        text.append("\nfix: ", style="bold green")
        text.append(g.cls.fix)
        text.append("\n")
        text.append(g.cls.explanation, style="dim")
        text.append(
            f"\n\n{count(g.count)} failures in {count(len(g.request_ids))} requests, "
            f"first {stamp(g.first_seen)}, last {stamp(g.last_seen)}"
        )
        tools = ", ".join(f"{t or '(request)'} ×{n}" for t, n in g.tools.most_common())
        text.append("\ntools: ", style="dim")
        text.append(safe(tools))
        after = [
            f for f in health_flips(self.app) if g.first_seen is not None and g.first_seen >= f.at
        ]
        if after:
            text.append(f"\nstarted after {safe(after[-1].describe())}", style="bold yellow")
        text.append("\nexample: ", style="dim")
        text.append(safe(g.example))
        self.query_one("#group-detail", Static).update(text)
        self.query_one("#group-detail-box").border_title = f"group {row + 1}/{len(self.groups)}"

    def on_resize(self) -> None:
        """Lay the rows out again for the new width."""
        self._seen = (-1, -1)
        self.compute()

    def _signature_width(self) -> int:
        """What the fixed columns leave of the screen's width (2 cells of padding per column
        and the scrollbar)."""
        used = sum(w for _, w in self._columns) + 2 * (len(self._columns) + 1) + 2
        return max(10, (self.size.width or self.app.size.width) - used)

    def action_step(self, step: int) -> None:
        """``n`` / ``N``: the next / previous group."""
        self.query_one("#groups", NavTable).action_step(step)

    def selected_group(self) -> ErrorGroup | None:
        """The group under the cursor."""
        table = self.query_one("#groups", DataTable)
        row = table.cursor_row
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def selected_request_id(self) -> str | None:
        """The newest request of the selected group (for ``c`` / ``y`` / ``i``)."""
        group = self.selected_group()
        return None if group is None else group.newest_request_id

    @on(DataTable.RowSelected, "#groups")
    def _selected(self, _message: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the newest trace of the selected group."""
        rid = self.selected_request_id()
        if rid is None:
            return
        from agenttui.ui.screens.trace_screen import TraceScreen

        self.app.push_screen(TraceScreen(self.session, rid))

    def action_filter(self) -> None:
        """Back to the list, filtered to this group's failing tool and class."""
        group = self.selected_group()
        if group is None:
            return
        tool = group.tools.most_common(1)[0][0]
        query = f"class:{group.cls.key}" + (
            f" tool:{tool}" if tool and " " not in tool and '"' not in tool else ""
        )
        self.post_message(ShowList(query=query))

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
