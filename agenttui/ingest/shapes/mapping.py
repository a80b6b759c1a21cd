"""``[mapping]`` in ``agenttui.toml``: field and event names laid over the detected shape.

A mapping never replaces the shape the file was detected as (pino keeps its ``reqId``, ``err``
and ``hostname``): the shape reads the object first, then the mapping's field paths and event
names are applied on top. Event entries are names or patterns: ``*`` matches any text and
``{tool}`` (or ``{call_id}``, ``{request_id}``...) matches one word and reads it as that field,
e.g. ``tool_start = "Calling tool {tool}"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from agenttui import config
from agenttui.config import ConfigError
from agenttui.ingest.records import RAW_RECORD, Kind, normalise
from agenttui.ingest.shapes.base import Canon, Decoded, Shape, loads
from agenttui.ingest.shapes.python import parse_tz

MAPPING_FIELDS: Final = (
    "message",
    "level",
    "time",
    "request_id",
    "tool",
    "call_id",
    "duration_ms",
    "duration_s",
    "error",
    "query",
)
MAPPING_EVENTS: Final = {
    "request_start": Kind.REQUEST_START,
    "request_end": Kind.REQUEST_OK,
    "request_failed": Kind.REQUEST_FAIL,
    "tool_start": Kind.TOOL_START,
    "tool_success": Kind.TOOL_OK,
    "tool_failure": Kind.TOOL_FAIL,
}
MAPPING_OPTIONS: Final = ("tz",)
"""Settings that are not names: ``tz``, the zone of times written without one."""
_CANONICAL_EVENT: Final = {
    Kind.REQUEST_START: "request_start",
    Kind.REQUEST_OK: "request_success",
    Kind.REQUEST_FAIL: "request_failed",
    Kind.TOOL_START: "tool_call_start",
    Kind.TOOL_OK: "tool_call_success",
    Kind.TOOL_FAIL: "tool_call_failed",
}
_CANONICAL_KEY: Final = {
    "message": "event",
    "level": "level",
    "time": "timestamp",
    "request_id": "request_id",
    "tool": "tool",
    "call_id": "call_id",
    "duration_ms": "duration_ms",
    "duration_s": "duration",
    "error": "error",
    "query": "query",
}
_PLACEHOLDER: Final = re.compile(r"\{([a-z_]+)\}|\*")
_CAPTURABLE: Final = frozenset(("tool", "call_id", "request_id", "query", "error"))


class MappingError(ConfigError):
    """The ``[mapping]`` table is not usable; the message is one line."""


def load_mapping(path: str | None = None) -> dict[str, Any]:
    """The checked ``[mapping]`` table of ``agenttui.toml`` (empty when there is none), with
    ``AGENTTUI_TZ`` (set by ``--tz``) over its ``tz``.

    Raises:
        ConfigError: The file or the table is not usable.
    """
    table = dict(config.section(config.load(path), "mapping"))
    tz = config.env_override("tz")
    if tz is not None:
        table["tz"] = tz
    return check_mapping(table)


def check_mapping(table: dict[str, Any]) -> dict[str, Any]:
    """Check a ``[mapping]`` table: field names are strings (dotted for nested objects), event
    names strings or lists of strings (names or patterns), ``tz`` a zone.

    Raises:
        MappingError: An unknown key or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in MAPPING_FIELDS:
            if not isinstance(value, str) or not value:
                raise MappingError(f"[mapping] {key} must be a field name (a string)")
            out[key] = value
        elif key in MAPPING_EVENTS:
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise MappingError(f"[mapping] {key} must be an event name or a list of them")
            for name in names:
                for m in _PLACEHOLDER.finditer(name):
                    if m.group(1) is not None and m.group(1) not in _CAPTURABLE:
                        raise MappingError(
                            f"[mapping] {key}: {{{m.group(1)}}} is not a field a pattern can"
                            f" read (known: {', '.join(sorted(_CAPTURABLE))})"
                        )
            out[key] = names
        elif key == "tz":
            if not isinstance(value, str):
                raise MappingError("[mapping] tz must be a zone name (a string)")
            try:
                parse_tz(value)
            except ValueError as exc:
                raise MappingError(f"[mapping] tz: {exc}") from exc
            out[key] = value
        else:
            known = ", ".join((*MAPPING_FIELDS, *MAPPING_EVENTS, *MAPPING_OPTIONS))
            raise MappingError(f"[mapping] has an unknown key {key!r} (known: {known})")
    return out


def has_names(table: dict[str, Any] | None) -> bool:
    """Whether a mapping names fields or events (``tz`` alone changes no name)."""
    return table is not None and any(k not in MAPPING_OPTIONS for k in table)


