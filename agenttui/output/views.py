"""Plain data views of the index for the headless commands (``traces``, ``stats``, ``watch``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agenttui.model.traces import Trace, TraceIndex


def iso(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with the log's precision: microseconds when the time has
    them (``2026-11-26T08:24:50.123456Z``), else milliseconds (``2026-11-26T08:24:50.123Z``)."""
    if ts is None:
        return None
    try:
        dt = datetime.fromtimestamp(ts, UTC)  # rounded to the nearest microsecond
    except (OverflowError, OSError, ValueError):
        return None
    us = dt.microsecond
    fraction = f"{us // 1000:03d}" if us % 1000 == 0 else f"{us:06d}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def trace_dict(
    index: TraceIndex, trace: Trace, source: Callable[[int], str] | None = None
) -> dict[str, Any]:
    """The ``traces --json`` object of one trace.

    Args:
        index: The index the trace belongs to.
        trace: The trace.
        source: Gives where the event at a location ran (host or file name); each tool span
            then has a ``source``.
    """
    tools: list[dict[str, Any]] = []
    llm_calls: list[dict[str, Any]] = []
    for s in index.spans(trace):
        llm = s.kind == "llm"
        obj: dict[str, Any] = {
            "model" if llm else "tool": s.tool,
            "status": s.status,
            "start": iso(s.start),
            "duration_ms": _ms(s.duration_ms),
        }
        if llm:
            obj["tokens"] = s.tokens
        obj["error"] = s.error
        if source is not None:
            obj["source"] = None if s.loc is None else source(s.loc)
        (llm_calls if llm else tools).append(obj)
    return {
        "request_id": trace.request_id,
        "status": trace.status,
        "start": iso(trace.start_or_none),
        "end": iso(trace.end_or_none),
        "duration_ms": _ms(trace.total_ms),
        "query": trace.query,
        "events": trace.events,
        "tool_calls": trace.tool_calls,
        "tool_errors": trace.tool_errors,
        "error": index.error_text(trace),
        "tools": tools,
        "models": index.trace_models(trace),
        "tokens": trace.total_tokens,
        "llm_calls": llm_calls,
    }


def stats_dict(index: TraceIndex) -> dict[str, Any]:
    """The ``stats --json`` object."""
    return {
        "lines": index.lines,
        "events": index.events,
        "unparsed_lines": index.unparsed_lines,
        "traces": len(index),
        "traces_by_status": index.status_counts(),
        "tools": {
            name: {
                "calls": s.calls,
                "running": s.running,
                "errors": s.errors,
                "p50_ms": _ms(s.p50_ms),
                "p95_ms": _ms(s.p95_ms),
                "p99_ms": _ms(s.p99_ms),
                "max_ms": _ms(s.max_ms),
            }
            for name, s in index.tool_stats().items()
        },
        "models": {
            name: {
                "calls": s.calls,
                "running": s.running,
                "errors": s.errors,
                "p50_ms": _ms(s.p50_ms),
                "p95_ms": _ms(s.p95_ms),
                "p99_ms": _ms(s.p99_ms),
                "max_ms": _ms(s.max_ms),
                "tokens": s.tokens,
                "first_seen": iso(s.first_seen),
                "last_seen": iso(s.last_seen),
            }
            for name, s in index.model_stats().items()
        },
    }
