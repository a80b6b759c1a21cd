"""Hostile log input: nothing crashes, every line is counted and shown sanitised, the next good
line is still read; the decoder and the trace builder are fuzzed with hypothesis.

Every fixture is generated here. Each hostile line is followed by a good line (a finished
request ``good-N``), so that a hostile line that swallowed its successor would be caught.
"""

from __future__ import annotations

import io
import json
import math
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenttui.commands import stats as stats_cmd
from agenttui.commands import traces as traces_cmd
from agenttui.ingest.records import Kind, Record, decode, normalise
from agenttui.model.traces import TraceIndex
from agenttui.output import sanitize
from agenttui.session import Session

# Terminal attacks, as they would appear inside log text.
CSI = "\x1b[31mred\x1b[0m\x1b[2J\x1b[?1049l"
OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
OSC_TITLE = "\x1b]0;pwned\x07\x1b]2;pwned too\x1b\\"
BELL = "ding\x07\x07"
BIDI = "abc\u202edcba\u2066x\u2069\u200f"
ZERO_WIDTH = "pa\u200bss\u200c\u200d\ufeffword\u2060"
C1 = "\x9b31m8-bit CSI\x9d0;title\x9c"
MARKUP = "[bold]b[/] [/] [link=https://evil.example]l[/link] [@click=app.quit]q[/] [red]"
LONG_WORD = "A" * 100_000
HOSTILE_TEXT = " ".join([MARKUP, CSI, OSC52, OSC_TITLE, BELL, BIDI, ZERO_WIDTH, C1])

FORBIDDEN = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200f",
    "\u200b",
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u2060",
}


def assert_sanitised(text: str) -> None:
    """No control, escape or invisible character survives (newlines aside)."""
    bad = {c for c in text if c in FORBIDDEN and c != "\n"}
    assert not bad, f"raw characters shown: {sorted(map(hex, map(ord, bad)))}"


