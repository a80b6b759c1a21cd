"""Python logging libraries other than structlog: loguru's ``serialize=True`` output and
python-json-logger (stdlib ``logging`` records as JSON, ``asctime`` in the writer's local time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agenttui.ingest.records import parse_time
from agenttui.ingest.shapes.base import Canon

# --------------------------------------------------------------------------- loguru


def loguru(obj: dict[str, Any]) -> dict[str, Any]:
    """loguru ``serialize=True``: the nested ``record`` with ``extra`` holding the ids."""
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


# --------------------------------------------------------------------------- python-json-logger

#: Where python-json-logger puts a traceback (``exc_info``, or the record's cached
#: ``exc_text``) and a ``stack_info`` text, whatever ``rename_fields`` made of the rest.
TRACEBACK_KEYS: Final = ("exc_info", "exc_text", "stack_info")

_NAIVE: Final = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d([.,]\d+)?)?$")


def is_naive(value: Any) -> bool:
    """Whether a time value is a date and time without a zone (``logging``'s ``asctime``)."""
    return isinstance(value, str) and _NAIVE.match(value) is not None


def parse_tz(name: str) -> tzinfo:
    """A zone from its IANA name (``Europe/Paris``), ``UTC`` or an offset (``+02:00``).

    Raises:
        ValueError: A name that is none of these (the message is one line).
    """
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", name.strip())
    if m is not None:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return timezone(-delta if m.group(1) == "-" else delta)
    if name.strip().upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (an IANA name, UTC or +HH:MM)") from exc


def local_time(text: str, tz: tzinfo | None = None) -> float | None:
    """``logging``'s ``asctime`` (``2026-11-26 08:24:50,123``) as epoch seconds: in ``tz``
    when given, else in this machine's local time (the writer's, when it ran here)."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return parse_time(text)
    if dt.tzinfo is None and tz is not None:
        dt = dt.replace(tzinfo=tz)
    return dt.timestamp()


def pjl(tz: tzinfo | None = None) -> Canon:
    """The rewrite of python-json-logger objects, naive times read in ``tz``."""

    def canon(obj: dict[str, Any]) -> dict[str, Any]:
        c = dict(obj)
        if "event" in c and "message" in c:  # an "event" extra must not hide the message
            c["event_field"] = c.pop("event")
        when = None
        for key in ("timestamp", "time", "asctime"):
            if key in c:
                when = c.pop(key) if key == "asctime" else c[key]
                break
        if isinstance(when, str) and is_naive(when):
            c["timestamp"] = local_time(when, tz)
        elif when is not None:
            c.setdefault("timestamp", when)
        else:
            created = c.get("created")
            if isinstance(created, int | float):
                c["timestamp"] = created
        if "exception" not in c:
            for key in TRACEBACK_KEYS[:2]:
                if isinstance(c.get(key), str) and c[key]:
                    c["exception"] = c[key]
                    break
        if "level" not in c and "levelname" not in c and isinstance(c.get("levelno"), int):
            c["level"] = _LEVELNO.get(c["levelno"] // 10 * 10)
        return c

    return canon


_LEVELNO: Final = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


def naive_times(tz: tzinfo) -> Canon:
    """The rewrite of any JSON object whose time has no zone: read in ``tz`` (``--tz``)."""

    def canon(obj: dict[str, Any]) -> dict[str, Any]:
        for key in ("timestamp", "time", "ts", "@timestamp", "asctime"):
            if key in obj:
                when = obj[key]
                if isinstance(when, str) and is_naive(when):
                    c = dict(obj)
                    c["timestamp" if key == "asctime" else key] = local_time(when, tz)
                    return c
                return obj
        return obj

    return canon
