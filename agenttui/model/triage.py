"""Triage over a :class:`~agenttui.model.traces.TraceIndex`: error groups, the newest failure,
failure classes of a trace, cold starts (live statistics: :mod:`agenttui.model.live`).

Every function here reads the index only; callers that share it with an ingest thread read it
through the session's read API. "Now" is the newest timestamp in the logs (not the wall clock), so
that old logs and live ones read the same way and results do not depend on when they are looked
at.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from agenttui.model.classify import Classification, FailureClass, classify
from agenttui.model.retention import occurrences
from agenttui.model.signature import signature
from agenttui.model.traces import Trace, TraceIndex, percentile

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
    drift: dict[str, str] | None = None,
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
        drift: Failed requests on a new model version that fails more (see
            :func:`agenttui.model.drift.drifted_requests`), with the evidence.

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
                found = classify(
                    error,
                    cold_start=cold is not None and rid in cold,
                    new_model=None if drift is None else drift.get(rid),
                )
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
    index: TraceIndex,
    trace: Trace,
    traceback: str | None = None,
    *,
    cold: set[str] | None = None,
    drift: dict[str, str] | None = None,
) -> Classification | None:
    """The failure class of a trace (None when it did not fail).

    The first failed tool call's error is used, else the trace's error.
    """
    occurrences = _occurrences(index, trace)
    if not occurrences:
        return None
    return classify(
        occurrences[0][0],
        traceback,
        cold_start=cold is not None and trace.request_id in cold,
        new_model=None if drift is None else drift.get(trace.request_id),
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
