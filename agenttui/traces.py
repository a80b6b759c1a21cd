"""Traces: records grouped by request id, tool calls paired into spans, statistics.

Memory design: a trace keeps a compact summary, never its events. Spans are packed five floats
each into one ``array('d')``; tool names and error texts are stored once in string tables and
referred to by number; each event is remembered only by its location (file id and byte offset,
packed into one 64-bit integer), so the full events can be parsed again when the trace is opened.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple

from agenttui.records import ERROR_LEVELS, Kind, Record

NAN: Final = math.nan

#: Bits of a location that hold the byte offset; the rest hold the file id.
OFFSET_BITS: Final = 40
OFFSET_MASK: Final = (1 << OFFSET_BITS) - 1

# Span status codes inside the packed array.
RUNNING: Final = 0
OK: Final = 1
FAILED: Final = 2
_STATUS_NAMES: Final = ("running", "ok", "error")

_FIELDS: Final = 5  # tool id, status, start, duration ms, error id

_RAW: Final = Kind.RAW
_REQUEST_START: Final = Kind.REQUEST_START
_TOOL_START: Final = Kind.TOOL_START
_TOOL_OK: Final = Kind.TOOL_OK
_TOOL_FAIL: Final = Kind.TOOL_FAIL
_REQUEST_OK: Final = Kind.REQUEST_OK
_REQUEST_FAIL: Final = Kind.REQUEST_FAIL

RebuildFn = Callable[[Iterable[int]], Iterator[tuple[int, Record]]]
"""Re-reads the records at the given locations, in order (see ``TraceIndex.absorb``)."""


def pack_loc(file_id: int, offset: int) -> int:
    """Pack a file id and a byte offset into one integer."""
    return (file_id << OFFSET_BITS) | offset


def unpack_loc(loc: int) -> tuple[int, int]:
    """Split a packed location into (file id, byte offset)."""
    return loc >> OFFSET_BITS, loc & OFFSET_MASK


class Span(NamedTuple):
    """One tool call: a start paired with its end (or still running)."""

    tool: str
    status: str
    """``ok``, ``error`` or ``running``."""
    start: float | None
    """Epoch seconds of the start event."""
    duration_ms: float | None
    error: str | None


class Strings:
    """An append-only table of strings referred to by number (tool names, error texts)."""

    __slots__ = ("_ids", "items")

    def __init__(self) -> None:
        self.items: list[str] = []
        self._ids: dict[str, int] = {}

    def id(self, text: str) -> int:
        """The number of ``text``, adding it when new."""
        found = self._ids.get(text)
        if found is None:
            text = sys.intern(text) if len(text) < 64 else text
            found = self._ids[text] = len(self.items)
            self.items.append(text)
        return found

    def __len__(self) -> int:
        return len(self.items)


class Trace:
    """Compact summary of one request."""

    __slots__ = ("_open", "_orphans", "duration_ms", "end", "error_id", "error_level", "events",
                 "last", "locs", "query", "request_id", "seq", "spans", "start", "terminal",
                 "tool_calls", "tool_errors")

    def __init__(self, request_id: str, seq: int) -> None:
        self.request_id = request_id
        self.seq = seq
        """Order in which the index first saw the trace."""
        self.start = NAN
        """Earliest timestamp (epoch seconds), NaN when no event had one."""
        self.last = NAN
        """Latest timestamp seen."""
        self.end = NAN
        """Timestamp of the terminal event."""
        self.terminal = RUNNING
        """RUNNING until a terminal event: then OK or FAILED."""
        self.error_level = False
        self.query: str | None = None
        self.events = 0
        self.error_id = -1
        self.duration_ms = NAN
        """Explicit duration of the terminal event, when it had one."""
        self.spans = array("d")
        self.tool_calls = 0
        self.tool_errors = 0
        self.locs = array("Q")
        self._open: list[tuple[str | None, int, int]] | None = None
        """Open spans: (call id, tool id, span index)."""
        self._orphans = 0

    @property
    def status(self) -> str:
        """``ok``, ``error`` or ``running``."""
        if self.terminal == FAILED:
            return "error"
        if self.terminal == OK:
            return "ok"
        return "error" if self.error_level else "running"

    @property
    def total_ms(self) -> float | None:
        """The terminal event's explicit duration, else terminal minus first timestamp."""
        if self.terminal == RUNNING:
            return None
        if not math.isnan(self.duration_ms):
            return self.duration_ms
        if math.isnan(self.end) or math.isnan(self.start):
            return None
        return (self.end - self.start) * 1000.0

    @property
    def start_or_none(self) -> float | None:
        """Start time, or None."""
        return None if math.isnan(self.start) else self.start

    @property
    def end_or_none(self) -> float | None:
        """End time, or None."""
        return None if math.isnan(self.end) else self.end


