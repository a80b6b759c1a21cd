"""Session: the one data path from bytes in log files to the trace index.

A session owns the file table, the index and the event reader. One thread feeds it (the initial
scan, then :meth:`Session.follow`); other threads read under :attr:`Session.lock`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from agenttui.ingest import bulk, shapes, sources
from agenttui.ingest.grab import Grabber
from agenttui.ingest.lines import salvage
from agenttui.ingest.records import Record
from agenttui.ingest.sources import FileTable, LogFile, Spec
from agenttui.model.events import Event, EventReader
from agenttui.model.traces import OFFSET_BITS, Trace, TraceIndex, pack_loc, unpack_loc

WATCH_DEBOUNCE_MS = 2
"""watchfiles debounce: low, for the write-to-screen latency target (default is 1600 ms)."""
WATCH_STEP_MS = 1
POLL_FALLBACK_MS = 500
MEMORY_CHECK_S = 1.0
"""How often the process tree's resident memory is measured against the budget."""
MEMORY_HIGH = 0.85
"""Traces are dropped past this share of the memory budget (room for what else grows)."""
MIN_TRACES_KEPT = 1000
"""The budget never drops the index below this many traces."""
STRAY_S = 2.0
"""How long after a truncation a copy of the truncated file is looked for next to it."""
SWEEP_MIN_S = 2.0
"""Every source is walked again at least this often while following (missed events)."""
PREVIEW_MIN_BYTES = 64 << 20
"""With more than this to read, the newest part of each file is shown before the rest."""
PREVIEW_BYTES = 4 << 20
"""Files are checked at least this often even without a change notification."""
LOCKED_SLICE = 2048
"""Lines folded into the index per hold of :attr:`Session.lock` (a few milliseconds)."""


@dataclass(slots=True)
class Progress:
    """How far the initial scan is."""

    done_bytes: int
    total_bytes: int
    lines: int
    traces: int
    finished: bool = False


