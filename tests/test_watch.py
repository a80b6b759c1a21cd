"""``agenttui watch --jsonl``: what it prints for each changed trace, masking, and that it keeps
up with a fast writer (``bench/bounded.py memory`` measures the full-size figures)."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from agenttui.commands.watch import follow


class Sink(io.BytesIO):
    """What ``watch`` writes, readable from the test thread while it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, b: Any) -> int:
        with self.lock:
            return super().write(b)

    def ended(self) -> int:
        """Lines printed with a request ended (cheap: counted in the bytes)."""
        with self.lock:
            data = self.getvalue()
        return data.count(b'"status":"ok"') + data.count(b'"status":"error"')

    def objects(self) -> list[dict[str, Any]]:
        with self.lock:
            text = self.getvalue()
        assert not text or text.endswith(b"\n")  # whole lines only
        return [orjson.loads(raw) for raw in text.splitlines()]


@contextmanager
def watching(paths: list[str], **kw: Any) -> Iterator[Sink]:
    sink = Sink()
    stop = threading.Event()
    done: list[int] = []
    thread = threading.Thread(
        target=lambda: done.append(follow(paths, sink, stop=stop, **kw)), daemon=True
    )
    thread.start()
    time.sleep(0.3)  # scanned and watching
    try:
        yield sink
    finally:
        stop.set()
        thread.join(10)
    assert done == [0]


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.02)


def jl(**fields: Any) -> bytes:
    return orjson.dumps(fields) + b"\n"


def append(path: Path, *lines: bytes) -> None:
    with path.open("ab") as f:
        f.write(b"".join(lines))


