"""File generation ids: a location packs a file id (24 bits) with a byte offset (40 bits), and
every generation of a file (a delete and re-create) takes an id. A storm of 100 a second used
them all up in about 46 hours, then indexing raised ``OverflowError``. Ids of deleted files
that no location in memory refers to are now recycled; these tests shrink the id space to
reach its end in a few hundred generations."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import pytest

from agenttui.ingest import files, ids
from agenttui.model.trace import OFFSET_BITS, OFFSET_MASK, pack_loc
from agenttui.session import Session
from tests.test_rotation import line


def _small(session: Session, ids: int) -> None:
    """An id space of ``ids`` (and a window of recent generations to match)."""
    session.table.max_ids = ids
    session.table.recent = deque(maxlen=8)


def _cycle(session: Session, log: Path, k: int) -> None:
    """One generation of ``log`` holding request ``r{k}``, deleted once read."""
    log.write_bytes(line(k))
    session.poll([str(log)])
    log.unlink()
    session.poll([str(log)])
    session.table.release_drained(now=time.monotonic() + 5)


def test_the_id_space_is_the_bits_a_location_leaves() -> None:
    assert files.MAX_FILE_IDS << OFFSET_BITS == 1 << 64
    assert pack_loc(files.MAX_FILE_IDS - 1, OFFSET_MASK) == (1 << 64) - 1


def test_a_delete_storm_past_the_id_space_keeps_reading(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    session = Session([str(tmp_path)])
    _small(session, 64)
    session.scan()
    for k in range(1000):  # 15 times the id space
        _cycle(session, log, k)
    log.write_bytes(line(1000))
    session.poll([str(log)])
    index = session.index
    assert index.lines == 1001  # nothing lost
    assert len(session.table.files) <= 64 and session.table.reused > 900
    # The oldest traces were dropped to free ids, as the memory budget does (said so).
    assert index.dropped > 0 and len(index) + index.dropped == 1001
    assert session.table.ids_problem is None
    (event,) = session.events(index.traces["r1000"])
    assert event.raw == line(1000).rstrip(b"\n")
    session.close()


def test_a_trace_in_memory_keeps_its_file_id(tmp_path: Path) -> None:
    """Ids are freed only when no trace refers to them: with few traces (a memory budget
    dropped the rest) the traces kept are never dropped for ids."""
    log = tmp_path / "agent.log"
    session = Session([str(tmp_path)])
    _small(session, 64)
    session.scan()
    kept = tmp_path / "kept.log"
    kept.write_bytes(line(5000))
    session.poll([str(kept)])
    for k in range(300):
        _cycle(session, log, k)
        with session.read() as index:
            index.drop_oldest(10)  # a memory budget keeping ten
    assert "r5000" not in session.index.traces or session.index.traces["r5000"]
    newest = session.index.traces["r299"]
    assert session.index.file_ids() >= {newest.locs[0] >> OFFSET_BITS}
    assert len(session.table.files) <= 64
    assert session.index.dropped == 300 + 1 - len(session.index)
    session.close()


def test_a_recycled_id_never_shows_another_files_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ids, "REUSE_AFTER_S", 0.0)
    log = tmp_path / "agent.log"
    session = Session([str(tmp_path)])
    session.scan()
    log.write_bytes(line(1))
    session.poll([str(log)])
    old = session.index.traces["r1"]
    (before,) = session.events(old)  # read, and cached by location
    assert before.raw is not None and b'"r1"' in before.raw
    log.unlink()
    session.poll([str(log)])
    session.table.release_drained(now=time.monotonic() + 5)
    with session.read() as index:
        index.drop_oldest(0)  # the memory budget dropped it; the trace object lives on
    session.table.recent = deque(maxlen=8)
    for _ in range(8):  # other generations push it out of the recent ones
        session.table.open(str(tmp_path / "other.log"))
    session.table.max_ids = len(session.table.files)  # no new id left: recycling is due
    session.poll([])
    reused = old.locs[0] >> OFFSET_BITS
    assert reused in session.table._freed
    log.write_bytes(line(2))  # a new generation takes the freed id; its line at offset 0
    session.poll([str(log)])
    new = session.index.traces["r2"]
    assert new.locs[0] == old.locs[0]  # the very same location
    (event,) = session.events(new)
    assert event.raw is not None and b'"r2"' in event.raw  # not the cached line of r1
    (stale,) = session.events(old)
    assert stale.raw is None  # said to be gone, never r2's line
    session.close()


def test_no_id_left_is_reported_and_nothing_crashes(tmp_path: Path) -> None:
    """Ids held by files still there cannot be recycled: a new file then waits, said so."""
    for i in range(4):
        (tmp_path / f"f{i}.log").write_bytes(line(i))
    session = Session([str(tmp_path)])
    session.table.max_ids = 4
    session.scan()
    (tmp_path / "f4.log").write_bytes(line(4))
    session.poll()
    assert set(session.index.traces) == {"r0", "r1", "r2", "r3"}
    assert any("generations" in p for p in session.problems)
    session.close()
