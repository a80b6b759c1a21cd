"""Incident notes: one trace as Markdown (timeline, failing tool, error, traceback, failure
class and its fix, replay verdicts) or as JSON with all its events.

Used by ``agenttui report REQUEST_ID [PATH...]`` and by the TUI (``i`` writes a note, ``y``
copies the JSON). Secret-looking values are masked before anything leaves the process.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agenttui.ingest.records import Kind, format_traceback
from agenttui.model.classify import Classification
from agenttui.model.drift import drifted_requests
from agenttui.model.events import Event
from agenttui.model.traces import Trace
from agenttui.model.triage import classify_trace, cold_starts
from agenttui.output import secrets
from agenttui.output.sanitize import clean
from agenttui.output.views import iso, trace_dict
from agenttui.session import Session
from agenttui.state import StateDirError, open_dir, write_new

ReplayHook = Callable[[str], list[dict[str, Any]]]
"""Given a request id, the replay verdicts to list in the note (the replay feature plugs in)."""

mask_text = secrets.mask
"""Secret-looking values in a text masked (:func:`agenttui.output.secrets.mask`)."""
mask = secrets.mask_fields
"""A JSON value with secrets masked (:func:`agenttui.output.secrets.mask_fields`)."""


def traceback_plain(exception: Any) -> str | None:
    """The traceback of an ``exception`` field as plain text, or None when there is none."""
    return format_traceback(exception) or None


def failing_event(events: list[Event]) -> Event | None:
    """The event that explains the failure: the first failed tool call, else the request's
    failure, else the first error-level event."""
    for kinds in ((Kind.TOOL_FAIL,), (Kind.REQUEST_FAIL,)):
        for event in events:
            if event.record.kind in kinds:
                return event
    return next((e for e in events if e.record.is_error), None)


def explain(session: Session, trace: Trace, events: list[Event]) -> Classification | None:
    """The failure class of a trace, using the failing event's traceback when there is one."""
    failing = failing_event(events)
    tb = traceback_plain(failing.exception) if failing is not None else None
    with session.read():
        cold = set(cold_starts(session.index))
        drift = drifted_requests(session.index)
        return classify_trace(session.index, trace, tb, cold=cold, drift=drift)


def _event_json(event: Event) -> Any:
    if event.data is not None:
        return event.data
    if event.raw is None:
        return {"raw": None, "note": "the line is gone (truncated or rotated away)"}
    return {"raw": event.raw.decode("utf-8", "backslashreplace")}


def incident_dict(
    session: Session, trace: Trace, replay: ReplayHook | None = None
) -> dict[str, Any]:
    """The whole trace as JSON: the ``traces --json`` fields, ``failure_class``,
    ``full_events`` (every event as logged; raw lines as ``{"raw": ...}``) and ``replay``
    (secrets masked)."""
    events = session.events(trace)
    with session.read():
        out = trace_dict(session.index, trace)
    found = explain(session, trace, events)
    out["failure_class"] = (
        None
        if found is None
        else {
            "class": found.cls.key,
            "title": found.cls.title,
            "evidence": found.evidence,
            "explanation": found.cls.explanation,
            "fix": found.cls.fix,
        }
    )
    out["full_events"] = [_event_json(e) for e in events]
    out["replay"] = replay(trace.request_id) if replay is not None else []
    masked = mask(out)
    assert isinstance(masked, dict)
    return masked


def _offset(ts: float | None, start: float | None) -> str:
    if ts is None or start is None or not math.isfinite(ts - start):
        return "?"
    return f"+{(ts - start) * 1000:.1f} ms"


def _took(ms: float | None) -> str:
    return "?" if ms is None else f"{ms:g} ms"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _verdict_line(entry: Any) -> str:
    if not isinstance(entry, dict):
        return _cell(entry)
    if "problem" in entry:
        return f"(history not read: {_cell(entry['problem'])})"
    started = entry.get("started")
    when = iso(started) if isinstance(started, int | float) else None
    line = f"**{_cell(entry.get('verdict') or '?')}**"
    if when:
        line = f"{when}: {line}"
    duration = entry.get("duration_ms")
    if isinstance(duration, int | float):
        line += f" in {duration:g} ms"
    if entry.get("error"):
        line += f", error `{_cell(entry['error'])}`"
    if entry.get("reason"):
        line += f" ({_cell(entry['reason'])})"
    return line


