"""Sources and session: reading by offset, partial lines, tailing, rotation, new files."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agenttui.ingest.sources import SourceError, parse_specs
from agenttui.session import Session
from tests.conftest import jl


def test_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(jl(event="request_start", request_id="r1") + b'{"event": "request_succ')
    s = Session([str(log)])
    s.scan()
    assert s.index.lines == 1
    assert s.index.traces["r1"].status == "running"
    with log.open("ab") as f:
        f.write(b'ess", "request_id": "r1"}\n')
    assert s.poll() == 1
    assert s.index.traces["r1"].status == "ok"
    assert s.index.unparsed_lines == 0
    s.close()


def test_events_are_read_again_from_offsets(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(
        b"garbage line\r\n"
        + jl(event="request_start", request_id="r", query="hi")
        + jl(event="startup")
        + jl(event="request_failed", request_id="r", error="boom", exception=[{"exc_type": "E"}])
    )
    s = Session([str(log)])
    s.scan()
    events = s.events(s.index.traces["r"])
    assert [e.record.message for e in events] == ["request_start", "request_failed"]
    assert events[0].data == {"event": "request_start", "request_id": "r", "query": "hi"}
    assert events[1].exception == [{"exc_type": "E"}]
    assert events[0].file == "a.log"
    raw = s.unattributed()
    assert [e.raw for e in raw] == [b"garbage line", b'{"event":"startup"}']
    assert raw[0].is_raw and not raw[1].is_raw
    s.close()


def test_a_line_longer_than_the_cap_is_indexed_from_its_start_and_marked(
    tmp_path: Path,
) -> None:
    from agenttui.ingest.sources import MAX_LINE

    log = tmp_path / "a.log"
    big = "x" * (3 << 20)
    log.write_bytes(
        jl(event="request_start", request_id="r", query=big)
        + jl(event="request_success", request_id="r")
    )
    s = Session([str(log)])
    s.scan()
    assert s.index.lines == 2
    assert s.cut_lines == 1
    trace = s.index.traces["r"]
    assert trace.events == 2 and trace.status == "ok"
    first = s.events(trace)[0]
    assert first.raw is not None and len(first.raw) == MAX_LINE  # never held whole
    s.close()


def test_directory_picks_up_new_files_but_not_captures(tmp_path: Path) -> None:
    (tmp_path / "one.log").write_bytes(jl(event="x", request_id="a"))
    (tmp_path / "failed_123.json").write_bytes(b'{"query": "not a log line"}\n')
    s = Session([str(tmp_path)])
    s.scan()
    assert set(s.index.traces) == {"a"}
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "two.log").write_bytes(jl(event="x", request_id="b"))
    s.poll()
    assert set(s.index.traces) == {"a", "b"}
    assert s.index.lines == 2
    s.close()


def test_glob(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(jl(event="x", request_id="a"))
    (tmp_path / "b.txt").write_bytes(jl(event="x", request_id="b"))
    s = Session([str(tmp_path / "*.log")])
    s.scan()
    assert set(s.index.traces) == {"a"}
    (tmp_path / "c.log").write_bytes(jl(event="x", request_id="c"))
    s.poll()
    assert set(s.index.traces) == {"a", "c"}
    s.close()


def test_bad_paths() -> None:
    with pytest.raises(SourceError, match="no such file"):
        parse_specs(["/nonexistent/agent.log"])


def _numbered(path: Path, start: int, stop: int) -> None:
    with path.open("ab") as f:
        for i in range(start, stop):
            f.write(jl(event="n", request_id=f"r{i}"))


def test_rotation_by_rename_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    _numbered(log, 0, 10)
    s = Session([str(log)])
    s.scan()
    _numbered(log, 10, 15)  # written before rotation, not yet read
    os.rename(log, tmp_path / "agent.log.1")
    _numbered(log, 15, 20)
    s.poll()
    assert set(s.index.traces) == {f"r{i}" for i in range(20)}
    assert s.index.lines == 20
    # Old events are still readable through the rotated file.
    assert s.events(s.index.traces["r3"])[0].data == {"event": "n", "request_id": "r3"}
    s.close()


def test_copytruncate_and_shorter_replacement(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    _numbered(log, 0, 10)
    s = Session([str(log)])
    s.scan()
    with log.open("r+b") as f:
        f.truncate(0)
    _numbered(log, 10, 12)
    s.poll()
    assert s.index.lines == 12
    assert set(s.index.traces) == {f"r{i}" for i in range(12)}
    assert s.events(s.index.traces["r11"])[0].data == {"event": "n", "request_id": "r11"}
    # Lines from before the truncation are gone; they say so instead of showing wrong bytes.
    assert s.events(s.index.traces["r0"])[0].raw is None
    s.close()


def test_deleted_then_recreated(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    _numbered(log, 0, 3)
    s = Session([str(log)])
    s.scan()
    log.unlink()
    s.poll()
    _numbered(log, 3, 6)
    s.poll()
    assert set(s.index.traces) == {f"r{i}" for i in range(6)}
    s.close()


def test_follow_sees_appended_lines(tmp_path: Path, write_log: Callable[..., Path]) -> None:
    log = write_log({"event": "request_start", "request_id": "r1"})
    s = Session([str(log)])
    s.scan()
    stop = threading.Event()
    seen: list[int] = []
    thread = threading.Thread(target=s.follow, args=(seen.append, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        write_log({"event": "request_success", "request_id": "r1"})
        deadline = time.monotonic() + 5
        while s.index.traces["r1"].status != "ok" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert s.index.traces["r1"].status == "ok"
        assert sum(seen) >= 1
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    s.close()
