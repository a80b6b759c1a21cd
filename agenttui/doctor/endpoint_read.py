"""What a health endpoint's JSON says, read defensively (any shape; nothing trusted).

Health endpoints agree on little. This reads the common shapes::

    {"status": "healthy", "checks": {"database": true, "api_key": false, "memory": 71.5}}
    {"status": "UP", "components": {"db": {"status": "UP", "details": {...}}}}
    {"status": "pass", "checks": {"db:responseTime": [{"status": "pass", "observedValue": 8}]}}
    {"healthy": false, "checks": [{"name": "tools", "ok": false, "error": "rg missing"}]}
    {"database": "ok", "cache": "error"}

The overall status comes from a ``status`` / ``healthy`` / ``ok`` / ``state`` field (a boolean,
or a word such as ``ok``, ``healthy``, ``up``, ``pass`` against ``error``, ``unhealthy``,
``down``, ``fail``); each check becomes an :class:`Item` that is ok, failing, or not judged.
Numbers are shown as they are; one named like a percentage of memory, CPU or disk is judged
against the doctor's memory thresholds. Fields that are neither are kept as extras, masked by
:mod:`agenttui.output.secrets` and cleaned of control characters before they are shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from agenttui.output.sanitize import clean, shorten
from agenttui.output.secrets import MASK, is_secret_name, mask_fields

Verdict = Literal["ok", "warn", "fail", "unknown"]

OK_WORDS: Final = frozenset(
    [
        "ok",
        "okay",
        "healthy",
        "up",
        "pass",
        "passed",
        "passing",
        "green",
        "good",
        "true",
        "yes",
        "ready",
        "alive",
        "available",
        "success",
        "succeeded",
        "running",
        "online",
        "serving",
    ]
)
FAIL_WORDS: Final = frozenset(
    [
        "error",
        "errored",
        "unhealthy",
        "down",
        "fail",
        "failed",
        "failing",
        "red",
        "bad",
        "false",
        "no",
        "critical",
        "dead",
        "unavailable",
        "offline",
        "timeout",
        "not_serving",
    ]
)
WARN_WORDS: Final = frozenset(["warn", "warning", "degraded", "yellow", "partial"])
STATUS_KEYS: Final = ("status", "healthy", "ok", "state", "health", "up", "result")
CONTAINER_KEYS: Final = ("checks", "components", "dependencies", "details", "services", "entries")
NAME_KEYS: Final = ("name", "component", "id", "check", "service", "key")
MAX_ITEMS: Final = 40
MAX_DEPTH: Final = 4
_PERCENT_NAME: Final = re.compile(r"mem|cpu|disk|percent|pct|usage|load", re.IGNORECASE)


@dataclass(slots=True)
class Item:
    """One check in the answer."""

    name: str
    verdict: Verdict
    shown: str
    """The value as the endpoint gave it, one line (``false``, ``"error"``, ``97.5``)."""
    extra: str = ""
    """Other fields of the check (message, latency...), masked, one line."""


@dataclass(slots=True)
class Reading:
    """The whole answer, interpreted."""

    overall: Verdict
    """``unknown`` when the answer names no overall status (then the checks decide)."""
    overall_shown: str
    items: list[Item] = field(default_factory=list)
    extras: str = ""
    """Top-level fields that are neither the status nor checks, masked, one line."""
    dropped: int = 0
    """Checks beyond :data:`MAX_ITEMS` (not shown)."""


def verdict_of(
    value: object, name: str = "", warn_pct: float = 85.0, fail_pct: float = 95.0
) -> Verdict:
    """The verdict of one status value (boolean, word or number)."""
    if isinstance(value, bool):
        return "ok" if value else "fail"
    if isinstance(value, int | float):
        if _PERCENT_NAME.search(name) and 0 <= value <= 100:
            return "fail" if value >= fail_pct else "warn" if value >= warn_pct else "ok"
        return "unknown"
    if isinstance(value, str):
        word = value.strip().lower().replace(" ", "_").replace("-", "_")
        if word in OK_WORDS:
            return "ok"
        if word in FAIL_WORDS:
            return "fail"
        if word in WARN_WORDS:
            return "warn"
    return "unknown"


def read(body: bytes, warn_pct: float = 85.0, fail_pct: float = 95.0) -> Reading:
    """Interpret a health answer.

    Raises:
        ValueError: The body is not JSON (the message says so in one line).
    """
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        preview = shorten(clean(body[:60].decode("utf-8", "replace")), 40)
        raise ValueError(
            f"not JSON ({exc.msg if hasattr(exc, 'msg') else exc}): {preview!r}"
        ) from exc
    return interpret(data, warn_pct, fail_pct)


def interpret(data: object, warn_pct: float = 85.0, fail_pct: float = 95.0) -> Reading:
    """Interpret decoded JSON of any shape."""
    limits = (warn_pct, fail_pct)
    if not isinstance(data, dict):
        verdict = verdict_of(data)
        return Reading(verdict, _show(data))
    status_key = _status_key(data)
    overall: Verdict = "unknown"
    overall_shown = ""
    if status_key is not None:
        overall = verdict_of(data[status_key])
        overall_shown = _show(data[status_key])
    items: list[Item] = []
    rest: dict[str, Any] = {}
    containers = [
        k
        for k in data
        if isinstance(data[k], dict | list)
        and isinstance(k, str)
        and (k in CONTAINER_KEYS or (k.lower() in STATUS_KEYS and status_key is None))
    ]
    for key in containers:
        _collect(data[key], "", items, limits, 0)
    for key, value in data.items():
        if key == status_key or key in containers:
            continue
        if not containers and _is_status_value(value, str(key)):
            items.append(Item(_name(key), verdict_of(value, str(key), *limits), _show(value)))
        elif not containers and isinstance(value, dict) and _status_key(value) is not None:
            _collect({key: value}, "", items, limits, 0)
        else:
            rest[str(key)] = value
    dropped = max(0, len(items) - MAX_ITEMS)
    return Reading(overall, overall_shown, items[:MAX_ITEMS], _extras(rest), dropped)


def _status_key(d: dict[Any, Any]) -> str | None:
    for key in d:
        if isinstance(key, str) and key.lower() in STATUS_KEYS and _is_status_value(d[key], ""):
            return key
    return None


def _is_status_value(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        return verdict_of(value) != "unknown"
    return False


def _collect(
    node: object, prefix: str, out: list[Item], limits: tuple[float, float], depth: int
) -> None:
    """Items from a checks container: a dict of name -> value, or a list of named entries."""
    if len(out) > MAX_ITEMS or depth > MAX_DEPTH:
        return
    entries: list[tuple[str, object]] = []
    if isinstance(node, dict):
        entries = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, list):
        for i, entry in enumerate(node):
            name = str(i)
            if isinstance(entry, dict):
                for key in NAME_KEYS:
                    if isinstance(entry.get(key), str) and entry[key]:
                        name = entry[key]
                        break
            entries.append((name, entry))
    for name, value in entries:
        full = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            skey = _status_key(value)
            if skey is not None:
                rest = {k: v for k, v in value.items() if k != skey and k not in NAME_KEYS}
                out.append(
                    Item(
                        _name(full),
                        verdict_of(value[skey], full, *limits),
                        _show(value[skey]),
                        _extras(rest),
                    )
                )
            else:
                _collect(value, full, out, limits, depth + 1)
        elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            _collect({name: value[0]}, prefix, out, limits, depth + 1)  # health+json arrays
        elif isinstance(value, list):
            _collect(value, full, out, limits, depth + 1)
        else:
            verdict = verdict_of(value, full, *limits)
            shown = MASK if verdict == "unknown" and is_secret_name(name) else _show(value)
            out.append(Item(_name(full), verdict, shown))


def _name(text: object) -> str:
    return shorten(clean(" ".join(str(text).split())), 40)


def _show(value: object) -> str:
    """A value as one masked, clean line."""
    masked = mask_fields(value)
    text = masked if isinstance(masked, str) else json.dumps(masked, ensure_ascii=False)
    return shorten(clean(" ".join(text.split())), 60)


def _extras(rest: dict[str, Any]) -> str:
    if not rest:
        return ""
    text = json.dumps(mask_fields(rest), ensure_ascii=False, default=str)
    return shorten(clean(" ".join(text.split())), 120)
