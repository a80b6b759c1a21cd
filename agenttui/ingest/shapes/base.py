"""What every shape is made of: the :class:`Shape` record, JSON decoding helpers, and how a
location inside a line that holds several records finds the line again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from agenttui.ingest.records import (
    RAW_RECORD,
    Record,
    _lenient,
    decode,
    decode_record,
    error_summary,
    normalise,
)

Decoded = tuple[dict[str, Any] | None, Record]
Canon = Callable[[dict[str, Any]], dict[str, Any]]
"""Rewrites one decoded object of a shape into the usual field names."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How to read the lines of one kind of file."""

    name: str
    decode_record: Callable[[bytes], Record]
    """Line -> record (the indexing hot path; single-record shapes only)."""
    decode: Callable[[bytes], Decoded]
    """Line -> (object shown to the user, record) (single-record shapes only)."""
    expand: Callable[[bytes], list[Decoded]] | None = None
    """Line -> every (object, record) it holds, for shapes whose lines hold several records
    (or none: a line that only continues the next one gives no record)."""
    mapping: dict[str, Any] | None = field(default=None, compare=False)
    """The ``[mapping]`` table the shape was built with (rebuilt from ``name`` and it)."""
    host_key: str | None = None
    """Key of the decoded object that names the host the record comes from."""
    canon: Canon | None = field(default=None, compare=False)
    """The rewrite of one decoded object (JSON shapes that rename fields), for wrappers that
    read an object of this shape found inside another (Collector bodies)."""
    gather: Callable[[Callable[[int], tuple[int, bytes] | None], int, bytes], bytes] | None = field(
        default=None, compare=False
    )
    """For shapes whose records span several lines (container logs split at 16 KB): given a
    reader of the line before a position (its start and bytes, None at the file's start), the
    start of a record's last line and that line, the whole record as one line to expand."""
    fold: Callable[[bytes], list[Record]] | None = field(default=None, compare=False)
    """Indexing of such shapes: line -> records, keeping the parts of a split record until its
    last part (state of one file read in order; :attr:`expand` stays stateless)."""
    partial: Callable[[bytes], bool] | None = field(default=None, compare=False)
    """For such shapes: whether a line is a part that the next line continues (a file must
    not be cut for parallel indexing right after it)."""

    @property
    def multi(self) -> bool:
        """Whether one line can hold several records (or none)."""
        return self.expand is not None

    def records(self, line: bytes) -> list[Record]:
        """Every record of one line."""
        if self.fold is not None:
            return self.fold(line)
        if self.expand is None:
            return [self.decode_record(line)]
        return [rec for _data, rec in self.expand(line)]


def loads(line: bytes) -> Any:
    """A JSON value (None when the line is not JSON), as leniently as the records module."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _lenient(line)


def json_shape(
    name: str,
    canon: Canon,
    *,
    show_canonical: bool = False,
    host_key: str | None = None,
    mapping: dict[str, Any] | None = None,
) -> Shape:
    """A shape of one JSON object per line, rewritten by ``canon`` into the usual names."""

    def dec(line: bytes) -> Decoded:
        obj = loads(line)
        if not isinstance(obj, dict):
            return None, RAW_RECORD
        try:
            c = canon(obj)
        except (TypeError, ValueError, AttributeError, KeyError):  # a line of another shape
            return obj, normalise(obj)
        rec = normalise(c)
        name = c.get("event_name")  # the name logged, when the rewrite gave it a known one
        if name.__class__ is str:
            rec = rec._replace(message=name)
        return (c if show_canonical else obj), rec

    def rec(line: bytes) -> Record:
        return dec(line)[1]

    return Shape(name, rec, dec, host_key=host_key, canon=canon, mapping=mapping)


def text(value: Any) -> str | None:
    """A value as text (JSON for what is not a string)."""
    if value is None:
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def err_object(value: Any) -> str | None:
    """``Type: message`` of a pino / bunyan / JS error object (``type``/``name``, ``message``)."""
    if not isinstance(value, dict):
        return error_summary(value)
    kind = value.get("name") or value.get("type")
    message = value.get("message")
    if isinstance(kind, str) and kind and isinstance(message, str):
        return f"{kind}: {message}" if message else kind
    stack = value.get("stack")
    if isinstance(stack, str) and stack.strip():
        return stack.strip().splitlines()[0].strip()
    return error_summary(value)


def has_time(c: dict[str, Any]) -> bool:
    """Whether an object already carries one of the usual time fields."""
    return any(k in c for k in ("timestamp", "time", "ts", "@timestamp"))


STRUCTLOG: Final = Shape("structlog", decode_record, decode)
"""structlog's ``JSONRenderer``: the records module reads it as it is (the hot path)."""
JSON: Final = Shape("json", decode_record, decode)
"""Any other JSON object per line (``msg`` / ``message``...), read the same way."""


def line_start(pread: Callable[[int, int], bytes], loc_offset: int) -> int:
    """The start of the line that holds byte ``loc_offset`` (the byte after a newline)."""
    window = 4096
    end = loc_offset
    while end > 0:
        begin = max(0, end - window)
        data = pread(begin, end - begin)
        if len(data) < end - begin:
            return loc_offset
        nl = data.rfind(b"\n")
        if nl >= 0:
            return begin + nl + 1
        end = begin
        window = min(window * 4, 1 << 24)
    return 0
