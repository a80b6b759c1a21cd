"""OTLP JSON: export batches as the OpenTelemetry Collector's file exporter writes them (one
batch per line) or as the spec's examples are written (one pretty-printed batch per file).

One line holds many records. They all live in the same line, so the record ``k`` of the line at
byte ``offset`` is given the location ``offset + k`` (a line is always longer than the number of
records it holds): locations stay unique and ordered, and whoever reads a location back finds the
line's start by looking for the newline before it (:func:`~agenttui.ingest.shapes.base.line_start`).

Log records become one record each (the Collector's ``filelog`` bodies read with their own
shape); spans become records through :mod:`agenttui.ingest.shapes.otlp_spans`. Metrics and
profiles batches are no events: they give no record and are counted by ``formats``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

from agenttui.ingest.records import RAW_RECORD, normalise
from agenttui.ingest.shapes import objects
from agenttui.ingest.shapes.base import Decoded, Shape, has_time, loads, text

SIGNALS: Final = ("resourceLogs", "resourceSpans")
SKIPPED: Final = ("resourceMetrics", "resourceProfiles")
"""Batches that hold no events."""

_SEVERITY: Final = (
    (4, "trace"),
    (8, "debug"),
    (12, "info"),
    (16, "warning"),
    (20, "error"),
    (24, "fatal"),
)
_REQUEST_ATTRS: Final = ("request_id", "request.id", "app.request_id", "http.request.id")
_HEX: Final = frozenset("0123456789abcdefABCDEF")


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


def hex_id(value: Any) -> str | None:
    """A trace or span id as lower-case hex: OTLP/JSON writes hex (any case); protobuf's own
    JSON mapping writes the bytes as base64. None for an empty or all-zero id."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) in (16, 32) and _HEX.issuperset(value):
        out = value.lower()
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value
        if len(raw) not in (8, 16):
            return value
        out = raw.hex()
    return out if out.strip("0") else None


def nanos(value: Any) -> float | None:
    """Epoch nanoseconds (a string or a number) as epoch seconds."""
    try:
        x = int(value)
    except (TypeError, ValueError):
        return None
    return x / 1e9 if x > 0 else None


def severity(number: Any) -> str | None:
    """An OTLP severity number as a level name."""
    if isinstance(number, int) and number > 0:
        for top, name in _SEVERITY:
            if number <= top:
                return name
    return None


def resource(res: dict[str, Any]) -> dict[str, Any]:
    """What a ``resource`` says about where its records ran: ``host.name`` (never a random
    ``service.instance.id``: without a host the file names the source) and the service."""
    inner = res.get("resource")
    attrs = attributes(inner.get("attributes") if isinstance(inner, dict) else None)
    out: dict[str, Any] = {}
    if attrs.get("host.name") is not None:
        out["host"] = attrs["host.name"]
    if attrs.get("service.name") is not None:
        out["service"] = attrs["service.name"]
    return out


def request_id(attrs: dict[str, Any], trace_id: str | None) -> Any:
    """The request an OTLP item belongs to: an explicit request id attribute, else the trace."""
    for key in _REQUEST_ATTRS:
        if attrs.get(key) is not None:
            return attrs[key]
    if trace_id is not None:
        return trace_id
    return attrs.get("gen_ai.conversation.id")


def exception_error(attrs: dict[str, Any]) -> tuple[str | None, str | None]:
    """(``Type: message``, stack trace) from ``exception.*`` (else ``error.type``) attributes."""
    etype = attrs.get("exception.type") or attrs.get("error.type")
    message = attrs.get("exception.message")
    stack = attrs.get("exception.stacktrace")
    stack = stack if isinstance(stack, str) and stack.strip() else None
    if etype is None and message is None:
        return None, stack
    if etype and message:
        summary = str(message) if str(message).startswith(f"{etype}:") else f"{etype}: {message}"
    else:
        summary = str(etype or message)
    return summary, stack


def _body(value: Any) -> dict[str, Any] | None:
    """A log body that is a JSON object (or a JSON line the Collector's filelog kept as text),
    in the usual names of the shape that wrote it."""
    body = value
    if isinstance(body, str) and body.lstrip().startswith("{"):
        body = loads(body.encode("utf-8", "surrogatepass"))
    if not isinstance(body, dict):
        return None
    return objects.canonical(body)


