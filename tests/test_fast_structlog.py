"""The typed structlog decoder gives exactly the records the generic decoder gives."""

from __future__ import annotations

import inspect
import json
import math
import re
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenttui.ingest import fast_structlog, records
from agenttui.ingest.records import EVENT_KINDS, Record

RENDER = structlog.processors.JSONRenderer()


def _same(a: Record, b: Record) -> bool:
    return all(
        (x is None and y is None)
        or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
        or (x == y and type(x) is type(y))
        for x, y in zip(a, b, strict=True)
    )


def check(line: bytes) -> None:
    records._ISO_CACHE.clear()  # both paths start from the same timestamp cache
    generic = records.decode_record(line)
    records._ISO_CACHE.clear()
    fast = fast_structlog.decode_records([line])[0]
    assert _same(fast, generic), (line, fast, generic)
    records._ISO_CACHE.clear()
    assert _same(fast_structlog.decode_one(line), generic)


texts = st.text(max_size=30)
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["message", "type", "x"]), texts, max_size=2),
    texts,
)
events = st.one_of(
    st.sampled_from(sorted(EVENT_KINDS)),
    texts,
    st.builds(  # a message carrying arguments after the event name
        lambda name, sep, arg: f"{name}{sep}{arg}",
        st.sampled_from(sorted(EVENT_KINDS)),
        st.sampled_from([" ", ": ", ", ", "\n", ""]),
        texts,
    ),
)
iso_times = st.builds(
    lambda s, us, z: (
        f"2025-03-14T{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        + (f".{us:06d}" if us >= 0 else "")
        + z
    ),
    st.integers(0, 86399),
    st.integers(-1, 999999),
    st.sampled_from(["Z", "", "+00:00", "+02:00"]),
)
times = st.one_of(
    iso_times,
    st.floats(min_value=0, max_value=2e18, allow_nan=False),
    st.integers(min_value=-5, max_value=2 * 10**18),
    st.sampled_from(["", "yesterday", "1741910400", "1741910400.5"]),
)
levels = st.sampled_from(["info", "INFO", "error", "warning", "critical", "debug", "Warn"])
frames = st.fixed_dictionaries(
    {"filename": texts, "lineno": st.integers(0, 999), "name": texts, "locals": st.just({})}
)
dict_tracebacks = st.lists(
    st.fixed_dictionaries(
        {
            "exc_type": st.sampled_from(["ValueError", "ToolExecutionError", "KeyError"]),
            "exc_value": texts,
            "syntax_error": st.none(),
            "is_cause": st.booleans(),
            "frames": st.lists(frames, max_size=3),
        }
    ),
    min_size=1,
    max_size=3,
)
durations = st.one_of(
    st.floats(min_value=-1e6, max_value=1e20, allow_nan=False),
    st.integers(min_value=-(2**66), max_value=2**66),
    st.floats(min_value=0, max_value=1e5).map(lambda x: round(x, 3)),
)

OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "query": st.one_of(texts, st.text(min_size=1, max_size=20).map(lambda s: s * 20)),
    "tool": st.sampled_from(["web_search", "python_exec", ""]),
    "tool_name": texts,
    "call_id": texts,
    "tool_call_id": texts,
    "duration_ms": durations,
    "duration": durations,
    "elapsed": durations,
    "error": st.one_of(texts, st.just("Traceback ...\n  x\nValueError: bad\n")),
    "exception": st.one_of(dict_tracebacks, texts),
    "exc_info": st.one_of(texts, st.just("Traceback ...\nKeyError: 'k'")),
    "exc_text": texts,
    "msg": texts,
    "message": texts,
    "levelname": levels,
    "severity": levels,
    "time": times,
    "ts": times,
    "@timestamp": times,
    "requestId": texts,
    "req_id": texts,
    "trace_id": texts,
    "correlation_id": texts,
    "params": st.dictionaries(texts, texts, max_size=3),
}


