"""Reading complete lines from a file generation, and noticing rotation.

A partial last line is left unread until its newline arrives. A line longer than
:data:`MAX_LINE` is never held whole: its first :data:`MAX_LINE` bytes stand for it (the line
is marked cut) and the rest is skipped as it is read, in bounded pieces. A hole in a sparse file
(a writer without ``O_APPEND`` after ``copytruncate``) is skipped with ``SEEK_DATA``, never read
as NULs into memory.

Rotation is noticed by identity (device, inode: rename and re-create), by size and by the
first bytes (truncation, also to a shorter file written past the old offset again between two
looks), and by the path going away.
"""

from __future__ import annotations

import operator
import os
import re
import time
from dataclasses import dataclass, field
from itertools import accumulate, count
from typing import Final

from agenttui.ingest.files import HEAD_BYTES, MAX_LINE, FileTable, LogFile, describe, size_of

CHUNK: Final = 1 << 20
"""Bytes read per pread call."""
HOLE_MIN: Final = 512
"""A run of at least this many NULs where a line starts is a hole (sparse file), not text."""


@dataclass(slots=True)
class Lines:
    """Complete lines read from one file generation (a CRLF line keeps its ``\r``)."""

    file: LogFile
    offsets: list[int] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    cut: list[int] = field(default_factory=list)
    """Indexes (into ``lines``) of lines longer than :data:`MAX_LINE`, cut to that."""


def read_lines(
    table: FileTable,
    lf: LogFile,
    *,
    max_bytes: int = 2 * CHUNK,
    end: int | None = None,
    max_line: int = MAX_LINE,
) -> Lines | None:
    """Read complete lines appended since ``lf.offset`` (at most about ``max_bytes``).

    Args:
        table: The table ``lf`` belongs to.
        lf: The file generation.
        max_bytes: Stop after about this many bytes (call again for more).
        end: Do not read past this offset.
        max_line: Lines longer than this are cut (see :data:`MAX_LINE`).

    Returns:
        The lines (possibly none, when only a hole or the rest of a long line was skipped),
        or None when nothing new is complete.
    """
    with table.lock:
        fd = table.fd(lf)
        if fd is None:
            return None
        start = lf.offset
        if lf.long_from >= 0:
            return _finish_long_line(fd, lf, start, end)
        limit = max_bytes if end is None else min(max_bytes, end - start)
        if limit <= 0:
            return None
        try:
            data = os.pread(fd, limit, start)
        except OSError as exc:
            lf.problem = describe(exc)
            return None
        if data[:HOLE_MIN] == bytes(min(len(data), HOLE_MIN)) and len(data) >= HOLE_MIN:
            return _skip_hole(fd, lf, start, data, end)
        if start == 0 and lf.head is None and data:
            lf.head = data[:HEAD_BYTES]
        last_nl = data.rfind(b"\n")
        if last_nl < 0:
            if len(data) < limit and len(data) <= max_line:
                return None
            if len(data) <= max_line:  # a long window ending mid-line: read on from its start
                more = _read_upto(fd, start, max_line + 1, end)
                nl = more.find(b"\n")
                if nl >= 0:
                    data, last_nl = more[: nl + 1], nl
            if last_nl < 0:
                # Longer than the cap: keep its first part, then look for its end.
                lf.long_from = start + len(data)
                return _finish_long_line(fd, lf, start, end, first=data[:max_line])
    lines = data.split(b"\n")
    lines.pop()  # the part after the last newline: an incomplete line, or empty
    # Offsets computed at C speed: start, start + len0 + 1, start + len0 + len1 + 2, ...
    offsets = list(map(operator.add, accumulate(map(len, lines), initial=start), count()))
    offsets.pop()
    out = Lines(lf, offsets, lines)
    if len(data) > max_line and max(map(len, lines)) > max_line:
        for i, text in enumerate(lines):
            if len(text) > max_line:
                lines[i] = text[:max_line]
                out.cut.append(i)
    if b"\0" * HOLE_MIN in data:
        _strip_nuls(out)
    lf.offset = start + last_nl + 1
    lf.grew_at = time.monotonic()
    return out


_FIELD = re.compile(
    rb'"([A-Za-z_@.][\w@.-]{0,63})"\s*:\s*(?:"((?:[^"\\]|\\.){0,4096})("?)'
    rb"|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null))"
)
SALVAGE_BYTES: Final = 64 << 10
"""How much of a cut line's start is searched for its fields."""


