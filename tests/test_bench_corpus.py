"""The benchmark corpus generator writes what a real structlog-configured agent would write."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import structlog

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import make_corpus  # type: ignore[import-not-found]  # noqa: E402

LINES = 20_000
TERMINAL = {"request_success", "request_failed"}
RESERVED = ("event", "request_id", "level", "timestamp")


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, make_corpus.CorpusGenerator, make_corpus.Stats]:
    out = tmp_path_factory.mktemp("corpus")
    gen = make_corpus.CorpusGenerator(out, LINES, seed=11, verify_every=0)
    stats = gen.generate()
    return out, gen, stats


def _lines(out: Path) -> list[str]:
    return (out / "agent.log").read_text(encoding="utf-8").splitlines()


def _parse(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def test_line_counts(corpus: tuple[Path, Any, make_corpus.Stats]) -> None:
    out, _, stats = corpus
    lines = _lines(out)
    assert abs(len(lines) - LINES) <= LINES * 0.05
    assert len(lines) == stats.lines
    parsed = [_parse(ln) for ln in lines]
    unparsed = sum(p is None for p in parsed)
    # every line written as JSON parses; the rest (~1%) does not
    assert unparsed == stats.nonjson_lines
    assert 0.005 * len(lines) <= unparsed <= 0.02 * len(lines)


def test_request_order_and_failures(corpus: tuple[Path, Any, make_corpus.Stats]) -> None:
    out, _, stats = corpus
    by_rid: dict[str, list[dict[str, Any]]] = {}
    for ln in _lines(out):
        ev = _parse(ln)
        if ev is not None:
            by_rid.setdefault(ev["request_id"], []).append(ev)
    assert len(by_rid) == stats.requests
    failed = 0
    for rid, events in by_rid.items():
        names = [e["event"] for e in events]
        assert names[0] == "request_start", rid
        assert names[-1] in TERMINAL, rid
        assert all(n.startswith("tool_call_") for n in names[1:-1]), names
        assert 3 <= len(names) <= 14
        open_calls: set[str] = set()
        for e in events[1:-1]:
            if e["event"] == "tool_call_start":
                open_calls.add(e["call_id"])
            else:
                open_calls.remove(e["call_id"])
                assert e["duration_ms"] >= 0
        assert not open_calls
        ts = [e["timestamp"] for e in events]
        assert ts == sorted(ts)
        if names[-1] == "request_failed":
            failed += 1
            fail = next(e for e in events if e["event"] == "tool_call_failed")
            assert fail["level"] == "error"
            assert ": " in fail["error"]
            exc = fail["exception"]
            assert isinstance(exc, list) and exc
            frames = exc[-1]["frames"]
            assert len(frames) >= 3
            assert all({"filename", "lineno", "name", "locals"} <= f.keys() for f in frames)
            assert any(f"'{rid}'" in f["locals"].values() for f in frames)
            assert 2_000 <= len(json.dumps(fail)) <= 30_000
    assert 0.06 * len(by_rid) <= failed <= 0.14 * len(by_rid)
    assert failed == stats.failures


def test_timestamps_increase(corpus: tuple[Path, Any, Any]) -> None:
    out, _, _ = corpus
    stamps = [ev["timestamp"] for ln in _lines(out) if (ev := _parse(ln)) is not None]
    assert stamps == sorted(stamps)
    assert all(s.endswith("Z") for s in stamps)


def test_captures(corpus: tuple[Path, Any, make_corpus.Stats]) -> None:
    out, _, stats = corpus
    files = sorted((out / "captures").glob("failed_*.json"))
    assert files and len(files) == stats.captures
    for path in files:
        body = json.loads(path.read_text(encoding="utf-8"))
        assert {"request_id", "query", "error", "traceback", "context"} <= body.keys()
        assert body["traceback"].startswith("Traceback (most recent call last):")
        assert body["context"]["tool"] and body["context"]["call_id"].startswith("call_")


class _Frozen:
    value = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:
        return cls.value


def test_fast_path_matches_real_structlog(
    corpus: tuple[Path, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ordinary lines equal what an agent-configured structlog WriteLogger writes."""
    out, _, _ = corpus
    buf = io.StringIO()
    log = structlog.wrap_logger(
        structlog.WriteLogger(buf),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    monkeypatch.setattr(
        structlog.processors,
        "datetime",
        types.SimpleNamespace(datetime=_Frozen, timezone=dt.timezone),
    )
    lines = _lines(out)
    sampled = [ln for ln in lines[::37] if (ev := _parse(ln)) and "exception" not in ev]
    seen_events: set[str] = set()
    for line in sampled:
        ev = json.loads(line)
        seen_events.add(ev["event"])
        _Frozen.value = dt.datetime.fromisoformat(ev["timestamp"].replace("Z", "+00:00"))
        kwargs = {k: v for k, v in ev.items() if k not in RESERVED}
        buf.seek(0)
        buf.truncate()
        with structlog.contextvars.bound_contextvars(request_id=ev["request_id"]):
            getattr(log, ev["level"])(ev["event"], **kwargs)
        assert buf.getvalue() == line + "\n"
    assert {
        "request_start",
        "tool_call_start",
        "tool_call_success",
        "request_success",
        "request_failed",
    } <= seen_events


def test_failure_fast_path_matches_real_exception(corpus: tuple[Path, Any, Any]) -> None:
    """Pooled, patched tracebacks equal a fresh real raise logged through structlog."""
    out, gen, stats = corpus
    lines = _lines(out)
    assert stats.failure_samples
    for s in stats.failure_samples:
        real, _ = make_corpus.raise_and_log(
            gen.agent, gen.pool[s.variant], s.request_id, s.call_id, s.epoch_us, s.duration_ms
        )
        assert lines[s.line_no - 1] == real


def test_iso_clock_matches_timestamper() -> None:
    iso = make_corpus.IsoClock()
    for us in (0, 1, 999_999, 1_000_000, 1_741_910_400_000_000, 1_741_910_400_123_456):
        d = dt.datetime.fromtimestamp(us // 1_000_000, dt.UTC).replace(microsecond=us % 1_000_000)
        assert iso(us) == d.isoformat().replace("+00:00", "Z")
