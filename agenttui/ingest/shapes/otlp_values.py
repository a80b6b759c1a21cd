"""OTLP JSON values shared by log records and spans: ``AnyValue`` and attributes, trace and
span ids, epoch nanoseconds, the request an item belongs to."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

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


def request_id(attrs: dict[str, Any], trace_id: str | None) -> Any:
    """The request an OTLP item belongs to: an explicit request id attribute, else the trace."""
    for key in _REQUEST_ATTRS:
        if attrs.get(key) is not None:
            return attrs[key]
    if trace_id is not None:
        return trace_id
    return attrs.get("gen_ai.conversation.id")


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list (nothing for what is not a list)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def error_summary(etype: Any, message: Any) -> str | None:
    """``Type: message`` of an error type and message (either may be missing). A message that
    already starts with the type (its dotted name or the name alone) is kept as it is."""
    kind = error_type(etype) if etype else None
    if not message:
        return kind
    text = str(message)
    if kind is None:
        return text
    short = kind.rsplit(".", 1)[-1]
    if text.startswith((f"{kind}:", f"{short}:")):
        return text
    return f"{kind}: {text}"


def error_type(value: Any) -> str:
    """An ``error.type`` / ``exception.type`` as a type name. opentelemetry-util-genai 1.x
    writes the class itself (``"<class 'openai.RateLimitError'>"``): its name is kept."""
    text = str(value)
    if text.startswith("<class '") and text.endswith("'>"):
        return text[8:-2].rsplit(".", 1)[-1] or text
    return text
