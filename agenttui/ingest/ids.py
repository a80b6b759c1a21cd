"""File generation ids: given to each new generation of a log file, recycled once nothing
refers to them (a mixin of :class:`agenttui.ingest.files.FileTable`).

A location packs a file id with a byte offset into one 64-bit integer
(:func:`agenttui.model.trace.pack_loc`), so there are :data:`MAX_FILE_IDS` ids at once. A log
deleted and created again 100 times a second makes a generation each time, which used them
all in about 46 hours. Which ids no location in memory refers to any more is for the index to
tell (:func:`agenttui.model.retention.recycle_file_ids`); this module hands them out again.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agenttui.ingest.files import LogFile

MAX_FILE_IDS: Final = 1 << 24
"""File ids there can be at once: a location packs one into the 24 bits above a 40-bit byte
offset (:data:`agenttui.model.trace.OFFSET_BITS`). A log deleted and created again 100 times
a second makes a generation, so an id, each time: they are recycled (:meth:`FileTable.free`)."""
REUSE_AFTER_S: Final = 60.0
"""A freed id is given to a new generation only this long after (a reader may still hold a
location in it that it took from a trace just before the trace was dropped)."""
RECENT: Final = 256
"""Generations looked at as the possible original of a copy (``copytruncate``)."""


class FileIds:
    """Ids of the generations of a :class:`~agenttui.ingest.files.FileTable`."""

    # Provided by FileTable.
    files: list[LogFile]
    truncated: deque[LogFile]
    _current: dict[str, LogFile]
    _open: dict[int, LogFile]
    lock: Any
    generation: type[LogFile]

    def _init_ids(self) -> None:
        self.recent: deque[LogFile] = deque(maxlen=RECENT)
        """The newest generations (a file copied before it was rotated is one of them)."""
        self.max_ids = MAX_FILE_IDS
        self._free: deque[tuple[float, int]] = deque()
        """Ids no location in memory refers to any more, with when they were freed."""
        self._freed: set[int] = set()
        self.created = 0
        """Generations made (new ids and reused ones)."""
        self.reused = 0
        """Generations that took a recycled id."""
        self.ids_problem: str | None = None
        """Set when no id was left for a new generation (it is then not read)."""

    def _new(self, path: str, **fields: Any) -> LogFile:
        """A new generation of ``path`` with a free id: a recycled one once it has rested
        :data:`REUSE_AFTER_S`, else the next one, else (all taken) any recycled one. With no
        id left at all it gets -1 and a problem, and nothing reads it."""
        free = self._free
        if free and (
            time.monotonic() - free[0][0] >= REUSE_AFTER_S or len(self.files) >= self.max_ids
        ):
            _when, file_id = free.popleft()
            self._freed.discard(file_id)
            lf = self.generation(file_id, path, **fields)
            self.files[file_id] = lf
            self.reused += 1
        elif len(self.files) < self.max_ids:
            lf = self.generation(len(self.files), path, **fields)
            self.files.append(lf)
        else:
            self.ids_problem = (
                f"more than {self.max_ids:,} log file generations in memory: new files are "
                "not read (lower --max-memory, or restart)"
            )
            return self.generation(-1, path, gone=True, retired=True, problem=self.ids_problem)
        self.created += 1
        self.recent.append(lf)
        return lf

    def ids_left(self) -> int:
        """Ids a new generation can still take (new ones and freed ones)."""
        return self.max_ids - len(self.files) + len(self._free)

    def recyclable(self) -> list[int]:
        """Ids of generations whose bytes are gone and that nothing will read again: closed,
        not live, not recent, not a truncated file whose copy may still show up. Whether a
        location in memory still refers to one is for the caller to tell (:meth:`free`)."""
        keep = {lf.id for lf in (*self.recent, *self.truncated, *self._current.values())}
        keep.update(self._open)
        keep.update(self._freed)
        return [
            i
            for i, lf in enumerate(self.files)
            if lf.gone and lf.fd is None and not lf.pinned and i not in keep
        ]

    def free(self, ids: list[int]) -> None:
        """Give these ids (from :meth:`recyclable`, no location in memory refers to them) to
        new generations later."""
        now = time.monotonic()
        with self.lock:
            for i in ids:
                if i not in self._freed:
                    self._freed.add(i)
                    self._free.append((now, i))
