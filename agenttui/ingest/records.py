"""Records: decode one log line and normalise its field names.

A line becomes a :class:`Record` holding only the handful of normalised fields that traces need
(kind, time, level, request id, tool, call id, duration, error, query). The full event is not kept:
it is parsed again from its byte offset when somebody opens the trace
(see :mod:`agenttui.model.events`).

Field names are detected without configuration, in this order of preference:

* message: ``event`` / ``msg`` / ``message``; its kind from the whole message, else from its first
  word when that is a known event name (a message carrying arguments)
* level: ``level`` / ``levelname`` / ``severity`` (names, or pino/bunyan numbers)
* time: ``timestamp`` / ``time`` / ``ts`` / ``@timestamp`` as ISO 8601, or epoch s / ms / us / ns
* request id: ``request_id`` / ``requestId`` / ``req_id`` / ``trace_id`` / ``correlation_id``
* tool: ``tool`` / ``tool_name``; call id: ``call_id`` / ``tool_call_id`` (an LLM call's: only
  ``call_id``)
* duration: ``duration_ms`` (milliseconds) or ``duration`` / ``elapsed`` (seconds)
* error: ``error`` / ``exception`` (a string, or structlog ``dict_tracebacks`` output), else
  ``logging``'s ``exc_info`` / ``exc_text`` (python-json-logger, whatever ``rename_fields`` did)
* model: ``model`` / ``model_name`` / ``gen_ai.response.model`` / ``gen_ai.request.model``;
  tokens: ``tokens`` / ``total_tokens`` / ``usage`` (OpenAI's ``prompt_tokens`` +
  ``completion_tokens``, Anthropic's and GenAI's ``input_tokens`` + ``output_tokens``), also at
  the top level; finish reason: ``finish_reason`` / ``stop_reason`` / ``finish_reasons``.
  An event carrying a model and tokens is an LLM call even when its name is not a known one.
"""

from __future__ import annotations

import codecs
import json
import math
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, Final, NamedTuple

import orjson

MESSAGE_KEYS: Final = ("event", "msg", "message")
LEVEL_KEYS: Final = ("level", "levelname", "severity")
TIME_KEYS: Final = ("timestamp", "time", "ts", "@timestamp")
REQUEST_ID_KEYS: Final = ("request_id", "requestId", "req_id", "trace_id", "correlation_id")
TOOL_KEYS: Final = ("tool", "tool_name")
CALL_ID_KEYS: Final = ("call_id", "tool_call_id")
DURATION_MS_KEYS: Final = ("duration_ms",)
DURATION_S_KEYS: Final = ("duration", "elapsed")
QUERY_KEYS: Final = ("query",)

#: Longest query or error text kept in a trace summary; the full text is re-read on demand.
SUMMARY_TEXT_LIMIT: Final = 200


class Kind(IntEnum):
    """What a record means for its trace."""

    OTHER = 0
    REQUEST_START = 1
    TOOL_START = 2
    TOOL_OK = 3
    TOOL_FAIL = 4
    REQUEST_OK = 5
    REQUEST_FAIL = 6
    RAW = 7
    """A line that is not a JSON object."""
    LLM_START = 8
    LLM_OK = 9
    LLM_FAIL = 10


#: Event names (the message field) and what they mean. Anything else is ``Kind.OTHER``.
EVENT_KINDS: Final[dict[str, Kind]] = {
    "request_start": Kind.REQUEST_START,
    "request_started": Kind.REQUEST_START,
    "request_received": Kind.REQUEST_START,
    "tool_call_start": Kind.TOOL_START,
    "tool_call_started": Kind.TOOL_START,
    "tool_start": Kind.TOOL_START,
    "tool_call_success": Kind.TOOL_OK,
    "tool_call_succeeded": Kind.TOOL_OK,
    "tool_call_end": Kind.TOOL_OK,
    "tool_call_completed": Kind.TOOL_OK,
    "tool_end": Kind.TOOL_OK,
    "tool_call_failed": Kind.TOOL_FAIL,
    "tool_call_error": Kind.TOOL_FAIL,
    "tool_error": Kind.TOOL_FAIL,
    "request_success": Kind.REQUEST_OK,
    "request_succeeded": Kind.REQUEST_OK,
    "request_completed": Kind.REQUEST_OK,
    "request_end": Kind.REQUEST_OK,
    "request_failed": Kind.REQUEST_FAIL,
    "request_error": Kind.REQUEST_FAIL,
    "llm_call_start": Kind.LLM_START,
    "llm_call_started": Kind.LLM_START,
    "llm_start": Kind.LLM_START,
    "llm_request": Kind.LLM_START,
    "model_call_start": Kind.LLM_START,
    "llm_call": Kind.LLM_OK,
    "llm_call_end": Kind.LLM_OK,
    "llm_call_success": Kind.LLM_OK,
    "llm_call_succeeded": Kind.LLM_OK,
    "llm_call_completed": Kind.LLM_OK,
    "llm_end": Kind.LLM_OK,
    "llm_response": Kind.LLM_OK,
    "model_call_end": Kind.LLM_OK,
    "chat_completion": Kind.LLM_OK,
    "llm_call_failed": Kind.LLM_FAIL,
    "llm_call_error": Kind.LLM_FAIL,
    "llm_error": Kind.LLM_FAIL,
    "model_call_failed": Kind.LLM_FAIL,
}

