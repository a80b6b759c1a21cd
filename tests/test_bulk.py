"""Bulk indexing: cutting at line starts, two processes, and the newest-first preview."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui import session
from agenttui.model import bulk
from agenttui.output.views import stats_dict, trace_dict
from agenttui.session import Progress, Session


def _corpus(path: Path, requests: int, seed: int = 3) -> None:
    """Interleaved requests, some failing, some non-JSON lines."""
    rng = random.Random(seed)
    live: list[list[dict[str, Any]]] = []
    t = 1_764_144_000.0
    n = 0
    with path.open("wb") as f:
        while n < requests or live:
            if n < requests and (len(live) < 30 or rng.random() < 0.3):
                rid = f"req-{n:06d}"
                evs: list[dict[str, Any]] = [{"event": "request_start", "query": f"q {n}"}]
                for k in range(rng.randint(1, 4)):
                    tool = rng.choice(["search", "read", "llm"])
                    evs.append({"event": "tool_call_start", "tool": tool, "call_id": f"c{k}"})
                    if rng.random() < 0.1:
                        evs.append(
                            {
                                "event": "tool_call_failed",
                                "tool": tool,
                                "call_id": f"c{k}",
                                "error": f"E{rng.randint(1, 5)}: boom",
                                "level": "error",
                            }
                        )
                    else:
                        evs.append(
                            {
                                "event": "tool_call_success",
                                "tool": tool,
                                "call_id": f"c{k}",
                                "duration_ms": round(rng.random() * 500, 3),
                            }
                        )
                evs.append({"event": rng.choice(["request_success"] * 8 + ["request_failed"])})
                for e in evs:
                    e["request_id"] = rid
                live.append(evs)
                n += 1
            i = rng.randrange(len(live))
            e = live[i].pop(0)
            if not live[i]:
                live.pop(i)
            t += rng.random() * 0.01
            e["timestamp"] = t
            f.write(orjson.dumps(e) + b"\n")
            if rng.random() < 0.01:
                f.write(b"plain text line\n")


def _everything(s: Session) -> tuple[Any, ...]:
    index = s.index
    return stats_dict(index), [trace_dict(index, t) for t in index.ordered()]


def test_line_start_after(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"aaa\nbbb\nccc\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert [bulk.line_start_after(fd, p, 12) for p in range(13)] == [
            0,
            4,
            4,
            4,
            4,
            8,
            8,
            8,
            8,
            12,
            12,
            12,
            12,
        ]
        assert bulk.cut_points(fd, 0, 12, 2, 0.0) == [0, 8, 12]
        assert bulk.cut_points(fd, 0, 12, 3, 0.0) == [0, 4, 8, 12]
    finally:
        os.close(fd)


def test_two_processes_give_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agent.log"
    _corpus(path, 3000)
    monkeypatch.setenv("AGENTTUI_WORKERS", "1")
    one = Session([str(path)])
    one.scan()
    monkeypatch.setenv("AGENTTUI_WORKERS", "2")
    monkeypatch.setattr(bulk, "PARALLEL_MIN_BYTES", 1)
    two = Session([str(path)])
    two.scan()
    assert _everything(two) == _everything(one)
    assert not two.problems
    # Events of a trace that crossed the cut are read back whole and in order.
    for trace in list(two.index.traces.values())[::97]:
        names = [e.record.message for e in two.events(trace)]
        assert names[0] == "request_start"
        assert names[-1] in ("request_success", "request_failed")
    one.close()
    two.close()


def test_newest_part_is_shown_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agent.log"
    _corpus(path, 2000)
    size = path.stat().st_size
    monkeypatch.setattr(session, "PREVIEW_MIN_BYTES", 1)
    monkeypatch.setattr(session, "PREVIEW_BYTES", size // 10)
    monkeypatch.setenv("AGENTTUI_WORKERS", "1")
    s = Session([str(path)])
    seen: list[tuple[int, list[str]]] = []

    def progress(p: Progress) -> None:
        with s.read():
            seen.append((len(s.index), list(s.index.traces)))

    s.scan(progress)
    shown_first, rids = seen[0]
    assert 0 < shown_first < 2000 / 2  # only the requests seen in the newest tenth
    assert "req-001999" in rids  # ...which holds the newest request
    assert "req-000000" not in rids
    assert len(s.index) == 2000
    assert s.index.lines == sum(1 for _ in path.open("rb"))
    s.close()
