"""The trace list without a screen: order, placing new traces, filtering, cursor, next match.

The TUI's list and the ``traces`` command both order and filter through this module, so that they
show the same traces in the same order. It reads the index only through ``read``, a callable
returning a context manager that holds the index still (the session's :meth:`Session.read`).

Rows are kept as sort keys ``(has_time, start, first_seen, request_id)`` in ascending order (oldest
first); the display shows them newest first, so display row 0 is the last key.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from agenttui.model.traces import Trace, TraceIndex

SortKey = tuple[int, float, int, str]
"""``(has_time, start, first_seen, request_id)``: ascending = oldest first."""

Predicate = Callable[[TraceIndex, Trace], bool]
"""A filter over traces (see :mod:`agenttui.model.query`)."""

ReadIndex = Callable[[], AbstractContextManager[TraceIndex]]
"""Gives the index held still for the ``with`` block (e.g. ``session.read``)."""

BATCH = 5000
"""Traces checked per hold of the index while filtering (the ingest thread waits meanwhile)."""


def sort_key(trace: Trace, seen: int) -> SortKey:
    """The position of a trace: by start time; traces without a time by first-seen, oldest.

    Args:
        trace: The trace.
        seen: Its position in the index's insertion order (breaks ties).
    """
    start = trace.start
    if math.isnan(start):
        return (0, 0.0, seen, trace.request_id)
    return (1, start, seen, trace.request_id)


def sorted_keys(index: TraceIndex) -> list[SortKey]:
    """Every trace's key, ascending (oldest first). The caller holds the index."""
    return sorted(sort_key(t, i) for i, t in enumerate(index.traces.values()))


def matches(index: TraceIndex, trace: Trace, needle: str) -> bool:
    """Whether the trace's request id, query or error contains ``needle`` (lower case)."""
    if needle in trace.request_id.lower():
        return True
    if trace.query is not None and needle in trace.query.lower():
        return True
    error = index.error_text(trace)
    return error is not None and needle in error.lower()


def matcher(needle: str | Predicate) -> Predicate:
    """A predicate for a plain-text needle (or the predicate itself)."""
    if callable(needle):
        return needle
    return lambda index, trace: matches(index, trace, needle)


def is_failure(index: TraceIndex, trace: Trace) -> bool:
    """Whether the trace failed (the target of ``n`` / ``N`` without a filter)."""
    return trace.status == "error"


def filter_keys(read: ReadIndex, keys: Iterable[SortKey], needle: str | Predicate) -> list[SortKey]:
    """The keys whose traces match ``needle`` (text or a predicate), in their order.

    Holds the index for :data:`BATCH` keys at a time; safe to call from a thread.
    """
    match = matcher(needle)
    out: list[SortKey] = []
    it = iter(keys)
    while True:
        batch = list(itertools.islice(it, BATCH))
        if not batch:
            return out
        with read() as index:
            traces = index.traces
            for key in batch:
                trace = traces.get(key[3])
                if trace is not None and match(index, trace):
                    out.append(key)


def ordered(read: ReadIndex, predicate: Predicate | None = None) -> list[Trace]:
    """The traces in list order, oldest first, those matching ``predicate`` only.

    What ``agenttui traces`` prints; the TUI's list shows the same, newest first.
    """
    with read() as index:
        keys = sorted_keys(index)
    if predicate is not None:
        keys = filter_keys(read, keys, predicate)
    with read() as index:
        traces = index.traces
        return [t for t in (traces.get(k[3]) for k in keys) if t is not None]


def merge(target: list[SortKey], new: list[SortKey]) -> None:
    """Merge sorted ``new`` keys into sorted ``target`` in place."""
    if not new:
        return
    if not target or new[0] >= target[-1]:
        target.extend(new)
    elif len(new) <= 64:
        for key in new:
            insort(target, key)
    else:
        target[:] = list(heapq.merge(target, new))


