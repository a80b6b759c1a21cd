"""OTLP JSON: export batches as the OpenTelemetry Collector's file exporter writes them (one
batch per line) or as the spec's examples are written (one pretty-printed batch per file).

One line holds many records. They all live in the same line, so the record ``k`` of the line at
byte ``offset`` is given the location ``offset + k`` (a line is always longer than the number of
records it holds): locations stay unique and ordered, and whoever reads a location back finds the
line's start by looking for the newline before it (:func:`~agenttui.ingest.shapes.base.line_start`).

Log records become one record each (the Collector's ``filelog`` bodies read with their own
shape; GenAI events as :mod:`agenttui.ingest.shapes.otlp_llm` says); spans become records
through :mod:`agenttui.ingest.shapes.otlp_spans`. Metrics and
profiles batches are no events: they give no record and are counted by ``formats``.
"""

from __future__ import annotations

from typing import Any, Final

from agenttui.ingest.records import RAW_RECORD, normalise
from agenttui.ingest.shapes import objects
from agenttui.ingest.shapes.base import Decoded, Shape, has_time, loads, text
from agenttui.ingest.shapes.otlp_llm import genai_event
from agenttui.ingest.shapes.otlp_spans import failed_steps_fail_their_root, span_records
from agenttui.ingest.shapes.otlp_values import (
    any_value,
    attributes,
    dicts,
    error_summary,
    hex_id,
    nanos,
    request_id,
)

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


def exception_error(attrs: dict[str, Any]) -> tuple[str | None, str | None]:
    """(``Type: message``, stack trace) from ``exception.*`` (else ``error.type``) attributes."""
    etype = attrs.get("exception.type") or attrs.get("error.type")
    stack = attrs.get("exception.stacktrace")
    stack = stack if isinstance(stack, str) and stack.strip() else None
    summary = error_summary(etype, attrs.get("exception.message"))
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
    if isinstance(event, str) and event.startswith("gen_ai."):
        genai_event(c, attrs, bound=span_id is not None)
    return {k: v for k, v in c.items() if v is not None}


def expand(line: bytes) -> list[Decoded]:
    """Every record of one OTLP JSON export batch, in time order."""
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
    failed_steps_fail_their_root(found)
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