def hostile_lines() -> dict[str, bytes]:
    """Each kind of hostile line (without its newline), by name."""

    def j(**fields: Any) -> bytes:
        return orjson.dumps(fields)

    lines = {
        "truncated_json": b'{"event": "request_start", "request_id": "tr',
        "malformed_json": b'{event: request_start, "request_id": "x",,}',
        "json_array": b'[{"event": "request_start", "request_id": "arr"}]',
        "json_number": b"42",
        "json_string": b'"request_start"',
        "json_null": b"null",
        "json_true": b"true",
        "invalid_utf8_raw": b"\xff\xfe\xfa not utf-8 \xc3\x28",
        "invalid_utf8_in_json": b'{"event": "x", "request_id": "u8", "query": "caf\xe9 \xff"}',
        "nul_bytes": b"\x00\x00\x00" + j(event="x") + b"\x00",
        "nul_escaped": j(event="x", request_id="nul", query="a\x00b"),
        "crlf": j(event="request_start", request_id="crlf") + b"\r",
        "deep_nesting_10000": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        "deep_array_10000": b'{"request_id": "deep", "a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        "deep_nesting_1000": b'{"request_id": "deep1000", "query": '
        + b"[" * 1000
        + b"]" * 1000
        + b"}",
        "huge_int": b'{"request_id": "big", "n": 1'
        + b"0" * 400
        + b', "duration_ms": 1'
        + b"0" * 400
        + b', "timestamp": 1'
        + b"0" * 400
        + b"}",
        "huge_float": b'{"request_id": "bigf", "duration_ms": 1e400, "timestamp": -1e400}',
        "nan": b'{"request_id": "nan", "duration_ms": NaN, "timestamp": Infinity}',
        "digits_5000": b'{"request_id": 1' + b"0" * 5000 + b"}",
        "duplicate_keys": b'{"request_id": "dup1", "request_id": "dup2", "event": "a",'
        b' "event": "request_start"}',
        "bom": b"\xef\xbb\xbf" + j(event="x", request_id="bom"),
        "rid_int": j(event="request_start", request_id=12345),
        "rid_float": j(event="x", request_id=1.5),
        "rid_bool": j(event="x", request_id=True),
        "rid_list": j(event="x", request_id=[1, "a"]),
        "rid_dict": j(event="x", request_id={"a": MARKUP}),
        "rid_empty": j(event="x", request_id=""),
        "rid_null": j(event="x", request_id=None),
        "markup_everywhere": j(
            **{
                "event": MARKUP,
                "level": MARKUP,
                "request_id": MARKUP,
                "tool": MARKUP,
                "error": MARKUP,
                "query": MARKUP,
                MARKUP: MARKUP,
            }
        ),
        "csi": j(event="request_failed", request_id="csi", error=CSI, query=CSI),
        "osc52": j(event="x", request_id="osc52", query=OSC52),
        "osc_title": j(event="x", request_id="title", query=OSC_TITLE),
        "bell": j(event="x", request_id="bell", query=BELL),
        "bidi": j(event="x", request_id="bidi\u202e", query=BIDI),
        "zero_width": j(event="x", request_id="zw", query=ZERO_WIDTH),
        "c1_controls": j(event="x", request_id="c1", query=C1),
        "raw_escapes": ("plain text " + CSI + OSC52 + OSC_TITLE + BELL).encode(),
        "long_word": j(event="x", request_id="long", query=LONG_WORD, error=LONG_WORD),
        "tool_garbage": j(
            event="tool_call_failed",
            request_id="tg",
            tool={"x": [1]},
            call_id=[1],
            error={"message": 5},
            duration_ms="fast",
        ),
        "exception_garbage": j(
            event="request_failed",
            request_id="eg",
            exception=[{"exc_type": {"a": 1}, "frames": "no"}, 5],
        ),
        "level_number": j(event="x", request_id="lv", level=10**18),
        "only_whitespace": b"   \t ",
        "empty": b"",
    }
    for i, ts in enumerate(TIMESTAMPS):
        lines[f"timestamp_{i}"] = j(event="x", request_id=f"ts{i}", timestamp=ts)
    return lines


TIMESTAMPS: list[Any] = [
    "2026-11-26T08:31:51.821Z",
    "2026-11-26T08:31:51Z",
    "2026-11-26T08:31:51.821123+02:00",
    "2026-11-26 08:31:51",
    "2026-11-26T08:31:51.8",
    1_764_145_490,
    1_764_145_490.5,
    1_764_145_490_123,
    1_764_145_490_123_456,
    1_764_145_490_123_456_789,
    "1764145490",
    "1764145490.25",
    "yesterday",
    "",
    "2026-13-45T99:99:99Z",
    -5,
    0,
    True,
    None,
    [1],
    {"t": 1},
    1e308,
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
]


def good(n: int) -> bytes:
    return (
        orjson.dumps({"event": "request_start", "request_id": f"good-{n}"})
        + b"\n"
        + orjson.dumps({"event": "request_success", "request_id": f"good-{n}"})
        + b"\n"
    )


@pytest.fixture(scope="module")
def hostile_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A log holding every hostile line, each followed by a good request."""
    path = tmp_path_factory.mktemp("hostile") / "agent.log"
    lines = hostile_lines()
    with path.open("wb") as f:
        for n, line in enumerate(lines.values()):
            f.write(line + b"\n")
            f.write(good(n))
    return path, lines


def test_every_hostile_line_is_counted_and_the_next_line_read(
    hostile_log: tuple[Path, dict[str, bytes]],
) -> None:
    path, lines = hostile_log
    session = Session([str(path)])
    session.scan()
    index = session.index
    assert index.lines == 3 * len(lines)
    for n in range(len(lines)):
        assert index.traces[f"good-{n}"].status == "ok"
    # Every line can be read back and shown sanitised, in traces and unattributed.
    shown = 0
    for trace in index.traces.values():
        for event in session.events(trace):
            assert event.raw is not None
            assert_sanitised(sanitize.clean_bytes(event.raw))
            shown += 1
        for text in (trace.request_id, trace.query or "", index.error_text(trace) or ""):
            assert_sanitised(sanitize.clean(text))
        for span in index.spans(trace):
            assert_sanitised(sanitize.clean(span.tool))
    unattributed = session.unattributed(limit=10_000)
    assert shown + len(unattributed) == index.lines
    for event in unattributed:
        assert event.raw is not None
        assert_sanitised(sanitize.clean_bytes(event.raw))
    raw = {bytes(e.raw) for e in unattributed if e.is_raw and e.raw is not None}
    for name in (
        "truncated_json",
        "malformed_json",
        "json_array",
        "json_number",
        "json_string",
        "invalid_utf8_raw",
        "nul_bytes",
        "deep_nesting_10000",
        "raw_escapes",
        "digits_5000",
    ):
        assert lines[name] in raw, name
    # Lines that are still JSON objects keep their request.
    for rid in (
        "u8",
        "nul",
        "crlf",
        "big",
        "bigf",
        "nan",
        "dup2",
        "bom",
        "12345",
        "1.5",
        "true",
        '[1,"a"]',
        "csi",
        "osc52",
        "title",
        "bell",
        "zw",
        "c1",
        "long",
        "tg",
        "eg",
        "lv",
        "deep1000",
        *(f"ts{i}" for i in range(len(TIMESTAMPS))),
    ):
        assert rid in index.traces, rid
    assert index.traces["u8"].query == "caf\\xe9 \\xff"  # invalid bytes kept, visibly
    assert index.traces["ts0"].start == pytest.approx(
        datetime(2026, 11, 26, 8, 31, 51, 821000, tzinfo=UTC).timestamp()
    )
    assert index.traces["ts20"].start_or_none is None  # 1e308: no usable time
    session.close()


def test_headless_commands_survive_and_count(hostile_log: tuple[Path, dict[str, bytes]]) -> None:
    path, lines = hostile_log
    out = io.BytesIO()
    assert stats_cmd.print_stats([str(path)], out) == 0
    stats = orjson.loads(out.getvalue())
    assert stats["lines"] == 3 * len(lines)
    assert stats["unparsed_lines"] >= 10
    out = io.BytesIO()
    assert traces_cmd.print_traces([str(path)], out) == 0
    rows = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert {r["request_id"] for r in rows} >= {f"good-{n}" for n in range(len(lines))}
    # JSON output escapes control characters: nothing raw reaches a terminal.
    assert b"\x1b" not in out.getvalue() and b"\x07" not in out.getvalue()


def test_partial_last_line_is_read_once_completed(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(good(0) + b'{"event": "request_start", "requ')
    session = Session([str(log)])
    session.scan()
    assert session.index.lines == 2
    with log.open("ab") as f:
        f.write(b'est_id": "late"}\n')
    session.poll()
    assert session.index.lines == 3
    assert session.index.unparsed_lines == 0
    assert "late" in session.index.traces
    session.close()


@pytest.mark.parametrize("json_line", [True, False], ids=["json", "raw"])
def test_a_10_mb_line(tmp_path: Path, json_line: bool) -> None:
    import resource

    big = "x" * (10 << 20)
    line = (
        orjson.dumps({"event": "request_start", "request_id": "big", "query": big})
        if json_line
        else big.encode()
    )
    log = tmp_path / "a.log"
    log.write_bytes(line + b"\n" + good(1))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    session = Session([str(log)])
    session.scan()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert session.index.lines == 3
    assert session.index.traces["good-1"].status == "ok"
    if json_line:
        assert len(session.index.traces["big"].query or "") == 200  # the summary is cut
        event = session.events(session.index.traces["big"])[0]
        assert event.data is not None and len(event.data["query"]) == len(big)
    else:
        assert session.index.unparsed_lines == 1
    # Reading the line costs a few copies of it, not dozens (peak RSS only ever grows, so
    # this bounds what this test added on top of what earlier tests used).
    assert grown_mb < 10 * 10
    session.close()


# ------------------------------------------------------------------ fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
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
    "trace_id",
    "tool",
    "tool_name",
    "call_id",
    "tool_call_id",
    "duration_ms",
    "duration",
    "elapsed",
    "error",
    "exception",
    "query",
]
EVENTS = [
    "request_start",
    "tool_call_start",
    "tool_call_success",
    "tool_call_failed",
    "tool_call_end",
    "request_success",
    "request_failed",
    "request_end",
    "other",
]
log_objects = st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=8), json_values | st.sampled_from(EVENTS), max_size=12
)


def _check_record(rec: Record) -> None:
    assert isinstance(rec.kind, Kind)
    assert rec.ts is None or math.isfinite(rec.ts)
    assert rec.duration_ms is None or math.isfinite(rec.duration_ms)
    for text in (rec.message, rec.request_id, rec.tool, rec.call_id, rec.level):
        assert text is None or isinstance(text, str)
    assert rec.query is None or len(rec.query) <= 200
    assert rec.error is None or len(rec.error) <= 200


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_fuzz_decode_bytes(line: bytes) -> None:
    obj, rec = decode(line)
    assert (obj is None) == (rec.kind == Kind.RAW)
    _check_record(rec)


@settings(max_examples=300, deadline=None)
@given(log_objects)
def test_fuzz_normalise(obj: dict[str, Any]) -> None:
    _check_record(normalise(obj))
    line = json.dumps(obj).encode()  # NaN and big integers included, as Python writes them
    _check_record(decode(line)[1])


_rid = st.sampled_from(["a", "b", "c"])
_fields = st.fixed_dictionaries(
    {"event": st.sampled_from(EVENTS), "request_id": _rid},
    optional={
        "tool": st.sampled_from(["t1", "t2"]) | json_values,
        "call_id": st.sampled_from(["c1", "c2"]) | json_values,
        "timestamp": st.floats(-1e20, 1e20) | st.integers() | st.text(max_size=30),
        "duration_ms": st.floats(allow_nan=True) | st.integers(-(10**30), 10**30),
        "error": json_values,
        "level": st.sampled_from(["error", "info", 50]),
        "query": json_values,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_fields, max_size=25), st.booleans())
def test_fuzz_trace_index(objs: list[dict[str, Any]], freeze_each: bool) -> None:
    index = TraceIndex()
    for i, obj in enumerate(objs):
        rec = decode(json.dumps(obj).encode())[1]
        index.add(rec, i * 100)
        if freeze_each:
            for t in index.traces.values():
                t.freeze()
    index.freeze_all()
    assert index.lines == len(objs)
    assert sum(t.events for t in index.traces.values()) + len(index.unattributed) == len(objs)
    for trace in index.traces.values():
        spans = index.spans(trace)
        assert trace.tool_calls == len(spans)
        assert trace.status in ("ok", "error", "running")
        assert 0 <= trace.tool_errors <= len(spans)
        assert sum(s.status == "error" for s in spans) == trace.tool_errors
        for span in spans:
            assert span.status in ("ok", "error", "running")
            assert span.start is None or math.isfinite(span.start)
        assert trace.total_ms is None or not math.isnan(trace.total_ms)
        assert len(trace.locs) == trace.events
        trace.thaw()
        assert index.spans(trace) == spans
    stats = index.tool_stats()
    # Every call counts (the sum of the traces' tool_calls); completed ones are not running.
    assert sum(s.calls for s in stats.values()) == sum(t.tool_calls for t in index.traces.values())
    assert sum(s.completed for s in stats.values()) == sum(
        1 for t in index.traces.values() for s in index.spans(t) if s.status != "running"
    )
    index.status_counts()


def test_sanitised_text_keeps_every_visible_character() -> None:
    cleaned = sanitize.clean(HOSTILE_TEXT)
    assert_sanitised(cleaned)
    assert "\\x1b" in cleaned and "\\x07" in cleaned and "\\u202e" in cleaned
    assert "[bold]" in cleaned and "[@click=app.quit]" in cleaned
    assert all(unicodedata.category(c) not in ("Cc", "Cf") for c in cleaned)
