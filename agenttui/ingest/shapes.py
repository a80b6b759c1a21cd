"""Log shapes: what library wrote a file, told from its first lines, and how to read it.

Every file generation gets a shape when its first lines are read (see :func:`detect`); the shape
picks the function that turns each line into a
:class:`~agenttui.ingest.records.Record`. structlog and
plain JSON use :func:`agenttui.ingest.records.normalise` unchanged (the hot path); every other shape
first rewrites the decoded object into the same field names and then normalises that:

* ``structlog`` / ``json``: JSON objects (``event`` / ``msg`` / ``message``...), the default;
* ``loguru``: ``serialize=True`` output, the nested ``record`` with ``extra`` holding the ids;
* ``pino`` and ``bunyan``: numeric levels, ``time`` in ms (pino) or ISO (bunyan), ``msg``,
  ``reqId``, ``err`` objects, ``hostname``;
* ``python-json-logger``: ``message``, ``levelname``, ``asctime`` (local time), extras,
  ``exc_info``;
* ``journald``: ``journalctl -o json``, ``MESSAGE`` (itself a JSON object when the program logs
  JSON to stdout), ``PRIORITY``, ``__REALTIME_TIMESTAMP``, upper-case fields, ``_HOSTNAME``;
* ``otlp``: OTLP JSON as the OpenTelemetry Collector's file exporter writes it: one export
  batch (``resourceLogs`` / ``resourceSpans``) per line, which gives MANY records (see below);
* ``logfmt``: ``key=value`` lines (structlog ``KeyValueRenderer`` and ``LogfmtRenderer``);
* ``mapping``: field and event names from ``[mapping]`` in ``agenttui.toml``.

One OTLP line holds many records. They all live in the same line, so the record ``k`` of the
line at byte ``offset`` is given the location ``offset + k`` (a line is always longer than the
number of records it holds): locations stay unique and ordered, and whoever reads a location
back finds the line's start by looking for the newline before it (:func:`line_start`).
"""

from __future__ import annotations

import ast
import contextlib
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson

from agenttui import config
from agenttui.config import ConfigError
from agenttui.ingest.records import (
    RAW_RECORD,
    Kind,
    Record,
    _lenient,
    decode,
    decode_record,
    error_summary,
    normalise,
    parse_time,
)

DETECT_LINES: Final = 50
"""Lines looked at to tell a file's shape."""
DETECT_BYTES: Final = 256 << 10
"""Bytes of a file's head read to tell its shape before indexing it."""

Decoded = tuple[dict[str, Any] | None, Record]


@dataclass(frozen=True, slots=True)
class Shape:
    """How to read the lines of one kind of file."""

    name: str
    decode_record: Callable[[bytes], Record]
    """Line -> record (the indexing hot path; single-record shapes only)."""
    decode: Callable[[bytes], Decoded]
    """Line -> (object shown to the user, record) (single-record shapes only)."""
    expand: Callable[[bytes], list[Decoded]] | None = None
    """Line -> every (object, record) it holds, for shapes whose lines hold several records."""
    mapping: dict[str, Any] | None = field(default=None, compare=False)
    """The ``[mapping]`` table a ``mapping`` shape was built from."""
    host_key: str | None = None
    """Key of the decoded object that names the host the record comes from."""

    @property
    def multi(self) -> bool:
        """Whether one line can hold several records."""
        return self.expand is not None

    def records(self, line: bytes) -> list[Record]:
        """Every record of one line."""
        if self.expand is None:
            return [self.decode_record(line)]
        return [rec for _data, rec in self.expand(line)]


# --------------------------------------------------------------------------- helpers


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _lenient(line)