def incident_markdown(session: Session, trace: Trace, replay: ReplayHook | None = None) -> str:
    """A Markdown incident note for one trace (secrets masked; control characters from the
    logs made visible, so that printing it to a terminal is safe)."""
    data = incident_dict(session, trace, replay)
    events = session.events(trace)
    failing = failing_event(events)
    lines = [f"# Incident: request {data['request_id']}", ""]
    duration = data["duration_ms"]
    lines += [
        f"- status: **{data['status']}**",
        f"- started: {data['start'] or 'unknown'}, ended: {data['end'] or 'unknown'}"
        f", took {_took(duration)}",
        f"- query: {_cell(data['query'] or '(none)')}",
        f"- tool calls: {data['tool_calls']}, failed: {data['tool_errors']}, "
        f"events: {data['events']}",
    ]
    llm_calls = data["llm_calls"]
    if llm_calls or data["models"] or data["tokens"] is not None:
        failed_llm = sum(1 for c in llm_calls if c["status"] == "error")
        tokens = "not logged" if data["tokens"] is None else f"{data['tokens']:,}"
        lines.append(
            f"- LLM calls: {len(llm_calls)}, failed: {failed_llm}, models: "
            f"{_cell(', '.join(data['models']) or 'not logged')}, tokens: {tokens}"
        )
    failed_tools = [t for t in data["tools"] if t["status"] == "error"]
    failed_calls = [c for c in llm_calls if c["status"] == "error"]
    if failed_tools:
        t = failed_tools[0]
        lines.append(f"- failing tool: **{_cell(t['tool'])}** ({_took(t['duration_ms'])})")
    elif failed_calls:
        c = failed_calls[0]
        lines.append(f"- failing LLM call: **{_cell(c['model'])}** ({_took(c['duration_ms'])})")
    if data["error"] or failed_tools:
        error = failed_tools[0]["error"] if failed_tools else data["error"]
        lines.append(f"- error: `{_cell(mask_text(str(error)))}`")
    fc = data["failure_class"]
    if fc is not None:
        lines += [
            "",
            f"## Failure class: {fc['title']}",
            "",
            f"Why this class: {fc['evidence']}.",
            "",
            fc["explanation"],
            "",
            f"**Fix:** {fc['fix']}",
        ]
    lines += [
        "",
        "## Timeline",
        "",
        "| time (UTC) | offset | event | tool | took | error |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    start = trace.start_or_none
    for event in events:
        rec = event.record
        if event.is_raw:
            lines.append(f"| | | (not JSON) | | | {_cell(mask_text(repr(event.raw)[:80]))} |")
            continue
        took = "" if rec.duration_ms is None else f"{rec.duration_ms:g} ms"
        lines.append(
            f"| {iso(rec.ts) or '?'} | {_offset(rec.ts, start)} "
            f"| {_cell(rec.message or rec.level or '')} | {_cell(rec.tool or rec.model or '')} "
            f"| {took} | {_cell(mask_text(rec.error or ''))} |"
        )
    lines += ["", "## Tool calls", ""]
    for t in data["tools"]:
        took = _took(t["duration_ms"])
        mark = {"ok": "ok", "error": "FAILED", "running": "running"}.get(t["status"], t["status"])
        line = f"- {_cell(t['tool'])}: {mark}, {took}"
        if t["error"]:
            line += f": `{_cell(mask_text(t['error']))}`"
        lines.append(line)
    if not data["tools"]:
        lines.append("(none)")
    if llm_calls:
        lines += ["", "## LLM calls", ""]
        for c in llm_calls:
            mark = {"ok": "ok", "error": "FAILED", "running": "running"}.get(
                c["status"], c["status"]
            )
            line = f"- {_cell(c['model'])}: {mark}, {_took(c['duration_ms'])}"
            if c["tokens"] is not None:
                line += f", {c['tokens']:,} tokens"
            if c["error"]:
                line += f": `{_cell(mask_text(c['error']))}`"
            lines.append(line)
    tb = traceback_plain(failing.exception) if failing is not None else None
    if tb:
        lines += ["", "## Traceback", "", "```text", mask_text(tb).replace("```", "'''"), "```"]
    lines += ["", "## Replay verdicts", ""]
    if data["replay"]:
        for verdict in data["replay"]:
            lines.append(f"- {_verdict_line(verdict)}")
    else:
        lines.append("(no replay of this request yet)")
    if failing is not None and failing.data is not None:
        lines += ["", "## Failing event", "", f"`{_cell(failing.file)}` at byte {failing.offset}"]
    lines.append("")
    # Masked as a whole text too: event messages, queries and multi-line values.
    return clean(mask_text("\n".join(lines)), multiline=True)


class NoteError(Exception):
    """The note cannot be written (one line)."""


def write_note(text: str, request_id: str, state_root: Path, watched: Sequence[str]) -> Path:
    """Write an incident note into ``STATE/notes`` (0600, ``O_EXCL``: a new file every time,
    never through a symlink) and return its path.

    Raises:
        NoteError: The state directory cannot be trusted or written, or it lies inside a
            watched log directory (agenttui would read its own note back).
    """
    folder = state_root / "notes"
    real = os.path.realpath(folder)
    for root in watched:
        top = os.path.realpath(root)
        if real == top or real.startswith(top.rstrip(os.sep) + os.sep):
            raise NoteError(
                f"{folder}: inside the watched directory {root}; use --state-dir elsewhere"
            )
    name = "incident-" + re.sub(r"[^A-Za-z0-9_.-]", "_", request_id)[:80] + ".md"
    try:
        with open_dir(state_root, "notes") as fd:
            used = write_new(fd, name, text.encode("utf-8", "backslashreplace"))
    except StateDirError as exc:
        raise NoteError(f"cannot write the note: {exc}") from None
    except OSError as exc:
        raise NoteError(f"{folder}: cannot write the note: {exc.strerror or exc}") from None
    return folder / used


__all__ = [
    "NoteError",
    "ReplayHook",
    "explain",
    "failing_event",
    "incident_dict",
    "incident_markdown",
    "mask",
    "mask_text",
    "traceback_plain",
    "write_note",
]
