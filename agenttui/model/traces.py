"""Traces: records grouped by request id, tool calls paired into spans, statistics.

Memory design: a trace keeps a compact summary, never its events. While it receives events its
spans are six floats each in one ``array('d')``; once it has ended they are frozen with the rest
of the trace into one ``bytes`` value (24 bytes a span, see :class:`Trace`). Tool names and error
texts are stored once in string tables and referred to by number; each event is remembered only
by its location (file id and byte offset, packed into one 64-bit integer), so the full events can
be parsed again when the trace is opened.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Final, NamedTuple

from agenttui.ingest.records import ERROR_LEVELS, Kind, Record

NAN: Final = math.nan

#: Bits of a location that hold the byte offset; the rest hold the file id.
OFFSET_BITS: Final = 40
OFFSET_MASK: Final = (1 << OFFSET_BITS) - 1

# Span status codes inside the packed array.
RUNNING: Final = 0
OK: Final = 1
FAILED: Final = 2
_STATUS_NAMES: Final = ("running", "ok", "error")

_FIELDS: Final = 6  # tool id, status, start, duration ms, error id, event number

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
    loc: int | None = None
    """Location of the event that opened the span (its start, or its end when it had none)."""


class Strings:
    """A table of strings referred to by number (tool names, error texts).

    Numbers start at ``base``: indexes built in parallel use disjoint bases so that merging
    them never renumbers the packed spans (a text may then have two numbers; both resolve).
    """

    __slots__ = ("_ids", "_next", "names")

    def __init__(self, base: int = 0) -> None:
        self._ids: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self._next = base

    def id(self, text: str) -> int:
        """The number of ``text``, adding it when new."""
        found = self._ids.get(text)
        if found is None:
            text = sys.intern(text) if len(text) < 64 else text
            found = self._ids[text] = self._next
            self.names[found] = text
            self._next += 1
        return found

    def __getitem__(self, number: int) -> str:
        return self.names[number]

    def merge(self, other: Strings) -> None:
        """Take in the numbers of a table with a disjoint base."""
        self.names.update(other.names)
        for text, number in other._ids.items():
            self._ids.setdefault(text, number)

    def __len__(self) -> int:
        return len(self.names)


class _Live:
    """The growing part of a trace that is still receiving events."""

    __slots__ = ("duration_ms", "end", "last", "locs", "open", "spans")

    def __init__(self) -> None:
        self.last = NAN
        self.end = NAN
        self.duration_ms = NAN
        self.locs = array("Q")
        self.spans = array("d")
        """Six floats per span: tool id, status, start (epoch s), duration ms, error id, and the
        number of the span's first event among the trace's events (``locs``)."""
        self.open: list[tuple[str | None, int, int]] | None = None
        """Open spans: (call id, tool id, span index)."""


_HEAD: Final = struct.Struct("<ddd")  # last, end, duration_ms
_SPAN: Final = struct.Struct("<IfdII")
"""tool id << 2 | status, start offset ms, duration, error id + 1, event number."""
_LOC: Final = struct.Struct("<Q")

# Bits of Trace.flags.
_TERMINAL_MASK: Final = 3
_ERROR_LEVEL: Final = 4
_ORPHANS: Final = 8
_WARN_LEVEL: Final = 16
_WARN_LEVELS: Final = frozenset({"warning", "warn"})


class Trace:
    """Compact summary of one request.

    While a trace receives events its growing parts live in a small object; once it has ended
    (and has no open tool call) they are frozen into one ``bytes`` value: a header, each event's
    location, and 24 bytes per span (:data:`_SPAN`). A late event thaws it again.
    """

    __slots__ = (
        "data",
        "error_id",
        "events",
        "flags",
        "query",
        "request_id",
        "start",
        "tool_errors",
    )

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.start = NAN
        """Earliest timestamp (epoch seconds), NaN when no event had one."""
        self.flags = 0
        """Terminal state (RUNNING / OK / FAILED) in the low bits, plus flag bits."""
        self.events = 0
        self.tool_errors = 0
        self.error_id = -1
        self.query: str | None = None
        self.data: _Live | bytes = _Live()

    # ------------------------------------------------------------ representation

    def thaw(self) -> _Live:
        """The growing representation (unfreezing the trace if needed)."""
        data = self.data
        if data.__class__ is not bytes:
            return data  # type: ignore[return-value]
        blob: bytes = data
        live = _Live()
        live.last, live.end, live.duration_ms = _HEAD.unpack_from(blob)
        cut = _HEAD.size + 8 * self.events
        live.locs.frombytes(blob[_HEAD.size : cut])
        spans = live.spans
        start = self.start
        opened: list[tuple[str | None, int, int]] = []
        for i, (code, offset, duration, error, event) in enumerate(_SPAN.iter_unpack(blob[cut:])):
            status = code & 3
            spans.extend((code >> 2, status, start + offset / 1000.0, duration, error - 1, event))
            if status == RUNNING:
                opened.append((None, code >> 2, i))
        live.open = opened or None
        self.data = live
        return live

    def freeze(self) -> None:
        """Pack the growing parts into one bytes value (no-op while a tool call is open)."""
        live = self.data
        if live.__class__ is bytes or live.open:  # type: ignore[union-attr]
            return
        assert isinstance(live, _Live)
        s = live.spans
        start = self.start
        pack = _SPAN.pack
        parts = [_HEAD.pack(live.last, live.end, live.duration_ms), live.locs.tobytes()]
        for base in range(0, len(s), _FIELDS):
            parts.append(
                pack(
                    (int(s[base]) << 2) | int(s[base + 1]),
                    (s[base + 2] - start) * 1000.0,
                    s[base + 3],
                    int(s[base + 4]) + 1,
                    int(s[base + 5]),
                )
            )
        self.data = b"".join(parts)

    def span_rows(self) -> list[tuple[int, int, float, float, int]]:
        """Spans as (tool id, status, start, duration ms, error id), NaN where unknown."""
        data = self.data
        if data.__class__ is bytes:
            blob: bytes = data
            start = self.start
            cut = _HEAD.size + 8 * self.events
            return [
                (code >> 2, code & 3, start + offset / 1000.0, duration, error - 1)
                for code, offset, duration, error, _event in _SPAN.iter_unpack(blob[cut:])
            ]
        s = data.spans  # type: ignore[union-attr]
        return [
            (int(s[b]), int(s[b + 1]), s[b + 2], s[b + 3], int(s[b + 4]))
            for b in range(0, len(s), _FIELDS)
        ]

    def span_event_numbers(self) -> list[int]:
        """For each span (as :meth:`span_rows`), the number of its first event in ``locs``."""
        data = self.data
        if data.__class__ is bytes:
            cut = _HEAD.size + 8 * self.events
            return [row[4] for row in _SPAN.iter_unpack(data[cut:])]
        s = data.spans  # type: ignore[union-attr]
        return [int(s[b + 5]) for b in range(0, len(s), _FIELDS)]

    def _head(self) -> tuple[float, float, float]:
        data = self.data
        if data.__class__ is bytes:
            return _HEAD.unpack_from(data)
        return data.last, data.end, data.duration_ms  # type: ignore[union-attr]

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _restore,
            (
                self.request_id,
                self.start,
                self.flags,
                self.events,
                self.tool_errors,
                self.error_id,
                self.query,
                self.data,
            ),
        )

    # ------------------------------------------------------------ reading

    @property
    def locs(self) -> array[int]:
        """Location of every event, in the order read."""
        data = self.data
        if data.__class__ is bytes:
            out = array("Q")
            out.frombytes(data[_HEAD.size : _HEAD.size + 8 * self.events])
            return out
        return data.locs  # type: ignore[union-attr]

    @property
    def last(self) -> float:
        """Latest timestamp seen (NaN when none)."""
        return self._head()[0]

    @property
    def end(self) -> float:
        """Timestamp of the terminal event (NaN when none)."""
        return self._head()[1]

    @property
    def duration_ms(self) -> float:
        """Explicit duration of the terminal event (NaN when none)."""
        return self._head()[2]

    @property
    def terminal(self) -> int:
        """RUNNING until a terminal event: then OK or FAILED."""
        return self.flags & _TERMINAL_MASK

    @property
    def error_level(self) -> bool:
        """Whether an error-level event was seen."""
        return bool(self.flags & _ERROR_LEVEL)

    @property
    def warn_level(self) -> bool:
        """Whether a warning-level event was seen."""
        return bool(self.flags & _WARN_LEVEL)

    @property
    def tool_calls(self) -> int:
        """Number of tool spans."""
        data = self.data
        if data.__class__ is bytes:
            return (len(data) - _HEAD.size - 8 * self.events) // _SPAN.size
        return len(data.spans) // _FIELDS  # type: ignore[union-attr]

    @property
    def status(self) -> str:
        """``ok``, ``error`` or ``running``."""
        terminal = self.flags & _TERMINAL_MASK
        if terminal == FAILED:
            return "error"
        if terminal == OK:
            return "ok"
        return "error" if self.flags & _ERROR_LEVEL else "running"

    @property
    def total_ms(self) -> float | None:
        """The terminal event's explicit duration, else terminal minus first timestamp."""
        if self.flags & _TERMINAL_MASK == RUNNING:
            return None
        _, end, duration = self._head()
        if not math.isnan(duration):
            return duration
        if math.isnan(end) or math.isnan(self.start):
            return None
        return (end - self.start) * 1000.0

    @property
    def start_or_none(self) -> float | None:
        """Start time, or None."""
        return None if math.isnan(self.start) else self.start

    @property
    def end_or_none(self) -> float | None:
        """End time, or None."""
        end = self.end
        return None if math.isnan(end) else end


