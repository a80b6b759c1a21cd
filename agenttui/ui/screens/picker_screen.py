"""First contact: which logs to open when ``agenttui`` was run without a path.

:class:`PickerScreen` lists the candidates found (newest first); :class:`NoLogsScreen` says where
agenttui looked and how to point it at the logs, and looks again every few seconds. Both dismiss
with the paths to open.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from agenttui.ingest.discover import Discovery
from agenttui.ingest.sniff import Candidate
from agenttui.ui.format import count, safe
from agenttui.ui.widgets.nav_table import NavTable

LOOK_AGAIN_SECONDS = 5.0
"""The screen without logs searches again this often."""


def human_size(n: int) -> str:
    """``512 B``, ``3.4 KB``, ``12 MB``..."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" or size >= 10 else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def age(mtime: float, now: float | None = None) -> str:
    """How long ago ``mtime`` was: ``12s``, ``5m``, ``3h``, ``2d``."""
    if not math.isfinite(mtime) or mtime <= 0:
        return "-"
    seconds = max(0.0, (time.time() if now is None else now) - mtime)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def short_path(path: str, width: int) -> str:
    """``path`` relative to the working directory when inside it, cut from the left."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    text = safe(rel if not rel.startswith("..") else path)
    return text if len(text) <= width else "…" + text[-(width - 1) :]


class PickerScreen(Screen[list[str]]):
    """Several candidates: ``enter`` opens the highlighted one (or those selected with space)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("space", "pick", "Select"),
        Binding("q,escape", "app.quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("n", "step(1)", "Next", show=False),
        Binding("N", "step(-1)", "Previous", show=False),
    ]

    DEFAULT_CSS = """
    PickerScreen #picker-note { height: auto; padding: 0 1; background: $panel; }
    PickerScreen #picker { height: 1fr; }
    PickerScreen #picker-also { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, found: Discovery, now: float | None = None) -> None:
        """List ``found.candidates`` (already newest first)."""
        super().__init__()
        self.found = found
        self.chosen: set[int] = set()
        self._now = now

    def compose(self) -> ComposeResult:
        """Note, table, what is read beside, footer."""
        n = len(self.found.candidates)
        note = Text(end="")
        note.append(f"{n} logs found, newest first. ", style="bold")
        note.append("enter open · space select several · q quit", style="dim")
        yield Static(note, id="picker-note")
        yield NavTable(id="picker", cursor_type="row", zebra_stripes=True)
        also = Text(end="", style="dim")
        if self.found.captures:
            also.append("Read beside them: failure captures in ")
            also.append(", ".join(short_path(c, 40) for c in self.found.captures))
            also.append(". ")
        also.append("~: counted in the last 256 KB. Other logs: agenttui PATH.")
        yield Static(also, id="picker-also")
        yield Footer()

    def on_mount(self) -> None:
        """Columns and rows."""
        table = self.query_one(NavTable)
        width = max(80, self.size.width)
        fixed = (("", 1), ("shape", 14), ("size", 7), ("written", 8), ("reqs", 5), ("fails", 5))
        path_width = max(16, width - sum(w for _, w in fixed) - 2 * (len(fixed) + 1) - 2)
        table.add_column("", key="mark", width=1)
        table.add_column("path", key="path", width=path_width)
        for name, w in fixed[1:]:
            table.add_column(name, key=name, width=w)
        for i, c in enumerate(self.found.candidates):
            approx = "~" if c.sampled else ""
            table.add_row(
                Text(" "),
                Text(short_path(c.path, path_width), style="bold"),
                Text(safe(c.shape)[:14]),
                Text(human_size(c.size) if c.size else "-", justify="right"),
                Text(age(c.mtime, self._now), justify="right", style="dim"),
                Text(approx + count(c.requests), justify="right"),
                Text(
                    approx + count(c.failures) if c.failures else "·",
                    justify="right",
                    style="bold red" if c.failures else "dim",
                ),
                key=str(i),
            )
        table.focus()

    def action_pick(self) -> None:
        """Select or unselect the highlighted candidate."""
        table = self.query_one(NavTable)
        row = table.cursor_row
        if not 0 <= row < len(self.found.candidates):
            return
        self.chosen ^= {row}
        mark = Text("✓", style="bold green") if row in self.chosen else Text(" ")
        table.update_cell(str(row), "mark", mark)
        if row + 1 < table.row_count:
            table.move_cursor(row=row + 1)

    def action_step(self, step: int) -> None:
        """``n`` / ``N``: next / previous row."""
        self.query_one(NavTable).action_step(step)

    def action_help(self) -> None:
        """Say what this screen is for."""
        self.notify(
            "Pick the logs to watch: enter opens the highlighted one, space selects several "
            "(then enter). j/k move, g/G top/bottom, q quits.",
            markup=False,
            timeout=8,
        )

    @on(DataTable.RowSelected, "#picker")
    def _row_selected(self, _message: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the selected candidates, or the highlighted one."""
        rows = sorted(self.chosen) or [self.query_one(NavTable).cursor_row]
        chosen = [self.found.candidates[r] for r in rows if 0 <= r < len(self.found.candidates)]
        if chosen:
            self.dismiss(open_paths(self.found, chosen))