@dataclass(slots=True)
class ToolStats:
    """Calls, errors and latency percentiles of one tool."""

    calls: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


def percentile(sorted_values: list[float] | array[float], q: float) -> float | None:
    """Percentile by linear interpolation between closest ranks (numpy's default).

    Args:
        sorted_values: Values in ascending order.
        q: Between 0 and 100.
    """
    n = len(sorted_values)
    if n == 0:
        return None
    pos = (n - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


class TraceIndex:
    """All traces of a session, built incrementally from records.

    Not thread-safe: one thread feeds it; readers hold :attr:`lock` of the owning session.
    """

    def __init__(self) -> None:
        self.traces: dict[str, Trace] = {}
        self.tools = Strings()
        self.errors = Strings()
        self.lines = 0
        self.events = 0
        self.unparsed_lines = 0
        self.unattributed = array("Q")
        """Locations of events with no request id, raw lines included."""
        self.changed: set[str] = set()
        """Request ids changed since the last :meth:`take_changes` (when tracked)."""
        self.track_changes = True
        """Whether to record changed request ids (off for one-shot scans)."""
        self._durations: dict[int, array[float]] = {}
        self._calls: dict[int, int] = {}
        self._errors: dict[int, int] = {}
        self._dropped: dict[int, Counter[float]] = {}
        """Durations to take out of ``_durations`` (of traces rebuilt by a merge)."""

    # ---------------------------------------------------------------- building

    def add(self, rec: Record, loc: int) -> Trace | None:
        """Fold one record, found at ``loc``, into the index.

        This runs once per log line: keep it lean.

        Returns:
            The trace it belongs to, or None for an unattributed event.
        """
        self.lines += 1
        if rec.kind is _RAW:
            self.unparsed_lines += 1
            self.unattributed.append(loc)
            return None
        self.events += 1
        rid = rec.request_id
        if rid is None:
            self.unattributed.append(loc)
            return None
        trace = self.traces.get(rid)
        if trace is None:
            trace = self.traces[rid] = Trace(rid, len(self.traces))
        if self.track_changes:
            self.changed.add(rid)
        self._fold(trace, rec, loc)
        return trace

    def _fold(self, t: Trace, rec: Record, loc: int) -> None:
        t.events += 1
        t.locs.append(loc)
        kind, ts, level, message = rec.kind, rec.ts, rec.level, rec.message
        if ts is not None:
            if not ts >= t.start:  # also true while start is NaN
                t.start = ts
            if not ts <= t.last:
                t.last = ts
        if level is not None and level in ERROR_LEVELS:
            t.error_level = True
            if rec.error is not None or message is not None:
                t.error_id = self.errors.id(rec.error or message or "")
        if kind is _TOOL_START:
            self._span_start(t, rec)
        elif kind is _TOOL_OK or kind is _TOOL_FAIL:
            self._span_end(t, rec)
        elif (kind is _REQUEST_OK or kind is _REQUEST_FAIL) and t.terminal == RUNNING:
            t.terminal = OK if kind is _REQUEST_OK else FAILED
            t.end = NAN if ts is None else ts
            t.duration_ms = NAN if rec.duration_ms is None else rec.duration_ms
            if kind is _REQUEST_FAIL:
                t.error_id = self.errors.id(rec.error or message or "request failed")
        query = rec.query
        if query is not None and (t.query is None or kind is _REQUEST_START):
            t.query = query

    def _span_start(self, t: Trace, rec: Record) -> None:
        tool_id = self.tools.id(rec.tool or "?")
        spans = t.spans
        index = len(spans) // _FIELDS
        ts = rec.ts
        spans.extend((tool_id, RUNNING, NAN if ts is None else ts, NAN, -1))
        entry = (rec.call_id, tool_id, index)
        if t._open is None:
            t._open = [entry]
        else:
            t._open.append(entry)
        t.tool_calls += 1

    def _span_end(self, t: Trace, rec: Record) -> None:
        tool_id = self.tools.id(rec.tool or "?")
        failed = rec.kind is _TOOL_FAIL
        ts = rec.ts
        index = self._pop_open(t, rec.call_id, tool_id, rec.tool is None)
        spans = t.spans
        if index is None:
            # An end without a start: keep it as a span of its own.
            index = len(spans) // _FIELDS
            spans.extend((tool_id, RUNNING, NAN, NAN, -1))
            t.tool_calls += 1
            t._orphans += 1
        base = index * _FIELDS
        start = spans[base + 2]
        duration = rec.duration_ms
        if duration is None:
            duration = NAN if ts is None or start != start else max(0.0, (ts - start) * 1000.0)
        if start != start and ts is not None:  # NaN: no start event
            spans[base + 2] = ts - (0.0 if duration != duration else duration / 1000.0)
        spans[base + 1] = FAILED if failed else OK
        spans[base + 3] = duration
        tool_id = int(spans[base])
        if failed:
            t.tool_errors += 1
            spans[base + 4] = self.errors.id(rec.error or rec.message or "tool call failed")
            self._errors[tool_id] = self._errors.get(tool_id, 0) + 1
        calls = self._calls
        calls[tool_id] = calls.get(tool_id, 0) + 1
        if duration == duration:
            durations = self._durations.get(tool_id)
            if durations is None:
                durations = self._durations[tool_id] = array("d")
            durations.append(duration)

    @staticmethod
    def _pop_open(t: Trace, call_id: str | None, tool_id: int, any_tool: bool) -> int | None:
        opened = t._open
        if not opened:
            return None
        chosen = -1
        if call_id is not None:
            for i, (cid, _, _) in enumerate(opened):
                if cid == call_id:
                    chosen = i
                    break
        if chosen < 0:
            for i, (cid, tid, _) in enumerate(opened):
                if (tid == tool_id or any_tool) and (call_id is None or cid is None):
                    chosen = i
                    break
        if chosen < 0:
            return None
        index = opened.pop(chosen)[2]
        if not opened:
            t._open = None
        return index

    def take_changes(self) -> set[str]:
        """Request ids changed since the previous call."""
        changed, self.changed = self.changed, set()
        return changed

    # ---------------------------------------------------------------- reading

    def __len__(self) -> int:
        return len(self.traces)

    def error_text(self, trace: Trace) -> str | None:
        """The trace's error: the terminal failure's, else the last error-level event's.

        None for traces that ended well.
        """
        if trace.terminal == OK or trace.error_id < 0:
            return None
        return self.errors.items[trace.error_id]

    def spans(self, trace: Trace) -> list[Span]:
        """The trace's tool calls, in start order."""
        out: list[Span] = []
        s = trace.spans
        tools = self.tools.items
        errors = self.errors.items
        for base in range(0, len(s), _FIELDS):
            start = s[base + 2]
            duration = s[base + 3]
            error_id = int(s[base + 4])
            out.append(Span(
                tools[int(s[base])],
                _STATUS_NAMES[int(s[base + 1])],
                None if math.isnan(start) else start,
                None if math.isnan(duration) else duration,
                errors[error_id] if error_id >= 0 else None,
            ))
        if trace._orphans:
            out.sort(key=lambda sp: math.inf if sp.start is None else sp.start)
        return out

    def ordered(self) -> list[Trace]:
        """Traces ordered by start time (traces without a time last, in order seen)."""
        return sorted(self.traces.values(),
                      key=lambda t: (math.isnan(t.start), 0.0 if math.isnan(t.start) else t.start,
                                     t.seq))

    def status_counts(self) -> dict[str, int]:
        """Number of traces by status."""
        counts = {"ok": 0, "error": 0, "running": 0}
        for t in self.traces.values():
            counts[t.status] += 1
        return counts

    def tool_stats(self) -> dict[str, ToolStats]:
        """Per tool: completed calls, errors and latency percentiles over completed calls."""
        self._apply_dropped()
        out: dict[str, ToolStats] = {}
        names = self.tools.items
        for tool_id in sorted(self._calls, key=lambda i: names[i]):
            values = sorted(self._durations.get(tool_id, ()))
            out[names[tool_id]] = ToolStats(
                calls=self._calls[tool_id],
                errors=self._errors.get(tool_id, 0),
                p50_ms=percentile(values, 50),
                p95_ms=percentile(values, 95),
                p99_ms=percentile(values, 99),
                max_ms=values[-1] if values else None,
            )
        return out

    def _apply_dropped(self) -> None:
        for tool_id, dropped in self._dropped.items():
            kept = array("d")
            for value in self._durations.get(tool_id, ()):
                if dropped.get(value, 0) > 0:
                    dropped[value] -= 1
                else:
                    kept.append(value)
            self._durations[tool_id] = kept
        self._dropped.clear()

    # ---------------------------------------------------------------- merging

    def absorb(self, other: TraceIndex, rebuild: RebuildFn) -> None:
        """Merge an index built from the bytes that follow this one's.

        Traces present in both halves are rebuilt from their events' locations with
        ``rebuild`` (few: only the requests in flight at the boundary).
        """
        self.lines += other.lines
        self.events += other.events
        self.unparsed_lines += other.unparsed_lines
        self.unattributed.extend(other.unattributed)
        tool_map = [self.tools.id(name) for name in other.tools.items]
        error_map = [self.errors.id(text) for text in other.errors.items]
        for tool_id, count in other._calls.items():
            mine = tool_map[tool_id]
            self._calls[mine] = self._calls.get(mine, 0) + count
        for tool_id, count in other._errors.items():
            mine = tool_map[tool_id]
            self._errors[mine] = self._errors.get(mine, 0) + count
        for tool_id, durations in other._durations.items():
            mine = tool_map[tool_id]
            if mine in self._durations:
                self._durations[mine].extend(durations)
            else:
                self._durations[mine] = durations
        split: list[tuple[Trace, Trace]] = []
        for rid, theirs in other.traces.items():
            ours = self.traces.get(rid)
            if ours is None:
                _remap(theirs, tool_map, error_map)
                theirs.seq = len(self.traces)
                self.traces[rid] = theirs
                self.changed.add(rid)
            else:
                split.append((ours, theirs))
        for ours, theirs in split:
            self._forget_tool_stats(ours)
            _remap(theirs, tool_map, error_map)
            self._forget_tool_stats(theirs)
            locs = ours.locs
            locs.extend(theirs.locs)
            fresh = Trace(ours.request_id, ours.seq)
            self.traces[ours.request_id] = fresh
            for loc, rec in rebuild(locs):
                self._fold(fresh, rec, loc)
            self.changed.add(ours.request_id)

    def _forget_tool_stats(self, t: Trace) -> None:
        s = t.spans
        for base in range(0, len(s), _FIELDS):
            status = int(s[base + 1])
            if status == RUNNING:
                continue
            tool_id = int(s[base])
            self._calls[tool_id] -= 1
            if status == FAILED:
                self._errors[tool_id] -= 1
            duration = s[base + 3]
            if not math.isnan(duration):
                self._dropped.setdefault(tool_id, Counter())[duration] += 1


def _remap(t: Trace, tool_map: list[int], error_map: list[int]) -> None:
    s = t.spans
    for base in range(0, len(s), _FIELDS):
        s[base] = tool_map[int(s[base])]
        error_id = int(s[base + 4])
        if error_id >= 0:
            s[base + 4] = error_map[error_id]
    if t.error_id >= 0:
        t.error_id = error_map[t.error_id]
    if t._open:
        t._open = [(cid, tool_map[tid], i) for cid, tid, i in t._open]