def _restore(
    request_id: str,
    start: float,
    flags: int,
    events: int,
    tool_errors: int,
    error_id: int,
    query: str | None,
    data: _Live | bytes,
) -> Trace:
    t = Trace.__new__(Trace)
    t.request_id, t.start, t.flags, t.events = request_id, start, flags, events
    t.tool_errors, t.error_id, t.query, t.data = tool_errors, error_id, query, data
    return t


@dataclass(slots=True)
class ToolStats:
    """Calls, errors and latency percentiles of one tool."""

    calls: int
    """Every call seen, in flight included (the sum of the traces' ``tool_calls``)."""
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    running: int = 0
    """Calls started and not ended yet; the percentiles are over the other, completed calls."""

    @property
    def completed(self) -> int:
        """Calls that ended (success or failure)."""
        return self.calls - self.running


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

    def __init__(self, part: int = 0) -> None:
        """Start an empty index.

        Args:
            part: Number of this index among indexes built in parallel (0 for the main one);
                it keeps their tool and error numbers apart.
        """
        self.traces: dict[str, Trace] = {}
        self.tools = Strings(part << 22)
        self.errors = Strings(part << 26)
        self.lines = 0
        self.events = 0
        self.unparsed_lines = 0
        self.unattributed = array("Q")
        """Locations of events with no request id, raw lines included."""
        self.changed: set[str] = set()
        """Request ids changed since the last :meth:`take_changes` (when tracked)."""
        self.track_changes = True
        """Whether to record changed request ids (off for one-shot scans)."""
        self.freeze_finished = True
        """Whether to freeze a trace when its terminal event arrives."""
        self._durations: dict[int, array[float]] = {}
        self._calls: dict[int, int] = {}
        """Completed calls per tool id."""
        self._started: dict[int, int] = {}
        """Every span per tool id (started, or ended without a start)."""
        self._errors: dict[int, int] = {}
        self._dropped: dict[int, Counter[float]] = {}
        self._status = {"ok": 0, "error": 0, "running": 0}
        """Traces by status, counted as they change."""
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
            trace = self.traces[rid] = Trace(rid)
            self._status["running"] += 1
        if self.track_changes:
            self.changed.add(rid)
        self._fold(trace, rec, loc)
        return trace

    def _fold(self, t: Trace, rec: Record, loc: int) -> None:
        live = t.data
        if live.__class__ is bytes:
            live = t.thaw()
        t.events += 1
        live.locs.append(loc)  # type: ignore[union-attr]
        kind, ts, level, message = rec.kind, rec.ts, rec.level, rec.message
        if ts is not None:
            if not ts >= t.start:  # also true while start is NaN
                t.start = ts
            if not ts <= live.last:  # type: ignore[union-attr]
                live.last = ts  # type: ignore[union-attr]
        if level is not None and level in ERROR_LEVELS:
            self._status[t.status] -= 1
            t.flags |= _ERROR_LEVEL
            self._status[t.status] += 1
            if rec.error is not None or message is not None:
                t.error_id = self.errors.id(rec.error or message or "")
        elif level is not None and level in _WARN_LEVELS:
            t.flags |= _WARN_LEVEL
        if kind is _TOOL_START:
            self._span_start(live, rec)  # type: ignore[arg-type]
        elif kind is _TOOL_OK or kind is _TOOL_FAIL:
            self._span_end(t, live, rec)  # type: ignore[arg-type]
        elif (kind is _REQUEST_OK or kind is _REQUEST_FAIL) and not t.flags & _TERMINAL_MASK:
            self._status[t.status] -= 1
            t.flags |= OK if kind is _REQUEST_OK else FAILED
            self._status[t.status] += 1
            live.end = NAN if ts is None else ts  # type: ignore[union-attr]
            live.duration_ms = (  # type: ignore[union-attr]
                NAN if rec.duration_ms is None else rec.duration_ms
            )
            if kind is _REQUEST_FAIL:
                tool_error = -1 if rec.error is not None else _failed_tool_error(live)  # type: ignore[arg-type]
                t.error_id = (
                    tool_error
                    if tool_error >= 0
                    else self.errors.id(rec.error or message or "request failed")
                )
            if self.freeze_finished:
                t.freeze()
        query = rec.query
        if query is not None and (t.query is None or kind is _REQUEST_START):
            t.query = query

    def _span_start(self, live: _Live, rec: Record) -> None:
        tool_id = self.tools.id(rec.tool or "?")
        spans = live.spans
        index = len(spans) // _FIELDS
        ts = rec.ts
        spans.extend((tool_id, RUNNING, NAN if ts is None else ts, NAN, -1, len(live.locs) - 1))
        self._started[tool_id] = self._started.get(tool_id, 0) + 1
        entry = (rec.call_id, tool_id, index)
        if live.open is None:
            live.open = [entry]
        else:
            live.open.append(entry)

    def _span_end(self, t: Trace, live: _Live, rec: Record) -> None:
        tool_id = self.tools.id(rec.tool or "?")
        failed = rec.kind is _TOOL_FAIL
        ts = rec.ts
        index = _pop_open(live, rec.call_id, tool_id, rec.tool is None)
        spans = live.spans
        if index is None:
            # An end without a start: keep it as a span of its own.
            index = len(spans) // _FIELDS
            spans.extend((tool_id, RUNNING, NAN, NAN, -1, len(live.locs) - 1))
            self._started[tool_id] = self._started.get(tool_id, 0) + 1
            t.flags |= _ORPHANS
        base = index * _FIELDS
        start = spans[base + 2]
        duration = rec.duration_ms
        if duration is None:
            duration = NAN if ts is None or start != start else max(0.0, (ts - start) * 1000.0)
        if start != start and ts is not None:  # NaN: no start event
            # An absurd duration (beyond ~3,000 years) must not push the start out of range.
            back = duration / 1000.0 if duration == duration and abs(duration) < 1e14 else 0.0
            spans[base + 2] = ts - back
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

    def freeze_all(self) -> None:
        """Freeze every trace that has no open tool call (after a bulk scan)."""
        for t in self.traces.values():
            t.freeze()

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
        return self.errors[trace.error_id]

    def spans(self, trace: Trace) -> list[Span]:
        """The trace's tool calls, in start order."""
        tools = self.tools.names
        errors = self.errors.names
        locs = trace.locs
        numbers = trace.span_event_numbers()
        out = [
            Span(
                tools[tool_id],
                _STATUS_NAMES[status],
                None if math.isnan(start) else start,
                None if math.isnan(duration) else duration,
                errors[error_id] if error_id >= 0 else None,
                locs[number] if 0 <= number < len(locs) else None,
            )
            for (tool_id, status, start, duration, error_id), number in zip(
                trace.span_rows(), numbers, strict=True
            )
        ]
        if trace.flags & _ORPHANS:
            out.sort(key=lambda sp: math.inf if sp.start is None else sp.start)
        elif any(
            a.start is not None and b.start is not None and b.start < a.start
            for a, b in pairwise(out)
        ):
            # Read from several sources (files read one after another): in time order.
            out.sort(key=lambda sp: math.inf if sp.start is None else sp.start)
        return out

    def ordered(self) -> list[Trace]:
        """Traces ordered by start time (traces without a time last, in order seen)."""
        return sorted(
            self.traces.values(), key=lambda t: math.inf if math.isnan(t.start) else t.start
        )

    def status_counts(self) -> dict[str, int]:
        """Number of traces by status (kept up to date as records arrive)."""
        return dict(self._status)

    def tool_stats(self) -> dict[str, ToolStats]:
        """Per tool: every call (in flight included), those running, errors, and latency
        percentiles over the completed calls."""
        self._apply_dropped()
        names = self.tools.names
        by_name: dict[str, list[int]] = {}
        for tool_id, started in self._started.items():
            if started > 0:
                by_name.setdefault(names[tool_id], []).append(tool_id)
        out: dict[str, ToolStats] = {}
        for name in sorted(by_name):
            ids = by_name[name]
            values = sorted(v for i in ids for v in self._durations.get(i, ()))
            calls = sum(self._started[i] for i in ids)
            out[name] = ToolStats(
                calls=calls,
                running=calls - sum(self._calls.get(i, 0) for i in ids),
                errors=sum(self._errors.get(i, 0) for i in ids),
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
        self.tools.merge(other.tools)
        self.errors.merge(other.errors)
        for tool_id, count in other._calls.items():
            self._calls[tool_id] = self._calls.get(tool_id, 0) + count
        for tool_id, count in other._started.items():
            self._started[tool_id] = self._started.get(tool_id, 0) + count
        for tool_id, count in other._errors.items():
            self._errors[tool_id] = self._errors.get(tool_id, 0) + count
        for tool_id, durations in other._durations.items():
            if tool_id in self._durations:
                self._durations[tool_id].extend(durations)
            else:
                self._durations[tool_id] = durations
        split: list[tuple[Trace, Trace]] = []
        mine = self.traces
        for rid, theirs in other.traces.items():
            ours = mine.get(rid)
            if ours is None:
                mine[rid] = theirs
            else:
                split.append((ours, theirs))
        if self.track_changes:
            self.changed.update(other.traces)
        for name, count in other._status.items():
            self._status[name] += count
        for ours, theirs in split:
            self._status[ours.status] -= 1
            self._status[theirs.status] -= 1
            self._forget_tool_stats(ours)
            self._forget_tool_stats(theirs)
            locs = array("Q", ours.locs)
            locs.extend(theirs.locs)
            fresh = Trace(ours.request_id)
            self._status["running"] += 1
            mine[ours.request_id] = fresh
            for loc, rec in rebuild(locs):
                self._fold(fresh, rec, loc)

    def _forget_tool_stats(self, t: Trace) -> None:
        for tool_id, status, _start, duration, _error in t.span_rows():
            self._started[tool_id] -= 1
            if status == RUNNING:
                continue
            self._calls[tool_id] -= 1
            if status == FAILED:
                self._errors[tool_id] -= 1
            if not math.isnan(duration):
                self._dropped.setdefault(tool_id, Counter())[duration] += 1


def _failed_tool_error(live: _Live) -> int:
    """The error id of the last failed tool call (-1 when none failed): the error of a request
    that failed without saying why."""
    s = live.spans
    for base in range(len(s) - _FIELDS, -1, -_FIELDS):
        if s[base + 1] == FAILED and s[base + 4] >= 0:
            return int(s[base + 4])
    return -1


def _pop_open(live: _Live, call_id: str | None, tool_id: int, any_tool: bool) -> int | None:
    """Take the open span an end event closes: same call id, else the first of the same tool."""
    opened = live.open
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
        live.open = None
    return index
