"""Steps within steps: how deep each span of a trace sits under the sub-agent spans around it.

A nested ``invoke_agent`` span (a handoff, a sub-agent) is read as a step named ``agent
<name>`` (see :mod:`agenttui.ingest.shapes.otlp_spans`); the tool calls and agents that ran
inside its time are its children, shown indented beneath it in the waterfall.
"""

from __future__ import annotations

from agenttui.ingest.shapes.otlp_spans import AGENT_STEP
from agenttui.model.traces import Span

_SLACK_S = 1e-6
"""Clock rounding allowed at a step's edges (microsecond times)."""


def _end(span: Span) -> float | None:
    if span.start is None or span.duration_ms is None:
        return None
    return span.start + span.duration_ms / 1000.0


def depths(spans: list[Span]) -> list[int]:
    """For each span, the number of ended agent steps whose time holds it (0 at the top)."""
    steps = [
        (s.start, end, i)
        for i, s in enumerate(spans)
        if s.tool.startswith(AGENT_STEP) and s.start is not None and (end := _end(s)) is not None
    ]
    out = []
    for i, span in enumerate(spans):
        start, end = span.start, _end(span)
        if start is None or not steps:
            out.append(0)
            continue
        stop = end if end is not None else start
        out.append(
            sum(
                1
                for s_start, s_end, j in steps
                if j != i
                and s_start - _SLACK_S <= start
                and stop <= s_end + _SLACK_S
                and (s_start, -s_end) < (start, -stop)
            )
        )
    return out