#: Kinds of the records of an LLM call.
LLM_KINDS: Final = frozenset({Kind.LLM_START, Kind.LLM_OK, Kind.LLM_FAIL})

#: Levels that make an event an error.
ERROR_LEVELS: Final = frozenset(
    {"error", "err", "critical", "crit", "fatal", "exception", "alert", "emerg", "emergency"}
)

#: pino / bunyan numeric levels.
NUMERIC_LEVELS: Final = {
    10: "trace",
    20: "debug",
    30: "info",
    40: "warning",
    50: "error",
    60: "fatal",
}


class Record(NamedTuple):
    """The normalised fields of one log line. Short-lived: built while indexing, then dropped."""

    kind: Kind
    ts: float | None = None
    """Epoch seconds (UTC), or None when the line has no usable time."""
    level: str | None = None
    """Lower-case level name."""
    message: str | None = None
    request_id: str | None = None
    tool: str | None = None
    call_id: str | None = None
    duration_ms: float | None = None
    error: str | None = None
    """One-line error summary (``Type: message``), cut to ``SUMMARY_TEXT_LIMIT``."""
    query: str | None = None
    """The query, cut to ``SUMMARY_TEXT_LIMIT``."""
    model: str | None = None
    """The model that answered (else the one asked for), cut to ``SUMMARY_TEXT_LIMIT``."""
    tokens: int | None = None
    """Tokens used (input plus output)."""
    finish: str | None = None
    """Why the model stopped (``stop``, ``length``, ``tool_calls``...)."""

    @property
    def is_error(self) -> bool:
        """Whether the record reports a failure (by kind or by level)."""
        return (
            self.kind in (Kind.TOOL_FAIL, Kind.REQUEST_FAIL, Kind.LLM_FAIL)
            or self.level in ERROR_LEVELS
        )


RAW_RECORD: Final = Record(Kind.RAW)
"""The record of every line that is not a JSON object."""

_new_record = tuple.__new__


