"""What stays of traces dropped from memory under the memory budget (their failures), and the
file ids the index no longer refers to.

A dropped trace leaves the index (it is still in the log files), but its failures still count
in the error groups: each (error, tool) keeps its number of occurrences and the times of the
newest :data:`TIMES_KEPT` of them (for the "recent" count and the sparkline).

Each generation of a log file (a delete and re-create makes one) has an id, and there are
2**24 of them (:data:`agenttui.ingest.files.MAX_FILE_IDS`): :func:`recycle_file_ids` gives
back those of deleted files that no location in the index refers to any more.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agenttui.ingest.files import FileTable
    from agenttui.model.traces import Trace, TraceIndex

TIMES_KEPT: Final = 1024
"""Times kept per (error, tool) of dropped failures (the newest)."""
_FAILED: Final = 2


def occurrences(index: TraceIndex, trace: Trace) -> list[tuple[str, str, float | None]]:
    """(error text, tool, time) of each failure in the trace: each failed tool call, else the
    request's own failure (tool ``""``)."""
    out: list[tuple[str, str, float | None]] = []
    if trace.tool_errors:
        tools = index.tools.names
        errors = index.errors.names
        for tool_id, status, start, duration, error_id in trace.span_rows():
            if status != _FAILED:
                continue
            when: float | None = None
            if start == start:
                when = start + (duration / 1000.0 if duration == duration else 0.0)
            out.append(
                (errors[error_id] if error_id >= 0 else "tool call failed", tools[tool_id], when)
            )
    if not out and trace.status == "error":
        when = trace.end_or_none
        if when is None:
            last = trace.last
            when = None if math.isnan(last) else last
        out.append((index.error_text(trace) or "request failed", "", when))
    return out


class DroppedFailures:
    """Failures of dropped traces, by (error text, tool)."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], tuple[list[int], array[float]]] = {}

    def record(self, index: TraceIndex, trace: Trace) -> None:
        """Keep the failures of ``trace``, about to be dropped."""
        for error, tool, when in occurrences(index, trace):
            entry = self._groups.get((error, tool))
            if entry is None:
                entry = self._groups[(error, tool)] = ([0], array("d"))
            entry[0][0] += 1
            if when is not None:
                times = entry[1]
                times.append(when)
                if len(times) >= 2 * TIMES_KEPT:
                    del times[:TIMES_KEPT]

    def __iter__(self) -> Iterator[tuple[str, str, int, list[float]]]:
        """(error text, tool, occurrences, times kept) of each."""
        for (error, tool), (count, times) in self._groups.items():
            yield error, tool, count[0], times.tolist()

    def __len__(self) -> int:
        return sum(count[0] for count, _times in self._groups.values())


RECYCLE_EVERY: Final = 4096
"""New generations between two looks for file ids to recycle (more with a big index: the look
walks every location held, so at most once per a quarter of the traces' count)."""


def recycle_due(table: FileTable, index: TraceIndex, created_at_last: int) -> bool:
    """Whether :func:`recycle_file_ids` should run (cheap): generations were made since it
    last ran, and ids run short or many were made."""
    made = table.created - created_at_last
    if made and table.ids_left() <= table.max_ids // 16:
        return True
    return made >= max(RECYCLE_EVERY, len(index) // 4)


def recycle_file_ids(table: FileTable, index: TraceIndex, lock: AbstractContextManager[Any]) -> int:
    """Free the ids of deleted generations no location in ``index`` refers to.

    When ids run short (under a sixteenth of them left) and that is not enough, the oldest
    half of the traces (and of the unattributed events) is dropped from memory, as the memory
    budget does, until enough are free: the header then says so; they are still in the files.

    Args:
        lock: Held while traces are dropped (readers take it).

    Returns:
        The number of ids freed.
    """
    freed = 0
    while True:
        candidates = table.recyclable()
        if candidates:
            held = index.file_ids()
            unused = [i for i in candidates if i not in held]
            table.free(unused)
            freed += len(unused)
        if table.ids_left() >= table.max_ids // 16 or not (index.traces or index.unattributed):
            return freed
        with lock:
            index.drop_oldest(len(index) // 2)
            half = (len(index.unattributed) + 1) // 2
            del index.unattributed[:half]
            index.unattributed_dropped += half
