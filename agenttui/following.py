"""How a session follows its sources: new files, rotation, copies, the watcher, the memory
budget. A mixin of :class:`agenttui.session.Session` (the one data path); it reads through
``Session._read`` and owns no index of its own.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from agenttui.ingest import sources
from agenttui.ingest.grab import Grabber
from agenttui.ingest.sources import FileTable, LogFile, Spec
from agenttui.model.events import EventReader
from agenttui.model.retention import recycle_due, recycle_file_ids
from agenttui.model.traces import TraceIndex

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


class Following:
    """Discovery, rotation, following and the memory budget of a :class:`Session`."""

    # Provided by Session.
    specs: list[Spec]
    table: FileTable
    index: TraceIndex
    reader: EventReader
    _lock: Any
    scanned: bool
    _rate: deque[tuple[float, int]]
    _copies: set[tuple[int, int]]

    def _read(
        self,
        lf: LogFile,
        index: TraceIndex | None = None,
        *,
        end: int | None = None,
        locked: bool = True,
    ) -> bool:
        raise NotImplementedError

    def _init_following(self) -> None:
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
        self._recycled_at = 0
        """Generations made when file ids were last recycled."""
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
        recent = [lf for lf in table.recent if lf.retired and lf.ino and not lf.gone]
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
        if self.scanned and recycle_due(table, self.index, self._recycled_at):
            self._recycled_at = table.created
            recycle_file_ids(table, self.index, self._lock)
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
            with self._lock:
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
            with self._lock:
                index.drop_oldest(self.trace_cap)


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