def where_text(found: Discovery) -> Text:
    """Where agenttui looked and how to point it at the logs."""
    text = Text(end="")
    text.append("No logs found.", style="bold yellow")
    text.append(" agenttui shows structured logs (JSON, key=value, container logs).\n\n")
    text.append("Where it looked\n", style="bold underline")
    for place in found.looked:
        text.append(f"  {safe(place)}\n")
    if found.skipped:
        text.append(
            f"  skipped {count(len(found.skipped))} files and folders that are not structured "
            "logs (code, binaries, caches): 'agenttui formats DIR' says why\n",
            style="dim",
        )
    text.append("\nHow to point it at the logs\n", style="bold underline")
    for how, what in (
        ("agenttui PATH", "a log file, a directory or a glob"),
        ('[logs] paths = ["/var/log/agent"]', "in ./agenttui.toml"),
        ("AGENTTUI_LOGS=/var/log/agent", "in the environment"),
        ("kubectl logs -f deploy/agent | agenttui -", "'-' reads a pipe"),
        ("agenttui --demo", "a demo agent with live traffic"),
    ):
        text.append(f"  {how}", style="bold")
        text.append(f"  {what}\n", style="dim")
    return text


class NoLogsScreen(Screen[list[str]]):
    """Nothing found: where agenttui looked, how to point it, and looking again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "look", "Look again"),
        Binding("q,escape", "app.quit", "Quit"),
    ]

    DEFAULT_CSS = """
    NoLogsScreen #nologs-box { height: 1fr; padding: 0 1; }
    NoLogsScreen #nologs-status { height: 1; padding: 0 1; background: $panel;
                                  color: $text-muted; }
    """

    class Found(Message):
        """A search (in a thread) finished."""

        def __init__(self, found: Discovery) -> None:
            """Remember what it found."""
            super().__init__()
            self.found = found

    def __init__(
        self, found: Discovery, look: Callable[[], Discovery], *, every: float = LOOK_AGAIN_SECONDS
    ) -> None:
        """Show ``found``; ``look`` searches again (called in a thread)."""
        super().__init__()
        self.found = found
        self._look = look
        self._every = every

    def compose(self) -> ComposeResult:
        """What was searched, how to point agenttui, the status line."""
        with VerticalScroll(id="nologs-box"):
            yield Static(where_text(self.found), id="nologs")
        yield Static(Text(f"Looking again every {self._every:g} s.", end=""), id="nologs-status")
        yield Footer()

    def on_mount(self) -> None:
        """Look again now and then."""
        self.set_interval(self._every, self.action_look)

    def action_look(self) -> None:
        """Search again (in a thread)."""
        self.query_one("#nologs-status", Static).update(Text("Looking…", end=""))
        self._search()

    @work(thread=True, exclusive=True, exit_on_error=False, group="discover")
    def _search(self) -> None:
        self.post_message(self.Found(self._look()))

    @on(Found)
    def _found(self, message: Found) -> None:
        self.found = message.found
        if message.found.candidates or message.found.explicit:
            self.dismiss(open_paths(message.found))  # empty: several, the app shows the picker
            return
        self.query_one("#nologs", Static).update(where_text(message.found))
        self.query_one("#nologs-status", Static).update(
            Text(
                f"Nothing yet; looking again every {self._every:g} s "
                f"(last look {time.strftime('%H:%M:%S', time.gmtime())} UTC).",
                end="",
            )
        )


def open_paths(found: Discovery, chosen: list[Candidate] | None = None) -> list[str]:
    """What to open: the explicit paths, or the chosen candidates (default: the only one),
    with the capture folders found beside them. Empty when a picker is needed."""
    if found.explicit:
        return list(found.explicit)
    if chosen is None:
        if len(found.candidates) != 1:
            return []
        chosen = found.candidates
    paths = [c.path for c in chosen]
    return paths + [d for d in found.captures if d not in paths]