class Session:
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
        self.lock = threading.RLock()
        """Held while the index changes; hold it to read the index from another thread."""
        self.scanned = False
        """Whether the initial scan has finished."""
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)
        self._copies: set[tuple[int, int]] = set()
        """Compressed files found to hold lines already read (a rotated log compressed)."""
        self.memory_budget: int | None = None
        """Bytes the whole process tree may use (:meth:`set_memory_budget`); None: no cap."""
        self.trace_cap: int | None = None
        """Traces kept in memory at most, once the budget was reached (None before)."""
        self._rss_at_cap = 0
        self._memory_checked = 0.0
        self._on_chunk: Callable[[int], None] | None = None
        self._grabber: Grabber | None = None
        """Opens new files of the sources the moment they are created (while following)."""
        self._reopen: list[str] = []
        """Paths whose generation moved to its copy while reading: looked at again."""
        self._strays: dict[str, float] = {}
        """Changed paths that are not sources, by when: a copy of a followed file may be one."""
        self._truncated_at = -STRAY_S
        self._swept_at = 0.0
        self._sweep_cost = 0.0
        self.cut_lines = 0
        """Lines longer than the cap (:data:`sources.MAX_LINE`): indexed from their start."""
        self.follow_problem: str | None = None
        """Why following degraded (the file watcher failed), or None."""

    # ---------------------------------------------------------------- files

    def discover(self, candidates: list[str] | None = None) -> list[LogFile]:
        """Open files that appeared since the last call (new files in directories, globs).

        A file is known by its inode, not its name: a known file that shows up under a new
        name (logrotate renamed it inside a watched directory) is read on where it was, never
        again from its start; the same file under two names is read once; and a new file that
        is a copy of a known one whose own file was truncated since (``copytruncate``, seen in
        either order) takes that file's place, so that its unread lines are read from the copy.

        Args:
            candidates: Only look at these paths (the watcher's events; each is checked
                against the sources first); default: walk every source.
        """
        table = self.table
        if candidates is None:
            found = sources.expand(self.specs)
        else:
            found = [p for p in candidates if sources.matches(self.specs, p)]
        # Live generations, and recently retired ones whose file may show up under a new name
        # (renamed away before this path's event came).
        recent = [lf for lf in table.files[-256:] if lf.retired and lf.ino and not lf.gone]
        known = {(lf.dev, lf.ino): lf for lf in (*recent, *table.live()) if lf.ino and not lf.gone}
        seen: set[tuple[int, int]] = set()
        paths: list[str] = []
        displaced: list[LogFile] = []
        for path in found:
            try:
                st = os.stat(path)
            except OSError:
                if candidates is None or table.current(path) is None:
                    paths.append(path)  # gone meanwhile, or unreadable: open() records why
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen or key in self._copies:
                continue  # the same file under a second name, or a compressed copy
            seen.add(key)
            paths.append(path)
            lf = known.get(key)
            if (
                lf is not None
                and lf.fd is None
                and not table.head_of(path).startswith(lf.head or b"")
            ):
                lf = None  # closed, and the inode number now names another file
            if lf is not None and table.current(path) is not lf:
                old = table.move(lf, path)
                if old is not None:
                    displaced.append(old)
        live = set(table.live())
        for old in displaced:
            if old not in live:
                table.retire(old)  # rotated out of view (deleted, compressed): drained
        new = []
        copies: set[str] = set()
        for path in paths:
            if table.current(path) is not None:
                continue
            if candidates is not None and not os.path.exists(path):
                continue
            # While following, a new file may be a copy (copytruncate); in the first scan,
            # heads are not known yet (a copy is told at its first read: _is_copy).
            original, truncated = table.copy_of(path) if self.scanned else (None, False)
            if original is not None:
                if truncated and table.rehome(original, path):
                    continue
                if not truncated:
                    copies.add(path)  # a copy of a file still growing: its lines are read there
                    continue
            lf = table.open(path)
            if lf.finished and self._already_read(lf):
                copies.add(path)
                continue
            new.append(lf)
        for path in paths:  # a path whose file was re-homed to its copy just now
            if path not in copies and table.current(path) is None and os.path.exists(path):
                new.append(table.open(path))
        return new

    def _read_from_copies(self) -> None:
        """Lines a truncation took before they were read, read from a copy of the file.

        When only the file is followed (not its directory), a ``copytruncate`` copy next to
        it is not a source; but its events come (the directory is watched) and, for a couple
        of seconds after a truncation, such a file is checked: when it starts like the
        truncated generation, that generation's unread lines are read from it, then it is
        closed.
        """
        now = time.monotonic()
        table = self.table
        for path, seen in list(self._strays.items()):
            if now - seen > STRAY_S:
                del self._strays[path]
        if now - self._truncated_at > STRAY_S:
            return
        for path in list(self._strays):
            original, truncated = table.copy_of(path)
            if original is None or not truncated or not original.gone:
                continue
            del self._strays[path]
            if table.rehome(original, path):
                while self._read(original):
                    pass
                table.retire(original)

    def _is_copy(self, lf: LogFile) -> bool:
        """Whether a file about to be read from its start is a copy of a known one (opened
        while ``copytruncate`` was still writing it, so it could not be told then): then it
        is not read. A copy of a truncated file takes that file's place (its unread lines
        are read from the copy); a copy of a file still growing is dropped."""
        table = self.table
        original, truncated = table.copy_of_start(
            table.pread(lf.id, 0, sources.HEAD_BYTES), exclude=lf
        )
        if original is None:
            return False
        if truncated:
            self._reopen.append(original.path)  # its own path shows a new file now
            table.adopt(original, lf)
        else:
            table.forget(lf)
        return True

    def _already_read(self, lf: LogFile) -> bool:
        """Whether a decompressed file starts like a generation already read (logrotate
        compressed a file after it was read): then it is dropped, not read twice."""
        if lf.fd is None:
            return False
        head = self.table.pread(lf.id, 0, sources.HEAD_BYTES)
        for other in self.table.files:
            if (
                other is not lf
                and other.head is not None
                and len(other.head) >= sources.MIN_COPY_HEAD
                and head.startswith(other.head[: len(head)])
            ):
                self._copies.add((lf.dev, lf.ino))
                self.table.retire(lf)
                lf.gone = True
                return True
        return False

    # ---------------------------------------------------------------- shapes

    def _decide(self, lf: LogFile, lines: list[bytes]) -> shapes.Shape:
        """The shape of ``lf`` from these lines (kept once decided)."""
        verdict = shapes.detect(lines, self.mapping)
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

    def source_of(self, loc: int) -> str:
        """Where the event at ``loc`` ran: its host (when its shape names one), else its file."""
        file_id, _offset = unpack_loc(loc)
        if not 0 <= file_id < len(self.table.files):
            return "?"
        lf = self.table.files[file_id]
        if lf.shape is None or lf.shape.host_key is None:
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
        for extra in (self.table.fd_problem, self.follow_problem):
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
            with self.lock:
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
        with self.lock:
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
        return preview

    def poll(self, changed: Iterable[str] | None = None) -> int:
        """Read what was appended since the last call; notice new and rotated files.

        Args:
            changed: Paths the watcher reported (absolute): only they are looked at, plus the
                files still open (recently active, or draining after a rotation). Default:
                every source (a full sweep).

        Returns:
            Number of lines read.
        """
        before = self.index.lines
        table = self.table
        if self._grabber is not None:
            for path, fd, dev, ino in self._grabber.take():
                table.grabbed(path, fd, dev, ino)
        if changed is None:
            self.discover()
            targets = table.live()
        else:
            paths = list(dict.fromkeys(changed))
            self.discover(paths)
            now = time.monotonic()
            for path in paths:
                if table.current(path) is None and not sources.matches(self.specs, path):
                    self._strays[path] = now
            targets = [lf for lf in map(table.current, paths) if lf is not None]
            if not paths:  # nothing reported: the recently active files, in case
                targets = table.active()
        rotated: list[str] = []
        for lf in targets:
            gens = sources.check_rotation(table, lf)
            if lf.retired:  # the path shows another file now (or the same, truncated)
                rotated.append(lf.path)
                if lf.gone:
                    self.reader.clear()
            for gen in gens:
                while self._read(gen):
                    pass
        rotated.extend(self._reopen)
        self._reopen.clear()
        for lf in self.discover(rotated) if rotated else ():
            while self._read(lf):
                pass
        if any(lf.gone for lf in targets):
            self._truncated_at = time.monotonic()
        if self._strays:
            self._read_from_copies()
        for lf in table.draining():
            while sources.check_retired(table, lf) and self._read(lf):
                pass
        for lf in table.release_drained():
            if lf.gone:
                self.reader.clear()
        read = self.index.lines - before
        self._rate.append((time.monotonic(), self.index.lines))
        return read

    def _read(
        self,
        lf: LogFile,
        index: TraceIndex | None = None,
        *,
        end: int | None = None,
        locked: bool = True,
    ) -> bool:
        """Read the next chunk of complete lines of ``lf`` into ``index`` (default: ours)."""
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
        decode_record = shape.decode_record
        if not locked:
            for offset, line in zip(chunk.offsets, chunk.lines, strict=True):
                add(decode_record(line), base | offset)
            self._enforce_memory(target)
            return True
        # Readers (the UI thread) wait for this lock: decode outside it, and fold in slices so
        # that it is never held for long, however fast lines arrive.
        offsets, lines = chunk.offsets, chunk.lines
        for start in range(0, len(lines), LOCKED_SLICE):
            records = list(map(decode_record, lines[start : start + LOCKED_SLICE]))
            with self.lock:
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
                with self.lock:
                    for k, rec in enumerate(found):
                        target.add(rec, base | (offset + k))
            else:
                for k, rec in enumerate(found):
                    target.add(rec, base | (offset + k))

    def follow(self, on_change: Callable[[int], None], stop: threading.Event) -> None:
        """Tail every source until ``stop`` is set, calling ``on_change(lines)`` as lines are
        read (after each chunk: a fast writer never makes the callbacks come in bursts).

        A change costs work for the files it names: the watcher's events (watchfiles, a few
        tens of milliseconds of debounce) say which paths changed, and new files are found
        through them. Without events, the files still open (recently active, or draining
        after a rotation) are looked at every ``POLL_FALLBACK_MS``, and every source is swept
        now and then (:meth:`_sweep_due`) in case an event was missed (network filesystems).
        """
        import logging

        import watchfiles

        # It logs a warning when a signal ends the watch: agenttui says why it ends itself.
        logging.getLogger("watchfiles.main").setLevel(logging.ERROR)
        roots = sources.watch_roots(self.specs)
        self._on_chunk = on_change
        specs = self.specs
        self._grabber = Grabber(roots, lambda path: sources.matches(specs, path))
        try:
            self._sweep(on_change)
            if not roots:
                while not stop.wait(POLL_FALLBACK_MS / 1000):
                    self._sweep(on_change)
                return
            try:
                self._watch(roots, on_change, stop, watchfiles)
            except (OSError, RuntimeError) as exc:  # no inotify left, watcher died: poll
                self.follow_problem = f"file watcher failed ({exc}); polling instead"
                while not stop.wait(POLL_FALLBACK_MS / 1000):
                    self._sweep(on_change)
        finally:
            self._on_chunk = None
            grabber, self._grabber = self._grabber, None
            if grabber is not None:
                grabber.close()

    def _watch(
        self, roots: list[str], on_change: Callable[[int], None], stop: threading.Event, wf: Any
    ) -> None:
        for changes in wf.watch(
            *roots,
            debounce=WATCH_DEBOUNCE_MS,
            step=WATCH_STEP_MS,
            stop_event=stop,
            rust_timeout=POLL_FALLBACK_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
            recursive=True,
            ignore_permission_denied=True,
        ):
            if self._sweep_due():
                self._sweep(on_change)
                continue
            n = self.poll([path for _change, path in changes])
            if n:
                on_change(n)

    def _sweep_due(self) -> bool:
        """A full sweep at least every ``SWEEP_MIN_S``, less often when one is slow (a huge
        directory): never more than about 5% of the time."""
        return time.monotonic() - self._swept_at > max(SWEEP_MIN_S, 20 * self._sweep_cost)

    def _sweep(self, on_change: Callable[[int], None]) -> None:
        t0 = time.monotonic()
        n = self.poll()
        self._swept_at = time.monotonic()
        self._sweep_cost = self._swept_at - t0
        if n:
            on_change(n)

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

    # ---------------------------------------------------------------- memory budget

    def set_memory_budget(self, limit: int | None) -> None:
        """Cap what is kept in memory: past about 85% of ``limit`` bytes of resident memory
        (this process and its children), the oldest finished traces are dropped from the
        index (see :meth:`TraceIndex.drop_oldest`), and the number of traces kept is held
        there; it shrinks again if memory keeps growing."""
        self.memory_budget = limit

    def _enforce_memory(self, index: TraceIndex) -> None:
        """Called as lines are folded in: cheap unless a check is due."""
        cap = self.trace_cap
        if cap is not None and len(index) > cap + max(64, cap // 50):
            with self.lock:
                index.drop_oldest(cap)
        budget = self.memory_budget
        now = time.monotonic()
        if budget is None or now - self._memory_checked < MEMORY_CHECK_S:
            return
        self._memory_checked = now
        rss = tree_rss()
        if rss <= budget * MEMORY_HIGH:
            return
        if cap is None or rss > self._rss_at_cap + budget * 0.05:
            kept = len(index) if cap is None else min(cap, len(index))
            self.trace_cap = max(MIN_TRACES_KEPT, int(kept * 0.8))
            self._rss_at_cap = rss
            with self.lock:
                index.drop_oldest(self.trace_cap)

    # ---------------------------------------------------------------- events

    def events(self, trace: Trace) -> list[Event]:
        """The trace's full events, parsed again from the files.

        In the order read; events from several sources (files, hosts, OTLP batches) are
        merged by time.
        """
        with self.lock:
            locs = list(trace.locs)
        events = self.reader.read_many(locs)
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
        with self.lock:
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


def tree_rss() -> int:
    """Resident bytes of this process and all its children."""
    import psutil  # type: ignore[import-untyped]

    try:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
    except psutil.Error:
        return 0
    return int(total)


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
