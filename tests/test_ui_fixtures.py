"""Deterministic log fixtures shared by the UI tests (plus a sanity check of them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

BASE_TS = 1_764_145_490.0
"""2025-11-26T08:24:50Z: fixed, so that snapshots never change."""

HOSTILE_QUERY = "[bold red]x[/] [@click=app.quit]click[/] \x1b[31mred\x07 end"

TOOLS = ("web_search", "read_file", "call_llm", "run_python", "http_get")


def _iso(ts: float) -> str:
    from agenttui.output.views import iso

    text = iso(ts)
    assert text is not None
    return text


def _traceback(exc_type: str, value: str, cause: bool) -> list[dict[str, Any]]:
    frames = [
        {
            "filename": "/srv/agent/tools.py",
            "lineno": 120,
            "name": "run_tool",
            "locals": {"tool": "'x'", "attempt": "1"},
        },
        {"filename": "/srv/agent/http.py", "lineno": 42, "name": "fetch", "locals": {}},
    ]
    chain = [
        {
            "exc_type": exc_type,
            "exc_value": value,
            "syntax_error": None,
            "is_cause": False,
            "frames": frames,
        }
    ]
    if cause:
        chain.append(
            {
                "exc_type": "ConnectionRefusedError",
                "exc_value": "[Errno 111] Connection refused",
                "syntax_error": None,
                "is_cause": True,
                "frames": [
                    {
                        "filename": "/usr/lib/python3.11/socket.py",
                        "lineno": 836,
                        "name": "create_connection",
                        "locals": {},
                    }
                ],
            }
        )
    return chain


def fixture_lines(n: int = 12) -> list[bytes]:
    """Log lines of ``n`` requests with fixed ids and timestamps.

    Request ``i`` starts at ``BASE_TS + 2*i``. Every third request (2, 5, 8) fails in its
    second tool call (with a chained dict_traceback); the last request is still running;
    request 1 has a hostile query. One non-JSON line and one event without a request id are
    mixed in.
    """
    out: list[bytes] = []

    def emit(ts: float, **fields: Any) -> None:
        out.append(
            orjson.dumps({"timestamp": _iso(ts), "level": fields.pop("level", "info"), **fields})
        )

    for i in range(n):
        rid = f"req-{i:04d}-{'abcdef0123456789'[i % 16]}{i * 7919 % 1000:03d}"
        t = BASE_TS + 2 * i
        query = HOSTILE_QUERY if i == 1 else f"question number {i}: summarise the report"
        emit(t, event="request_start", request_id=rid, query=query, model="demo-model")
        running = i == n - 1
        failing = i % 3 == 2 and not running
        tools = [TOOLS[i % len(TOOLS)], TOOLS[(i + 1) % len(TOOLS)], TOOLS[(i + 2) % 5]]
        clock = t + 0.010
        for k, tool in enumerate(tools):
            call_id = f"c{i}-{k}"
            emit(
                clock,
                event="tool_call_start",
                request_id=rid,
                tool=tool,
                call_id=call_id,
                params={"q": f"p{k}"},
            )
            duration = 40.0 + 37.0 * ((i + k) % 5) + 5 * k
            if running and k == 2:
                break
            clock += duration / 1000.0
            if failing and k == 1:
                emit(
                    clock,
                    event="tool_call_failed",
                    request_id=rid,
                    tool=tool,
                    call_id=call_id,
                    level="error",
                    duration_ms=duration,
                    error="ConnectionError: upstream refused",
                    exception=_traceback("ConnectionError", "upstream refused", cause=True),
                )
                emit(
                    clock + 0.002,
                    event="request_failed",
                    request_id=rid,
                    level="error",
                    error="ConnectionError: upstream refused",
                )
                break
            emit(
                clock,
                event="tool_call_success",
                request_id=rid,
                tool=tool,
                call_id=call_id,
                duration_ms=duration,
                result_size=100 + k,
            )
            clock += 0.005
        else:
            emit(
                clock + 0.003,
                event="request_success",
                request_id=rid,
                duration_ms=round((clock + 0.003 - t) * 1000, 3),
            )
        if i == 3:
            out.append(b"Traceback (most recent call last): not json at all \x1b[2J")
            emit(t + 0.5, event="worker_heartbeat", pid=4242)
    return out


def write_logs(directory: Path, n: int = 12, name: str = "agent.log") -> Path:
    """Write :func:`fixture_lines` into ``directory/name`` and return the file path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(b"\n".join(fixture_lines(n)) + b"\n")
    return path


def test_fixture_is_indexed(tmp_path: Path) -> None:
    """The fixture parses into the traces the UI tests expect."""
    from agenttui.session import Session

    write_logs(tmp_path)
    session = Session([str(tmp_path)])
    try:
        session.scan()
        counts = session.index.status_counts()
        assert len(session.index) == 12
        assert counts == {"ok": 8, "error": 3, "running": 1}
        assert session.index.unparsed_lines == 1
    finally:
        session.close()
