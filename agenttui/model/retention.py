"""What stays of traces dropped from memory under the memory budget: their failures.

A dropped trace leaves the index (it is still in the log files), but its failures still count
in the error groups: each (error, tool) keeps its number of occurrences and the times of the
newest :data:`TIMES_KEPT` of them (for the "recent" count and the sparkline).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
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
