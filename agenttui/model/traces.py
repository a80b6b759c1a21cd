"""The trace index: records grouped by request id, tool and LLM calls paired into spans,
statistics per tool and per model.

Memory design: a trace keeps a compact summary, never its events (see :mod:`agenttui.model.trace`):
each event is remembered only by its location, so the full events can be parsed again when the
trace is opened.
"""

from __future__ import annotations

import itertools
import math
import operator
import random
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from agenttui.ingest.records import ERROR_LEVELS, LLM_KINDS, Kind, Record
from agenttui.model.retention import DroppedFailures
from agenttui.model.trace import (  # the one trace; re-exported: callers import them here
    _ERROR_LEVEL,
    _FIELDS,
    _HAS_LLM,
    _ORPHANS,
    _STATUS_NAMES,
    _TERMINAL_MASK,
    _WARN_LEVEL,
    _WARN_LEVELS,
    FAILED,
    MODEL_BASE,
    NAN,
    OFFSET_BITS,
    OFFSET_MASK,
    OK,
    RUNNING,
    Span,
    Strings,
    Trace,
    _Live,
    is_model,
    pack_loc,
    unpack_loc,
)

DURATIONS_KEPT: Final = 1 << 18
"""Durations kept per tool (2 MB); past it they are a uniform sample of all (reservoir), so
the percentiles are estimates, the call and error counts and the maximum exact."""
UNATTRIBUTED_KEPT: Final = 1 << 20
"""Locations of unattributed events kept (the newest; 8 MB at most twice this)."""
_random = random.Random(13)


_RAW: Final = Kind.RAW
_REQUEST_START: Final = Kind.REQUEST_START
_TOOL_START: Final = Kind.TOOL_START
_TOOL_OK: Final = Kind.TOOL_OK
_TOOL_FAIL: Final = Kind.TOOL_FAIL
_REQUEST_OK: Final = Kind.REQUEST_OK
_REQUEST_FAIL: Final = Kind.REQUEST_FAIL
_LLM_START: Final = Kind.LLM_START
_LLM_OK: Final = Kind.LLM_OK
_LLM_FAIL: Final = Kind.LLM_FAIL
_LLM_KINDS: Final = LLM_KINDS
UNKNOWN_MODEL: Final = "(model not logged)"
"""The name of an LLM call whose events do not name the model."""

RebuildFn = Callable[[Iterable[int]], Iterator[tuple[int, Record]]]
"""Re-reads the records at the given locations, in order (see ``TraceIndex.absorb``)."""


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


@dataclass(slots=True)
class ModelStats(ToolStats):
    """Calls, errors, latency percentiles and tokens of one model."""

    tokens: int = 0
    """Tokens of the calls whose events said."""
    first_seen: float | None = None
    """Start of its first call (epoch seconds)."""
    last_seen: float | None = None
    """Start of its latest call."""


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