def test_watch_prints_each_changed_trace_with_the_time_it_was_seen(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    log.write_bytes(jl(timestamp="2026-11-26T08:24:49Z", event="request_start", request_id="old"))
    with watching([str(tmp_path)]) as sink:
        t0 = time.time()
        append(
            log,
            jl(
                timestamp="2026-11-26T08:24:50.123Z",
                event="request_start",
                request_id="r1",
                query="weather in Paris",
            ),
            jl(
                timestamp="2026-11-26T08:24:50.223456Z",
                event="tool_call_start",
                request_id="r1",
                tool="search",
                call_id="c1",
            ),
        )
        wait_for(lambda: len(sink.objects()) >= 1)
        append(
            log,
            jl(
                timestamp="2026-11-26T08:24:50.19Z",
                event="llm_call",
                request_id="r1",
                model="gpt-4o",
                tokens=812,
                duration_ms=40.0,
            ),
            jl(
                timestamp="2026-11-26T08:24:50.5Z",
                event="tool_call_failed",
                request_id="r1",
                tool="search",
                call_id="c1",
                error="TimeoutError: upstream",
                duration_ms=276.544,
            ),
            jl(
                timestamp="2026-11-26T08:24:51Z",
                event="request_failed",
                request_id="r1",
                error="ToolError: search failed",
            ),
        )
        wait_for(lambda: sink.objects()[-1]["status"] == "error")
        t1 = time.time()
    objs = sink.objects()
    assert all(obj["request_id"] == "r1" for obj in objs)  # only changes from now on
    for obj in objs:
        assert t0 <= obj.pop("seen_at") <= t1
    assert objs[0] == {
        "request_id": "r1",
        "status": "running",
        "start": "2026-11-26T08:24:50.123Z",
        "end": None,
        "duration_ms": None,
        "query": "weather in Paris",
        "events": 2,
        "tool_calls": 1,
        "tool_errors": 0,
        "error": None,
        "tools": [
            {
                "tool": "search",
                "status": "running",
                "start": "2026-11-26T08:24:50.223456Z",
                "duration_ms": None,
                "error": None,
                "source": "agent.log",
            }
        ],
        "models": [],
        "tokens": None,
        "llm_calls": [],
    }
    assert objs[-1] == {
        "request_id": "r1",
        "status": "error",
        "start": "2026-11-26T08:24:50.123Z",
        "end": "2026-11-26T08:24:51.000Z",
        "duration_ms": 877.0,
        "query": "weather in Paris",
        "events": 5,
        "tool_calls": 1,
        "tool_errors": 1,
        "error": "ToolError: search failed",
        "tools": [
            {
                "tool": "search",
                "status": "error",
                "start": "2026-11-26T08:24:50.223456Z",
                "duration_ms": 276.544,
                "error": "TimeoutError: upstream",
                "source": "agent.log",
            }
        ],
        "models": ["gpt-4o"],
        "tokens": 812,
        "llm_calls": [
            {
                "model": "gpt-4o",
                "status": "ok",
                "start": "2026-11-26T08:24:50.150Z",
                "duration_ms": 40.0,
                "tokens": 812,
                "error": None,
                "source": "agent.log",
            }
        ],
    }


def test_watch_masks_secrets_anywhere_unless_asked_not_to(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    log.write_bytes(b"")
    lines = (
        jl(event="request_start", request_id="q", query="use api_key=sk-abcdefghijklmnopqrstu"),
        jl(event="request_failed", request_id="e", error="401 for Bearer abcdefghijklmnop12"),
        jl(event="tool_call_start", request_id="t", tool="ghp_" + "abcdefghijklmnopqr" * 2),
        jl(event="request_start", request_id="sk-abcdefghijklmnopqrstu"),
        jl(event="request_start", request_id="plain", query="nothing to hide"),
    )
    with watching([str(tmp_path)]) as sink:
        append(log, *lines)
        wait_for(lambda: len(sink.objects()) >= 5)
    with watching([str(tmp_path)], show_secrets=True) as shown:
        append(log, *lines)
        wait_for(lambda: len(shown.objects()) >= 5)
    masked = {obj["request_id"]: obj for obj in sink.objects()}
    assert set(masked) == {"q", "e", "t", "sk-****", "plain"}
    assert masked["q"]["query"] == "use api_key=****"
    assert masked["e"]["error"] == "401 for Bearer ****"
    assert "abcdefghijklmnop" not in orjson.dumps(masked["t"]).decode()
    assert masked["plain"]["query"] == "nothing to hide"
    raw = {obj["request_id"]: obj for obj in shown.objects()}
    assert raw["q"]["query"] == "use api_key=sk-abcdefghijklmnopqrstu"
    assert "sk-abcdefghijklmnopqrstu" in raw


def _iso_by_datetime(ts: float) -> str | None:
    from datetime import UTC, datetime

    try:
        dt = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    us = dt.microsecond
    fraction = f"{us // 1000:03d}" if us % 1000 == 0 else f"{us:06d}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def test_iso_times_are_the_ones_datetime_gives() -> None:
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from agenttui.output.views import iso

    @settings(max_examples=3000, deadline=None)
    @given(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(min_value=-1e11, max_value=3e11),
            st.integers(min_value=1_700_000_000_000_000, max_value=1_900_000_000_000_000).map(
                lambda us: us / 1e6
            ),
            st.integers(min_value=-(10**6), max_value=10**6).map(lambda k: 1.7e9 + k / 2e6),
        )
    )
    @example(1764620000.9999996)  # rounds up into the next second
    @example(-0.0000004)
    @example(-1.5)
    @example(253402300799.9999996)  # rounds past year 9999
    @example(0.0000005)  # half a microsecond: to even
    @example(0.0000015)
    def check(ts: float) -> None:
        assert iso(ts) == _iso_by_datetime(ts)

    check()
    assert iso(None) is None


def test_trace_times_agree_with_their_properties() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from agenttui.ingest.records import decode_record
    from agenttui.model.traces import TraceIndex

    events = st.sampled_from(
        [
            "request_start",
            "tool_call_start",
            "tool_call_success",
            "request_success",
            "request_failed",
        ]
    )
    times = st.one_of(st.none(), st.floats(min_value=1e9, max_value=2e9))
    durations = st.one_of(st.none(), st.floats(min_value=0, max_value=1e6))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(events, times, durations), min_size=1, max_size=6), st.booleans())
    def check(lines: list[tuple[str, float | None, float | None]], frozen: bool) -> None:
        index = TraceIndex()
        for k, (event, ts, duration) in enumerate(lines):
            fields: dict[str, Any] = {"event": event, "request_id": "r", "tool": "t"}
            if ts is not None:
                fields["timestamp"] = ts
            if duration is not None:
                fields["duration_ms"] = duration
            index.add(decode_record(orjson.dumps(fields)), k)
        trace = index.traces["r"]
        if frozen:
            trace.freeze()
        assert trace.times() == (trace.start_or_none, trace.end_or_none, trace.total_ms)

    check()


