"""Typed decoding of structlog / plain JSON lines straight into records (the bulk hot path).

The generic path (:func:`agenttui.ingest.records.decode`) builds a dict of every field of a
line with ``orjson`` and then looks the known names up in it (:func:`records.normalise`).
Here ``msgspec`` decodes each line into a :class:`_Line` that declares only the fields a
:class:`~agenttui.ingest.records.Record` is made of, each with the type it has in practice:
other fields (tool parameters, results...) are skipped without building any object, and the
``exception`` (structlog ``dict_tracebacks``, kilobytes) is kept as raw bytes, parsed only
when there is no ``error`` to summarise instead.

Exactness: a line whose fields do not have the expected types (a number as request id, a
non-finite duration, invalid UTF-8, NaN, a line that is not an object...) fails the typed
decoding and is handed to the generic path, so every line gives the record
:func:`records.decode_record` gives (``tests/test_fast_structlog.py`` checks it on generated
lines).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

import msgspec
import orjson

from agenttui.ingest.records import (
    EVENT_KINDS,
    LLM_KINDS,
    SUMMARY_TEXT_LIMIT,
    Kind,
    Record,
    _first_word_kind,
    error_summary,
    parse_time,
)
from agenttui.ingest.records import decode_record as generic_decode_record

_OTHER: Final = Kind.OTHER
_TOOL_OK: Final = Kind.TOOL_OK
_TOOL_FAIL: Final = Kind.TOOL_FAIL
_REQUEST_OK: Final = Kind.REQUEST_OK
_REQUEST_FAIL: Final = Kind.REQUEST_FAIL
_LLM_KINDS: Final = LLM_KINDS
_MAX_EXACT_INT: Final = 1 << 53
"""Beyond this an integer's float value may differ between the two JSON parsers."""


class _Line(msgspec.Struct, gc=False):
    """The fields :func:`records.normalise` reads, typed as structlog writes them."""

    event: str | None = None
    msg: str | None = None
    message: str | None = None
    level: str | None = None
    levelname: str | None = None
    severity: str | None = None
    timestamp: str | float | None = None
    time: str | float | None = None
    ts: str | float | None = None
    at_timestamp: str | float | None = msgspec.field(default=None, name="@timestamp")
    request_id: str | None = None
    requestId: str | None = None
    req_id: str | None = None
    trace_id: str | None = None
    correlation_id: str | None = None
    tool: str | None = None
    tool_name: str | None = None
    call_id: str | None = None
    tool_call_id: str | None = None
    duration_ms: float | None = None
    duration: float | None = None
    elapsed: float | None = None
    error: str | None = None
    exception: msgspec.Raw = msgspec.Raw()
    exc_info: msgspec.Raw = msgspec.Raw()
    exc_text: msgspec.Raw = msgspec.Raw()
    """Raw JSON, empty when absent."""
    query: str | None = None
    model: msgspec.Raw = msgspec.Raw()
    model_name: msgspec.Raw = msgspec.Raw()
    usage: msgspec.Raw = msgspec.Raw()
    token_usage: msgspec.Raw = msgspec.Raw()
    tokens: msgspec.Raw = msgspec.Raw()
    total_tokens: msgspec.Raw = msgspec.Raw()
    input_tokens: msgspec.Raw = msgspec.Raw()
    prompt_tokens: msgspec.Raw = msgspec.Raw()
    output_tokens: msgspec.Raw = msgspec.Raw()
    completion_tokens: msgspec.Raw = msgspec.Raw()
    gen_ai_response_model: msgspec.Raw = msgspec.field(
        default=msgspec.Raw(), name="gen_ai.response.model"
    )
    gen_ai_request_model: msgspec.Raw = msgspec.field(
        default=msgspec.Raw(), name="gen_ai.request.model"
    )
    gen_ai_input_tokens: msgspec.Raw = msgspec.field(
        default=msgspec.Raw(), name="gen_ai.usage.input_tokens"
    )
    gen_ai_output_tokens: msgspec.Raw = msgspec.field(
        default=msgspec.Raw(), name="gen_ai.usage.output_tokens"
    )
    """Raw JSON, empty when absent: a line naming a model or tokens takes the generic path."""