def _out_of_order(spans: list[Span]) -> bool:
    """Whether a span starts before the one before it (both with a start)."""
    before = spans[0][2]
    for span in spans[1:]:
        start = span[2]
        if start is not None and before is not None and start < before:
            return True
        before = start
    return False


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
        self.models = Strings(MODEL_BASE | part << 22)
        """Model names: the names of LLM calls (numbers from ``MODEL_BASE`` on)."""
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
        self._tokens: dict[int, int] = {}
        """Tokens per model id."""
        self._seen: dict[int, tuple[float, float]] = {}
        """Per model id: start of its first and of its latest call."""
        self._dropped: dict[int, Counter[float]] = {}
        self._status = {"ok": 0, "error": 0, "running": 0}
        """Traces by status, counted as they change."""
        self._sampled: dict[int, tuple[int, float]] = {}
        """Per tool past ``DURATIONS_KEPT`` calls: (durations seen, max): the kept durations
        are then a uniform sample (reservoir) of them."""
        self.added = 0
        """Traces ever created (also those dropped since): new ones are the last in order."""
        self.dropped = 0
        """Finished traces dropped from memory (:meth:`drop_oldest`); still in the files and
        in the counts, tool statistics and error groups."""
        self.dropped_failures = DroppedFailures()
        """The failures of dropped traces, for the error groups."""
        self.unattributed_dropped = 0
        """Oldest unattributed locations forgotten (past ``UNATTRIBUTED_KEPT``)."""

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
            self._unattributed(loc)
            return None
        self.events += 1
        rid = rec.request_id
        if rid is None:
            if rec.kind is _LLM_OK or rec.kind is _LLM_FAIL:
                self._loose_llm_call(rec)
            self._unattributed(loc)
            return None
        trace = self.traces.get(rid)
        if trace is None:
            trace = self.traces[rid] = Trace(rid)
            self._status["running"] += 1
            self.added += 1
        if self.track_changes:
            self.changed.add(rid)
        self._fold(trace, rec, loc)
        return trace

    def _loose_llm_call(self, rec: Record) -> None:
        """An LLM call's end that belongs to no request (an agent logging calls without a
        request id, GenAI events written with tracing off): in the per-model statistics."""
        model_id = self.models.id(rec.model or UNKNOWN_MODEL)
        self._started[model_id] = self._started.get(model_id, 0) + 1
        duration = NAN if rec.duration_ms is None else rec.duration_ms
        began = NAN
        if rec.ts is not None:
            began = rec.ts - (duration / 1000.0 if duration == duration else 0.0)
        tokens = NAN if rec.tokens is None else float(rec.tokens)
        self._count_call(model_id, rec.kind is _LLM_FAIL, duration, tokens, began)

    def _unattributed(self, loc: int) -> None:
        locs = self.unattributed
        locs.append(loc)
        if len(locs) >= 2 * UNATTRIBUTED_KEPT:
            del locs[:UNATTRIBUTED_KEPT]
            self.unattributed_dropped += UNATTRIBUTED_KEPT

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
        if kind in _LLM_KINDS:
            t.flags |= _HAS_LLM
            if kind is _LLM_START:
                self._span_start(live, rec)  # type: ignore[arg-type]
            else:
                self._span_end(t, live, rec)  # type: ignore[arg-type]
        elif kind is _TOOL_START:
            self._span_start(live, rec)  # type: ignore[arg-type]
        elif kind is _TOOL_OK or kind is _TOOL_FAIL:
            self._span_end(t, live, rec)  # type: ignore[arg-type]
        else:
            if rec.model is not None and t.model_id < 0:
                t.model_id = self.models.id(rec.model)
            if rec.tokens is not None:
                t.tokens = max(t.tokens, 0) + rec.tokens
        if (kind is _REQUEST_OK or kind is _REQUEST_FAIL) and not t.flags & _TERMINAL_MASK:
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

    def _name_id(self, rec: Record) -> int:
        """The number of a record's tool, or of its model for an LLM call."""
        if rec.kind in _LLM_KINDS:
            return self.models.id(rec.model or UNKNOWN_MODEL)
        return self.tools.id(rec.tool or "?")

    def _span_start(self, live: _Live, rec: Record) -> None:
        tool_id = self._name_id(rec)
        spans = live.spans
        index = len(spans) // _FIELDS
        ts = rec.ts
        tokens = rec.tokens
        spans.extend(
            (
                tool_id,
                RUNNING,
                NAN if ts is None else ts,
                NAN,
                -1,
                len(live.locs) - 1,
                NAN if tokens is None else tokens,
            )
        )
        self._started[tool_id] = self._started.get(tool_id, 0) + 1
        entry = (rec.call_id, tool_id, index)
        if live.open is None:
            live.open = [entry]
        else:
            live.open.append(entry)

    def _span_end(self, t: Trace, live: _Live, rec: Record) -> None:
        tool_id = self._name_id(rec)
        llm = tool_id >= MODEL_BASE
        failed = rec.kind is _TOOL_FAIL or rec.kind is _LLM_FAIL
        ts = rec.ts
        # An LLM call's end names the model that answered, its start the one asked for: any
        # open LLM call matches (in order) unless call ids tell them apart.
        index = _pop_open(live, rec.call_id, tool_id, llm or rec.tool is None, llm)
        spans = live.spans
        if index is None:
            # An end without a start: keep it as a span of its own.
            index = len(spans) // _FIELDS
            spans.extend((tool_id, RUNNING, NAN, NAN, -1, len(live.locs) - 1, NAN))
            self._started[tool_id] = self._started.get(tool_id, 0) + 1
            t.flags |= _ORPHANS
        base = index * _FIELDS
        if llm:
            opened_as = int(spans[base])
            if opened_as != tool_id and rec.model is not None:
                # The model that answered names the call.
                self._started[opened_as] -= 1
                self._started[tool_id] = self._started.get(tool_id, 0) + 1
                spans[base] = tool_id
            if rec.tokens is not None:
                spans[base + 6] = rec.tokens
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
            if not llm:
                t.tool_errors += 1
            spans[base + 4] = self.errors.id(
                rec.error or rec.message or ("LLM call failed" if llm else "tool call failed")
            )
        self._count_call(tool_id, failed, duration, spans[base + 6], spans[base + 2])

    def _count_call(
        self, tool_id: int, failed: bool, duration: float, tokens: float, began: float
    ) -> None:
        """Count one ended call in its tool's (or model's) statistics; NaN where unknown."""
        if tool_id >= MODEL_BASE:
            if tokens == tokens:
                self._tokens[tool_id] = self._tokens.get(tool_id, 0) + int(tokens)
            if began == began:
                first, latest = self._seen.get(tool_id, (began, began))
                self._seen[tool_id] = (min(first, began), max(latest, began))
        if failed:
            self._errors[tool_id] = self._errors.get(tool_id, 0) + 1
        calls = self._calls
        calls[tool_id] = calls.get(tool_id, 0) + 1
        if duration == duration:
            durations = self._durations.get(tool_id)
            if durations is None:
                durations = self._durations[tool_id] = array("d")
            if len(durations) < DURATIONS_KEPT:
                durations.append(duration)
            else:
                sampled = self._sampled.get(tool_id)
                seen, top = (len(durations), max(durations)) if sampled is None else sampled
                seen += 1
                j = _random.randrange(seen)
                if j < DURATIONS_KEPT:
                    durations[j] = duration
                self._sampled[tool_id] = (seen, max(top, duration))

    def freeze_all(self) -> None:
        """Freeze every trace that has no open tool call (after a bulk scan)."""
        for t in self.traces.values():
            t.freeze()

    def drop_oldest(self, keep: int) -> int:
        """Drop the oldest finished traces from memory until at most ``keep`` remain (running
        ones too when finished ones are not enough). Their counts stay: status counts, tool
        statistics, and their failures for the error groups (:attr:`dropped_failures`).

        Returns:
            The number dropped.
        """
        excess = len(self.traces) - max(0, keep)
        if excess <= 0:
            return 0
        traces = self.traces
        victims = [rid for rid, t in itertools.islice(traces.items(), excess * 4) if t.flags & 3][
            :excess
        ]
        if len(victims) < excess:
            chosen = set(victims)
            victims.extend(rid for rid in itertools.islice(traces, excess * 2) if rid not in chosen)
            victims = victims[:excess]
        record = self.dropped_failures.record
        for rid in victims:
            t = traces.pop(rid)
            if t.tool_errors or t.status == "error":
                record(self, t)
            self.changed.discard(rid)
        self.dropped += len(victims)
        return len(victims)

    def file_ids(self) -> set[int]:
        """The file id of every location the index holds (traces and unattributed events)."""
        shift = OFFSET_BITS
        ids: set[int] = set()
        add_all = ids.update
        for t in self.traces.values():
            add_all(map(operator.rshift, t.locs, itertools.repeat(shift)))
        add_all(map(operator.rshift, self.unattributed, itertools.repeat(shift)))
        return ids

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
        """The trace's tool and LLM calls, in start order."""
        tools = self.tools.names
        models = self.models.names
        errors = self.errors.names
        new = tuple.__new__  # Span(...) without its Python-level __new__: one per call
        out = [
            new(
                Span,
                (
                    models[tool_id] if tool_id >= MODEL_BASE else tools[tool_id],
                    _STATUS_NAMES[status],
                    None if start != start else start,  # NaN: unknown
                    None if duration != duration else duration,
                    errors[error_id] if error_id >= 0 else None,
                    loc,
                    "llm" if tool_id >= MODEL_BASE else "tool",
                    None if tokens != tokens else int(tokens),
                ),
            )
            for tool_id, status, start, duration, error_id, tokens, loc in trace.all_span_rows_at()
        ]
        if len(out) < 2:
            return out
        if trace.flags & _ORPHANS or _out_of_order(out):
            # Orphan ends, or read from several sources (files read one after another).
            out.sort(key=lambda sp: math.inf if sp.start is None else sp.start)
        return out

    def trace_models(self, trace: Trace) -> list[str]:
        """The models of a trace: named by its events (unless an answering model's name starts
        with it), then those that answered its LLM calls, each once, in the order seen."""
        if trace.model_id < 0 and not trace.flags & _HAS_LLM:
            return []  # most traces: no model named, no LLM call
        names = self.models.names
        answered = [names[i] for i in dict.fromkeys(row[0] for row in trace.llm_rows())]
        if trace.model_id >= 0:
            named = names[trace.model_id]
            # "gpt-4o" asked for and "gpt-4o-2024-08-06" answering are one model.
            if not any(model.startswith(named) for model in answered):
                answered.insert(0, named)
        return answered

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
        return {name: stats for name, (stats, _ids) in self._stats(models=False).items()}

    def model_stats(self) -> dict[str, ModelStats]:
        """Per model: LLM calls (in flight included), errors, latency percentiles, tokens,
        and when it was first and last seen."""
        out: dict[str, ModelStats] = {}
        for name, (stats, ids) in self._stats(models=True).items():
            seen = [self._seen[i] for i in ids if i in self._seen]
            out[name] = ModelStats(
                stats.calls,
                stats.errors,
                stats.p50_ms,
                stats.p95_ms,
                stats.p99_ms,
                stats.max_ms,
                stats.running,
                tokens=sum(self._tokens.get(i, 0) for i in ids),
                first_seen=min((s[0] for s in seen), default=None),
                last_seen=max((s[1] for s in seen), default=None),
            )
        return out

    def _stats(self, *, models: bool) -> dict[str, tuple[ToolStats, list[int]]]:
        self._apply_dropped()
        names = self.models.names if models else self.tools.names
        by_name: dict[str, list[int]] = {}
        for tool_id, started in self._started.items():
            if started > 0 and is_model(tool_id) == models:
                by_name.setdefault(names[tool_id], []).append(tool_id)
        out: dict[str, tuple[ToolStats, list[int]]] = {}
        for name in sorted(by_name):
            ids = by_name[name]
            values = sorted(v for i in ids for v in self._durations.get(i, ()))
            top = max((self._sampled[i][1] for i in ids if i in self._sampled), default=None)
            calls = sum(self._started[i] for i in ids)
            stats = ToolStats(
                calls=calls,
                running=calls - sum(self._calls.get(i, 0) for i in ids),
                errors=sum(self._errors.get(i, 0) for i in ids),
                p50_ms=percentile(values, 50),
                p95_ms=percentile(values, 95),
                p99_ms=percentile(values, 99),
                max_ms=(values[-1] if top is None else max(top, values[-1])) if values else None,
            )
            out[name] = (stats, ids)
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
        self.models.merge(other.models)
        for model_id, count in other._tokens.items():
            self._tokens[model_id] = self._tokens.get(model_id, 0) + count
        for model_id, (first, latest) in other._seen.items():
            mine_first, mine_latest = self._seen.get(model_id, (first, latest))
            self._seen[model_id] = (min(first, mine_first), max(latest, mine_latest))
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
        for tool_id, status, _start, duration, _error, tokens in t.all_span_rows():
            self._started[tool_id] -= 1
            if status == RUNNING:
                continue
            if tokens == tokens and tool_id in self._tokens:
                self._tokens[tool_id] -= int(tokens)
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


