"""Full events, parsed again on demand from their byte offsets when a trace is opened."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agenttui.ingest.records import RAW_RECORD, Kind, Record, decode
from agenttui.ingest.shapes import Decoded, Shape, line_start
from agenttui.ingest.sources import FileTable
from agenttui.model.traces import unpack_loc


@dataclass(slots=True)
class Event:
    """One log line, decoded."""

    loc: int
    file: str
    """Name of the file it came from."""
    offset: int
    raw: bytes | None
    """The line's bytes, or None when they are gone (the file was truncated)."""
    data: dict[str, Any] | None
    """The JSON object, or None for a raw (non-JSON) line. For shapes that nest or rename
    their fields (loguru, journald, OTLP) it is the object with the usual names."""
    record: Record
    source: str = ""
    """Where it ran: the host the record names (journald ``_HOSTNAME``, OTLP ``host.name``,
    pino ``hostname``), else the file name."""

    @property
    def is_raw(self) -> bool:
        """Whether the line is not a JSON object."""
        return self.record.kind == Kind.RAW

    @property
    def exception(self) -> Any:
        """The traceback: the ``exception`` field (string or structlog ``dict_tracebacks``
        list), else ``logging``'s ``exc_info`` / ``exc_text`` / ``stack_info``, else the
        ``stack`` of a pino / bunyan ``err`` object, if any."""
        if self.data is None:
            return None
        for key in ("exception", "exc_info", "exc_text", "stack_info"):
            value = self.data.get(key)
            if value:
                return value
        err = self.data.get("err")  # pino / bunyan error objects
        if isinstance(err, dict) and isinstance(err.get("stack"), str):
            return err["stack"]
        return None


class EventReader:
    """Reads events by location, with a bounded cache of recently read lines."""

    def __init__(self, table: FileTable, *, cache_size: int = 4096) -> None:
        self._table = table
        self._cache: OrderedDict[int, tuple[object, Event]] = OrderedDict()
        """Events by location, each with the table's entry for its file id when it was read:
        an id given to a new generation (recycled) makes the old events misses."""
        self._cache_size = cache_size
        self._lines: OrderedDict[tuple[int, int], list[Decoded]] = OrderedDict()
        """Expanded multi-record lines (OTLP batches), by (file id, line start)."""

    def read(self, loc: int) -> Event:
        """The event at ``loc``."""
        file_id, offset = unpack_loc(loc)
        lf = self._table.files[file_id] if 0 <= file_id < len(self._table.files) else None
        cached = self._cache.get(loc)
        if cached is not None and cached[0] is lf:
            self._cache.move_to_end(loc)
            return cached[1]
        name = lf.name if lf is not None else "?"
        shape = lf.shape if lf is not None else None
        if shape is not None and shape.multi:
            event = self._read_multi(loc, file_id, offset, name)
        else:
            raw = self._table.read_line(file_id, offset)
            if raw is None:
                event = Event(loc, name, offset, None, None, RAW_RECORD, name)
            else:
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                data, rec = decode(raw) if shape is None else shape.decode(raw)
                event = Event(loc, name, offset, raw, data, rec, _source(data, name, shape))
        self._cache[loc] = (lf, event)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return event

    def _read_multi(self, loc: int, file_id: int, offset: int, name: str) -> Event:
        """The record ``offset - line start`` of a line holding several (an OTLP batch)."""
        table = self._table

        def pread(pos: int, size: int) -> bytes:
            return table.pread(file_id, pos, size)

        start = line_start(pread, offset)
        key = (file_id, start)
        records = self._lines.get(key)
        raw = table.read_line(file_id, start)
        if raw is None:
            return Event(loc, name, offset, None, None, RAW_RECORD, name)
        raw = raw.removesuffix(b"\r")
        if records is None:
            shape = table.files[file_id].shape
            if shape.gather is not None:  # a record split over several lines

                def before(pos: int) -> tuple[int, bytes] | None:
                    if pos <= 0:
                        return None
                    begin = line_start(pread, pos - 1)
                    line = table.read_line(file_id, begin)
                    return None if line is None else (begin, line)

                raw = shape.gather(before, start, raw)
            records = shape.expand(raw)
            self._lines[key] = records
            if len(self._lines) > 8:
                self._lines.popitem(last=False)
        k = offset - start
        if k >= len(records):
            return Event(loc, name, offset, raw, None, RAW_RECORD, name)
        data, rec = records[k]
        return Event(
            loc, name, offset, raw, data, rec, _source(data, name, table.files[file_id].shape)
        )

    def read_many(self, locs: Iterable[int]) -> list[Event]:
        """The events at ``locs``, in the same order."""
        return [self.read(loc) for loc in locs]

    def clear(self) -> None:
        """Forget cached events (after a truncation made some of them void)."""
        self._cache.clear()
        self._lines.clear()


def _source(data: dict[str, Any] | None, name: str, shape: Shape | None) -> str:
    """The host a decoded record names (for shapes that carry one), else ``name``."""
    key = None if shape is None else shape.host_key
    if data is not None and key is not None:
        host = data.get(key)
        if isinstance(host, str) and host:
            return host
    return name
