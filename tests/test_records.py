"""Records: field detection, time parsing, error summaries, and a fuzzed decoder."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenttui.ingest.records import (
    Kind,
    decode,
    decode_record,
    error_summary,
    normalise,
    parse_time,
)

T0 = datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("key", ["event", "msg", "message"])
def test_message_keys(key: str) -> None:
    rec = normalise({key: "tool_call_start", "request_id": "r"})
    assert rec.message == "tool_call_start"
    assert rec.kind == Kind.TOOL_START


@pytest.mark.parametrize(
    ("key", "value", "level"),
    [
        ("level", "info", "info"),
        ("levelname", "ERROR", "error"),
        ("severity", "Warning", "warning"),
        ("level", 50, "error"),
        ("level", 30, "info"),
        ("level", 60, "fatal"),
    ],
)
def test_level_keys(key: str, value: Any, level: str) -> None:
    assert normalise({key: value}).level == level


@pytest.mark.parametrize("key", ["timestamp", "time", "ts", "@timestamp"])
@pytest.mark.parametrize(
    "value",
    [
        "2026-11-26T08:00:00Z",
        "2026-11-26T08:00:00.000000Z",
        "2026-11-26T08:00:00+00:00",
        "2026-11-26T09:00:00+01:00",
        "2026-11-26T08:00:00",
        "2026-11-26 08:00:00",
        T0,
        int(T0),
        T0 * 1000,
        int(T0 * 1000),
        T0 * 1e6,
        T0 * 1e9,
        str(T0),
    ],
)
def test_time_keys_and_forms(key: str, value: Any) -> None:
    ts = normalise({key: value}).ts
    assert ts is not None
    assert ts == pytest.approx(T0, abs=1e-3)


def test_fraction_and_cache_agree() -> None:
    first = parse_time("2026-11-26T08:00:00.250Z")
    second = parse_time("2026-11-26T08:00:00.750000Z")  # served from the per-second cache
    assert first == pytest.approx(T0 + 0.25)
    assert second == pytest.approx(T0 + 0.75)
    assert parse_time("2026-11-26T08:00:00.5+02:00") == pytest.approx(T0 - 7200 + 0.5)


@pytest.mark.parametrize(
    "value",
    [None, "", "yesterday", True, -5, math.inf, "2026-13-45T00:00:00Z", [1], {"a": 1}, 1e30],
)
def test_unusable_times(value: Any) -> None:
    assert parse_time(value) is None


@pytest.mark.parametrize("key", ["request_id", "requestId", "req_id", "trace_id", "correlation_id"])
def test_request_id_keys(key: str) -> None:
    assert normalise({key: "abc"}).request_id == "abc"


def test_request_id_not_a_string() -> None:
    assert normalise({"request_id": 42}).request_id == "42"
    assert normalise({"request_id": ""}).request_id is None


@pytest.mark.parametrize(
    ("fields", "ms"),
    [
        ({"duration_ms": 12.5}, 12.5),
        ({"duration": 1.5}, 1500.0),
        ({"elapsed": 2}, 2000.0),
        ({"duration_ms": "12"}, None),
        ({"duration_ms": True}, None),
    ],
)
def test_duration(fields: dict[str, Any], ms: float | None) -> None:
    assert normalise(fields).duration_ms == ms


@pytest.mark.parametrize("key", ["tool", "tool_name"])
def test_tool_keys(key: str) -> None:
    assert normalise({key: "web_search"}).tool == "web_search"


def test_error_from_string_traceback() -> None:
    tb = (
        'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\n'
        "KeyError: 'SEARCH_API_KEY'\n"
    )
    assert normalise({"exception": tb}).error == "KeyError: 'SEARCH_API_KEY'"


def test_error_from_dict_tracebacks() -> None:
    exc = [
        {"exc_type": "RuntimeError", "exc_value": "missing SEARCH_API_KEY", "frames": []},
        {"exc_type": "KeyError", "exc_value": "'SEARCH_API_KEY'", "is_cause": True},
    ]
    assert error_summary(exc) == "RuntimeError: missing SEARCH_API_KEY"


def test_error_field_wins_over_exception() -> None:
    rec = normalise({"error": "TimeoutError: slow_api", "exception": "Traceback...\nX: y"})
    assert rec.error == "TimeoutError: slow_api"


def test_end_event_with_error_is_a_failure() -> None:
    assert normalise({"event": "tool_call_end", "error": "boom"}).kind == Kind.TOOL_FAIL
    assert normalise({"event": "request_end", "error": "boom"}).kind == Kind.REQUEST_FAIL
    assert normalise({"event": "tool_call_end"}).kind == Kind.TOOL_OK


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b"[1,2]",
        b"42",
        b'"str"',
        b"{",
        b"null",
        b"\xff\xfe",
        b'{"a":1',
        b"{" * 10000 + b"}" * 10000,
    ],
)
def test_non_objects_are_raw(line: bytes) -> None:
    data, rec = decode(line)
    assert data is None
    assert rec.kind == Kind.RAW


def test_long_values_are_cut_in_records() -> None:
    rec = decode_record(orjson.dumps({"query": "q" * 10_000, "error": "e" * 10_000}))
    assert rec.query is not None and len(rec.query) == 200
    assert rec.error is not None and len(rec.error) == 200


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
known_keys = st.sampled_from(
    [
        "event",
        "msg",
        "message",
        "level",
        "levelname",
        "severity",
        "timestamp",
        "time",
        "ts",
        "@timestamp",
        "request_id",
        "requestId",
        "tool",
        "tool_name",
        "call_id",
        "duration_ms",
        "duration",
        "elapsed",
        "error",
        "exception",
        "query",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(known_keys | st.text(max_size=8), json_values, max_size=12))
def test_normalise_never_raises_on_any_object(obj: dict[str, Any]) -> None:
    data, rec = decode(orjson.dumps(obj))
    assert data == obj
    assert rec.kind != Kind.RAW
    assert rec.ts is None or math.isfinite(rec.ts)
    assert rec.request_id is None or isinstance(rec.request_id, str)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_never_raises_on_bytes(line: bytes) -> None:
    data, rec = decode(line)
    assert (data is None) == (rec.kind == Kind.RAW)


def test_python_json_extensions_are_read() -> None:
    data, rec = decode(
        b'{"event": "x", "request_id": "r", "score": NaN, "big": 123456789012345678901234567890}'
    )
    assert data is not None and data["big"] == 123456789012345678901234567890
    assert rec.request_id == "r"


def test_message_carrying_arguments_takes_its_first_word() -> None:
    from agenttui.ingest.records import Kind, normalise

    assert normalise({"event": "tool_call_start web_search"}).kind == Kind.TOOL_START
    assert normalise({"msg": "tool_call_failed\nTraceback ..."}).kind == Kind.TOOL_FAIL
    assert normalise({"message": "request_failed: boom"}).kind == Kind.REQUEST_FAIL
    assert normalise({"message": "request_failed:boom"}).kind == Kind.OTHER
    assert normalise({"event": "toolcall start"}).kind == Kind.OTHER
    rec = normalise({"event": "request_start for you"})
    assert rec.kind == Kind.REQUEST_START and rec.message == "request_start for you"
    assert normalise({"event": "x", "exc_info": "Traceback\nValueError: v"}).error == (
        "ValueError: v"
    )


@given(
    st.integers(0, 4_000_000_000),
    st.text(alphabet="0123456789", min_size=1, max_size=9),
    st.sampled_from(["Z", "+00:00", "+02:00", "-07:30"]),
)
def test_a_time_parses_the_same_cached_or_not(seconds: int, fraction: str, zone: str) -> None:
    """The cache of whole seconds must not change a time: nanosecond fractions included."""
    from agenttui.ingest import records

    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}{zone}"
    records._ISO_CACHE.clear()
    first = parse_time(text)
    again = parse_time(text)  # from the cache when the zone is UTC
    assert first == again
