"""Full events, parsed again on demand from their byte offsets when a trace is opened."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agenttui.records import RAW_RECORD, Kind, Record, decode
from agenttui.sources import FileTable
from agenttui.traces import unpack_loc


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
    """The JSON object, or None for a raw (non-JSON) line."""
    record: Record

    @property
    def is_raw(self) -> bool:
        """Whether the line is not a JSON object."""
        return self.record.kind == Kind.RAW

    @property
    def exception(self) -> Any:
        """The ``exception`` field (string or structlog ``dict_tracebacks`` list), if any."""
        return None if self.data is None else self.data.get("exception")


class EventReader:
    """Reads events by location, with a bounded cache of recently read lines."""

    def __init__(self, table: FileTable, *, cache_size: int = 4096) -> None:
        self._table = table
        self._cache: OrderedDict[int, Event] = OrderedDict()
        self._cache_size = cache_size

    def read(self, loc: int) -> Event:
        """The event at ``loc``."""
        cached = self._cache.get(loc)
        if cached is not None:
            self._cache.move_to_end(loc)
            return cached
        file_id, offset = unpack_loc(loc)
        raw = self._table.read_line(file_id, offset)
        name = self._table.files[file_id].name if file_id < len(self._table.files) else "?"
        if raw is None:
            event = Event(loc, name, offset, None, None, RAW_RECORD)
        else:
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            data, rec = decode(raw)
            event = Event(loc, name, offset, raw, data, rec)
        self._cache[loc] = event
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return event

    def read_many(self, locs: Iterable[int]) -> list[Event]:
        """The events at ``locs``, in the same order."""
        return [self.read(loc) for loc in locs]

    def clear(self) -> None:
        """Forget cached events (after a truncation made some of them void)."""
        self._cache.clear()
