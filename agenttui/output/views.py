"""Plain data views of the index for the headless commands (``traces``, ``stats``, ``watch``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from agenttui.model.traces import Trace, TraceIndex


def iso(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with the log's precision: microseconds when the time has
    them (``2026-11-26T08:24:50.123456Z``), else milliseconds (``2026-11-26T08:24:50.123Z``);
    None for None and for a time no date can hold."""
    # Rounded to the nearest microsecond, half to even, as datetime.fromtimestamp rounds
    # (tests/test_watch.py checks them against each other); the date and time of the whole
    # second are formatted once per second seen, as watch prints thousands of times a second.
    if ts is None:
        return None
    if 0.0 <= ts < _YEAR_9999:  # x - int(x) is exact for such x
        second = int(ts)
        us = round((ts - second) * 1e6)
        if us == 1_000_000:
            us = 0
            second += 1
    else:
        try:
            fraction, whole = math.modf(ts)
            us = round(fraction * 1e6)
            second = int(whole)
        except (OverflowError, ValueError):  # infinite, NaN
            return None
        if us >= 1_000_000:
            us -= 1_000_000
            second += 1
        elif us < 0:
            us += 1_000_000
            second -= 1
    prefix = _SECONDS.get(second)
    if prefix is None:
        prefix = _second(second)
        if prefix is None:
            return None
    ms, rest = divmod(us, 1000)
    if rest:
        return prefix + _DIGITS[ms] + _DIGITS[rest] + "Z"
    return prefix + _DIGITS[ms] + "Z"


def _second(second: int) -> str | None:
    """``YYYY-mm-ddTHH:MM:SS.`` of a whole second (remembered), None when out of range."""
    try:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    except (OverflowError, OSError, ValueError):
        return None
    if len(_SECONDS) >= _SECONDS_KEPT:
        _SECONDS.clear()
    _SECONDS[second] = prefix
    return prefix


_YEAR_9999: Final = 253402300799.0
"""The last whole second of year 9999 (past it, no date)."""
_SECONDS: dict[int, str] = {}
"""The formatted date and time of recently seen whole seconds."""
_SECONDS_KEPT: Final = 4096
_DIGITS: Final = tuple(f"{n:03d}" for n in range(1000))


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
    for name, status, start, duration, error, loc, kind, tokens in index.spans(trace):
        if kind == "llm":
            obj: dict[str, Any] = {
                "model": name,
                "status": status,
                "start": iso(start),
                "duration_ms": None if duration is None else round(duration, 3),
                "tokens": tokens,
                "error": error,
            }
            if source is not None:
                obj["source"] = None if loc is None else source(loc)
            llm_calls.append(obj)
            continue
        obj = {
            "tool": name,
            "status": status,
            "start": iso(start),
            "duration_ms": None if duration is None else round(duration, 3),
            "error": error,
        }
        if source is not None:
            obj["source"] = None if loc is None else source(loc)
        tools.append(obj)
    start, end, total_ms = trace.times()
    return {
        "request_id": trace.request_id,
        "status": trace.status,
        "start": iso(start),
        "end": iso(end),
        "duration_ms": None if total_ms is None else round(total_ms, 3),
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


def log_texts(obj: dict[str, Any]) -> str:
    """The values of a :func:`trace_dict` object that come from the logs (request id, query,
    errors, tool and model names, sources), one a line: the rest are numbers, statuses and
    times made here, and no key names a secret, so when this text cannot hold a secret
    (:func:`agenttui.output.secrets.may_hold_secrets`) masking would change nothing."""
    parts = [obj["request_id"], obj["query"] or "", obj["error"] or "", *obj["models"]]
    for span in obj["tools"]:
        parts.append(span["tool"])
        parts.append(span["error"] or "")
        parts.append(span.get("source") or "")
    for call in obj["llm_calls"]:
        parts.append(call["model"])
        parts.append(call["error"] or "")
        parts.append(call.get("source") or "")
    return "\n".join(parts)


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