@st.composite
def structlog_lines(draw: st.DrawFn) -> bytes:
    """A line as structlog's ``JSONRenderer`` writes it: call kwargs, then the bound and
    added keys (``event``, ``request_id``, ``level``, ``timestamp``, ``exception``)."""
    d: dict[str, Any] = {}
    for key in sorted(OPTIONAL):
        if draw(st.integers(0, 4)):
            continue
        d[key] = draw(odd_values if draw(st.integers(0, 29)) == 0 else OPTIONAL[key])
    if draw(st.integers(0, 9)):
        d["event"] = draw(odd_values if draw(st.integers(0, 29)) == 0 else events)
    if draw(st.integers(0, 9)):
        d["request_id"] = draw(
            odd_values if draw(st.integers(0, 29)) == 0 else st.one_of(st.uuids().map(str), texts)
        )
    if draw(st.integers(0, 9)):
        d["level"] = draw(levels)
    if draw(st.integers(0, 9)):
        d["timestamp"] = draw(times)
    out = RENDER(None, "info", d)
    return out.encode() if isinstance(out, str) else out


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(structlog_lines())
def test_structlog_lines_give_the_same_records(line: bytes) -> None:
    check(line)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_any_bytes_give_the_same_records(line: bytes) -> None:
    check(line)


@settings(max_examples=200, deadline=None)
@given(structlog_lines(), st.integers(0, 200))
def test_torn_and_padded_lines_give_the_same_records(line: bytes, cut: int) -> None:
    check(line[:cut])
    check(b"\xef\xbb\xbf" + line)
    check(line + b"\r")
    check(line.replace(b'"', b"'", 1))


def test_python_json_oddities_give_the_same_records() -> None:
    for text in (
        '{"event": "request_success", "request_id": "r", "duration_ms": NaN}',
        '{"event": "tool_call_end", "request_id": "r", "duration_ms": Infinity, "tool": "t"}',
        '{"event": "x", "request_id": 123456789012345678901234567890}',
        '{"event": "x", "request_id": "r", "timestamp": 1e400}',
        '{"event": "x", "event": "request_start", "request_id": "r"}',
        '{"event": "x", "request_id": "r\\ud800"}',
        json.dumps({"event": "tool_call_end", "tool": "t", "error": {"message": "boom"}}),
        json.dumps({"event": "request_end", "exception": None, "error": None}),
        json.dumps({"event": "request_end", "exception": [], "request_id": "r"}),
    ):
        check(text.encode())
    check(b'{"event": "x", "request_id": "\xff\xfe"}')
    deep = b'{"event": "x", "request_id": "r", "params": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    check(deep)
    check(b'{"a":' * 10_000 + b"1" + b"}" * 10_000)


def test_the_struct_declares_every_field_normalise_reads() -> None:
    """A field that ``records.normalise`` learns to read must be declared in the struct too,
    or typed decoding would silently skip it."""
    source = inspect.getsource(records.normalise) + inspect.getsource(records._duration)
    read = set(re.findall(r'get\("([^"]+)"\)', source))
    constants = re.findall(r"_first\(d, ([A-Z_]+)", source)
    for name in [*constants, "DURATION_MS_KEYS", "DURATION_S_KEYS"]:
        read.update(getattr(records, name))
    declared = set(fast_structlog._Line.__struct_encode_fields__)
    assert read, "no field names found in normalise"
    assert read <= declared, sorted(read - declared)


def test_what_structlog_writes_takes_the_typed_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ordinary lines, failures with ``dict_tracebacks`` included, never need the generic
    decoder (else the typed path would only be a detour)."""
    logger = structlog.wrap_logger(
        structlog.ReturnLogger(),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
    )
    lines = [
        logger.info("request_start", request_id="r", query="q"),
        logger.info("tool_call_start", request_id="r", tool="t", call_id="c", params={"a": [1]}),
        logger.info("tool_call_success", request_id="r", tool="t", call_id="c", duration_ms=1.5),
    ]
    try:
        raise ValueError("boom")
    except ValueError:
        lines.append(logger.exception("tool_call_failed", request_id="r", tool="t", call_id="c"))
    lines.append(logger.error("request_failed", request_id="r", error="ValueError: boom"))
    raw = [line.encode() if isinstance(line, str) else line for line in lines]
    expected = [records.decode_record(line) for line in raw]

    def no_fallback(line: bytes) -> Record:
        raise AssertionError(f"fell back to the generic decoder: {line[:80]!r}")

    monkeypatch.setattr(fast_structlog, "generic_decode_record", no_fallback)
    got = fast_structlog.decode_records(raw)
    assert got == expected
    assert got[3].error == "ValueError: boom"
    assert got[3].kind == records.Kind.TOOL_FAIL


def test_other_shapes_keep_their_own_decoder() -> None:
    def mine(line: bytes) -> Record:
        return records.RAW_RECORD

    assert fast_structlog.batch_decoder(records.decode_record) is fast_structlog.decode_records
    assert fast_structlog.batch_decoder(mine)([b"{}", b"x"]) == [records.RAW_RECORD] * 2