def _first(d: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = d.get(key)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # nested deeper than orjson goes, or an integer beyond 64 bits
        try:
            return str(value)
        except (RecursionError, ValueError):
            return "(value nested too deeply to show)"


_ISO_CACHE: dict[str, float] = {}


def parse_time(value: Any) -> float | None:
    """Parse a timestamp into epoch seconds (UTC).

    Accepts ISO 8601 strings (naive ones are taken as UTC) and epoch numbers in seconds,
    milliseconds, microseconds or nanoseconds (told apart by magnitude), also as numeric strings.

    Returns:
        Epoch seconds, or None when the value is not a usable time.
    """
    if value.__class__ is str and len(value) == 27 and value[26] == "Z" and value[19] == ".":
        base = _ISO_CACHE.get(value[:19])
        if base is not None:
            frac = value[20:26]
            if frac.isdigit():
                return base + int(frac) / 1e6
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return _epoch(float(value))
        except OverflowError:  # an integer beyond float range
            return None
    if not isinstance(value, str) or not value:
        return None
    c = value[0]
    if c.isdigit() and len(value) >= 19 and value[4] == "-":
        # ISO 8601. Cache the whole-second part: logs repeat it thousands of times.
        head = value[:19]
        base = _ISO_CACHE.get(head)
        tail = value[19:]
        if base is not None and (tail == "Z" or (tail[:1] == "." and tail[-1:] == "Z")):
            if tail == "Z":
                return base
            frac = tail[1:-1]
            if frac.isdigit():
                return base + int(frac) / 10.0 ** len(frac)
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        ts = dt.timestamp()
        if value[19:20] == ".":
            # Whole seconds plus every digit of the fraction, as the cached path above adds
            # them: datetime keeps only microseconds (it drops nanoseconds), and the same text
            # must give the same time whether its second is cached or not.
            digits = value[20:]
            n = len(digits) - len(digits.lstrip("0123456789"))
            if n > 6:
                ts = dt.replace(microsecond=0).timestamp() + int(digits[:n]) / 10.0**n
        if dt.utcoffset() == _ZERO:
            if len(_ISO_CACHE) >= 4096:  # logs move forward in time: old seconds are done
                _ISO_CACHE.clear()
            _ISO_CACHE[head] = math.floor(ts)
        return ts
    try:
        return _epoch(float(value))
    except ValueError:
        return None


_ZERO = datetime(2000, 1, 1, tzinfo=UTC).utcoffset()


def _epoch(x: float) -> float | None:
    if not math.isfinite(x) or x < 0:
        return None
    if x >= 1e17:
        x /= 1e9
    elif x >= 1e14:
        x /= 1e6
    elif x >= 1e11:
        x /= 1e3
    if x > 253402300799:  # after 9999-12-31
        return None
    return x


def parse_level(value: Any) -> str | None:
    """Normalise a level name or a pino/bunyan number to a lower-case name."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, int) and not isinstance(value, bool):
        return NUMERIC_LEVELS.get(value - value % 10, str(value))
    return None


def error_summary(value: Any) -> str | None:
    """One line describing an ``error`` or ``exception`` field.

    Strings give their last non-empty line (the ``Type: message`` line of a formatted
    traceback); structlog ``dict_tracebacks`` lists give ``exc_type: exc_value`` of the
    outermost exception.
    """
    if value is None or value is False:
        return None
    if isinstance(value, str):
        lines = [line for line in value.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else None
    if isinstance(value, list) and value and isinstance(value[0], dict):
        exc = value[0]
        exc_type = exc.get("exc_type")
        exc_value = exc.get("exc_value")
        if exc_type is not None:
            return f"{exc_type}: {exc_value}" if exc_value not in (None, "") else str(exc_type)
    if isinstance(value, dict):
        for key in ("message", "msg", "type", "exc_type"):
            if isinstance(value.get(key), str):
                return error_summary(value[key])
    return _text(value)


def _number(v: Any) -> float | None:
    if v.__class__ is bool or not isinstance(v, int | float):
        return None
    try:
        x = float(v)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def format_traceback(exception: Any) -> str:
    """A Python-style traceback from an ``exception`` field, as Python would print it.

    structlog ``dict_tracebacks`` output (outermost exception first) is printed cause first,
    with the "direct cause" / "during handling" separators; a string is returned as it is;
    anything else as JSON. Empty when there is no traceback.
    """
    if exception is None or exception == "" or exception == []:
        return ""
    if isinstance(exception, str):
        return exception.rstrip("\n")
    if not isinstance(exception, list) or not all(isinstance(e, dict) for e in exception):
        return _text(exception)
    parts: list[str] = []
    chain = list(reversed(exception))
    for i, exc in enumerate(chain):
        if i:
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n"
                if chain[i - 1].get("is_cause")
                else "\nDuring handling of the above exception, another exception occurred:\n"
            )
        parts.append("Traceback (most recent call last):")
        frames = exc.get("frames") or []
        for frame in frames if isinstance(frames, list) else []:
            if not isinstance(frame, dict):
                continue
            parts.append(
                f'  File "{frame.get("filename", "?")}", line {frame.get("lineno", "?")}'
                f", in {frame.get('name', '?')}"
            )
            line = frame.get("line")
            if isinstance(line, str) and line.strip():
                parts.append(f"    {line.strip()}")
        value = exc.get("exc_value")
        exc_type = exc.get("exc_type", "Exception")
        parts.append(f"{exc_type}: {value}" if value not in (None, "") else str(exc_type))
    return "\n".join(parts)


def _duration(d: dict[str, Any]) -> float | None:
    for key in DURATION_MS_KEYS:
        x = _number(d.get(key))
        if x is not None:
            return x
    for key in DURATION_S_KEYS:
        x = _number(d.get(key))
        if x is not None:
            return x * 1000.0
    return None


MODEL_KEYS: Final = ("model", "model_name", "gen_ai.response.model", "gen_ai.request.model")
_USAGE_KEYS: Final = ("usage", "token_usage", "tokens")
_INPUT_KEYS: Final = ("input_tokens", "prompt_tokens", "gen_ai.usage.input_tokens")
_OUTPUT_KEYS: Final = ("output_tokens", "completion_tokens", "gen_ai.usage.output_tokens")
_FINISH_KEYS: Final = (
    "finish_reason",
    "stop_reason",
    "finish_reasons",
    "gen_ai.response.finish_reasons",
)
_LLM_KEYS: Final = frozenset(
    (*MODEL_KEYS, *_USAGE_KEYS, *_INPUT_KEYS, *_OUTPUT_KEYS, *_FINISH_KEYS, "total_tokens")
)
"""Every field an LLM call's model, tokens or finish reason is read from (a line with none of
them skips that reading)."""
_TOKENS_MAX: Final = (1 << 32) - 2
"""Most tokens one record may claim (a summary keeps them in 32 bits)."""


def _count(value: Any) -> int | None:
    """A token count: a non-negative integer (or a float with an integer value)."""
    if value.__class__ is bool:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 0:
        return min(value, _TOKENS_MAX)
    return None


def _usage_tokens(usage: dict[str, Any], nested: bool) -> int | None:
    """Tokens of a usage object (``nested``) or of an event's top-level fields."""
    total = _count(usage.get("total_tokens"))
    if total is not None:
        return total
    inp = _count(_first(usage, _INPUT_KEYS))
    out = _count(_first(usage, _OUTPUT_KEYS))
    if inp is None and out is None:
        if not nested:
            return None
        total = _count(usage.get("total"))
        if total is not None:
            return total
        inp, out = _count(usage.get("input")), _count(usage.get("output"))
        if inp is None and out is None:
            return None
    return min((inp or 0) + (out or 0), _TOKENS_MAX)


