"""Failure captures: the list (``C``), and one capture replayed against the local agent (``r``).

The replay runs in a thread worker; its progress, verdict, both traces side by side and the
error/traceback diff arrive as messages. Every capture string is untrusted: it is cleaned and put
into ``Text`` objects, never markup.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from agenttui.config import ConfigError
from agenttui.model.traces import Span
from agenttui.replay import history
from agenttui.replay import runner as replay
from agenttui.replay.captures import Capture
from agenttui.ui.format import clock, duration, one_line, safe, short_id, stamp

if TYPE_CHECKING:
    from agenttui.ui.capture_watch import CaptureWatcher

VERDICT_STYLE: dict[str, str] = {
    replay.FIXED: "bold green",
    replay.REPRODUCED: "bold red",
    replay.DIFFERENT: "bold yellow",
    replay.TIMEOUT: "bold magenta",
    replay.CRASHED: "bold red",
    replay.CANCELLED: "dim",
}
VERDICT_MARK: dict[str, str] = {
    replay.FIXED: "✓",
    replay.REPRODUCED: "✗",
    replay.DIFFERENT: "≠",
    replay.TIMEOUT: "⏱",
    replay.CRASHED: "☠",
    replay.CANCELLED: "·",
}
VERDICT_MEANING: dict[str, str] = {
    replay.FIXED: "the same input succeeds here now",
    replay.REPRODUCED: "it fails here too, with the same error signature",
    replay.DIFFERENT: "it fails here, but with another error",
    replay.TIMEOUT: "no answer in time; its process group was killed",
    replay.CRASHED: "the agent died or could not be reached",
    replay.CANCELLED: "stopped",
}
MAX_PROGRESS_LINES = 200


def _last_verdicts(root: Any, caps: list[Capture]) -> dict[str, str]:
    """Capture path -> verdict of its newest replay (from history file names; cheap)."""
    out: dict[str, str] = {}
    for cap in caps:
        folder = os.path.join(root, "replays", history.capture_key(cap))
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
        except OSError:
            continue
        if names:
            verdict = names[-1].removesuffix(".json").split("Z-", 1)[-1].replace("-", " ")
            out[cap.path] = verdict
    return out


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

    def compose(self) -> ComposeResult:
        """Title, table, footer."""
        yield Static(id="captures-title")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table; keep it up to date."""
        table = self.query_one(DataTable)
        table.add_column("time UTC", key="time", width=8)
        table.add_column("request", key="rid", width=12)
        table.add_column("last replay", key="verdict", width=12)
        table.add_column("error (or the capture's problem)", key="error", width=34)
        table.add_column("query", key="query", width=40)
        self._reload()
        self.set_interval(1.0, self._reload)
        self._read_verdicts()
        table.focus()

    def on_screen_resume(self) -> None:
        """Back from a replay: its verdict is in the history now."""
        self._read_verdicts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="capture-verdicts")
    def _read_verdicts(self) -> None:
        caps = self.watcher.store.all()
        self.post_message(self.Verdicts(_last_verdicts(self.watcher.options.history_dir(), caps)))

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
        for cap in caps:
            verdict = self._verdicts.get(cap.path, "")
            table.add_row(
                Text(clock(cap.timestamp), style="dim"),
                Text(short_id(cap.request_id or "-")),
                Text(verdict, style=VERDICT_STYLE.get(verdict, "")),
                (
                    Text("⚠ " + one_line(cap.problem, 200), style="bold yellow")
                    if cap.problem
                    else Text(one_line(cap.error or "", 200), style="red")
                ),
                Text(one_line(cap.query or "", 200)),
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
        title.append("   r: replay against the local agent · enter: open · esc: back", style="dim")
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


def _spans_text(
    title: str, spans: list[Span], total_ms: float | None, error: str | None, status: str
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(title, style="bold")
    text.append(
        f"  {safe(status)}",
        style="red" if status == "error" else "green" if status == "ok" else "dim",
    )
    text.append(f"  took {duration(total_ms)}\n", style="dim")
    if not spans:
        text.append("(no tool calls logged)\n", style="dim")
    for sp in spans:
        mark = {"ok": "✓", "error": "✗"}.get(sp.status, "●")
        style = "red" if sp.status == "error" else ""
        text.append(f"{mark} ", style=style)
        text.append(f"{one_line(sp.tool, 16):<16} ", style=style)
        text.append(f"{duration(sp.duration_ms):>7}", style="dim")
        if sp.error:
            text.append(f"  {one_line(sp.error, 200)}", style="red")
        text.append("\n")
    if error:
        text.append("error: ", style="bold red")
        text.append(one_line(error, 300), style="red")
    return text


def _diff_text(diff: str) -> Text:
    text = Text(end="")
    if not diff:
        text.append("(no difference in error and traceback)", style="dim")
        return text
    for line in diff.splitlines():
        style = (
            "bold"
            if line.startswith(("---", "+++"))
            else "cyan"
            if line.startswith("@@")
            else "red"
            if line.startswith("-")
            else "green"
            if line.startswith("+")
            else ""
        )
        text.append(safe(line) + "\n", style=style)
    return text


class ReplayScreen(Screen[None]):
    """One capture: what failed, its replay history, and a replay against the local agent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "replay", "Replay"),
        Binding("o", "open_trace", "Original trace"),
    ]

    DEFAULT_CSS = """
    ReplayScreen #capture { height: auto; padding: 0 1; background: $panel; }
    ReplayScreen #progress { height: auto; max-height: 8; padding: 0 1; color: $text-muted; }
    ReplayScreen #verdict { height: auto; padding: 0 1; }
    ReplayScreen #sides { height: auto; }
    ReplayScreen #original, ReplayScreen #replayed { width: 1fr; height: auto; padding: 0 1;
        border-top: solid $primary-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    ReplayScreen #progress { text-wrap: nowrap; text-overflow: ellipsis; }
    ReplayScreen #diff { height: auto; padding: 0 1; border-top: solid $primary-muted; }
    ReplayScreen #history { height: auto; padding: 0 1; border-top: solid $primary-muted; }
    """

    class Progressed(Message):
        """A progress line from the replay worker."""

        def __init__(self, line: str) -> None:
            """Remember it."""
            super().__init__()
            self.line = line

    class Finished(Message):
        """The replay ended (``result``) or could not run (``problem``)."""

        def __init__(self, result: replay.Result | None, problem: str | None = None) -> None:
            """Remember the outcome."""
            super().__init__()
            self.result = result
            self.problem = problem

    class HistoryLoaded(Message):
        """Past replays of the capture were read."""

        def __init__(self, entries: list[dict[str, Any]]) -> None:
            """Remember them."""
            super().__init__()
            self.entries = entries

    def __init__(self, watcher: CaptureWatcher, capture: Capture, *, start: bool) -> None:
        """Show ``capture``; replay it at once when ``start``."""
        super().__init__()
        self.watcher = watcher
        self.capture = capture
        self._start = start
        self._stop = threading.Event()
        self._progress: list[str] = []
        self.running = False
        self.result: replay.Result | None = None

    def compose(self) -> ComposeResult:
        """Capture summary, progress, verdict, the two traces, diff, history."""
        with VerticalScroll():
            yield Static(id="capture")
            yield Static(id="progress")
            yield Static(id="verdict")
            with Horizontal(id="sides"):
                yield Static(id="original")
                yield Static(id="replayed")
            yield Static(id="diff")
            yield Static(id="history")
        yield Footer()

    def on_mount(self) -> None:
        """Show the capture; start the replay if asked."""
        self.query_one("#capture", Static).update(self._capture_text())
        self.query_one("#original", Static).update(self._original_text())
        self.query_one("#replayed", Static).update(
            Text("replay: press r to run the same input against the local agent", style="dim")
        )
        self._load_history()
        if self._start:
            self.action_replay()

    def on_unmount(self) -> None:
        """Leaving the screen stops a running replay (its process group is killed)."""
        self._stop.set()

    def _capture_text(self) -> Text:
        cap = self.capture
        text = Text(end="")
        text.append("capture ", style="dim")
        text.append(safe(cap.name), style="bold")
        text.append("  request ", style="dim")
        text.append(safe(cap.request_id or "(none)"))
        text.append("  at ", style="dim")
        text.append(stamp(cap.timestamp))
        if cap.failed_tool:
            text.append("  tool ", style="dim")
            text.append(safe(cap.failed_tool))
        text.append("\nquery: ", style="bold")
        text.append(one_line(cap.query or "(none)", 500))
        text.append("\nerror: ", style="bold red")
        text.append(one_line(cap.error or "(none)", 500), style="red")
        if cap.problem:
            text.append("\nproblem: ", style="bold yellow")
            text.append(safe(cap.problem), style="yellow")
        return text

    def _original_text(self) -> Text:
        session = self.watcher.session
        rid = self.watcher.link_of(self.capture)
        with session.read():
            trace = session.index.traces.get(rid) if rid else None
            if trace is not None:
                return _spans_text(
                    "original (production)",
                    session.index.spans(trace),
                    trace.total_ms,
                    session.index.error_text(trace),
                    trace.status,
                )
        spans = []
        if self.capture.failed_tool:
            spans = [Span(self.capture.failed_tool, "error", None, None, self.capture.error)]
        return _spans_text(
            "original (capture; trace not in the logs)", spans, None, self.capture.error, "error"
        )

    # ---------------------------------------------------------------- replay

    def action_replay(self) -> None:
        """Replay the capture (again)."""
        if self.running:
            self.notify("A replay is already running.", markup=False)
            return
        if not self.capture.replayable:
            self.notify(
                safe(f"Nothing to replay: {self.capture.problem}"), markup=False, severity="warning"
            )
            return
        try:
            settings = self.watcher.options.settings(self.capture)
        except (replay.TargetError, ConfigError) as exc:
            self.notify(
                safe(str(exc)), title="Replay target", severity="error", markup=False, timeout=10
            )
            return
        self.running = True
        self._progress = []
        self.query_one("#verdict", Static).update(Text("replaying…", style="bold yellow"))
        self._run(settings)

    @work(thread=True, exclusive=True, exit_on_error=False, group="replay")
    def _run(self, settings: replay.Settings) -> None:
        """Thread: run the replay, stream progress, save the history."""

        def progress(line: str) -> None:
            self.post_message(self.Progressed(line))

        try:
            result = replay.replay(self.capture, settings, progress=progress, stop=self._stop)
        except (replay.TargetError, ValueError, OSError) as exc:
            self.post_message(self.Finished(None, str(exc)))
            return
        if result.verdict != replay.CANCELLED:
            try:
                history.save(self.watcher.options.history_dir(), self.capture, result.as_dict())
            except history.HistoryError as exc:
                result.note = str(exc)
        self.post_message(self.Finished(result))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        self._progress.append(message.line)
        del self._progress[:-MAX_PROGRESS_LINES]
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for line in self._progress[-6:]:
            text.append("› " + one_line(line, 300) + "\n")
        self.query_one("#progress", Static).update(text)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = False
        verdict = self.query_one("#verdict", Static)
        if message.result is None:
            verdict.update(
                Text("replay could not run: " + safe(message.problem or ""), style="bold red")
            )
            return
        result = self.result = message.result
        text = Text(end="")
        text.append(
            f"{VERDICT_MARK.get(result.verdict, '?')} {result.verdict.upper()}",
            style=VERDICT_STYLE.get(result.verdict, "bold"),
        )
        text.append(f"  in {duration(result.duration_ms)}", style="dim")
        text.append(f"  {VERDICT_MEANING.get(result.verdict, '')}")
        if result.exit_code is not None:
            text.append(f"  exit {result.exit_code}", style="dim")
        if result.http_status is not None:
            text.append(f"  HTTP {result.http_status}", style="dim")
        text.append("\ntarget: ", style="dim")
        text.append(safe(result.target))
        applied = result.settings.get("profile_env")
        if applied:
            text.append("\nprofile env: ", style="dim")
            text.append(one_line(", ".join(f"{k}={v}" for k, v in applied.items()), 300))
        if result.error:
            text.append("\nnew error: ", style="bold red")
            text.append(one_line(result.error, 500), style="red")
        elif result.answer:
            text.append("\nanswer: ", style="bold green")
            text.append(one_line(result.answer, 500))
        if result.stdout_dropped or result.stderr_dropped:
            text.append(
                f"\noutput cut: {result.stdout_dropped:,} bytes of stdout and "
                f"{result.stderr_dropped:,} of stderr not kept",
                style="yellow",
            )
        if result.note:
            text.append("\n" + safe(result.note), style="yellow")
        verdict.update(text)
        tr = result.trace
        self.query_one("#replayed", Static).update(
            _spans_text(
                "replay (local)",
                tr.spans,
                tr.total_ms if tr.total_ms is not None else result.duration_ms,
                result.error,
                tr.status if tr.events else ("ok" if result.verdict == replay.FIXED else "error"),
            )
        )
        self.query_one("#diff", Static).update(_diff_text(result.diff))
        self._load_history()

    # ---------------------------------------------------------------- history

    @work(thread=True, exclusive=True, exit_on_error=False, group="replay-history")
    def _load_history(self) -> None:
        entries = history.load(self.watcher.options.history_dir(), self.capture, limit=20)
        self.post_message(self.HistoryLoaded(entries))

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        text = Text(end="")
        text.append(f"replay history ({len(message.entries)})\n", style="bold")
        if not message.entries:
            text.append("no replay yet", style="dim")
        for entry in message.entries:
            if "problem" in entry:
                text.append(
                    f"unreadable {safe(entry.get('file'))}: {safe(entry['problem'])}\n",
                    style="yellow",
                )
                continue
            verdict = str(entry.get("verdict", "?"))
            started = entry.get("started")
            text.append(
                stamp(started if isinstance(started, int | float) else None) + "  ", style="dim"
            )
            text.append(f"{verdict:<17}", style=VERDICT_STYLE.get(verdict, ""))
            dur = entry.get("duration_ms")
            text.append(
                f"{duration(dur if isinstance(dur, int | float) else None):>8}  ", style="dim"
            )
            text.append(one_line(entry.get("error") or "", 120))
            text.append("\n")
        self.query_one("#history", Static).update(text)

    # ---------------------------------------------------------------- navigation

    def action_back(self) -> None:
        """Back (stops a running replay)."""
        self.app.pop_screen()

    def action_open_trace(self) -> None:
        """Open the original trace."""
        rid = self.watcher.link_of(self.capture)
        if rid is None:
            self.notify("The capture's trace is not in the logs.", markup=False)
            return
        from agenttui.ui.screens.trace_screen import TraceScreen

        self.app.push_screen(TraceScreen(self.watcher.session, rid))


__all__ = ["CapturesScreen", "ReplayScreen"]