class Listing:
    """The rows of the trace list: every placed trace, the filtered view, the cursor.

    Display rows count from the newest trace (row 0). While ``following`` the cursor stays on
    the newest trace as new ones arrive; moving away stops following, coming back to the newest
    row resumes it.
    """

    def __init__(self, read: ReadIndex) -> None:
        """Read the index through ``read`` (e.g. ``session.read``)."""
        self.read = read
        self.rows: list[SortKey] = []
        """All placed traces, ascending."""
        self.view: list[SortKey] = self.rows
        """The rows shown (``rows`` or the filtered subset), ascending."""
        self.placed = 0
        """Number of traces (in index insertion order) placed in ``rows``."""
        self.needle = ""
        """The active filter text (lower case), empty when not filtering."""
        self.predicate: Predicate | None = None
        """The filter when it is a query (else the needle is plain text)."""
        self.cursor = 0
        """Display index of the cursor (0 = newest)."""
        self.cursor_key: SortKey | None = None
        self.following = True
        """The cursor stays on the newest trace while new ones arrive."""

    # ---------------------------------------------------------------- reading

    @property
    def row_count(self) -> int:
        """Number of rows shown."""
        return len(self.view)

    @property
    def total_count(self) -> int:
        """Number of traces placed (unfiltered)."""
        return len(self.rows)

    @property
    def match(self) -> Predicate:
        """The active filter as a predicate."""
        return self.predicate or matcher(self.needle)

    def key_at(self, row: int) -> SortKey | None:
        """Sort key of the trace shown at display row ``row``."""
        if 0 <= row < len(self.view):
            return self.view[len(self.view) - 1 - row]
        return None

    def request_id_at(self, row: int) -> str | None:
        """Request id of the trace shown at display row ``row``."""
        key = self.key_at(row)
        return None if key is None else key[3]

    @property
    def selected(self) -> str | None:
        """Request id under the cursor."""
        return self.request_id_at(self.cursor)

    def visible_request_ids(self) -> list[str]:
        """Request ids in display order (newest first)."""
        return [key[3] for key in reversed(self.view)]

    def row_of(self, request_id: str) -> int | None:
        """Display row of a request id, None when it is not shown."""
        for row, key in enumerate(reversed(self.view)):
            if key[3] == request_id:
                return row
        return None

    # ---------------------------------------------------------------- changing the rows

    def sync(self, *, resort: bool = False) -> bool:
        """Place traces that appeared since the last call; re-sort everything on ``resort``.

        Returns:
            Whether rows were added or re-sorted.
        """
        with self.read() as index:
            traces = index.traces
            if resort:
                self.rows[:] = sorted_keys(index)
                self.placed = len(traces)
                new: list[SortKey] = []
            else:
                if len(traces) <= self.placed:
                    return False
                new = sorted(
                    sort_key(t, i)
                    for i, t in enumerate(
                        itertools.islice(traces.values(), self.placed, None), self.placed
                    )
                )
                self.placed = len(traces)
            if self.needle and new:
                match = self.match
                matching = [k for k in new if match(index, traces[k[3]])]
            else:
                matching = new
        merge(self.rows, new)
        if resort and self.needle:
            self.view = filter_keys(self.read, self.rows, self.match)
        elif self.needle and matching:
            merge(self.view, matching)
        self.place_cursor()
        return True

    def set_filter(
        self, needle: str, keys: list[SortKey] | None = None, predicate: Predicate | None = None
    ) -> None:
        """Show only traces matching ``needle`` (case-insensitive); empty shows all.

        Args:
            needle: The text of the filter.
            keys: The matching keys when a worker computed them already (from a copy of
                ``rows``); traces placed since are checked here.
            predicate: The parsed query (:mod:`agenttui.model.query`) that ``needle`` is the text
                of; without it ``needle`` is searched as plain text.
        """
        needle = needle.lower()
        self.needle = needle
        self.predicate = predicate if needle else None
        match = self.match
        if not needle:
            self.view = self.rows
        elif keys is None:
            self.view = filter_keys(self.read, self.rows, match)
        else:
            known = set(keys)
            extra = [k for k in self.rows if k not in known] if keys else self.rows
            if extra and len(extra) < len(self.rows):
                keys = list(keys)
                merge(keys, filter_keys(self.read, extra, match))
            elif extra:
                keys = filter_keys(self.read, extra, match)
            self.view = keys
        self.place_cursor()

    def place_cursor(self) -> None:
        """After the rows changed: keep the cursor on its trace (or on the newest when
        following)."""
        count = len(self.view)
        key = None if self.following and not self.needle else self.cursor_key
        if key is not None:
            pos = bisect_left(self.view, key)
            if pos < count and self.view[pos] == key:
                self.cursor = count - 1 - pos
            else:
                self.cursor = min(self.cursor, max(0, count - 1))
                self.cursor_key = self.key_at(self.cursor)
        else:
            self.cursor = 0
            self.cursor_key = self.key_at(0)

    # ---------------------------------------------------------------- the cursor

    def move_to(self, row: int) -> bool:
        """Put the cursor on display row ``row`` (clamped).

        On the newest row (0) the list follows new traces again; anywhere else it stops.

        Returns:
            Whether the cursor moved to another trace.
        """
        count = len(self.view)
        row = max(0, min(row, count - 1)) if count else 0
        self.following = row == 0
        key = self.key_at(row)
        if row == self.cursor and key == self.cursor_key:
            return False
        self.cursor = row
        self.cursor_key = key
        return True

    def next_row(self, step: int, predicate: Predicate | None = None) -> int | None:
        """The display row of the next trace matching ``predicate`` from the cursor.

        ``step=1`` looks down (older), ``-1`` up (newer), wrapping around. Without a predicate
        every row matches (the next row).
        """
        count = len(self.view)
        if not count:
            return None
        rows = [(self.cursor + step * i) % count for i in range(1, count + 1)]
        if predicate is None:
            return rows[0]
        with self.read() as index:
            traces = index.traces
            for row in rows:
                trace = traces.get(self.view[count - 1 - row][3])
                if trace is not None and predicate(index, trace):
                    return row
        return None

    def next_match(self, step: int) -> int | None:
        """``n`` / ``N``: with a filter, the next shown row (all match); without, the next
        failed trace."""
        return self.next_row(step, None if self.needle else is_failure)


__all__ = [
    "Listing",
    "Predicate",
    "ReadIndex",
    "SortKey",
    "filter_keys",
    "is_failure",
    "matcher",
    "matches",
    "merge",
    "ordered",
    "sort_key",
    "sorted_keys",
]
