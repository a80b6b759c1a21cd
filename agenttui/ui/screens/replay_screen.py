"""One capture replayed against the local agent (``r``): what failed, what the replay applied
(environment and cwd, values masked), its progress, verdict, both traces side by side, the
error/traceback diff and the replay history.

The replay runs in a thread worker; progress and the outcome arrive as messages. ``esc`` during
a replay cancels it at once (every process it started is killed); ``esc`` again goes back.
Leaving the screen or quitting cancels it too. Every capture string is untrusted: it is cleaned,
masked and put into ``Text`` objects, never markup.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from agenttui.config import ConfigError
from agenttui.model.traces import Span
from agenttui.replay import history
from agenttui.replay import runner as replay
from agenttui.replay.captures import Capture
from agenttui.ui.format import duration, one_line, safe, stamp
from agenttui.ui.widgets.replay_texts import (
    SHOWN,
    VERDICT_MARK,
    VERDICT_MEANING,
    VERDICT_STYLE,
    applied_text,
    context_text,
    diff_text,
    spans_text,
)

if TYPE_CHECKING:
    from agenttui.ui.capture_watch import CaptureWatcher

MAX_PROGRESS_LINES = 200
REPEAT = 5
"""Replays run by ``R`` (a flaky failure shows as counts: reproduced 3/5)."""


class ReplayScreen(Screen[None]):
    """One capture: what failed, its replay history, and a replay against the local agent."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back / cancel"),
        Binding("r", "replay", "Replay"),
        Binding("R", "replay_many", f"×{REPEAT}"),
        Binding("y", "confirm", "Yes, run", show=False),
        Binding("o", "open_trace", "Trace"),
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
    ReplayScreen #context { height: auto; padding: 0 1; border-top: solid $primary-muted; }
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
        self._pending: replay.Settings | None = None
        self._repeat = 1
        """Settings shown for confirmation (``r``), run by ``y``."""
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
            yield Static(id="context")
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
        text.append(one_line((cap.query or "(none)")[:SHOWN], 500))
        text.append("\nerror: ", style="bold red")
        text.append(one_line((cap.error or "(none)")[:SHOWN], 500), style="red")
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
                return spans_text(
                    "original (production)",
                    session.index.spans(trace),
                    trace.total_ms,
                    session.index.error_text(trace),
                    trace.status,
                )
        spans = []
        if self.capture.failed_tool:
            spans = [Span(self.capture.failed_tool, "error", None, None, self.capture.error)]
        return spans_text(
            "original (capture; trace not in the logs)", spans, None, self.capture.error, "error"
        )

    # ---------------------------------------------------------------- replay

    def action_replay_many(self) -> None:
        """``R``: replay :data:`REPEAT` times (asks first, like ``r``)."""
        self.action_replay(REPEAT)

    def action_replay(self, repeat: int = 1) -> None:
        """Ask before replaying: the agent runs with production input. ``y`` runs it (a key no
        pasted line of text can press by accident: a paste arrives as one event)."""
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
        self._pending = settings
        self._repeat = repeat
        _env, _cwd, applied = replay.child_env(self.capture, settings)
        times = f" {repeat} times" if repeat > 1 else ""
        text = Text(f"Replay this capture{times} with production input?  y: run  esc: no", end="")
        text.stylize("bold yellow")
        text.append("\ntarget: ", style="dim")
        text.append(safe(settings.target.describe()))
        text.append(f"  timeout {settings.timeout:g} s", style="dim")
        text.append_text(applied_text(applied))
        self.query_one("#verdict", Static).update(text)

    def action_confirm(self) -> None:
        """``y`` after ``r``: run the replay that was shown."""
        settings, self._pending = self._pending, None
        if settings is None or self.running:
            return
        self.running = True
        self._stop = threading.Event()
        self._progress = []
        _env, _cwd, applied = replay.child_env(self.capture, settings)
        text = Text("replaying…  esc: cancel", style="bold yellow", end="")
        text.append("\ntarget: ", style="dim")
        text.append(safe(settings.target.describe()))
        text.append_text(applied_text(applied))
        self.query_one("#verdict", Static).update(text)
        self._run(settings, self._repeat)

    @work(thread=True, exclusive=True, exit_on_error=False, group="replay")
    def _run(self, settings: replay.Settings, repeat: int) -> None:
        """Thread: run the replay (``repeat`` times), stream progress, save the history."""
        stop = self._stop

        def progress(line: str) -> None:
            self.post_message(self.Progressed(line))

        verdicts: list[str] = []
        result: replay.Result | None = None
        for n in range(repeat):
            if stop.is_set():
                break
            if repeat > 1:
                progress(f"run {n + 1}/{repeat}")
            try:
                result = replay.replay(self.capture, settings, progress=progress, stop=stop)
            except (replay.TargetError, ValueError, OSError) as exc:
                self.post_message(self.Finished(None, str(exc)))
                return
            verdicts.append(result.verdict)
            if result.verdict != replay.CANCELLED:
                try:
                    history.save(self.watcher.options.history_dir(), self.capture, result.as_dict())
                except history.HistoryError as exc:
                    result.note = str(exc)
        if result is None:
            return
        if repeat > 1:
            verdict, counts = replay.repeated(verdicts)
            if verdict != replay.CANCELLED:
                result.verdict = verdict
                result.reason = "; ".join(
                    x for x in (replay.describe_counts(counts), result.reason) if x
                )
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
        if message.result is not None and message.result.verdict == replay.CANCELLED:
            return  # already said
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
        if result.reason:
            text.append("\nwhy: ", style="bold")
            text.append(one_line(result.reason[:SHOWN], 300))
        text.append("\ntarget: ", style="dim")
        text.append(safe(result.target))
        text.append_text(applied_text(result.settings))
        if result.error:
            text.append("\nnew error: ", style="bold red")
            text.append(one_line(result.error[:SHOWN], 500), style="red")
        elif result.answer:
            text.append("\nanswer: ", style="bold green")
            text.append(one_line(result.answer[:SHOWN].strip(), 500))
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
            spans_text(
                "replay (local)",
                tr.spans,
                tr.total_ms if tr.total_ms is not None else result.duration_ms,
                result.error,
                tr.status
                if tr.events
                else ("ok" if result.verdict in (replay.FIXED, replay.NOT_REPRODUCED) else "error"),
            )
        )
        self.query_one("#context", Static).update(context_text(result.context_diff))
        self.query_one("#diff", Static).update(diff_text(result.diff))
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
            text.append(one_line(str(entry.get("error") or "")[:SHOWN], 120))
            text.append("\n")
        self.query_one("#history", Static).update(text)

    # ---------------------------------------------------------------- navigation

    def action_back(self) -> None:
        """Cancel a running replay at once (its processes are killed), or the confirmation;
        else go back."""
        if self.running:
            self.cancel()
            return
        if self._pending is not None:
            self._pending = None
            self.query_one("#verdict", Static).update(Text("replay not run", style="dim"))
            return
        self.app.pop_screen()

    def cancel(self) -> None:
        """Stop the running replay now: the worker sees the flag within a tenth of a second and
        kills everything it started; the screen says so at once."""
        self._stop.set()
        self.running = False
        self.query_one("#verdict", Static).update(
            Text("· CANCELLED  the replay's processes were killed", style="dim")
        )

    def action_open_trace(self) -> None:
        """Open the original trace."""
        rid = self.watcher.link_of(self.capture)
        if rid is None:
            self.notify("The capture's trace is not in the logs.", markup=False)
            return
        from agenttui.ui.screens.trace_screen import TraceScreen

        self.app.push_screen(TraceScreen(self.watcher.session, rid))


__all__ = ["VERDICT_MARK", "VERDICT_MEANING", "VERDICT_STYLE", "ReplayScreen"]
