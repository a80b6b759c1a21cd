"""Which library wrote one JSON object, told by its keys, and its rewrite into the usual names.

Used to tell a file's shape from its first object, and to read objects found inside other
shapes (a Collector ``filelog`` body, a journal ``MESSAGE``) with their own shape.
"""

from __future__ import annotations

from typing import Any, Final

from agenttui.ingest.shapes.base import Canon
from agenttui.ingest.shapes.journald import journald, journald_reason
from agenttui.ingest.shapes.node import looks_like_bunyan, looks_like_pino, pino
from agenttui.ingest.shapes.python import TRACEBACK_KEYS, loguru, pjl

CANON: Final[dict[str, Canon]] = {
    "loguru": loguru,
    "pino": pino,
    "bunyan": pino,
    "python-json-logger": pjl(),
    "journald": journald,
}
"""The rewrite of each JSON shape that renames fields (structlog and plain JSON need none)."""

_PJL_KEYS: Final = ("levelname", "asctime", "taskName", "funcName", "exc_info")


def _why(keys: Any) -> str:
    return ", ".join(sorted(keys))


def detect_object(obj: dict[str, Any]) -> tuple[str, str] | None:
    """The shape of one JSON object and the keys that decided it (None: plain JSON)."""
    keys = obj.keys()
    if "resourceLogs" in keys or "resourceSpans" in keys:
        return "otlp", "OTLP JSON export batch: " + _why(
            k for k in ("resourceLogs", "resourceSpans") if k in keys
        )
    if "resourceMetrics" in keys or "resourceProfiles" in keys:
        return "otlp", "OTLP JSON export batch of metrics or profiles (no events)"
    journal = journald_reason(obj)
    if journal is not None:
        return "journald", journal
    record = obj.get("record")
    if isinstance(record, dict) and "text" in keys and "level" in record and "time" in record:
        return "loguru", "loguru serialize=True: text, record{level, time, extra}"
    if looks_like_bunyan(obj):
        return "bunyan", "bunyan: v=0, numeric level, hostname, time (ISO)"
    pino_reason = looks_like_pino(obj)
    if pino_reason is not None:
        return "pino", pino_reason
    if "event" in keys:
        return "structlog", "structlog JSON: event"
    if (
        "levelname" in keys
        or "asctime" in keys
        or ("message" in keys and any(k in keys for k in (*TRACEBACK_KEYS, "taskName", "funcName")))
    ):
        return "python-json-logger", "python-json-logger: " + _why(
            k for k in ("message", *_PJL_KEYS) if k in keys
        )
    return None


def canonical(obj: dict[str, Any]) -> dict[str, Any]:
    """One object in the usual names, read with the shape its keys tell."""
    found = detect_object(obj)
    canon = None if found is None else CANON.get(found[0])
    if canon is None:
        return obj
    try:
        return canon(obj)
    except (TypeError, ValueError, AttributeError, KeyError):
        return obj
