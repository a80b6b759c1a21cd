"""Traces: grouping, span pairing, status, durations, percentiles, merging."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenttui.ingest.records import Record, decode_record, normalise
from agenttui.model.traces import TraceIndex, pack_loc, percentile

T = "2026-11-26T08:00:{:06.3f}Z"


def ev(event: str, rid: str | None = "r1", t: float | None = 0.0, **fields: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"event": event, **fields}
    if rid is not None:
        d["request_id"] = rid
    if t is not None:
        d["timestamp"] = T.format(t)
    d.setdefault("level", "error" if event.endswith("failed") else "info")
    return d


def build(*events: dict[str, Any]) -> TraceIndex:
    index = TraceIndex()
    for i, e in enumerate(events):
        index.add(normalise(e), pack_loc(0, i))
    return index


def test_success_trace() -> None:
    index = build(
        ev("request_start", t=0, query="weather in Paris"),
        ev("tool_call_start", t=0.1, tool="web_search", call_id="c1"),
        ev("tool_call_success", t=0.4, tool="web_search", call_id="c1", duration_ms=290.0),
        ev("request_success", t=0.5),
    )
    t = index.traces["r1"]
    assert t.status == "ok"
    assert t.query == "weather in Paris"
    assert t.events == 4
    assert t.total_ms == pytest.approx(500.0)  # no explicit duration: end - first timestamp
    [span] = index.spans(t)
    assert span.tool == "web_search" and span.status == "ok"
    assert span.duration_ms == 290.0  # explicit duration wins over timestamps
    assert index.error_text(t) is None


def test_failed_trace_with_explicit_duration() -> None:
    index = build(
        ev("request_start", t=0),
        ev("tool_call_start", t=1, tool="read_file"),
        ev("tool_call_failed", t=1.25, tool="read_file", error="FileNotFoundError: data/x.csv"),
        ev("request_failed", t=2, error="FileNotFoundError: data/x.csv", duration_ms=1999),
    )
    t = index.traces["r1"]
    assert t.status == "error"
    assert t.total_ms == 1999
    assert t.tool_calls == 1 and t.tool_errors == 1
    [span] = index.spans(t)
    assert span.status == "error"
    assert span.duration_ms == pytest.approx(250.0)  # from timestamps
    assert span.error == "FileNotFoundError: data/x.csv"
    assert index.error_text(t) == "FileNotFoundError: data/x.csv"


def test_running_and_error_level_status() -> None:
    index = build(
        ev("request_start", "a", 0),
        ev("tool_call_start", "a", 1, tool="slow_api"),
        ev("request_start", "b", 0),
        ev("retrying", "b", 1, level="error", error="429"),
        ev("request_start", "c", 0),
        ev("oops", "c", 1, level="error"),
        ev("request_success", "c", 2),
    )
    assert index.traces["a"].status == "running"
    assert index.traces["a"].total_ms is None
    assert index.spans(index.traces["a"])[0].status == "running"
    assert index.traces["b"].status == "error"  # error-level event, no terminal success
    assert index.error_text(index.traces["b"]) == "429"
    assert index.traces["c"].status == "ok"  # terminal success wins


def test_pairing_in_order_per_tool() -> None:
    index = build(
        ev("tool_call_start", t=0, tool="a"),
        ev("tool_call_start", t=1, tool="b"),
        ev("tool_call_start", t=2, tool="a"),
        ev("tool_call_success", t=3, tool="a"),
        ev("tool_call_failed", t=4, tool="b", error="boom"),
        ev("tool_call_success", t=6, tool="a"),
    )
    spans = index.spans(index.traces["r1"])
    assert [(s.tool, s.status) for s in spans] == [("a", "ok"), ("b", "error"), ("a", "ok")]
    assert [s.duration_ms for s in spans] == pytest.approx([3000.0, 3000.0, 4000.0])


def test_pairing_by_call_id_out_of_order() -> None:
    index = build(
        ev("tool_call_start", t=0, tool="a", call_id="x"),
        ev("tool_call_start", t=1, tool="a", call_id="y"),
        ev("tool_call_success", t=2, tool="a", call_id="y"),
        ev("tool_call_failed", t=5, tool="a", call_id="x", error="late"),
    )
    spans = index.spans(index.traces["r1"])
    assert [s.status for s in spans] == ["error", "ok"]
    assert [s.duration_ms for s in spans] == pytest.approx([5000.0, 1000.0])


def test_end_without_start_is_kept() -> None:
    index = build(ev("tool_call_success", t=3, tool="a", duration_ms=500))
    [span] = index.spans(index.traces["r1"])
    assert span.status == "ok" and span.duration_ms == 500
    assert span.start == pytest.approx(index.traces["r1"].start + 2.5)


def test_unattributed_and_raw() -> None:
    index = TraceIndex()
    index.add(decode_record(b"plain text"), 1)
    index.add(decode_record(b'{"event": "startup"}'), 2)
    index.add(decode_record(b'{"event": "x", "request_id": "r"}'), 3)
    assert (index.lines, index.events, index.unparsed_lines, len(index)) == (3, 2, 1, 1)
    assert list(index.unattributed) == [1, 2]


def test_events_without_time() -> None:
    index = build(ev("request_start", t=None), ev("request_success", t=None))
    t = index.traces["r1"]
    assert t.status == "ok" and t.start_or_none is None and t.total_ms is None


@pytest.mark.parametrize(
    "values",
    [
        [1.0],
        [1.0, 2.0],
        [5.0, 1.0, 3.0, 2.0, 4.0],
        list(map(float, range(1, 101))),
        [0.5, 100.0, 7.25],
    ],
)
def test_percentiles_match_numpy_linear(values: list[float]) -> None:
    xs = sorted(values)
    for q in (0, 50, 95, 99, 100):
        # numpy.percentile(values, q) with method="linear", written out.
        pos = (len(xs) - 1) * q / 100
        lo = int(pos)
        hi = min(lo + 1, len(xs) - 1)
        expected = xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
        assert percentile(xs, q) == pytest.approx(expected)
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)


def test_tool_stats() -> None:
    events = [ev("request_start", "r", 0)]
    for i, d in enumerate([100, 200, 300, 400]):
        events += [
            ev("tool_call_start", "r", i, tool="s", call_id=str(i)),
            ev("tool_call_success", "r", i, tool="s", call_id=str(i), duration_ms=d),
        ]
    events += [
        ev("tool_call_start", "r", 9, tool="s", call_id="f"),
        ev("tool_call_failed", "r", 9, tool="s", call_id="f", error="x", duration_ms=1000),
        ev("tool_call_start", "r", 9, tool="s", call_id="open"),
    ]
    index = build(*events)
    stats = index.tool_stats()["s"]
    # Every call counts, the open one included; percentiles are over the 5 completed calls.
    assert (stats.calls, stats.running, stats.completed) == (6, 1, 5)
    assert stats.calls == sum(t.tool_calls for t in index.traces.values())
    assert (stats.errors, stats.max_ms) == (1, 1000)
    assert stats.p50_ms == 300
    assert stats.p95_ms == pytest.approx(880.0)


def _story(seed: int, n: int) -> list[bytes]:
    rng = random.Random(seed)
    lines: list[bytes] = []
    live: dict[str, list[dict[str, Any]]] = {}
    t = 0.0
    for i in range(n):
        rid = f"req-{i}"
        evs = [ev("request_start", rid, 0, query=f"q{i}")]
        for k in range(rng.randint(0, 4)):
            tool = rng.choice(["a", "b", "c"])
            evs.append(ev("tool_call_start", rid, 0, tool=tool, call_id=f"{i}.{k}"))
            if rng.random() < 0.2:
                evs.append(
                    ev(
                        "tool_call_failed",
                        rid,
                        0,
                        tool=tool,
                        call_id=f"{i}.{k}",
                        error="E: x",
                        duration_ms=rng.random() * 100,
                    )
                )
            else:
                evs.append(ev("tool_call_success", rid, 0, tool=tool, call_id=f"{i}.{k}"))
        if rng.random() < 0.9:
            evs.append(ev(rng.choice(["request_success", "request_failed"]), rid, 0))
        live[rid] = evs
        # interleave: emit a random event of a random live request
        while live and rng.random() < 0.8:
            key = rng.choice(list(live))
            e = live[key].pop(0)
            t += 0.001
            e["timestamp"] = T.format(t)
            lines.append(orjson.dumps(e))
            if not live[key]:
                del live[key]
    for evs in live.values():
        for e in evs:
            t += 0.001
            e["timestamp"] = T.format(t)
            lines.append(orjson.dumps(e))
    return lines


def _index(lines: list[bytes], start: int = 0, part: int = 0) -> TraceIndex:
    index = TraceIndex(part)
    for i, line in enumerate(lines):
        index.add(decode_record(line), start + i)
    return index


def _summary(index: TraceIndex) -> dict[str, Any]:
    return {
        rid: (
            t.status,
            t.events,
            t.tool_calls,
            t.tool_errors,
            t.query,
            index.error_text(t),
            [(s.tool, s.status, s.duration_ms) for s in index.spans(t)],
            list(t.locs),
        )
        for rid, t in index.traces.items()
    }


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 60), st.floats(0.05, 0.95))
def test_merging_halves_equals_one_pass(seed: int, n: int, cut: float) -> None:
    lines = _story(seed, n)
    k = int(len(lines) * cut)
    whole = _index(lines)
    first, second = _index(lines[:k]), _index(lines[k:], start=k, part=1)

    def rebuild(locs: Any) -> Iterator[tuple[int, Record]]:
        for loc in locs:
            yield loc, decode_record(lines[loc])

    first.absorb(second, rebuild)
    assert _summary(first) == _summary(whole)
    assert first.status_counts() == whole.status_counts()
    counted = {"ok": 0, "error": 0, "running": 0}
    for t in whole.traces.values():
        counted[t.status] += 1
    assert whole.status_counts() == counted
    assert (first.lines, first.events) == (whole.lines, whole.events)
    assert first.tool_stats() == whole.tool_stats()
