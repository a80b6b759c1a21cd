"""Triage over a :class:`~agenttui.model.traces.TraceIndex`: error groups, live statistics,
cold starts.

Every function here reads the index only; callers that share it with an ingest thread hold the
session's lock while calling. "Now" is the newest timestamp in the logs (not the wall clock), so
that old logs and live ones read the same way and results do not depend on when they are looked
at.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from agenttui.model.classify import Classification, FailureClass, classify
from agenttui.model.retention import occurrences
from agenttui.model.signature import signature
from agenttui.model.traces import FAILED, RUNNING, Trace, TraceIndex, percentile

RECENT_S: Final = 15 * 60.0
"""Groups are ordered by their occurrences in this last window."""


def latest_time(index: TraceIndex) -> float | None:
    """The newest timestamp of any trace (None when no trace has one)."""
    best = -math.inf
    for t in index.traces.values():
        last = t.last
        if last > best:  # False for NaN
            best = last
    return None if best == -math.inf else best


# ------------------------------------------------------------------ error groups


@dataclass(slots=True)
class ErrorGroup:
    """Failures with one signature."""

    signature: str
    example: str
    """One error text of the group, as logged."""
    cls: FailureClass
    evidence: str
    """Why that class (the rule that matched)."""
    count: int = 0
    recent: int = 0
    """Occurrences in the last :data:`RECENT_S` seconds before "now"."""
    first_seen: float | None = None
    last_seen: float | None = None
    tools: Counter[str] = field(default_factory=Counter)
    """Occurrences per failing tool (``""`` for a request that failed outside a tool)."""
    times: list[float] = field(default_factory=list)
    """Time of each occurrence that has one, ascending."""
    request_ids: list[str] = field(default_factory=list)
    """Distinct request ids, oldest occurrence first."""

    @property
    def newest_request_id(self) -> str | None:
        """The request id of the newest occurrence."""
        return self.request_ids[-1] if self.request_ids else None

    def histogram(self, start: float, end: float, buckets: int) -> list[int]:
        """Occurrences in ``buckets`` equal slices of ``[start, end]`` (for a sparkline)."""
        return histogram(self.times, start, end, buckets)


def histogram(times: list[float], start: float, end: float, buckets: int) -> list[int]:
    """Counts of sorted ``times`` in ``buckets`` equal slices of ``[start, end]``."""
    buckets = max(1, buckets)
    out = [0] * buckets
    width = (end - start) / buckets
    if width <= 0:
        if times:
            out[-1] = len(times) - bisect_left(times, start)
        return out
    for ts in times[bisect_left(times, start) :]:
        if ts > end:
            break
        out[min(buckets - 1, int((ts - start) / width))] += 1
    return out


_occurrences = occurrences


def error_groups(
    index: TraceIndex,
    *,
    now: float | None = None,
    recent_s: float = RECENT_S,
    cold: set[str] | None = None,
) -> list[ErrorGroup]:
    """Failures grouped by :func:`agenttui.model.signature.signature`.

    A failed tool call is one occurrence (a request whose call failed and was retried counts
    too); a failed request without a failed tool call is one occurrence of its own error.

    Args:
        index: The traces.
        now: End of the "recent" window (default: the newest timestamp in the index).
        recent_s: Length of the recent window.
        cold: Request ids of cold starts (see :func:`cold_starts`): their groups are
            classified with that in mind.

    Returns:
        The groups, most occurrences in the recent window first, then most occurrences,
        then most recently seen.
    """
    if now is None:
        now = latest_time(index)
    since = -math.inf if now is None else now - recent_s
    sigs: dict[str, str] = {}
    groups: dict[str, ErrorGroup] = {}
    for trace in index.traces.values():
        if not trace.tool_errors and trace.status != "error":
            continue
        rid = trace.request_id
        for error, tool, when in _occurrences(index, trace):
            sig = sigs.get(error)
            if sig is None:
                sig = sigs[error] = signature(error) or error[:200]
            group = groups.get(sig)
            if group is None:
                found = classify(error, cold_start=cold is not None and rid in cold)
                group = groups[sig] = ErrorGroup(sig, error, found.cls, found.evidence)
            group.count += 1
            group.tools[tool] += 1
            if when is not None:
                group.times.append(when)
                if when >= since:
                    group.recent += 1
                if group.first_seen is None or when < group.first_seen:
                    group.first_seen = when
                if group.last_seen is None or when > group.last_seen:
                    group.last_seen = when
            group.request_ids.append(rid)
    for error, tool, count, times in index.dropped_failures:  # traces dropped from memory
        sig = sigs.get(error)
        if sig is None:
            sig = sigs[error] = signature(error) or error[:200]
        group = groups.get(sig)
        if group is None:
            found = classify(error)
            group = groups[sig] = ErrorGroup(sig, error, found.cls, found.evidence)
        group.count += count
        group.tools[tool] += count
        group.times.extend(times)
        group.recent += sum(1 for when in times if when >= since)
        if times:
            first, last = min(times), max(times)
            if group.first_seen is None or first < group.first_seen:
                group.first_seen = first
            if group.last_seen is None or last > group.last_seen:
                group.last_seen = last
    out = list(groups.values())
    for group in out:
        group.times.sort()
        group.request_ids = _ordered_ids(index, group.request_ids)
    out.sort(
        key=lambda g: (
            -g.recent,
            -g.count,
            -(g.last_seen if g.last_seen is not None else -math.inf),
            g.signature,
        )
    )
    return out


def _ordered_ids(index: TraceIndex, ids: list[str]) -> list[str]:
    traces = index.traces
    distinct = list(dict.fromkeys(ids))

    def start(rid: str) -> float:
        trace = traces.get(rid)
        return math.inf if trace is None or math.isnan(trace.start) else trace.start

    distinct.sort(key=start)
    return distinct


def newest_failure(index: TraceIndex) -> Trace | None:
    """The failed trace that started last (traces without a time count as oldest)."""
    best: Trace | None = None
    for trace in index.traces.values():
        if trace.status != "error":
            continue
        if best is None or (
            trace.start > best.start or (math.isnan(best.start) and not math.isnan(trace.start))
        ):
            best = trace
    return best


def failure_text(index: TraceIndex, trace: Trace) -> str | None:
    """The error that explains a failed trace: its first failed tool call's, else its own."""
    occurrences = _occurrences(index, trace)
    return occurrences[0][0] if occurrences else None