def salvage(prefix: bytes) -> bytes:
    """A JSON object standing for a cut line: the simple fields found in its first part (the
    first value of each name; a long string cut), marked ``"_cut": true``; the prefix itself
    when it is not JSON (so that a text shape still reads its start)."""
    if prefix.lstrip()[:1] != b"{":
        return prefix
    fields: dict[bytes, bytes] = {}
    for m in _FIELD.finditer(prefix, 0, SALVAGE_BYTES):
        key, text, closed, other = m.groups()
        if key in fields:
            continue
        if other is not None:
            fields[key] = other
        else:
            if not closed and text.endswith(b"\\"):
                text = text[:-1]
            fields[key] = b'"' + text + b'"'
    body = b",".join(b'"' + k + b'":' + v for k, v in fields.items())
    return b"{" + body + (b"," if body else b"") + b'"_cut":true}'


def _read_upto(fd: int, start: int, size: int, end: int | None) -> bytes:
    if end is not None:
        size = min(size, end - start)
    try:
        return os.pread(fd, max(0, size), start)
    except OSError:
        return b""


def _finish_long_line(
    fd: int, lf: LogFile, start: int, end: int | None, first: bytes | None = None
) -> Lines | None:
    """Look for the newline of a line longer than the cap, a piece at a time.

    Returns the line's first part once its end is found (None while it is still being
    written: the search goes on from where it stopped next time).
    """
    pos = lf.long_from
    while end is None or pos < end:
        want = CHUNK if end is None else min(CHUNK, end - pos)
        try:
            data = os.pread(fd, want, pos)
        except OSError as exc:
            lf.problem = describe(exc)
            return None
        if not data:
            lf.long_from = pos
            return None
        nl = data.find(b"\n")
        if nl >= 0:
            if first is None:
                first = _read_upto(fd, start, MAX_LINE, None)
            lf.long_from = -1
            lf.offset = pos + nl + 1
            lf.grew_at = time.monotonic()
            text = first.split(b"\n", 1)[0][:MAX_LINE]
            return Lines(lf, [start], [text], [0])
        pos += len(data)
    lf.long_from = pos
    return None


def _skip_hole(fd: int, lf: LogFile, start: int, data: bytes, end: int | None) -> Lines | None:
    """Skip the NULs of a hole (sparse file) at ``start`` without reading them all."""
    nuls = len(data) - len(data.lstrip(b"\0"))
    if nuls < len(data):
        skip_to = start + nuls
    else:
        try:
            skip_to = os.lseek(fd, start + len(data), os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole up to the end
            skip_to = size_of(lf)
        skip_to = max(skip_to, start + len(data))
    if end is not None:
        skip_to = min(skip_to, end)
    if skip_to <= start:
        return None
    lf.offset = skip_to
    lf.grew_at = time.monotonic()
    return Lines(lf)


def _strip_nuls(out: Lines) -> None:
    """NULs at the start of a line (a hole ending mid-way) are not part of it."""
    for i, text in enumerate(out.lines):
        if text[:HOLE_MIN] == bytes(HOLE_MIN):
            stripped = text.lstrip(b"\0")
            out.offsets[i] += len(text) - len(stripped)
            out.lines[i] = stripped


def check_rotation(table: FileTable, lf: LogFile) -> list[LogFile]:
    """Notice rotation or truncation of a live generation.

    A generation whose path now shows another file, or whose file was truncated, is retired
    (the caller then looks at the path again as a new file: it may be a copy of a known one).

    Returns:
        Generations that now need reading: the generation itself, also when retired (to drain
        what was written before it was renamed or deleted).
    """
    if lf.finished:
        return [lf] if lf.fd is not None else []
    try:
        st = os.stat(lf.path)
    except FileNotFoundError:
        if lf.fd is None:
            if lf.ino:  # closed (budget) and deleted since: nothing left to read
                table.retire(lf)
            return []
        return [lf]  # deleted: drain what is left, then it is closed
    except OSError as exc:
        lf.problem = describe(exc)
        return []
    if lf.ino == 0:
        # It was unreadable or missing: try again.
        table.reattach(lf)
        return [lf] if lf.fd is not None else []
    if (st.st_dev, st.st_ino) != (lf.dev, lf.ino) or (
        lf.fd is None and table.fd(lf) is None and lf.replaced  # a reused inode number
    ):
        table.retire(lf)
        return [lf] if lf.fd is not None else []
    if st.st_size < lf.offset or table.rewritten(lf):
        # Truncated in place (copytruncate) or replaced by a shorter file, possibly written
        # past the old offset again since.
        lf.gone = True
        table.truncated.append(lf)
        table.retire(lf)
        return []
    return [lf]


def check_retired(table: FileTable, lf: LogFile) -> bool:
    """Whether a retired generation has bytes left to read (a truncated one becomes gone)."""
    if lf.fd is None or lf.gone:
        return False
    size = size_of(lf)
    if size < lf.offset:
        lf.gone = True
        return False
    return size > lf.offset


def file_size(lf: LogFile) -> int:
    """Current size of the generation's file (0 when unknown)."""
    return size_of(lf)