def tokens_of(d: dict[str, Any]) -> int | None:
    """Tokens an event reports: a count, or a usage object, nested or at the top level."""
    for key in _USAGE_KEYS:
        value = d.get(key)
        if value is None:
            continue
        found = _usage_tokens(value, True) if isinstance(value, dict) else _count(value)
        if found is not None:
            return found
    return _usage_tokens(d, False)


def model_of(d: dict[str, Any]) -> str | None:
    """The model an event names (the one that answered, else the one asked for)."""
    for key in MODEL_KEYS:
        value = d.get(key)
        if value.__class__ is str and value:
            return value[:SUMMARY_TEXT_LIMIT]
    return None


def finish_of(d: dict[str, Any]) -> str | None:
    """Why the model stopped, as one short text (a list of reasons joined by commas)."""
    value = _first(d, _FINISH_KEYS)
    if isinstance(value, list):
        value = ",".join(str(v) for v in value[:8] if isinstance(v, str | int))
    if isinstance(value, str) and value:
        return value[:40]
    return None


def llm_fields(
    d: dict[str, Any], kind: Kind, error: str | None
) -> tuple[Kind, str | None, int | None, str | None]:
    """The kind, model, tokens and finish reason of an event (LLM calls told apart)."""
    model = model_of(d)
    tokens = tokens_of(d)
    llm = kind in LLM_KINDS
    if not llm and kind is Kind.OTHER and model is not None and tokens is not None:
        kind, llm = Kind.LLM_OK, True
    if llm and error is not None and kind is Kind.LLM_OK:
        kind = Kind.LLM_FAIL
    finish = finish_of(d) if llm else None
    return kind, model, tokens, finish


def _first_word_kind(message: str) -> Kind:
    """The kind of a message that carries arguments after a known event name
    (``"tool_call_start web_search"``, loguru's ``"tool_call_start {tool}"`` formatted, or a
    traceback on the next lines)."""
    words = message.split(None, 1)
    if len(words) == 2:
        return EVENT_KINDS.get(words[0].rstrip(":,;"), Kind.OTHER)
    return Kind.OTHER