def classify_trace(
    index: TraceIndex, trace: Trace, traceback: str | None = None, *, cold: set[str] | None = None
) -> Classification | None:
    """The failure class of a trace (None when it did not fail).

    The first failed tool call's error is used, else the trace's error.
    """
    occurrences = _occurrences(index, trace)
    if not occurrences:
        return None
    return classify(
        occurrences[0][0], traceback, cold_start=cold is not None and trace.request_id in cold
    )


# ------------------------------------------------------------------ cold starts


def cold_starts(
    index: TraceIndex,
    *,
    gap_s: float = 300.0,
    factor: float = 5.0,
    min_extra_ms: float = 500.0,
    sample: int = 20,
    min_sample: int = 5,
) -> dict[str, tuple[float, float]]:
    """First requests after a start that were far slower than the ones after them.

    The logs are cut into runs at idle gaps of ``gap_s`` seconds (a restart, a scale from
    zero); the first finished request of each run is a cold start when it took at least
    ``factor`` times the median of the next ``sample`` requests and ``min_extra_ms`` more.

    Returns:
        Request id -> (its duration ms, the median of the following ones).
    """
    timed = sorted(
        (t.start, t.total_ms, t.request_id)
        for t in index.traces.values()
        if not math.isnan(t.start) and t.total_ms is not None
    )
    out: dict[str, tuple[float, float]] = {}
    run_start = 0
    for i in range(1, len(timed) + 1):
        if i < len(timed) and timed[i][0] - timed[i - 1][0] < gap_s:
            continue
        first = timed[run_start]
        following = sorted(
            ms
            for _, ms, _ in timed[run_start + 1 : min(i, run_start + 1 + sample)]
            if ms is not None
        )
        if len(following) >= min_sample and first[1] is not None:
            median = percentile(following, 50) or 0.0
            if first[1] >= factor * median and first[1] - median >= min_extra_ms:
                out[first[2]] = (first[1], median)
        run_start = i
    return out


# ------------------------------------------------------------------ live statistics


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
    """Request and tool-call events (starts and ends) per second, per bucket."""
    errors_per_s: list[float]
    """Failed tool calls and failed requests per second, per bucket."""
    requests: int
    failed: int
    slowest: list[SlowTrace]


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
        return LiveStats(0.0, 0.0, 0.0, [], empty, list(empty), 0, 0, [])
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
        for tool_id, status, s_start, duration, _error in t.span_rows():
            if s_start == s_start and s_start >= start:
                events[slot(s_start)] += 1
            if status == RUNNING:
                continue
            s_end = s_start + (duration / 1000.0 if duration == duration else 0.0)
            if not s_end >= start:
                continue
            b = slot(s_end)
            events[b] += 1
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
    )


__all__ = [
    "RECENT_S",
    "ErrorGroup",
    "LiveStats",
    "SlowTrace",
    "ToolWindow",
    "classify_trace",
    "cold_starts",
    "error_groups",
    "failure_text",
    "histogram",
    "latest_time",
    "live_stats",
    "newest_failure",
]
