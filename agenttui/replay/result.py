"""The outcome of a replay: verdicts, the replay's own trace, the result record, and the judge
that compares the replay's error with the capture's.

The verdict compares error signatures (:func:`agenttui.model.signature.signature`): ``fixed``,
``reproduced``, ``different failure``, ``timeout``, ``agent crashed`` (or ``cancelled``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from agenttui.ingest.records import format_traceback
from agenttui.model.classify import classify
from agenttui.model.signature import signature
from agenttui.model.traces import Span
from agenttui.output.secrets import mask
from agenttui.replay.captures import Capture

if TYPE_CHECKING:
    from agenttui.replay.logs import LogCollector

FIXED: Final = "fixed"
REPRODUCED: Final = "reproduced"
DIFFERENT: Final = "different failure"
TIMEOUT: Final = "timeout"
CRASHED: Final = "agent crashed"
CANCELLED: Final = "cancelled"
NOT_REPRODUCED: Final = "not reproduced"
VERDICTS: Final = (FIXED, NOT_REPRODUCED, REPRODUCED, DIFFERENT, TIMEOUT, CRASHED)
FLAKY: Final = "flaky"
"""Repeated replays that did not all end the same way."""
TRANSIENT: Final = {"rate_limit": "rate limit", "timeout": "timeout", "cold_start": "cold start"}
"""Failure classes that come and go: a success after one of them proves little."""
_TRACEBACK_HEAD: Final = "Traceback (most recent call last):"
MAX_DIFF_LINES: Final = 400
"""Traceback lines compared per side (the last ones: they hold the error)."""

Progress = Callable[[str], None]

# ------------------------------------------------------------------------------ results


@dataclass(slots=True)
class ReplayTrace:
    """The replay's own logs, grouped: the trace that matches the capture best."""

    request_id: str | None = None
    status: str = "none"
    total_ms: float | None = None
    spans: list[Span] = field(default_factory=list)
    error: str | None = None
    exception: Any = None
    """The failing event's ``exception`` field (string or structlog ``dict_tracebacks``)."""
    events: int = 0
    lines: int = 0
    unparsed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For history files."""
        return {
            "request_id": self.request_id,
            "status": self.status,
            "duration_ms": self.total_ms,
            "events": self.events,
            "lines": self.lines,
            "error": self.error,
            "tools": [
                {"tool": s.tool, "status": s.status, "duration_ms": s.duration_ms, "error": s.error}
                for s in self.spans
                if s.kind == "tool"
            ],
            "llm_calls": [
                {
                    "model": s.tool,
                    "status": s.status,
                    "duration_ms": s.duration_ms,
                    "tokens": s.tokens,
                    "error": s.error,
                }
                for s in self.spans
                if s.kind == "llm"
            ],
        }


@dataclass(slots=True)
class Result:
    """The outcome of one replay."""

    capture: str
    request_id: str | None
    verdict: str
    started: float
    duration_ms: float
    target: str
    settings: dict[str, Any]
    error: str | None = None
    """The replay's error (None when it succeeded)."""
    traceback: str = ""
    original_error: str | None = None
    original_signature: str = ""
    signature: str = ""
    exit_code: int | None = None
    signal: str | None = None
    http_status: int | None = None
    answer: str = ""
    stdout: str = ""
    stdout_dropped: int = 0
    stderr: str = ""
    stderr_dropped: int = 0
    trace: ReplayTrace = field(default_factory=ReplayTrace)
    diff: str = ""
    note: str = ""
    reason: str = ""
    """Why the verdict is what it is, when it needs saying (``the failing step did not run``)."""
    transient: str | None = None
    """The original failure's class when it is transient (``rate limit``...)."""
    context_diff: list[dict[str, Any]] = field(default_factory=list)
    """Prod vs here: ``{"what", "prod", "here"}`` per difference (values masked)."""

    def summary(self) -> dict[str, Any]:
        """The ``replay --json`` object (mask it before printing: see
        :func:`agenttui.output.secrets.mask_fields`)."""
        return {
            "capture": self.capture,
            "request_id": self.request_id,
            "verdict": self.verdict,
            "duration_ms": round(self.duration_ms, 1),
            "error": self.error,
            "original_error": self.original_error,
            "reason": self.reason or None,
            "transient": self.transient,
            "context_diff": self.context_diff,
            "applied": {
                k: self.settings.get(k)
                for k in ("capture_env", "env", "cwd", "capture_cwd", "warnings")
            },
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, for the history file."""
        return {
            **self.summary(),
            "started": self.started,
            "target": self.target,
            "settings": self.settings,
            "traceback": self.traceback,
            "original_error": self.original_error,
            "original_signature": self.original_signature,
            "signature": self.signature,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "http_status": self.http_status,
            "answer": self.answer,
            "stdout": self.stdout,
            "stdout_dropped": self.stdout_dropped,
            "stderr": self.stderr,
            "stderr_dropped": self.stderr_dropped,
            "trace": self.trace.as_dict(),
            "diff": self.diff,
            "note": self.note,
        }


# ------------------------------------------------------------------------------ tracebacks


def format_exception(exception: Any) -> str:
    """A Python-style traceback from structlog ``dict_tracebacks`` output, or a string as is."""
    text = format_traceback(exception)
    return text + "\n" if text else ""


def last_traceback(text: str) -> str:
    """The last ``Traceback (most recent call last):`` block of a text, or ``""``."""
    at = text.rfind(_TRACEBACK_HEAD)
    if at < 0:
        return ""
    lines = text[at:].splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        out.append(line)
        if line and not line.startswith((" ", "\t")):
            break  # the "Type: message" line ends the block
    return "\n".join(out) + "\n"


def _error_of_traceback(tb: str) -> str | None:
    lines = [ln for ln in tb.splitlines() if ln.strip()]
    return lines[-1].strip() if len(lines) > 1 else None


def _strip_frames(tb: str) -> list[str]:
    """Traceback lines without source lines and caret markers (structlog's frames have none,
    so only the ``File`` lines and the error lines are compared)."""
    lines = [ln.rstrip() for ln in tb.splitlines() if ln.strip() and not ln.startswith("    ")]
    return lines[-MAX_DIFF_LINES:]


def error_diff(
    original_error: str | None, original_tb: str | None, new_error: str | None, new_tb: str
) -> str:
    """Unified diff of the capture's error and traceback against the replay's."""
    before = [f"error: {original_error or '(none)'}", *_strip_frames(original_tb or "")]
    after = [f"error: {new_error or '(none: it succeeded)'}", *_strip_frames(new_tb)]
    return "\n".join(
        difflib.unified_diff(before, after, "original (capture)", "replay", lineterm="", n=2)
    )


def judge(capture: Capture, result: Result, collector: LogCollector) -> None:
    """Settle the error, traceback, signatures, verdict and diff of a finished run."""
    trace = result.trace
    failed = result.verdict == DIFFERENT  # a failure still to compare
    if failed and result.error is None:
        result.error = _find_error(result, collector)
    if failed and not result.traceback:
        result.traceback = format_exception(trace.exception) or last_traceback(result.stderr)
        if not result.traceback and collector.last_error is not None:
            result.traceback = format_exception(collector.last_error[1].get("exception"))
    if result.verdict in (TIMEOUT, CRASHED) and not result.traceback:
        result.traceback = last_traceback(result.stderr)
    original = error_line(capture.error, capture.traceback)
    result.original_signature = signature(original or "")
    if result.error:
        result.signature = signature(error_line(result.error, result.traceback) or "")
    if failed:
        same = bool(result.original_signature) and result.signature == result.original_signature
        result.verdict = REPRODUCED if same else DIFFERENT
    if result.verdict == FIXED:
        _check_failing_step(capture, result)
    cls = classify(original, capture.traceback).cls.key
    result.transient = TRANSIENT.get(cls)
    if result.transient and result.verdict in (FIXED, NOT_REPRODUCED):
        note = (
            f"the original failure is transient ({result.transient}): a success here proves "
            "little; replay it again (--repeat)"
        )
        result.reason = f"{result.reason}; {note}" if result.reason else note
    if result.verdict != CANCELLED:
        # Masked as a whole text: a PEM block spans many diff lines.
        result.diff = mask(
            error_diff(
                capture.error,
                capture.traceback,
                result.error if result.verdict != FIXED else None,
                result.traceback,
            )
        )


def repeated(verdicts: list[str]) -> tuple[str, dict[str, int]]:
    """The verdict of repeated replays and the count of each: one verdict when all agree,
    else ``flaky`` (cancelled runs are left out)."""
    counts: dict[str, int] = {}
    for verdict in verdicts:
        if verdict != CANCELLED:
            counts[verdict] = counts.get(verdict, 0) + 1
    if not counts:
        return CANCELLED, counts
    return (next(iter(counts)) if len(counts) == 1 else FLAKY), counts


def describe_counts(counts: dict[str, int]) -> str:
    """``reproduced 3/5, fixed 2/5``."""
    total = sum(counts.values())
    return ", ".join(f"{v} {n}/{total}" for v, n in sorted(counts.items(), key=lambda x: -x[1]))


def error_line(error: str | None, traceback: str | None) -> str | None:
    """The error to compare: a capture written as ``"error": str(e)`` holds only the message,
    and its traceback's last line ``Type: message`` says the rest."""
    last = _error_of_traceback(traceback or "")
    if not error:
        return last
    if last and last != error and last.endswith(": " + error.strip()):
        return last
    return error


def _check_failing_step(capture: Capture, result: Result) -> None:
    """``fixed`` only when the tool that failed in production ran here and succeeded."""
    tool = capture.failed_tool
    if not tool:
        return
    trace = result.trace
    tool_spans = [sp for sp in trace.spans if sp.kind == "tool"]
    if not tool_spans and not trace.events:
        # Success without evidence is not a fix: the on-call engineer would stop looking.
        result.verdict = NOT_REPRODUCED
        result.reason = f"the replay logged no tool calls: it cannot show that {tool} ran"
        return
    calls = [sp for sp in tool_spans if sp.tool == tool]
    if not calls:
        result.verdict = NOT_REPRODUCED
        result.reason = f"the failing step did not run ({tool} was not called)"
    elif not any(sp.status == "ok" for sp in calls):
        result.verdict = NOT_REPRODUCED
        result.reason = f"the failing step did not succeed ({tool}: {calls[-1].status})"


def _find_error(result: Result, collector: LogCollector) -> str:
    if result.trace.error:
        return result.trace.error
    if collector.last_error is not None:
        obj = collector.last_error[1]
        err = obj.get("error")
        if isinstance(err, str) and err:
            return err
        found = _error_of_traceback(format_exception(obj.get("exception")))
        if found:
            return found
    tb_error = _error_of_traceback(last_traceback(result.stderr))
    if tb_error:
        return tb_error
    for line in reversed(result.stderr.splitlines() or collector.text):
        if line.strip():
            return line.strip()[:500].removeprefix("error: ")
    return f"exit code {result.exit_code}"


__all__ = [
    "CANCELLED",
    "CRASHED",
    "DIFFERENT",
    "FIXED",
    "FLAKY",
    "NOT_REPRODUCED",
    "REPRODUCED",
    "TIMEOUT",
    "TRANSIENT",
    "VERDICTS",
    "Progress",
    "ReplayTrace",
    "Result",
    "describe_counts",
    "error_diff",
    "error_line",
    "format_exception",
    "judge",
    "last_traceback",
    "repeated",
]
