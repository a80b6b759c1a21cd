"""Session: the one data path from bytes in log files to the trace index.

A session owns the file table, the index and the event reader. One thread feeds it (the initial
scan, then :meth:`Session.follow`); every other reader goes through :meth:`Session.read`,
the only way to look at the index while it changes. No other module takes the lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from agenttui.following import Following
from agenttui.ingest import fast_structlog, shapes, sources
from agenttui.ingest.lines import salvage
from agenttui.ingest.records import RAW_RECORD, Record
from agenttui.ingest.sources import FileTable, LogFile, Spec
from agenttui.model import bulk
from agenttui.model.events import Event, EventReader
from agenttui.model.traces import OFFSET_BITS, Trace, TraceIndex, pack_loc, unpack_loc

PREVIEW_MIN_BYTES = 64 << 20
"""With more than this to read, the newest part of each file is shown before the rest."""
PREVIEW_BYTES = 4 << 20
"""How much of the end of each file the preview indexes."""
LOCKED_SLICE = 2048
"""Lines folded into the index per hold of the session's lock (a few milliseconds)."""


@dataclass(slots=True)
class Progress:
    """How far the initial scan is."""

    done_bytes: int
    total_bytes: int
    lines: int
    traces: int
    finished: bool = False


class Session(Following):
    """Log sources, the trace index built from them, and access to full events."""

    def __init__(self, paths: list[str], mapping: dict[str, Any] | None = None) -> None:
        """Check the paths (raises :class:`sources.SourceError` on a bad one).

        Args:
            paths: Files, directories, globs, or ``-`` for standard input.
            mapping: The ``[mapping]`` table (field and event names for JSON of unknown
                shape); default: the one in ``./agenttui.toml``, if any (a bad one raises
                :class:`agenttui.config.ConfigError`).
        """
        self.mapping = shapes.load_mapping() if mapping is None else shapes.check_mapping(mapping)
        self.specs: list[Spec] = sources.parse_specs(paths)
        if any(spec.kind == "stdin" for spec in self.specs):
            from agenttui.ingest.spool import stdin_spool

            stdin_spool()  # takes the pipe now, before a TUI reads keys from descriptor 0
        self.table = FileTable()
        self.index = TraceIndex()
        self.reader = EventReader(self.table)
        self._lock = threading.RLock()
        """Held while the index changes; readers take it through :meth:`read`."""
        self.scanned = False
        """Whether the initial scan has finished."""
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)
        self._copies: set[tuple[int, int]] = set()
        """Compressed files found to hold lines already read (a rotated log compressed)."""
        self._init_following()
        self.cut_lines = 0
        """Lines longer than the cap (:data:`sources.MAX_LINE`): indexed from their start."""

    @contextmanager
    def read(self) -> Iterator[TraceIndex]:
        """The index, held still while the ``with`` block runs (safe from any thread).

        Keep the block short: the ingest thread waits for it. Re-entrant, so a reader may call
        other session methods inside it.
        """
        with self._lock:
            yield self.index

    # ---------------------------------------------------------------- files

    # ---------------------------------------------------------------- shapes

    def _decide(self, lf: LogFile, lines: list[bytes]) -> shapes.Shape:
        """The shape of ``lf`` from these lines (kept once decided)."""
        verdict = shapes.detect(lines, self.mapping, lf.path)
        lf.shape_reason = verdict.reason
        if verdict.decided:
            lf.shape = verdict.shape
        return verdict.shape

    def _detect_head(self, lf: LogFile) -> None:
        if lf.shape is None:
            with self.table.lock:
                fd = self.table.fd(lf)
                if fd is not None:
                    self._decide(lf, shapes.head_lines(fd, lf.offset))

    def formats(self) -> list[tuple[LogFile, str, str]]:
        """Each file read: (file, shape name, why), telling the shape of unread files now."""
        out = []
        for lf in self.table.files:
            if lf.gone and lf.retired:
                continue
            self._detect_head(lf)
            if lf.ino == 0:
                out.append((lf, "-", lf.problem or "not readable"))
            elif lf.shape is None:
                out.append((lf, "json", lf.shape_reason or "empty so far"))
            else:
                out.append((lf, lf.shape.name, lf.shape_reason))
        return out

    def wait_for_stdin(self) -> None:
        """Block until standard input (``-``) ends, when it is one of the sources."""
        if any(spec.kind == "stdin" for spec in self.specs):
            from agenttui.ingest.spool import stdin_spool

            stdin_spool().wait()

    def has_sources(self) -> bool:
        """Whether events can come from several places (files, or hosts named in records)."""
        files = [lf for lf in self.table.files if not lf.gone]
        return len({lf.path for lf in files}) > 1 or any(
            lf.shape is not None and lf.shape.host_key is not None for lf in files
        )

    def line_number(self, loc: int, budget: int = 1 << 30) -> int | None:
        """The 1-based line number of the event at ``loc`` in its file (counts the newlines
        before it: call from a thread). None when the file is gone or the event lies more than
        ``budget`` bytes in."""
        file_id, offset = unpack_loc(loc)
        if not 0 <= file_id < len(self.table.files) or offset > budget:
            return None
        lines = 1
        pos = 0
        while pos < offset:
            # Through the table: the file may have been closed (descriptor budget) and is
            # re-opened by path, checked to be the same file.
            chunk = self.table.pread(file_id, pos, min(1 << 20, offset - pos))
            if not chunk:
                return None
            lines += chunk.count(b"\n")
            pos += len(chunk)
        return lines

    def source_of(self, loc: int) -> str:
        """Where the event at ``loc`` ran: its host (when its shape names one), else its file."""
        file_id = loc >> OFFSET_BITS
        files = self.table.files
        if not 0 <= file_id < len(files):
            return "?"
        lf = files[file_id]
        shape = lf.shape
        if shape is None or shape.host_key is None:
            return lf.name
        return self.reader.read(loc).source

    @property
    def problems(self) -> list[str]:
        """One line per live file that cannot be read."""
        out = [
            f"{sources.display_path(lf.path)}: {lf.problem}"
            for lf in self.table.live()
            if lf.problem
        ]
        if any(spec.kind == "stdin" for spec in self.specs):
            from agenttui.ingest import spool

            dropped = spool.dropped_bytes()
            if dropped:
                out.append(
                    f"stdin: the oldest {dropped / (1 << 20):.0f} MB of input dropped "
                    f"(spool capped at {spool.SPOOL_MAX >> 20} MB)"
                )
        for extra in (self.table.fd_problem, self.table.ids_problem, self.follow_problem):
            if extra:
                out.append(extra)
        return out

    # ---------------------------------------------------------------- reading

    def scan(
        self,
        progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Read every file from its start to its current end.

        When there is a lot to read, the newest ``PREVIEW_BYTES`` of each file are indexed
        first and shown as :attr:`index` (so the newest traces appear at once); the full index
        is built behind it and replaces it when done.
        """
        files = self.discover()
        total = sum(sources.file_size(lf) for lf in files)
        if total > PREVIEW_MIN_BYTES:
            preview = self._preview(files)
            with self._lock:
                self.index = preview
            full = TraceIndex()
        else:
            full = self.index  # small: readers see it grow
        full.track_changes = False  # everything is new: nobody needs the change set
        shared = full is self.index
        done = 0
        last_report = 0.0
        parts = bulk.workers()
        for lf in files:
            if stop is not None and stop.is_set():
                break
            size = sources.file_size(lf)
            self._detect_head(lf)
            with self.table.lock:
                self.table.fd(lf)
                own_end, children = bulk.start_children(lf, size, parts)
            try:
                while stop is None or not stop.is_set():
                    before = lf.offset
                    if not self._read(lf, full, end=own_end, locked=shared):
                        break
                    done += lf.offset - before
                    now = time.monotonic()
                    if progress is not None and now - last_report > 0.1:
                        last_report = now
                        progress(Progress(done, total, full.lines, len(full)))
                for result, (start, end) in zip(children.results, children.ranges, strict=True):
                    if (stop is not None and stop.is_set()) or lf.offset != start:
                        break
                    try:
                        part = result.get()
                    except Exception as exc:  # any child failure: read the rest here
                        lf.problem = f"parallel indexing failed ({exc}); read in one process"
                        break
                    full.absorb(part, self.rebuild)
                    done += end - lf.offset
                    lf.offset = end
            finally:
                children.close()
            while (stop is None or not stop.is_set()) and self._read(lf, full, locked=shared):
                pass
        full.freeze_all()
        full.track_changes = True
        with self._lock:
            self.index = full
        self.scanned = True
        if progress is not None:
            progress(Progress(done, total, full.lines, len(full), finished=True))

    def _preview(self, files: list[LogFile]) -> TraceIndex:
        """An index of the newest bytes of each file (file offsets are left at 0)."""
        preview = TraceIndex()
        for lf in files:
            size = sources.file_size(lf)
            with self.table.lock:
                fd = self.table.fd(lf)
                if fd is None or size == 0:
                    continue
                lf.offset = bulk.line_start_after(fd, max(0, size - PREVIEW_BYTES), size)
            while self._read(lf, preview, end=size, locked=False):
                pass
            lf.offset = 0
            if lf.shape is not None and lf.shape.fold is not None:
                # A shape joining lines keeps the parts it saw: the full read starts afresh.
                lf.shape = shapes.get(lf.shape.name, lf.shape.mapping)
        return preview

    def _read(
        self,
        lf: LogFile,
        index: TraceIndex | None = None,
        *,
        end: int | None = None,
        locked: bool = True,
    ) -> bool:
        """Read the next chunk of complete lines of ``lf`` into ``index`` (default: ours)."""
        if lf.id < 0:
            return False  # no file id was left for it (reported)
        if lf.offset == 0 and lf.head is None and not lf.spooled and self._is_copy(lf):
            return False
        chunk = sources.read_lines(self.table, lf, end=end)
        if chunk is None:
            return False
        if not chunk.lines:
            return True  # a hole or the rest of a long line was skipped
        for i in chunk.cut:
            chunk.lines[i] = salvage(chunk.lines[i])
        self.cut_lines += len(chunk.cut)
        target = self.index if index is None else index
        base = lf.id << OFFSET_BITS
        add = target.add
        shape = lf.shape
        if shape is None:
            shape = self._decide(lf, chunk.lines)
        if shape.expand is not None:
            self._read_multi(shape, chunk, target, base, locked)
            return True
        decode_many = fast_structlog.batch_decoder(shape.decode_record)  # perf: typed decoding
        if not locked:
            for offset, rec in zip(chunk.offsets, decode_many(chunk.lines), strict=True):
                add(rec, base | offset)
            self._enforce_memory(target)
            return True
        # Readers (the UI thread) wait for this lock: decode outside it, and fold in slices so
        # that it is never held for long, however fast lines arrive.
        offsets, lines = chunk.offsets, chunk.lines
        for start in range(0, len(lines), LOCKED_SLICE):
            records = decode_many(lines[start : start + LOCKED_SLICE])
            with self._lock:
                for offset, rec in zip(offsets[start : start + LOCKED_SLICE], records, strict=True):
                    add(rec, base | offset)
        self._enforce_memory(target)
        if self._on_chunk is not None and lines:
            self._on_chunk(len(lines))
        return True

    def _read_multi(
        self, shape: shapes.Shape, chunk: sources.Lines, target: TraceIndex, base: int, locked: bool
    ) -> None:
        """Fold lines that hold several records each: record ``k`` of the line at ``offset``
        is at location ``offset + k`` (see :mod:`agenttui.ingest.shapes`)."""
        records = shape.records
        for offset, line in zip(chunk.offsets, chunk.lines, strict=True):
            found = records(line.removesuffix(b"\r"))
            if locked:
                with self._lock:
                    for k, rec in enumerate(found):
                        target.add(rec, base | (offset + k))
            else:
                for k, rec in enumerate(found):
                    target.add(rec, base | (offset + k))

    def lines_per_second(self) -> float:
        """Lines read per second over the last few seconds of polling."""
        if len(self._rate) < 2:
            return 0.0
        now = time.monotonic()
        recent = [(t, n) for t, n in self._rate if now - t <= 5.0]
        if len(recent) < 2:
            return 0.0
        (t0, n0), (t1, n1) = recent[0], recent[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    # ---------------------------------------------------------------- events

    def events(self, trace: Trace) -> list[Event]:
        """The trace's full events, parsed again from the files.

        In the order read; events from several sources (files, hosts, OTLP batches) are
        merged by time.
        """
        with self._lock:
            locs = list(trace.locs)
        rid = trace.request_id
        events = [
            # A line of another request where this one's was: its file is gone and the
            # location now names other bytes (a recycled file id, a file rewritten after a
            # truncation). Said so, never shown as this request's.
            e if e.record.request_id is None or e.record.request_id == rid else _gone(e)
            for e in self.reader.read_many(locs)
        ]
        if (
            len({e.loc >> OFFSET_BITS for e in events}) > 1
            or any(e.source != e.file for e in events)
            or self._multi(events)
        ):
            events = _by_time(events)
        return events

    def _multi(self, events: list[Event]) -> bool:
        files = self.table.files
        ids = {e.loc >> OFFSET_BITS for e in events}
        return any(
            0 <= i < len(files) and files[i].shape is not None and files[i].shape.multi for i in ids
        )

    def unattributed(self, limit: int = 1000) -> list[Event]:
        """The newest events with no request id (raw lines included)."""
        with self._lock:
            locs = list(self.index.unattributed[-limit:])
        return self.reader.read_many(locs)

    def rebuild(self, locs: Iterable[int]) -> Iterator[tuple[int, Record]]:
        """Records at ``locs`` (for merging indexes built in parallel)."""
        files = self.table.files
        for loc in locs:
            file_id, offset = unpack_loc(loc)
            shape = files[file_id].shape if 0 <= file_id < len(files) else None
            if shape is not None and shape.multi:
                yield loc, self.reader.read(loc).record
                continue
            line = self.table.read_line(file_id, offset)
            if line is not None:
                decode = shapes.JSON.decode_record if shape is None else shape.decode_record
                yield loc, decode(line.removesuffix(b"\r"))

    def close(self) -> None:
        """Release file descriptors."""
        self.table.close()


def _gone(event: Event) -> Event:
    """``event`` as a line that is no longer there."""
    return Event(event.loc, event.file, event.offset, None, None, RAW_RECORD, event.file)


def _by_time(events: list[Event]) -> list[Event]:
    """Events sorted by time, stable; one without a time stays after the event before it."""
    keyed = []
    last = float("-inf")
    for i, e in enumerate(events):
        ts = e.record.ts
        if ts is not None:
            last = ts
        keyed.append((last if ts is None else ts, i, e))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [e for _ts, _i, e in keyed]


__all__ = ["Progress", "Session", "pack_loc"]
