"""Exact outputs of ``traces`` and ``stats``: the log's time precision, every tool call counted
(in flight included), readable tables by default and JSON with ``--json``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agenttui.cli import main
from agenttui.output.views import iso


def write(path: Path, *objs: dict[str, object]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objs))
    return path


def log_with_a_call_in_flight(tmp_path: Path) -> Path:
    return write(
        tmp_path / "agent.log",
        {
            "event": "request_start",
            "request_id": "r1",
            "timestamp": "2026-11-26T08:00:00.123456Z",
            "query": "q1",
        },
        {
            "event": "tool_call_start",
            "request_id": "r1",
            "tool": "web",
            "call_id": "a",
            "timestamp": "2026-11-26T08:00:00.200001Z",
        },
        {
            "event": "tool_call_success",
            "request_id": "r1",
            "tool": "web",
            "call_id": "a",
            "duration_ms": 10.0,
            "timestamp": "2026-11-26T08:00:00.210001Z",
        },
        {
            "event": "tool_call_start",
            "request_id": "r1",
            "tool": "web",
            "call_id": "b",
            "timestamp": "2026-11-26T08:00:00.300000Z",
        },
        {
            "event": "request_start",
            "request_id": "r2",
            "timestamp": "2026-11-26T08:00:01.500Z",
            "query": "q2",
        },
        {
            "event": "tool_call_start",
            "request_id": "r2",
            "tool": "llm",
            "call_id": "c",
            "timestamp": "2026-11-26T08:00:01.600Z",
        },
        {
            "event": "tool_call_failed",
            "request_id": "r2",
            "tool": "llm",
            "call_id": "c",
            "error": "RateLimitError: 429",
            "duration_ms": 5.0,
            "level": "error",
            "timestamp": "2026-11-26T08:00:01.605Z",
        },
        {
            "event": "request_failed",
            "request_id": "r2",
            "error": "RateLimitError: 429",
            "level": "error",
            "timestamp": "2026-11-26T08:00:01.700Z",
        },
    )


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_start_and_end_keep_the_log_precision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = log_with_a_call_in_flight(tmp_path)
    traces = [orjson.loads(x) for x in run(capsys, "traces", str(log), "--json").splitlines()]
    assert traces[0]["start"] == "2026-11-26T08:00:00.123456Z"  # microseconds kept
    assert traces[0]["tools"][0]["start"] == "2026-11-26T08:00:00.200001Z"
    assert traces[1]["start"] == "2026-11-26T08:00:01.500Z"  # a log in milliseconds
    assert traces[1]["end"] == "2026-11-26T08:00:01.700Z"
    assert iso(0.0) == "1970-01-01T00:00:00.000Z"


def test_stats_counts_every_call_and_the_running_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = log_with_a_call_in_flight(tmp_path)
    stats = orjson.loads(run(capsys, "stats", str(log), "--json"))
    traces = [orjson.loads(x) for x in run(capsys, "traces", str(log), "--json").splitlines()]
    tools = stats["tools"]
    assert sum(t["calls"] for t in tools.values()) == sum(t["tool_calls"] for t in traces) == 3
    assert tools["web"] == {
        "calls": 2,
        "running": 1,
        "errors": 0,
        "p50_ms": 10.0,  # over the completed call only
        "p95_ms": 10.0,
        "p99_ms": 10.0,
        "max_ms": 10.0,
    }
    assert (tools["llm"]["calls"], tools["llm"]["running"], tools["llm"]["errors"]) == (1, 0, 1)


def test_tables_by_default_like_kubectl_get(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = log_with_a_call_in_flight(tmp_path)
    lines = run(capsys, "traces", str(log)).splitlines()
    assert lines[0].split() == [
        "START",
        "(UTC)",
        "REQUEST",
        "STATUS",
        "TOOK",
        "CALLS",
        "ERRORS",
        "QUERY",
        "ERROR",
    ]
    assert lines[1].split()[:4] == ["2026-11-26", "08:00:00.123456", "r1", "running"]
    assert lines[2].split()[:4] == ["2026-11-26", "08:00:01.500", "r2", "error"]
    assert lines[2].endswith("RateLimitError: 429")
    assert len(lines) == 3
    filtered = run(capsys, "traces", str(log), "--filter", "status:error").splitlines()
    assert [line.split()[2] for line in filtered[1:]] == ["r2"]
    text = run(capsys, "stats", str(log))
    assert "TRACES" in text and "TOOL" in text
    web = next(line for line in text.splitlines() if line.startswith("web"))
    assert web.split()[:5] == ["web", "2", "1", "0", "0.0%"]
    assert "completed calls" in text


def test_a_table_never_sends_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write(
        tmp_path / "agent.log",
        {
            "event": "request_start",
            "request_id": "r\x1b[2J",
            "query": "a\nb\x07",
            "timestamp": "2026-11-26T08:00:00Z",
        },
    )
    out = run(capsys, "traces", str(log))
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b" in out