def test_the_fast_path_never_skips_a_masking_of_a_trace() -> None:
    """``watch`` masks a trace only when the text of its values read from the logs may hold a
    secret (:func:`log_texts`): every other value must be one masking never changes."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from agenttui.ingest.records import decode_record
    from agenttui.model.traces import TraceIndex
    from agenttui.output.secrets import mask_fields, may_hold_secrets
    from agenttui.output.views import log_texts, trace_dict

    words = st.sampled_from(["sk-", "Bearer ", "password=", "://u:p@h", "token", "x", " "])
    text = st.one_of(
        st.text(max_size=30), st.lists(st.one_of(words, st.text(max_size=8))).map("".join)
    )

    @settings(max_examples=400, deadline=None)
    @given(rid=text.filter(bool), query=text, error=text, tool=text, model=text, source=text)
    def check(rid: str, query: str, error: str, tool: str, model: str, source: str) -> None:
        index = TraceIndex()
        lines = [
            {"event": "request_start", "request_id": rid, "query": query, "timestamp": 1e9},
            {"event": "tool_call_start", "request_id": rid, "tool": tool, "call_id": "c"},
            {"event": "tool_call_failed", "request_id": rid, "tool": tool, "error": error},
            {"event": "llm_call", "request_id": rid, "model": model, "tokens": 5},
            {"event": "llm_call_failed", "request_id": rid, "model": model, "error": error},
            {"event": "request_failed", "request_id": rid, "error": error, "level": "error"},
        ]
        for k, fields in enumerate(lines):
            index.add(decode_record(orjson.dumps(fields)), k)
        for trace in index.traces.values():
            obj = trace_dict(index, trace, lambda _loc: source)
            obj["seen_at"] = 1.5
            if not may_hold_secrets(log_texts(obj)):
                assert mask_fields(obj) == obj

    check()


def test_log_texts_knows_every_field_of_a_trace(tmp_path: Path) -> None:
    """A field added to the trace view must be added to ``log_texts`` too when it comes from
    the logs (else ``watch`` could print a secret unmasked): this list is the reminder."""
    from agenttui.model.traces import TraceIndex
    from agenttui.output.views import trace_dict

    index = TraceIndex()
    from agenttui.ingest.records import decode_record

    index.add(decode_record(jl(event="tool_call_start", request_id="r", tool="t")), 0)
    obj = trace_dict(index, index.traces["r"], lambda _loc: "agent.log")
    assert set(obj) == {
        "request_id",
        "status",
        "start",
        "end",
        "duration_ms",
        "query",
        "events",
        "tool_calls",
        "tool_errors",
        "error",
        "tools",
        "models",
        "tokens",
        "llm_calls",
    }
    assert set(obj["tools"][0]) == {"tool", "status", "start", "duration_ms", "error", "source"}
    index.add(decode_record(jl(event="llm_call", request_id="r", model="m", tokens=3)), 1)
    obj = trace_dict(index, index.traces["r"], lambda _loc: "agent.log")
    assert set(obj["llm_calls"][0]) == {
        "model",
        "status",
        "start",
        "duration_ms",
        "tokens",
        "error",
        "source",
    }


def test_watch_keeps_up_with_a_ci_sized_firehose(tmp_path: Path) -> None:
    """20,000 lines/s for 2 s (``bench/bounded.py memory`` runs 50,000 lines/s for minutes):
    every request is printed ended, about once, and soon after its last line was written."""
    import subprocess
    import sys
    from datetime import datetime

    root = Path(__file__).resolve().parent.parent
    rate = ["20000", "2"]  # lines/s, seconds
    log = tmp_path / "agent.log"
    log.write_bytes(b"")
    with watching([str(tmp_path)], max_memory=256 << 20) as sink:
        writer = subprocess.run(
            [sys.executable, str(root / "bench" / "firehose.py"), "--writer", str(log), *rate],
            capture_output=True,
            timeout=60,
            check=True,
        )
        requests = int(writer.stdout) // 6
        wait_for(lambda: sum(o["status"] != "running" for o in sink.objects()) >= requests, 30)
    objs = sink.objects()
    ended = [o for o in objs if o["status"] != "running"]
    assert len({o["request_id"] for o in ended}) == len(ended) == requests
    assert len(objs) <= 2 * requests
    latencies = sorted(
        o["seen_at"] - datetime.fromisoformat(o["end"].replace("Z", "+00:00")).timestamp()
        for o in ended
    )
    # Generous for a shared CI machine: a watch that falls behind is seconds late.
    assert latencies[int(len(latencies) * 0.99)] < 2.0, latencies[-1]