def _json_shape(
    name: str,
    canon: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    show_canonical: bool = False,
    host_key: str | None = None,
) -> Shape:
    """A shape of one JSON object per line, rewritten by ``canon`` into the usual names."""

    def dec(line: bytes) -> Decoded:
        obj = _loads(line)
        if not isinstance(obj, dict):
            return None, RAW_RECORD
        try:
            c = canon(obj)
        except (TypeError, ValueError, AttributeError, KeyError):  # a line of another shape
            return obj, normalise(obj)
        return (c if show_canonical else obj), normalise(c)

    def rec(line: bytes) -> Record:
        return dec(line)[1]

    return Shape(name, rec, dec, host_key=host_key)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _err_object(value: Any) -> str | None:
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


# --------------------------------------------------------------------------- loguru


def _loguru(obj: dict[str, Any]) -> dict[str, Any]:
    record = obj["record"]
    out: dict[str, Any] = {}
    extra = record.get("extra")
    if isinstance(extra, dict):
        out.update(extra)
    out["event"] = record.get("message")
    level = record.get("level")
    out["level"] = level.get("name") if isinstance(level, dict) else level
    when = record.get("time")
    out["timestamp"] = when.get("timestamp") if isinstance(when, dict) else when
    for key in ("name", "function", "line"):
        out.setdefault(f"logger_{key}" if key != "name" else "logger", record.get(key))
    exc = record.get("exception")
    if isinstance(exc, dict) and exc.get("type") is not None:
        text = obj.get("text")
        tb = text if isinstance(text, str) and "Traceback" in text else None
        out.setdefault("exception", tb or f"{exc.get('type')}: {exc.get('value')}")
    return out


# --------------------------------------------------------------------------- pino / bunyan


def _pino(obj: dict[str, Any]) -> dict[str, Any]:
    c = dict(obj)
    if "request_id" not in c:
        rid = c.get("reqId") or c.get("req_id")
        if rid is None:
            req = c.get("req")
            if isinstance(req, dict):
                rid = req.get("id")
        if rid is not None:
            c["request_id"] = rid
    for key in ("err", "error"):
        if isinstance(c.get(key), dict):
            c["error"] = _err_object(c[key])
            break
    if "hostname" in c:
        c["host"] = c["hostname"]
    return c


# --------------------------------------------------------------------------- python-json-logger


def _pjl(obj: dict[str, Any]) -> dict[str, Any]:
    c = dict(obj)
    if "event" in c and "message" in c:  # an "event" extra must not hide the message
        c["event_field"] = c.pop("event")
    if "timestamp" not in c and "time" not in c:
        created = c.get("created")
        if isinstance(created, int | float):
            c["timestamp"] = created
        else:
            asctime = c.get("asctime")
            if isinstance(asctime, str):
                c["timestamp"] = _local_time(asctime)
    if "exc_info" in c and "exception" not in c:
        c["exception"] = c["exc_info"]
    return c


def _local_time(text: str) -> float | None:
    """``logging``'s ``asctime`` (``2026-11-26 08:24:50,123``, local time) as epoch seconds."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return parse_time(text)
    return dt.timestamp()  # naive: local time, as logging wrote it


# --------------------------------------------------------------------------- journald

SYSLOG_LEVELS: Final = ("emerg", "alert", "crit", "error", "warning", "notice", "info", "debug")


def _journald(obj: dict[str, Any]) -> dict[str, Any]:
    message = obj.get("MESSAGE")
    if isinstance(message, list):  # a message that is not UTF-8: journalctl gives its bytes
        try:
            message = bytes(message).decode("utf-8", "backslashreplace")
        except (TypeError, ValueError):
            message = None
    c: dict[str, Any] = {}
    inner = None
    if isinstance(message, str) and message.lstrip().startswith("{"):
        inner = _loads(message.encode("utf-8", "surrogatepass"))
    if isinstance(inner, dict):
        c.update(inner)
    else:
        c["event"] = message
    for key, value in obj.items():
        if key[:1] == "_" or key in ("MESSAGE", "PRIORITY", "SYSLOG_TIMESTAMP"):
            continue
        c.setdefault(key.lower(), value)
    if not any(k in c for k in ("timestamp", "time", "ts", "@timestamp")):
        when = obj.get("_SOURCE_REALTIME_TIMESTAMP") or obj.get("__REALTIME_TIMESTAMP")
        if when is not None:
            c["timestamp"] = when
    if not any(k in c for k in ("level", "levelname", "severity")):
        priority = obj.get("PRIORITY")
        if isinstance(priority, str) and priority.isdigit() and int(priority) < 8:
            c["level"] = SYSLOG_LEVELS[int(priority)]
    for key in ("duration_ms", "duration", "elapsed"):  # journal fields are strings
        value = c.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                c[key] = float(value)
    for key, name in (("_HOSTNAME", "host"), ("_SYSTEMD_UNIT", "unit"), ("_PID", "pid")):
        if key in obj:
            c.setdefault(name, obj[key])
    return c


# --------------------------------------------------------------------------- logfmt

_LOGFMT_PAIR: Final = re.compile(
    r"""\s*([A-Za-z_@][\w.@\-/]*)=("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s]*)"""
)
_LITERALS: Final[dict[str, Any]] = {
    "None": None,
    "null": None,
    "True": True,
    "true": True,
    "False": False,
    "false": False,
}