def path_get(obj: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (a key holding dots is found first)."""
    if path in obj:
        return obj[path]
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    pos = 0
    for m in _PLACEHOLDER.finditer(pattern):
        out.append(re.escape(pattern[pos : m.start()]))
        out.append(".*?" if m.group(1) is None else rf"(?P<{m.group(1)}>\S+?)")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


class EventNames:
    """The event names and patterns of a mapping, and what they mean."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.exact: dict[str, Kind] = {}
        self.patterns: list[tuple[str, re.Pattern[str], Kind]] = []
        for key, kind in MAPPING_EVENTS.items():
            for name in table.get(key, ()):
                if _PLACEHOLDER.search(name):
                    self.patterns.append((name, _compile(name), kind))
                else:
                    self.exact[name] = kind

    def match(self, message: str) -> tuple[str, Kind, dict[str, str]] | None:
        """(entry, kind, fields read) of the first entry the message matches, else None:
        an exact name, the message's first word, then the patterns in order."""
        kind = self.exact.get(message)
        if kind is not None:
            return message, kind, {}
        if " " in message:
            first = message.split(" ", 1)[0]
            kind = self.exact.get(first)
            if kind is not None:
                return first, kind, {}
        for name, regex, kind in self.patterns:
            m = regex.match(message)
            if m is not None:
                return name, kind, {k: v for k, v in m.groupdict().items() if v}
        return None


def overlay(table: dict[str, Any], base: Canon | None = None) -> Canon:
    """The rewrite of one object: ``base`` (the detected shape's rewrite) first, then the
    mapping's fields and event names."""
    fields = {k: v for k, v in table.items() if k in MAPPING_FIELDS}
    names = EventNames(table)

    def canon(obj: dict[str, Any]) -> dict[str, Any]:
        c = base(obj) if base is not None else dict(obj)
        for key, path in fields.items():
            value = path_get(obj, path)
            if value is not None:
                c[_CANONICAL_KEY[key]] = value
        message = c.get("event")
        if message is None:
            message = c.get("msg")
            if message is None:
                message = c.get("message")
        if isinstance(message, str):
            found = names.match(message)
            if found is not None:
                _entry, kind, read = found
                c["event_name"] = message
                c["event"] = _CANONICAL_EVENT[kind]
                for key, value in read.items():
                    c.setdefault(key, value)
        return c

    return canon


def overlay_shape(base: Shape, table: dict[str, Any]) -> Shape:
    """``base`` with a ``[mapping]`` laid over it (named ``<base>+mapping``)."""
    canon = overlay(table, base.canon)

    def one(obj: dict[str, Any]) -> Decoded:
        try:
            c = canon(obj)
        except (TypeError, ValueError, AttributeError, KeyError):
            return obj, normalise(obj)
        rec = normalise(c)
        name = c.get("event_name")
        if isinstance(name, str):
            rec = rec._replace(message=name)
        return (c if base.canon is not None else obj), rec

    name = f"{base.name}+mapping"
    if base.expand is not None:
        inner_expand = base.expand

        def expand(line: bytes) -> list[Decoded]:
            return [one(d) if d is not None else (d, r) for d, r in inner_expand(line)]

        def single(line: bytes) -> Decoded:
            found = expand(line)
            return found[0] if found else (None, RAW_RECORD)

        return Shape(
            name,
            lambda line: single(line)[1],
            single,
            expand=expand,
            mapping=dict(table),
            host_key=base.host_key,
        )
    plain = base.canon is None and base.name not in ("structlog", "json")

    def dec(line: bytes) -> Decoded:
        if plain:  # logfmt: its own parser first
            data, rec = base.decode(line)
            return (data, rec) if data is None else one(data)
        obj = loads(line)
        if not isinstance(obj, dict):
            return None, RAW_RECORD
        return one(obj)

    return Shape(
        name,
        lambda line: dec(line)[1],
        dec,
        mapping=dict(table),
        host_key=base.host_key,
        canon=canon,
    )


def matched(
    table: dict[str, Any], objects: Iterable[dict[str, Any]], base: Canon | None = None
) -> tuple[list[str], list[str]]:
    """(field paths, event entries) of a mapping found in these objects (read with ``base``,
    the detected shape's rewrite, for their message)."""
    fields = {v for k, v in table.items() if k in MAPPING_FIELDS}
    message_path = table.get("message")
    names = EventNames(table)
    seen_fields: set[str] = set()
    seen_events: set[str] = set()
    for obj in objects:
        for path in fields:
            if path_get(obj, path) is not None:
                seen_fields.add(path)
        c = obj
        if base is not None:
            try:
                c = base(obj)
            except (TypeError, ValueError, AttributeError, KeyError):
                c = obj
        message = path_get(obj, message_path) if message_path else None
        for key in ("event", "msg", "message"):
            if message is not None:
                break
            message = c.get(key)
        if isinstance(message, str):
            found = names.match(message)
            if found is not None:
                seen_events.add(found[0])
    return sorted(seen_fields), sorted(seen_events)