_decode: Final = msgspec.json.Decoder(_Line).decode
_Error: Final = (msgspec.MsgspecError, RecursionError)
"""What typed decoding raises on a line it cannot take (nesting too deep included)."""
_new_record = tuple.__new__


def _raw_error(d: _Line) -> Any:
    """The first of ``exception`` / ``exc_info`` / ``exc_text`` that is there and not null."""
    for raw in (d.exception, d.exc_info, d.exc_text):
        if raw:
            value = orjson.loads(memoryview(raw))
            if value is not None:
                return value
    return None


def decode_records(lines: Iterable[bytes]) -> list[Record]:
    """The record of each line, as :func:`records.decode_record` would give it."""
    out: list[Record] = []
    append = out.append
    kinds_get = EVENT_KINDS.get
    for line in lines:
        try:
            d = _decode(line)
        except _Error:
            append(generic_decode_record(line))
            continue
        message = d.event
        if message is None:
            message = d.msg
            if message is None:
                message = d.message
        if message is None:
            kind = _OTHER
        else:
            found = kinds_get(message)
            kind = _first_word_kind(message) if found is None else found
        if kind in _LLM_KINDS or (
            d.model
            or d.model_name
            or d.usage
            or d.token_usage
            or d.tokens
            or d.total_tokens
            or d.input_tokens
            or d.prompt_tokens
            or d.output_tokens
            or d.completion_tokens
            or d.gen_ai_response_model
            or d.gen_ai_request_model
            or d.gen_ai_input_tokens
            or d.gen_ai_output_tokens
        ):
            append(generic_decode_record(line))  # an LLM call: rare, read by the one path
            continue

        level = d.level
        if level is None:
            level = d.levelname
            if level is None:
                level = d.severity
        if level is not None:
            level = level.lower()

        ts = d.timestamp
        if ts is None:
            ts = d.time
            if ts is None:
                ts = d.ts
                if ts is None:
                    ts = d.at_timestamp
        if ts.__class__ is float and not -_MAX_EXACT_INT < ts < _MAX_EXACT_INT:
            append(generic_decode_record(line))
            continue

        rid = d.request_id
        if rid is None:
            rid = d.requestId
            if rid is None:
                rid = d.req_id
                if rid is None:
                    rid = d.trace_id
                    if rid is None:
                        rid = d.correlation_id
        if not rid:
            rid = None

        call_id = None
        tool = d.tool
        if tool is None:
            tool = d.tool_name
        if tool is not None:
            call_id = d.call_id
            if call_id is None:
                call_id = d.tool_call_id

        duration = d.duration_ms
        if duration is None:
            duration = d.duration
            if duration is None:
                duration = d.elapsed
            if duration is not None:
                duration *= 1000.0
        if duration is not None and not -_MAX_EXACT_INT < duration < _MAX_EXACT_INT:
            append(generic_decode_record(line))  # huge: let the generic path decide
            continue

        error = d.error
        if error is not None:
            error = error_summary(error)
        elif d.exception or d.exc_info or d.exc_text:
            try:
                error = error_summary(_raw_error(d))
            except orjson.JSONDecodeError:
                append(generic_decode_record(line))
                continue
        if error is not None:
            error = error[:SUMMARY_TEXT_LIMIT]
            if kind is _TOOL_OK:
                kind = _TOOL_FAIL
            elif kind is _REQUEST_OK:
                kind = _REQUEST_FAIL

        query = d.query
        if query is not None:
            query = query[:SUMMARY_TEXT_LIMIT]
        if ts is not None:  # last: parse_time's cache must see what the generic path sees
            ts = parse_time(ts)
        append(
            _new_record(
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
                    None,
                    None,
                    None,
                ),
            )
        )
    return out


def decode_one(line: bytes) -> Record:
    """The record of one line (see :func:`decode_records`)."""
    return decode_records((line,))[0]


def batch_decoder(
    decode_record: Callable[[bytes], Record],
) -> Callable[[list[bytes]], list[Record]]:
    """A function giving the records of many lines, as ``decode_record`` gives them one by one.

    Shapes read by the generic :func:`records.decode_record` (structlog, plain JSON) get
    :func:`decode_records`; any other shape keeps its own function.
    """
    if decode_record is generic_decode_record:
        return decode_records
    return lambda lines: list(map(decode_record, lines))


__all__ = ["batch_decoder", "decode_one", "decode_records"]