def parse_logfmt(text: str) -> dict[str, Any] | None:
    """Parse ``key=value key2="quoted value" key3='repr value'`` (None when it is not that).

    Bare numbers become numbers; quoted values are unescaped (double quotes as logfmt / JSON,
    single quotes as Python ``repr``, which structlog's ``KeyValueRenderer`` writes).
    """
    out: dict[str, Any] = {}
    pos = 0
    n = len(text)
    while pos < n:
        m = _LOGFMT_PAIR.match(text, pos)
        if m is None:
            if text[pos:].strip():
                return None if len(out) < 2 else out
            break
        key, raw = m.group(1), m.group(2)
        out[key] = _logfmt_value(raw)
        pos = m.end()
    return out if len(out) >= 2 else None


def _logfmt_value(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        try:
            return orjson.loads(raw) if raw[0] == '"' else ast.literal_eval(raw)
        except (orjson.JSONDecodeError, ValueError, SyntaxError, MemoryError, RecursionError):
            return raw[1:-1]
    if raw in _LITERALS:
        return _LITERALS[raw]
    if raw[:1].isdigit() or raw[:1] == "-":
        try:
            x = float(raw)
        except ValueError:
            return raw
        if math.isfinite(x):
            return int(x) if x.is_integer() and "." not in raw and "e" not in raw.lower() else x
    return raw


def _logfmt_decode(line: bytes) -> Decoded:
    text = line.decode("utf-8", "backslashreplace").strip()
    if text.startswith("{"):
        return decode(line)
    obj = parse_logfmt(text)
    if obj is None:
        return None, RAW_RECORD
    return obj, normalise(obj)


def _logfmt_record(line: bytes) -> Record:
    return _logfmt_decode(line)[1]


# --------------------------------------------------------------------------- OTLP JSON


def any_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` (``{"stringValue": ...}``...) as a plain value."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        raw = value["intValue"]
        try:
            return int(raw)
        except (TypeError, ValueError):
            return raw
    if "arrayValue" in value:
        items = (
            value["arrayValue"].get("values", []) if isinstance(value["arrayValue"], dict) else []
        )
        return [any_value(v) for v in items]
    if "kvlistValue" in value:
        kv = value["kvlistValue"]
        return attributes(kv.get("values", []) if isinstance(kv, dict) else [])
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(items: Any) -> dict[str, Any]:
    """OTLP ``attributes`` (a list of ``{"key", "value"}``) as a dict."""
    out: dict[str, Any] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = any_value(item.get("value"))
    return out


def _nanos(value: Any) -> float | None:
    try:
        x = int(value)
    except (TypeError, ValueError):
        return None
    return x / 1e9 if x > 0 else None


_SEVERITY: Final = (
    (4, "trace"),
    (8, "debug"),
    (12, "info"),
    (16, "warning"),
    (20, "error"),
    (24, "fatal"),
)
_REQUEST_ATTRS: Final = ("request_id", "request.id", "app.request_id", "http.request.id")


def _severity(number: Any) -> str | None:
    if isinstance(number, int) and number > 0:
        for top, name in _SEVERITY:
            if number <= top:
                return name
    return None


def _resource(res: dict[str, Any]) -> dict[str, Any]:
    attrs = attributes(
        res.get("resource", {}).get("attributes") if isinstance(res.get("resource"), dict) else None
    )
    out: dict[str, Any] = {}
    host = attrs.get("host.name") or attrs.get("k8s.pod.name") or attrs.get("service.instance.id")
    if host is not None:
        out["host"] = host
    if attrs.get("service.name") is not None:
        out["service"] = attrs["service.name"]
    return out


def _request_id(attrs: dict[str, Any], trace_id: Any) -> Any:
    for key in _REQUEST_ATTRS:
        if attrs.get(key) is not None:
            return attrs[key]
    if isinstance(trace_id, str) and trace_id.strip("0"):
        return trace_id
    return attrs.get("gen_ai.conversation.id")


def _otlp_log(rec: dict[str, Any], res: dict[str, Any]) -> dict[str, Any]:
    attrs = attributes(rec.get("attributes"))
    c: dict[str, Any] = dict(res)
    body = any_value(rec.get("body"))
    if isinstance(body, str) and body.startswith("{"):
        # The filelog receiver keeps the line as the body (json_parser puts its fields in
        # the attributes, or the body when told to).
        parsed = _loads(body.encode("utf-8", "surrogatepass"))
        if isinstance(parsed, dict):
            body = parsed
    if isinstance(body, dict):
        c.update(body)
    elif body is not None and not any(k in attrs for k in ("event", "msg", "message")):
        c["event"] = body if isinstance(body, str) else _str(body)
    for key, value in attrs.items():
        c.setdefault(key, value)
    when = _nanos(rec.get("timeUnixNano"))
    if when is not None:
        c["timestamp"] = when
    elif not any(k in c for k in ("timestamp", "time", "ts", "@timestamp")):
        c["timestamp"] = _nanos(rec.get("observedTimeUnixNano"))
    level = rec.get("severityText") or _severity(rec.get("severityNumber"))
    if level:
        c["level"] = level
    rid = _request_id(c, rec.get("traceId"))  # the body's and attributes' own id first
    if rid is not None:
        c["request_id"] = rid
    if rec.get("traceId"):
        c["trace_id_otel"] = rec["traceId"]
    c.setdefault("tool", attrs.get("gen_ai.tool.name"))
    c.setdefault("call_id", attrs.get("gen_ai.tool.call.id"))
    if "error" not in c and "exception" not in c:
        etype = attrs.get("exception.type") or attrs.get("error.type")
        if etype is not None:
            stack = attrs.get("exception.stacktrace")
            c["error"] = (
                stack
                if isinstance(stack, str) and stack.strip()
                else (f"{etype}: {attrs.get('exception.message', '')}".rstrip(": "))
            )
    return {k: v for k, v in c.items() if v is not None}


def _span_error(span: dict[str, Any], attrs: dict[str, Any]) -> str | None:
    status: dict[str, Any] = span["status"] if isinstance(span.get("status"), dict) else {}
    failed = status.get("code") in (2, "STATUS_CODE_ERROR") or attrs.get("error.type")
    if not failed:
        return None
    etype = attrs.get("error.type")
    message = status.get("message")
    for ev in _dicts(span.get("events")):
        if ev.get("name") == "exception":
            ea = attributes(ev.get("attributes"))
            etype = etype or ea.get("exception.type")
            message = message or ea.get("exception.message")
    if etype and message:
        return f"{etype}: {message}" if not str(message).startswith(f"{etype}:") else message
    return str(message or etype or "span failed")


def _otlp_span(span: dict[str, Any], res: dict[str, Any]) -> list[dict[str, Any]]:
    attrs = attributes(span.get("attributes"))
    name: str = span["name"] if isinstance(span.get("name"), str) else ""
    op = attrs.get("gen_ai.operation.name") or name.split(" ", 1)[0]
    start = _nanos(span.get("startTimeUnixNano"))
    end = _nanos(span.get("endTimeUnixNano"))
    base: dict[str, Any] = dict(res)
    base.update((k, v) for k, v in attrs.items() if k not in ("request_id",))
    base["span"] = name
    rid = _request_id(attrs, span.get("traceId"))
    if rid is not None:
        base["request_id"] = rid
    if span.get("traceId"):
        base["trace_id_otel"] = span["traceId"]
    if span.get("spanId"):
        base["span_id"] = span["spanId"]
    error = _span_error(span, attrs)
    took = (end - start) * 1000.0 if start is not None and end is not None else None
    if op == "execute_tool":
        tool = attrs.get("gen_ai.tool.name") or (name.split(" ", 1)[1] if " " in name else name)
        base["tool"] = tool
        call_id = attrs.get("gen_ai.tool.call.id")
        if call_id is not None:
            base["call_id"] = call_id
        first = {**base, "event": "tool_call_start", "timestamp": start, "level": "info"}
        last = {
            **base,
            "event": "tool_call_failed" if error else "tool_call_success",
            "timestamp": end,
            "duration_ms": took,
            "level": "error" if error else "info",
        }
    elif op == "invoke_agent":
        query = attrs.get("query") or attrs.get("gen_ai.prompt")
        first = {**base, "event": "request_start", "timestamp": start, "level": "info"}
        if query is not None:
            first["query"] = query
        last = {
            **base,
            "event": "request_failed" if error else "request_success",
            "timestamp": end,
            "duration_ms": took,
            "level": "error" if error else "info",
        }
    else:
        one = {
            **base,
            "event": name or "span",
            "timestamp": start,
            "duration_ms": took,
            "level": "error" if error else "info",
        }
        if error:
            one["error"] = error
        return [one]
    if error:
        last["error"] = error
    return [first, last]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in _list(value) if isinstance(v, dict)]


def _otlp_expand(line: bytes) -> list[Decoded]:
    """Every record of one OTLP JSON export batch, in time order."""
    obj = _loads(line)
    if not isinstance(obj, dict):
        return [(None, RAW_RECORD)]
    try:
        dicts = _otlp_dicts(obj)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError):
        dicts = []  # a batch of another make: shown as one plain JSON event
    if not dicts:
        return [(obj, normalise(obj))]
    dicts.sort(key=lambda d: d["timestamp"] if isinstance(d.get("timestamp"), float) else 0.0)
    out: list[Decoded] = [(d, normalise(d)) for d in dicts]
    return out[: max(1, len(line))]


def _otlp_dicts(obj: dict[str, Any]) -> list[dict[str, Any]]:
    dicts: list[dict[str, Any]] = []
    for res in _dicts(obj.get("resourceLogs")):
        meta = _resource(res)
        for scope in _dicts(res.get("scopeLogs")):
            for rec in _dicts(scope.get("logRecords")):
                dicts.append(_otlp_log(rec, meta))
    for res in _dicts(obj.get("resourceSpans")):
        meta = _resource(res)
        for scope in _dicts(res.get("scopeSpans")):
            for span in _dicts(scope.get("spans")):
                dicts.extend(_otlp_span(span, meta))
    return dicts


def _otlp_single(line: bytes) -> Decoded:
    return _otlp_expand(line)[0]


# --------------------------------------------------------------------------- mapping

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


class MappingError(ConfigError):
    """The ``[mapping]`` table is not usable; the message is one line."""


def load_mapping(path: str | None = None) -> dict[str, Any]:
    """The checked ``[mapping]`` table of ``agenttui.toml`` (empty when there is none).

    Raises:
        ConfigError: The file or the table is not usable.
    """
    return check_mapping(config.section(config.load(path), "mapping"))


def check_mapping(table: dict[str, Any]) -> dict[str, Any]:
    """Check a ``[mapping]`` table: field names are strings (dotted for nested objects), event
    names strings or lists of strings.

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
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise MappingError(f"[mapping] {key} must be an event name or a list of them")
            out[key] = names
        else:
            known = ", ".join((*MAPPING_FIELDS, *MAPPING_EVENTS))
            raise MappingError(f"[mapping] has an unknown key {key!r} (known: {known})")
    return out


def _path_get(obj: dict[str, Any], path: str) -> Any:
    if path in obj:
        return obj[path]
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def mapping_shape(table: dict[str, Any]) -> Shape:
    """A shape that reads the field and event names of a ``[mapping]`` table."""
    fields = {k: v for k, v in table.items() if k in MAPPING_FIELDS}
    kinds: dict[str, Kind] = {}
    for key, kind in MAPPING_EVENTS.items():
        for name in table.get(key, ()):
            kinds[name] = kind

    def canon(obj: dict[str, Any]) -> dict[str, Any]:
        c = dict(obj)
        for key, path in fields.items():
            value = _path_get(obj, path)
            if value is not None:
                c[_CANONICAL_KEY[key]] = value
        message = c.get("event")
        if isinstance(message, str) and message in kinds:
            c["event_name"] = message
            c["event"] = _CANONICAL_EVENT[kinds[message]]
        return c

    base = _json_shape("mapping", canon)

    def dec(line: bytes) -> Decoded:
        data, rec = base.decode(line)
        if data is not None and rec.message in _CANONICAL_EVENT.values():
            name = _path_get(data, fields.get("message", "event"))
            if isinstance(name, str) and name in kinds:
                rec = rec._replace(message=name)
        return data, rec

    return Shape("mapping", lambda line: dec(line)[1], dec, mapping=dict(table))


# --------------------------------------------------------------------------- the shapes

STRUCTLOG: Final = Shape("structlog", decode_record, decode)
JSON: Final = Shape("json", decode_record, decode)
SHAPES: Final[dict[str, Shape]] = {
    "structlog": STRUCTLOG,
    "json": JSON,
    "loguru": _json_shape("loguru", _loguru, show_canonical=True),
    "pino": _json_shape("pino", _pino, host_key="hostname"),
    "bunyan": _json_shape("bunyan", _pino, host_key="hostname"),
    "python-json-logger": _json_shape("python-json-logger", _pjl),
    "journald": _json_shape("journald", _journald, show_canonical=True, host_key="host"),
    "logfmt": Shape("logfmt", _logfmt_record, _logfmt_decode),
    "otlp": Shape(
        "otlp",
        lambda line: _otlp_single(line)[1],
        _otlp_single,
        expand=_otlp_expand,
        host_key="host",
    ),
}
NAMES: Final = (*SHAPES, "mapping")


def get(name: str, mapping: dict[str, Any] | None = None) -> Shape:
    """The shape called ``name`` (``mapping`` needs its table)."""
    if name == "mapping":
        return mapping_shape(mapping or {})
    return SHAPES.get(name, JSON)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A file's shape and why it was chosen."""

    shape: Shape
    reason: str
    decided: bool = True
    """False while the file has shown nothing to decide on (read as JSON meanwhile)."""


def _why(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys))


def detect_object(
    obj: dict[str, Any], mapping: dict[str, Any] | None = None
) -> tuple[str, str] | None:
    """The shape of one JSON object and the keys that decided it (None: plain JSON)."""
    keys = obj.keys()
    if "resourceLogs" in keys or "resourceSpans" in keys:
        return "otlp", "OTLP JSON export batch: " + _why(
            k for k in ("resourceLogs", "resourceSpans") if k in keys
        )
    if "__REALTIME_TIMESTAMP" in keys and "MESSAGE" in keys:
        inner = obj["MESSAGE"]
        if isinstance(inner, str) and inner.lstrip().startswith("{"):
            return "journald", "journalctl -o json: __REALTIME_TIMESTAMP, MESSAGE (holds JSON)"
        return "journald", "journalctl -o json: __REALTIME_TIMESTAMP, MESSAGE"
    record = obj.get("record")
    if isinstance(record, dict) and "text" in keys and "level" in record and "time" in record:
        return "loguru", "loguru serialize=True: text, record{level, time, extra}"
    if mapping:
        hits = [
            v for k, v in mapping.items() if k in MAPPING_FIELDS and _path_get(obj, v) is not None
        ]
        if hits:
            return "mapping", f"[mapping] in agenttui.toml: {_why(hits)}"
    level = obj.get("level")
    numeric = isinstance(level, int) and not isinstance(level, bool)
    if numeric and obj.get("v") == 0 and "hostname" in keys and isinstance(obj.get("time"), str):
        return "bunyan", "bunyan: v=0, numeric level, hostname, time (ISO)"
    if numeric and isinstance(obj.get("time"), int) and ("msg" in keys or "pid" in keys):
        return "pino", "pino: numeric level, time (ms), " + _why(
            k for k in ("msg", "pid", "hostname", "reqId") if k in keys
        )
    if "event" in keys:
        return "structlog", "structlog JSON: event"
    if "levelname" in keys or "asctime" in keys:
        return "python-json-logger", "python-json-logger: " + _why(
            k for k in ("message", "levelname", "asctime") if k in keys
        )
    return None


def detect(lines: Iterable[bytes], mapping: dict[str, Any] | None = None) -> Verdict:
    """Tell a file's shape from its first lines (the first JSON object decides).

    Lines that are not JSON decide ``logfmt`` when at least half of them are ``key=value``
    pairs. Without any line to go on, the verdict is JSON, undecided (ask again later).
    """
    texts = 0
    kv = 0
    kv_keys: set[str] = set()
    for n, raw in enumerate(lines):
        if n >= DETECT_LINES:
            break
        line = raw.strip()
        if not line:
            continue
        if line[:1] == b"{":
            if line.startswith((b'{"resourceLogs"', b'{"resourceSpans"')):
                key = "resourceLogs" if line.startswith(b'{"resourceLogs"') else "resourceSpans"
                return Verdict(SHAPES["otlp"], "OTLP JSON export batch: " + key)
            obj = _loads(line)
            if isinstance(obj, dict):
                found = detect_object(obj, mapping)
                if found is None:
                    return Verdict(JSON, "JSON objects: " + (_why(list(obj)[:6]) or "{}"))
                name, reason = found
                return Verdict(get(name, mapping), reason)
        texts += 1
        parsed = parse_logfmt(line.decode("utf-8", "backslashreplace"))
        if parsed is not None:
            kv += 1
            kv_keys.update(list(parsed)[:4])
    if kv and kv * 2 >= texts:
        return Verdict(SHAPES["logfmt"], "key=value lines: " + _why(sorted(kv_keys)[:6]))
    if texts:
        return Verdict(JSON, f"{texts} line(s), none JSON or key=value yet", decided=False)
    return Verdict(JSON, "empty so far", decided=False)


def head_lines(fd: int, start: int = 0, size: int = DETECT_BYTES) -> list[bytes]:
    """Complete lines at the start of a file (a partial first line is kept when it is all)."""
    try:
        data = os.pread(fd, size, start)
    except OSError:
        return []
    lines = data.split(b"\n")
    if len(lines) > 1:
        lines.pop()
    return lines[:DETECT_LINES]


# --------------------------------------------------------------------------- reading back


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


__all__ = ["NAMES", "SHAPES", "Shape", "Verdict", "detect", "get"]
