"""429s and timeouts per minute in the logs.

What counts as a 429 or a timeout is decided by the failure classes of
:mod:`agenttui.model.classify` (``rate_limit`` and ``timeout``), the same rules the error groups
use, so the doctor and the groups screen never disagree about an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from agenttui.doctor.results import Check, Pressure
from agenttui.model.classify import classify
from agenttui.model.traces import Strings, Trace

_KINDS = {"rate_limit": 1, "timeout": 2}


def pressure(
    traces: Iterable[Trace], errors: Strings, minutes: int = 10, end: float | None = None
) -> Pressure:
    """429s and timeouts per minute over the last ``minutes`` of ``traces``.

    ``errors`` are the index's error texts (``TraceIndex.errors``) the traces' error ids point
    into. Counts failed tool calls classified as rate limited or timed out (at the call's start
    minute), and failed traces so classified that have no such tool call (at the trace's start).
    The window ends at ``end``, by default the newest time seen (so old logs still show their
    last minutes). The caller hands over a consistent view of the traces (a snapshot, or the
    traces read under the session's read API).
    """
    cache: dict[int, int] = {}

    def kind(error_id: int) -> int:
        """1: rate limited, 2: timeout, 0: neither."""
        found = cache.get(error_id)
        if found is None:
            text = errors[error_id] if error_id >= 0 else ""
            found = _KINDS.get(classify(text).cls.key, 0) if text else 0
            cache[error_id] = found
        return found

    hits: list[tuple[float, int]] = []
    newest = -1.0
    for t in traces:
        last = t.last
        if last == last and last > newest:
            newest = last
        if not t.tool_errors and t.error_id < 0:
            continue
        counted = False
        if t.tool_errors:
            for _tool, status, start, _dur, error_id in t.span_rows():
                if status == 2 and start == start:
                    k = kind(error_id)
                    if k:
                        hits.append((start, k))
                        counted = True
        if not counted and t.error_id >= 0 and t.status == "error" and t.start == t.start:
            k = kind(t.error_id)
            if k:
                hits.append((t.start, k))
    stop = end if end is not None else (newest if newest >= 0 else None)
    rate = [0] * minutes
    slow = [0] * minutes
    if stop is not None:
        first = (int(stop // 60) - minutes + 1) * 60
        for ts, k in hits:
            slot = int((ts - first) // 60)
            if 0 <= slot < minutes:
                (rate if k == 1 else slow)[slot] += 1
    return Pressure(minutes, stop, rate, slow)


def check_pressure(p: Pressure) -> Check:
    """A warning when the logs show 429s or timeouts in the window."""
    detail = {
        "rate_limited": p.total_rate_limited,
        "timeouts": p.total_timeouts,
        "minutes": p.minutes,
    }
    if p.end is None:
        return Check("logs 429/timeouts", "ok", "no timed events in the logs yet", "", detail)
    reason = (
        f"{p.total_rate_limited} rate limited (429), {p.total_timeouts} timeouts in the "
        f"last {p.minutes} min of logs"
    )
    if p.total_rate_limited or p.total_timeouts:
        peak = max(p.rate_limited + p.timeouts)
        fix = []
        if p.total_rate_limited:
            fix.append("lower concurrency, back off on 429 or raise the quota")
        if p.total_timeouts:
            fix.append("check the slow dependency and the timeouts (CPU throttling?)")
        return Check(
            "logs 429/timeouts", "warn", f"{reason} (peak {peak}/min)", "; ".join(fix), detail
        )
    return Check("logs 429/timeouts", "ok", reason, "", detail)
