"""One trace: the compact summary of a request, growing while it receives events, then frozen.

While a trace receives events its spans are seven floats each in one ``array('d')``
(:class:`_Live`); once it has ended (and has no open call) they are frozen with the rest of the
trace into one ``bytes`` value (28 bytes a span). A span is a tool call or an LLM call: the
second has a model's number (:data:`MODEL_BASE` and up) where the first has a tool's. Tool
names, model names and error texts are numbers into the index's string tables
(:class:`Strings`); each event is remembered only by its location (file id and byte offset
packed into one 64-bit integer, :func:`pack_loc`). The index that folds records into traces is
:mod:`agenttui.model.traces`.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from typing import Final, NamedTuple

NAN: Final = math.nan

#: Bits of a location that hold the byte offset; the rest hold the file id.
OFFSET_BITS: Final = 40
OFFSET_MASK: Final = (1 << OFFSET_BITS) - 1

# Span status codes inside the packed array.
RUNNING: Final = 0
OK: Final = 1
FAILED: Final = 2
_STATUS_NAMES: Final = ("running", "ok", "error")

_FIELDS: Final = 7  # tool id, status, start, duration ms, error id, event number, tokens

MODEL_BASE: Final = 1 << 29
"""Numbers from here on name models: a span with such a number is an LLM call, not a tool call
(tool numbers stay below it: 2**22 per index built in parallel)."""


def is_model(number: int) -> bool:
    """Whether a span's name number is a model's (an LLM call)."""
    return number >= MODEL_BASE


def pack_loc(file_id: int, offset: int) -> int:
    """Pack a file id and a byte offset into one integer."""
    return (file_id << OFFSET_BITS) | offset


def unpack_loc(loc: int) -> tuple[int, int]:
    """Split a packed location into (file id, byte offset)."""
    return loc >> OFFSET_BITS, loc & OFFSET_MASK


class Span(NamedTuple):
    """One tool call or LLM call: a start paired with its end (or still running)."""

    tool: str
    """The tool's name, or the model's for an LLM call."""
    status: str
    """``ok``, ``error`` or ``running``."""
    start: float | None
    """Epoch seconds of the start event."""
    duration_ms: float | None
    error: str | None
    loc: int | None = None
    """Location of the event that opened the span (its start, or its end when it had none)."""
    kind: str = "tool"
    """``tool`` or ``llm``."""
    tokens: int | None = None
    """Tokens of an LLM call, when the log says."""


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
        """Seven floats per span: tool (or model) id, status, start (epoch s), duration ms, error
        id, the number of the span's first event among the trace's events (``locs``), and the
        tokens of an LLM call (NaN when unknown)."""
        self.open: list[tuple[str | None, int, int]] | None = None
        """Open spans: (call id, tool id, span index)."""


_HEAD: Final = struct.Struct("<ddd")  # last, end, duration_ms
_SPAN: Final = struct.Struct("<IfdIII")
"""tool id << 2 | status, start offset ms, duration, error id + 1, event number, tokens + 1."""
_LOC: Final = struct.Struct("<Q")

# Bits of Trace.flags.
_TERMINAL_MASK: Final = 3
_ERROR_LEVEL: Final = 4
_ORPHANS: Final = 8
_WARN_LEVEL: Final = 16
_HAS_LLM: Final = 32
_WARN_LEVELS: Final = frozenset({"warning", "warn"})


class Trace:
    """Compact summary of one request.

    While a trace receives events its growing parts live in a small object; once it has ended
    (and has no open tool call) they are frozen into one ``bytes`` value: a header, each event's
    location, and 28 bytes per span (:data:`_SPAN`). A late event thaws it again.
    """

    __slots__ = (
        "data",
        "error_id",
        "events",
        "flags",
        "model_id",
        "query",
        "request_id",
        "start",
        "tokens",
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
        self.model_id = -1
        """The model named by an event that is not an LLM call (``request_start model=``)."""
        self.tokens = -1
        """Tokens reported by events that are not LLM calls (a request's total), -1 if none."""
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
        for i, (code, offset, duration, error, event, tokens) in enumerate(
            _SPAN.iter_unpack(blob[cut:])
        ):
            status = code & 3
            spans.extend(
                (
                    code >> 2,
                    status,
                    start + offset / 1000.0,
                    duration,
                    error - 1,
                    event,
                    tokens - 1 if tokens else NAN,
                )
            )
            if status == RUNNING:
                opened.append((None, code >> 2, i))
        live.open = opened or None
        self.data = live
        return live

    def freeze(self) -> None:
        """Pack the growing parts into one bytes value (no-op while a call is open)."""
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
                    0 if s[base + 6] != s[base + 6] else int(s[base + 6]) + 1,
                )
            )
        self.data = b"".join(parts)

    def all_span_rows(self) -> list[tuple[int, int, float, float, int, float]]:
        """Every span, tool and LLM calls, as (tool or model id, status, start, duration ms,
        error id, tokens), NaN where unknown."""
        data = self.data
        if data.__class__ is bytes:
            blob: bytes = data
            start = self.start
            cut = _HEAD.size + 8 * self.events
            return [
                (
                    code >> 2,
                    code & 3,
                    start + offset / 1000.0,
                    duration,
                    error - 1,
                    tokens - 1 if tokens else NAN,
                )
                for code, offset, duration, error, _event, tokens in _SPAN.iter_unpack(blob[cut:])
            ]
        s = data.spans  # type: ignore[union-attr]
        return [
            (int(s[b]), int(s[b + 1]), s[b + 2], s[b + 3], int(s[b + 4]), s[b + 6])
            for b in range(0, len(s), _FIELDS)
        ]

    def span_rows(self) -> list[tuple[int, int, float, float, int]]:
        """Tool calls as (tool id, status, start, duration ms, error id), NaN where unknown."""
        rows = self.all_span_rows()
        if self.flags & _HAS_LLM:
            return [row[:5] for row in rows if row[0] < MODEL_BASE]
        return [row[:5] for row in rows]

    def llm_rows(self) -> list[tuple[int, int, float, float, int, float]]:
        """LLM calls as (model id, status, start, duration ms, error id, tokens)."""
        if not self.flags & _HAS_LLM:
            return []
        return [row for row in self.all_span_rows() if row[0] >= MODEL_BASE]

    def all_span_rows_at(
        self,
    ) -> list[tuple[int, int, float, float, int, float, int | None]]:
        """:meth:`all_span_rows` with the location of each span's first event (None when it
        has none), in one pass over the packed data."""
        data = self.data
        events = self.events
        if data.__class__ is bytes:
            blob: bytes = data
            start = self.start
            cut = _HEAD.size + 8 * events
            loc_at = _LOC.unpack_from
            head = _HEAD.size
            return [
                (
                    code >> 2,
                    code & 3,
                    start + offset / 1000.0,
                    duration,
                    error - 1,
                    tokens - 1 if tokens else NAN,
                    loc_at(blob, head + 8 * event)[0] if 0 <= event < events else None,
                )
                for code, offset, duration, error, event, tokens in _SPAN.iter_unpack(
                    memoryview(blob)[cut:]
                )
            ]
        s = data.spans  # type: ignore[union-attr]
        locs = data.locs  # type: ignore[union-attr]
        n = len(locs)
        out = []
        for b in range(0, len(s), _FIELDS):
            event = int(s[b + 5])
            out.append(
                (
                    int(s[b]),
                    int(s[b + 1]),
                    s[b + 2],
                    s[b + 3],
                    int(s[b + 4]),
                    s[b + 6],
                    locs[event] if 0 <= event < n else None,
                )
            )
        return out

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
                self.model_id,
                self.tokens,
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
    def span_count(self) -> int:
        """Number of spans, tool and LLM calls."""
        data = self.data
        if data.__class__ is bytes:
            return (len(data) - _HEAD.size - 8 * self.events) // _SPAN.size
        return len(data.spans) // _FIELDS  # type: ignore[union-attr]

    @property
    def tool_calls(self) -> int:
        """Number of tool calls."""
        if self.flags & _HAS_LLM:
            return self.span_count - self.llm_calls
        return self.span_count

    @property
    def llm_calls(self) -> int:
        """Number of LLM calls."""
        if not self.flags & _HAS_LLM:
            return 0
        return sum(1 for row in self.all_span_rows() if row[0] >= MODEL_BASE)

    @property
    def total_tokens(self) -> int | None:
        """Tokens of the request: its LLM calls' sum when they say, else what other events
        reported (a request's total), else None."""
        if self.flags & _HAS_LLM:
            counts = [row[5] for row in self.all_span_rows() if row[0] >= MODEL_BASE]
            known = [int(c) for c in counts if c == c]
            if known:
                return sum(known)
        return None if self.tokens < 0 else self.tokens

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

    def times(self) -> tuple[float | None, float | None, float | None]:
        """(:attr:`start_or_none`, :attr:`end_or_none`, :attr:`total_ms`) in one look at the
        packed data."""
        _last, end, duration = self._head()
        start = self.start
        total: float | None = None
        if self.flags & _TERMINAL_MASK != RUNNING:
            if duration == duration:
                total = duration
            elif end == end and start == start:
                total = (end - start) * 1000.0
        return (
            None if start != start else start,
            None if end != end else end,
            total,
        )

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
    model_id: int,
    tokens: int,
) -> Trace:
    t = Trace.__new__(Trace)
    t.model_id, t.tokens = model_id, tokens
    t.request_id, t.start, t.flags, t.events = request_id, start, flags, events
    t.tool_errors, t.error_id, t.query, t.data = tool_errors, error_id, query, data
    return t