def log_record(rec: dict[str, Any], res: dict[str, Any]) -> dict[str, Any]:
    """One OTLP log record in the usual names."""
    attrs = attributes(rec.get("attributes"))
    c: dict[str, Any] = dict(res)
    raw_body = any_value(rec.get("body"))
    body = _body(raw_body)
    if body is not None:
        c.update(body)  # its own event, time, level and ids first
    event = rec.get("eventName")
    if isinstance(event, str) and event:
        c.setdefault("event", event)
        if body is None and raw_body is not None:
            c["body"] = raw_body
    elif (
        body is None
        and raw_body is not None
        and not any(k in attrs for k in ("event", "msg", "message"))
    ):
        c["event"] = raw_body if isinstance(raw_body, str) else text(raw_body)
    for key, value in attrs.items():
        c.setdefault(key, value)
    if not has_time(c):
        when = nanos(rec.get("timeUnixNano")) or nanos(rec.get("observedTimeUnixNano"))
        if when is not None:
            c["timestamp"] = when
    if not any(k in c for k in ("level", "levelname", "severity")):
        level = rec.get("severityText") or severity(rec.get("severityNumber"))
        if level:
            c["level"] = level
    trace_id = hex_id(rec.get("traceId"))
    rid = request_id(c, trace_id)  # the body's and attributes' own id first
    if rid is not None:
        c["request_id"] = rid
    if trace_id is not None:
        c["trace_id_otel"] = trace_id
    span_id = hex_id(rec.get("spanId"))
    if span_id is not None:
        c["span_id"] = span_id
    c.setdefault("tool", attrs.get("gen_ai.tool.name"))
    c.setdefault("call_id", attrs.get("gen_ai.tool.call.id"))
    if "error" not in c and "exception" not in c:
        summary, stack = exception_error(attrs)
        if summary is not None:
            c["error"] = summary
        if stack is not None:
            c["exception"] = stack
    return {k: v for k, v in c.items() if v is not None}


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list (nothing for what is not a list)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def expand(line: bytes) -> list[Decoded]:
    """Every record of one OTLP JSON export batch, in time order."""
    from agenttui.ingest.shapes.otlp_spans import span_records

    obj = loads(line)
    if not isinstance(obj, dict):
        return [(None, RAW_RECORD)]
    try:
        found: list[dict[str, Any]] = []
        for res in dicts(obj.get("resourceLogs")):
            meta = resource(res)
            for scope in dicts(res.get("scopeLogs")):
                for rec in dicts(scope.get("logRecords")):
                    found.append(log_record(rec, meta))
        for res in dicts(obj.get("resourceSpans")):
            meta = resource(res)
            for scope in dicts(res.get("scopeSpans")):
                for span in dicts(scope.get("spans")):
                    found.extend(span_records(span, meta))
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError):
        found = []  # a batch of another make: shown as one plain JSON event
    if not found:
        if any(k in obj for k in SKIPPED) and not any(k in obj for k in SIGNALS):
            return []  # metrics / profiles: no events
        return [(obj, normalise(obj))]
    found.sort(key=lambda d: d["timestamp"] if isinstance(d.get("timestamp"), float) else 0.0)
    out: list[Decoded] = [(d, normalise(d)) for d in found]
    return out[: max(1, len(line))]


def _single(line: bytes) -> Decoded:
    records = expand(line)
    return records[0] if records else (None, RAW_RECORD)


OTLP: Final = Shape("otlp", lambda line: _single(line)[1], _single, expand=expand, host_key="host")


COUNT_LIMIT: Final = 256 << 20
"""Bytes of a file looked through to count its metrics and profiles batches."""


def count_skipped(path: str, limit: int = COUNT_LIMIT) -> tuple[int, bool]:
    """(metrics and profiles batches in a file, whether only its first ``limit`` bytes were
    looked through). Batches start their line with their key, as the Collector writes them."""
    keys = tuple(b'{"' + k.encode() + b'"' for k in SKIPPED)
    count = 0
    seen = 0
    carry = b"\n"
    try:
        with open(path, "rb") as f:
            while seen < limit:
                block = f.read(1 << 20)
                if not block:
                    return count + sum(carry.count(b"\n" + key) for key in keys), False
                seen += len(block)
                data = carry + block
                for key in keys:
                    count += data.count(b"\n" + key)
                carry = data[-32:]
                # a key cut at the block's end is counted with the next block, never twice
                for key in keys:
                    count -= carry.count(b"\n" + key)
    except OSError:
        return count, False
    return count, True