def _pop_open(
    live: _Live, call_id: str | None, tool_id: int, any_tool: bool, llm: bool = False
) -> int | None:
    """Take the open span an end event closes: same call id, else the first of the same tool
    (of any tool when ``any_tool``); LLM calls and tool calls never close each other."""
    opened = live.open
    if not opened:
        return None
    chosen = -1
    if call_id is not None:
        for i, (cid, tid, _) in enumerate(opened):
            if cid == call_id and (tid >= MODEL_BASE) == llm:
                chosen = i
                break
    if chosen < 0:
        for i, (cid, tid, _) in enumerate(opened):
            if (
                (tid == tool_id or any_tool)
                and (tid >= MODEL_BASE) == llm
                and (call_id is None or cid is None)
            ):
                chosen = i
                break
    if chosen < 0:
        return None
    index = opened.pop(chosen)[2]
    if not opened:
        live.open = None
    return index


__all__ = [
    "DURATIONS_KEPT",
    "FAILED",
    "MODEL_BASE",
    "OFFSET_BITS",
    "OFFSET_MASK",
    "OK",
    "RUNNING",
    "UNATTRIBUTED_KEPT",
    "UNKNOWN_MODEL",
    "ModelStats",
    "RebuildFn",
    "Span",
    "Strings",
    "ToolStats",
    "Trace",
    "TraceIndex",
    "is_model",
    "pack_loc",
    "percentile",
    "unpack_loc",
]
