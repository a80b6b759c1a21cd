"""``key=value`` lines: structlog's ``KeyValueRenderer`` (Python ``repr`` values) and
``LogfmtRenderer`` (logfmt quoting)."""

from __future__ import annotations

import ast
import math
import re
from typing import Any, Final

import orjson

from agenttui.ingest.records import RAW_RECORD, Record, decode, normalise
from agenttui.ingest.shapes.base import Decoded, Shape

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


LOGFMT: Final = Shape("logfmt", _logfmt_record, _logfmt_decode)
