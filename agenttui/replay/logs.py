"""The replay's own logs: structlog JSON lines from the agent's stderr (or the ``log_file`` the
config names), folded into a bounded :class:`~agenttui.model.traces.TraceIndex` as they arrive."""

from __future__ import annotations

import os
from typing import Any

from agenttui.ingest.records import ERROR_LEVELS, Kind, decode
from agenttui.model.traces import TraceIndex
from agenttui.replay.captures import Capture
from agenttui.replay.result import Progress, ReplayTrace
from agenttui.safeopen import NotRegularFile, open_regular


class LogCollector:
    """Folds the replay's log lines into a trace index as they arrive (bounded)."""

    def __init__(self, limit: int, progress: Progress | None) -> None:
        """Keep at most ``limit`` bytes of lines; report tool calls to ``progress``."""
        self.index = TraceIndex()
        self.index.freeze_finished = False
        self.limit = limit
        self.kept = 0
        self.dropped = 0
        self.text: list[str] = []
        """Lines that are not JSON (a crash's traceback, prints)."""
        self.last_error: tuple[str | None, dict[str, Any]] | None = None
        """(request id, event) of the last error-level event with an error or exception."""
        self.failures: dict[str, dict[str, Any]] = {}
        """Request id -> its last failing event."""
        self._partial = b""
        self._progress = progress
        self._n = 0

    def feed(self, data: bytes) -> None:
        """Take a chunk of the stream."""
        if self.kept >= self.limit:  # full: only count (a flood must stay cheap)
            self.dropped += len(data)
            return
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            self._line(line)
        if len(self._partial) > self.limit:
            self._line(self._partial)
            self._partial = b""

    def close(self) -> None:
        """The stream ended: take the last line without newline."""
        if self._partial:
            self._line(self._partial)
            self._partial = b""

    def _line(self, line: bytes) -> None:
        size = len(line) + 1
        if self.kept + size > self.limit:
            self.dropped += size
            return
        self.kept += size
        line = line.removesuffix(b"\r")
        obj, rec = decode(line)
        self._n += 1
        self.index.add(rec, self._n)
        if obj is None:
            self.text.append(line.decode("utf-8", errors="backslashreplace"))
            return
        if rec.level in ERROR_LEVELS and (rec.error or obj.get("exception")):
            self.last_error = (rec.request_id, obj)
            rid = rec.request_id
            if rid is not None and (obj.get("exception") or rid not in self.failures):
                self.failures[rid] = obj
        if self._progress is not None and rec.kind in (
            Kind.TOOL_START,
            Kind.TOOL_OK,
            Kind.TOOL_FAIL,
            Kind.REQUEST_OK,
            Kind.REQUEST_FAIL,
        ):
            msg = rec.message or ""
            if rec.tool:
                msg += f" {rec.tool}"
            if rec.duration_ms is not None:
                msg += f" ({rec.duration_ms:g} ms)"
            if rec.error:
                msg += f": {rec.error}"
            self._progress(msg[:300])

    def trace(self, capture: Capture) -> ReplayTrace:
        """The trace of the replayed request: the capture's request id, else its query, else
        the one with the most events."""
        index = self.index
        out = ReplayTrace(lines=index.lines, unparsed=index.unparsed_lines)
        traces = index.traces
        chosen = traces.get(capture.request_id or "")
        if chosen is None:
            same_query = [t for t in traces.values() if capture.query and t.query == capture.query]
            pool = same_query or list(traces.values())
            if pool:
                chosen = max(pool, key=lambda t: t.events)
        if chosen is None:
            return out
        out.request_id = chosen.request_id
        out.status = chosen.status
        out.total_ms = chosen.total_ms
        out.spans = index.spans(chosen)
        out.error = index.error_text(chosen)
        out.events = chosen.events
        failing = self.failures.get(chosen.request_id)
        if failing is not None:
            out.exception = failing.get("exception")
        return out


def log_size(path: str | None) -> int:
    """The size of the agent's log file before the run (0 when absent or not a regular file)."""
    if not path:
        return 0
    try:
        with open_regular(path) as f:
            return os.fstat(f.fileno()).st_size
    except (OSError, NotRegularFile):
        return 0


def read_log(path: str, start: int, limit: int) -> bytes:
    """At most ``limit`` bytes of the log file from ``start`` (from 0 when it was truncated)."""
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(start if size >= start else 0)
            return f.read(limit)
    except (OSError, NotRegularFile):
        return b""


__all__ = ["LogCollector", "log_size", "read_log"]
