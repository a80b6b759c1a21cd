"""Live statistics over a moving window of a :class:`~agenttui.model.traces.TraceIndex`:
per-tool calls, errors and percentiles, event and error rates, the slowest requests; and per
model (over the whole log) LLM calls, errors, percentiles, tokens.

"Now" is the newest timestamp in the logs (not the wall clock), as in :mod:`agenttui.model.triage`.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from agenttui.model.traces import (
    FAILED,
    MODEL_BASE,
    RUNNING,
    ModelStats,
    TraceIndex,
    percentile,
)
from agenttui.model.triage import RECENT_S, latest_time


@dataclass(slots=True)
class ToolWindow:
    """One tool over the moving window."""

    tool: str
    calls: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    calls_series: list[int] = field(default_factory=list)
    errors_series: list[int] = field(default_factory=list)
    p95_series: list[float] = field(default_factory=list)
    """p95 latency per bucket (0 where the bucket has no call)."""

    @property
    def error_rate(self) -> float:
        """Errors / calls (0 without calls)."""
        return self.errors / self.calls if self.calls else 0.0


@dataclass(slots=True)
class SlowTrace:
    """One of the slowest traces."""

    request_id: str
    duration_ms: float
    status: str
    start: float | None
    query: str | None


@dataclass(slots=True)
class LiveStats:
    """Statistics over a moving window ending at the newest timestamp."""

    start: float
    end: float
    bucket_s: float
    tools: list[ToolWindow]
    """Worst error rate first, then by name."""
    events_per_s: list[float]
    """Request, tool-call and LLM-call events (starts and ends) per second, per bucket."""
    errors_per_s: list[float]
    """Failed tool calls, LLM calls and requests per second, per bucket."""
    requests: int
    failed: int
    slowest: list[SlowTrace]
    models: dict[str, ModelStats] = field(default_factory=dict)
    """Per model, over the whole log (not only the window): LLM calls, errors, tokens."""


def live_stats(
    index: TraceIndex,
    *,
    window_s: float = RECENT_S,
    buckets: int = 60,
    now: float | None = None,
    slowest: int = 10,
) -> LiveStats:
    """Per-tool calls, errors and percentiles over the last ``window_s`` seconds, and rates.

    The window shrinks to the time the logs really cover (so that a short log still fills the
    sparklines). Events here are the request and tool-call starts and ends the index knows
    the time of.
    """
    if now is None:
        now = latest_time(index)
    buckets = max(1, buckets)
    if now is None:
        empty = [0.0] * buckets
        return LiveStats(0.0, 0.0, 0.0, [], empty, list(empty), 0, 0, [], index.model_stats())
    lo = now - window_s
    earliest = now
    for t in index.traces.values():
        if not math.isnan(t.start) and lo <= t.start < earliest:
            earliest = t.start
    start = max(lo, earliest)
    span = max(now - start, 1e-3)
    width = span / buckets
    events = [0] * buckets
    errors = [0] * buckets
    per_tool: dict[str, tuple[list[float], list[int], list[int], list[list[float]]]] = {}
    tools = index.tools.names
    requests = failed = 0
    slow: list[tuple[float, str]] = []

    def slot(ts: float) -> int:
        return min(buckets - 1, max(0, int((ts - start) / width)))

    for t in index.traces.values():
        last = t.last
        if not last >= start:
            continue
        if t.start >= start:
            requests += 1
            events[slot(t.start)] += 1
        end = t.end
        if end >= start:
            events[slot(end)] += 1
            if t.status == "error":
                failed += 1
                errors[slot(end)] += 1
        total = t.total_ms
        if total is not None and t.start >= start:
            slow.append((total, t.request_id))
        for tool_id, status, s_start, duration, _error, _tokens in t.all_span_rows():
            if s_start == s_start and s_start >= start:
                events[slot(s_start)] += 1
            if status == RUNNING:
                continue
            s_end = s_start + (duration / 1000.0 if duration == duration else 0.0)
            if not s_end >= start:
                continue
            b = slot(s_end)
            events[b] += 1
            if tool_id >= MODEL_BASE:  # an LLM call: in the rates, and per model below
                if status == FAILED:
                    errors[b] += 1
                continue
            entry = per_tool.get(tools[tool_id])
            if entry is None:
                entry = per_tool[tools[tool_id]] = (
                    [],
                    [0] * buckets,
                    [0] * buckets,
                    [[] for _ in range(buckets)],
                )
            entry[1][b] += 1
            if status == FAILED:
                entry[2][b] += 1
                errors[b] += 1
            if duration == duration:
                entry[0].append(duration)
                entry[3][b].append(duration)
    out_tools = []
    for name, (durations, calls, errs, per_bucket) in per_tool.items():
        durations.sort()
        out_tools.append(
            ToolWindow(
                name,
                sum(calls),
                sum(errs),
                percentile(durations, 50),
                percentile(durations, 95),
                percentile(durations, 99),
                calls,
                errs,
                [percentile(sorted(b), 95) or 0.0 for b in per_bucket],
            )
        )
    out_tools.sort(key=lambda w: (-w.error_rate, w.tool))
    top = heapq.nlargest(slowest, slow)
    traces = index.traces
    slowest_out = [
        SlowTrace(rid, ms, traces[rid].status, traces[rid].start_or_none, traces[rid].query)
        for ms, rid in top
    ]
    return LiveStats(
        start,
        now,
        width,
        out_tools,
        [n / width for n in events],
        [n / width for n in errors],
        requests,
        failed,
        slowest_out,
        index.model_stats(),
    )


__all__ = ["LiveStats", "SlowTrace", "ToolWindow", "live_stats"]