def normalise(d: dict[str, Any]) -> Record:
    """Build a :class:`Record` from a decoded JSON object.

    This runs once per log line, so the common key names are looked up first, inline.
    """
    get = d.get
    message = get("event")
    if message is None:
        message = get("msg")
        if message is None:
            message = get("message")
    if message is None:
        kind = Kind.OTHER
    else:
        if message.__class__ is not str:
            message = _text(message)
        found = EVENT_KINDS.get(message)
        kind = _first_word_kind(message) if found is None else found

    level = get("level")
    if level is None:
        level = get("levelname")
        if level is None:
            level = get("severity")
    if level is not None:
        level = level.lower() if level.__class__ is str else parse_level(level)

    ts = get("timestamp")
    if ts is None:
        ts = get("time")
        if ts is None:
            ts = get("ts")
            if ts is None:
                ts = get("@timestamp")
    if ts is not None:
        ts = parse_time(ts)

    rid = get("request_id")
    if rid is None:
        rid = _first(d, REQUEST_ID_KEYS[1:])
    if rid is not None:
        if rid.__class__ is not str:
            rid = _text(rid)
        rid = rid or None

    call_id = None
    tool = get("tool")
    if tool is None:
        tool = get("tool_name")
    if tool is not None:
        if tool.__class__ is not str:
            tool = _text(tool)
        call_id = get("call_id")
        if call_id is None:
            call_id = get("tool_call_id")
        if call_id is not None and call_id.__class__ is not str:
            call_id = _text(call_id)

    duration = get("duration_ms")
    if duration.__class__ is float:
        duration = duration if math.isfinite(duration) else None
    elif "duration" in d or "elapsed" in d or duration is not None:
        duration = _duration(d)

    error = get("error")
    if error is None:
        error = get("exception")
        if error is None:
            error = get("exc_info")
            if error is None:
                error = get("exc_text")
    if error is not None:
        error = error_summary(error)
        if error is not None:
            error = error[:SUMMARY_TEXT_LIMIT]
            # "tool_call_end" / "request_end" carrying an error are failures.
            if kind == Kind.TOOL_OK:
                kind = Kind.TOOL_FAIL
            elif kind == Kind.REQUEST_OK:
                kind = Kind.REQUEST_FAIL

    query = get("query")
    if query is not None:
        query = (query if query.__class__ is str else _text(query))[:SUMMARY_TEXT_LIMIT]
    if kind in LLM_KINDS or not _LLM_KEYS.isdisjoint(d):
        kind, model, tokens, finish = llm_fields(d, kind, error)
        if call_id is None and kind in LLM_KINDS:
            # An LLM call's own id pairs overlapping calls (a tool_call_id is not one).
            call_id = get("call_id")
            if call_id is not None and call_id.__class__ is not str:
                call_id = _text(call_id)
    else:
        model = tokens = finish = None
    return _new_record(
        Record,
        (
            kind,
            ts,
            level,
            message,
            rid,
            tool,
            call_id,
            duration,
            error,
            query,
            model,
            tokens,
            finish,
        ),
    )


def decode(line: bytes) -> tuple[dict[str, Any] | None, Record]:
    """Decode one line (without its newline).

    Returns:
        The JSON object (or None for a line that is not a JSON object) and its record.
        A line that is not a JSON object gives a ``Kind.RAW`` record; nothing raises.
    """
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        obj = _lenient(line)
    if not isinstance(obj, dict):
        return None, RAW_RECORD
    return obj, normalise(obj)


def _json_bytes_escape(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: an invalid byte becomes JSON text shown as ``\\xNN``."""
    assert isinstance(exc, UnicodeDecodeError)
    bad = exc.object[exc.start : exc.end]
    return "".join(f"\\\\x{b:02x}" for b in bad), exc.end


codecs.register_error("agenttui-json-bytes", _json_bytes_escape)


def _lenient(line: bytes) -> Any:
    """Second chance for what orjson refuses: NaN and huge integers (Python's json writes
    them), a UTF-8 byte order mark, and invalid UTF-8 (each bad byte kept as ``\\xNN`` text)."""
    line = line.lstrip().removeprefix(b"\xef\xbb\xbf")
    if line[:1] != b"{":
        return None
    try:
        return json.loads(line.decode("utf-8", "agenttui-json-bytes"))
    except (ValueError, RecursionError):
        return None


def decode_record(line: bytes) -> Record:
    """Like :func:`decode` but only the record."""
    return decode(line)[1]
