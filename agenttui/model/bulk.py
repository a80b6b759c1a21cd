"""Bulk indexing of large files on several cores.

A large file is cut at line boundaries into byte ranges. The calling process indexes the first
range itself while child processes index the others, each into its own :class:`TraceIndex`; the
partial indexes are merged in file order (``TraceIndex.absorb``), and the few requests that were
in flight across a cut are rebuilt from their events' locations.

Child processes are started with ``spawn``: the caller may be a threaded TUI, where ``fork``
is unsafe.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from itertools import pairwise
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, Final

from agenttui.ingest import fast_structlog, shapes, sources
from agenttui.model.traces import OFFSET_BITS, TraceIndex

PARALLEL_MIN_BYTES: Final = 48 << 20
"""Files smaller than this are indexed in one process: starting a child costs more."""


def workers() -> int:
    """Processes worth using: ``AGENTTUI_WORKERS``, else the CPUs this process may use (<= 4)."""
    env = os.environ.get("AGENTTUI_WORKERS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


PIECE_BYTES: Final = 32 << 20
"""About how many bytes a child indexes before sending that piece back."""
MAX_PIECES: Final = 60
"""Pieces get disjoint tool and error numbers (see ``TraceIndex``): at most this many."""

FIRST_SHARE_BONUS: Final = 0.12
"""Extra share of the bytes for the calling process: children start late (a fresh
interpreter) and must send their index back, so equal ranges would leave the caller idle."""


def line_start_after(fd: int, pos: int, end: int) -> int:
    """The first line start at or after ``pos`` (a line starts after each newline)."""
    if pos <= 0:
        return 0
    pos -= 1  # a newline right before pos makes pos itself a line start
    while pos < end:
        data = os.pread(fd, 65536, pos)
        if not data:
            break
        nl = data.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(data)
    return end


WHOLE_ENTRY_TRIES: Final = 1024
"""Lines skipped at most to find a cut after a whole entry of a split record."""
BACK_BYTES: Final = 1 << 20
"""Longest line read back to tell whether a cut follows a part of a split record."""


def _line_before(fd: int, pos: int) -> bytes | None:
    """The line that ends right before the line start ``pos`` (None: at the file's start, or
    longer than :data:`BACK_BYTES`)."""
    if pos <= 0:
        return None
    lo = max(0, pos - BACK_BYTES)
    data = os.pread(fd, pos - lo, lo)
    if not data.endswith(b"\n"):
        return None
    cut = data.rfind(b"\n", 0, len(data) - 1)
    if cut < 0 and lo > 0:
        return None
    return data[cut + 1 : -1]


def entry_start_after(
    fd: int, pos: int, end: int, partial: Callable[[bytes], bool] | None = None
) -> int:
    """The first line start at or after ``pos`` that does not continue a split record (a
    container log's 16 KB parts: ``partial`` tells a part that the next line continues)."""
    pos = line_start_after(fd, pos, end)
    if partial is None:
        return pos
    for _ in range(WHOLE_ENTRY_TRIES):
        if pos >= end:
            return end
        before = _line_before(fd, pos)
        if before is None or not partial(before):
            return pos
        pos = line_start_after(fd, pos + 1, end)
    return pos


def cut_points(
    fd: int,
    start: int,
    end: int,
    parts: int,
    bonus: float = FIRST_SHARE_BONUS,
    partial: Callable[[bytes], bool] | None = None,
) -> list[int]:
    """Offsets that cut ``[start, end)`` into ranges at line starts (never inside a record
    split over several lines, see :func:`entry_start_after`).

    The first range gets ``bonus`` more than an equal share; the rest split what is left.
    """
    points = [start]
    first = min(0.9, (1.0 + bonus) / parts)
    for i in range(1, parts):
        share = first + (1.0 - first) * (i - 1) / (parts - 1)
        pos = entry_start_after(fd, start + int((end - start) * share), end, partial)
        if points[-1] < pos < end:
            points.append(pos)
    points.append(end)
    return points


def index_range(
    path: str,
    file_id: int,
    dev: int,
    ino: int,
    start: int,
    end: int,
    part: int,
    shape: str = "json",
    mapping: dict[str, Any] | None = None,
) -> TraceIndex:
    """Index the complete lines of ``path`` in ``[start, end)`` (run in a child process).

    ``shape`` (and ``mapping`` for a ``mapping`` shape) names how its lines are read
    (see :mod:`agenttui.ingest.shapes`).

    Raises:
        OSError: The file at ``path`` is no longer the one the caller measured.
    """
    table = sources.FileTable()
    lf = table.open(path)
    try:
        if lf.fd is None or (lf.dev, lf.ino) != (dev, ino):
            raise OSError(f"{path}: file changed while indexing")
        lf.offset = start
        index = TraceIndex(part)
        index.track_changes = False
        add = index.add
        base = file_id << OFFSET_BITS
        reader = shapes.get(shape, mapping)
        decode_many = fast_structlog.batch_decoder(reader.decode_record)
        while True:
            chunk = sources.read_lines(table, lf, end=end)
            if chunk is None:
                break
            if reader.multi:
                for offset, line in zip(chunk.offsets, chunk.lines, strict=True):
                    for k, rec in enumerate(reader.records(line.removesuffix(b"\r"))):
                        add(rec, base | (offset + k))
                continue
            for offset, rec in zip(chunk.offsets, decode_many(chunk.lines), strict=True):
                add(rec, base | offset)
        index.freeze_all()
        return index
    finally:
        table.close()


def _quiet_child() -> None:
    """Children never write to the terminal (a TUI may be drawing on it)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _pool(processes: int) -> Pool:
    ctx = multiprocessing.get_context("spawn")
    # The resource tracker is started with the real stderr's descriptor; under a TUI that
    # redirects sys.stderr, point it back at the process's own stderr while starting it.
    saved = sys.stderr
    sys.stderr = sys.__stderr__
    try:
        return ctx.Pool(processes=processes, initializer=_quiet_child)
    finally:
        sys.stderr = saved


class Children:
    """Child processes indexing the ranges after the caller's own."""

    def __init__(
        self,
        pool: Pool | None,
        ranges: list[tuple[int, int]],
        results: list[AsyncResult[TraceIndex]],
    ) -> None:
        self.pool = pool
        self.ranges = ranges
        """(start, end) of each child's range, in file order."""
        self.results = results

    def close(self) -> None:
        """Stop every child (also the ones still working)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def start_children(lf: sources.LogFile, end: int, parts: int) -> tuple[int, Children]:
    """Hand all but the first range of ``[lf.offset, end)`` to child processes.

    Returns:
        Where the caller's own range ends, and the children (none when not worth it).
    """
    if (
        lf.fd is None
        or parts < 2
        or end - lf.offset < PARALLEL_MIN_BYTES
        or lf.spooled
        or lf.shape is None
    ):  # a private copy, or a shape not told yet: one process
        return end, Children(None, [], [])
    partial = lf.shape.partial
    points = cut_points(lf.fd, lf.offset, end, parts, partial=partial)
    if len(points) < 3:
        return end, Children(None, [], [])
    # Each child's range goes in pieces: a piece's index travels back (pickled) while the
    # child works on the next, so no process ever holds a whole half twice.
    pieces = max(1, min(MAX_PIECES // (len(points) - 2), (end - points[1]) // PIECE_BYTES))
    ranges: list[tuple[int, int]] = []
    for a, b in pairwise(points[1:]):
        ranges.extend(
            pairwise(
                cut_points(lf.fd, a, b, max(1, pieces // (len(points) - 2)), 0.0, partial=partial)
            )
        )
    try:
        pool = _pool(len(points) - 2)
    except (OSError, ValueError):  # cannot start processes here: the caller reads it all
        return end, Children(None, [], [])
    shape, mapping = lf.shape.name, lf.shape.mapping
    results = [
        pool.apply_async(index_range, (lf.path, lf.id, lf.dev, lf.ino, a, b, part, shape, mapping))
        for part, (a, b) in enumerate(ranges, start=1)
    ]
    return points[1], Children(pool, ranges, results)
