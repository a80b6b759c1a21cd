"""Bounded under load: descriptors, holes, long lines, copies, memory, no terminal, signals.

Each test reproduces one finding of the "bounded under production load" review at a size that
runs in seconds; ``bench/churn.py`` and ``bench/bounded.py`` measure the full-size figures.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui import shutdown
from agenttui.ingest import files, spool
from agenttui.ingest.sources import SourceError, glob_files, parse_specs
from agenttui.model.traces import TraceIndex
from agenttui.model.triage import error_groups
from agenttui.session import Session
from tests.test_rotation import Writer, line, seen_numbers

ROOT = Path(__file__).resolve().parent.parent


def _deleted_fds() -> list[str]:
    out = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.endswith("(deleted)"):
            out.append(target)
    return out


# ------------------------------------------------------------------ descriptors


def test_descriptors_stay_within_the_budget_and_idle_files_are_reopened(tmp_path: Path) -> None:
    for i in range(300):
        (tmp_path / f"f{i:03d}.log").write_bytes(line(i))
    session = Session([str(tmp_path)])
    session.table.budget = 16
    session.scan()
    assert len(session.index) == 300
    assert session.table.open_count() <= 16
    with (tmp_path / "f007.log").open("ab") as f:  # long closed: re-opened on change
        f.write(line(1000))
    session.poll([str(tmp_path / "f007.log")])
    assert 1000 in seen_numbers(session)[0]
    assert session.table.open_count() <= 16
    # An old event of a closed file is still readable (re-opened by path, same inode).
    assert session.events(session.index.traces["r3"])[0].data == {
        "event": "n",
        "request_id": "r3",
        "n": 3,
    }
    session.close()


def test_a_change_costs_work_for_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(500):
        (tmp_path / f"f{i:03d}.log").write_bytes(line(i))
    session = Session([str(tmp_path)])
    session.scan()
    calls = 0
    real_stat = os.stat

    def counting_stat(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real_stat(*args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    with (tmp_path / "f123.log").open("ab") as f:
        f.write(line(9999))
    session.poll([str(tmp_path / "f123.log")])
    assert 9999 in seen_numbers(session)[0]
    assert calls < 20  # not one per file of the directory
    session.close()


def test_a_deleted_file_is_drained_then_closed(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(10)
    session = Session([str(log)])
    session.scan()
    log.unlink()
    writer.write(5)  # into the deleted file: still read
    session.poll()
    assert seen_numbers(session)[1] == 15
    gen = session.table.files[0]
    assert gen.fd is not None
    session.table.release_drained(now=time.monotonic() + files.DELETED_GRACE_S + 0.1)
    assert gen.fd is None and gen.gone  # closed: the disk space can be freed
    assert session.table.open_count() == 0
    writer.close()
    assert not any(str(log) in t for t in _deleted_fds())
    writer = Writer(log)  # created again: read from its start, once
    writer.n = 100
    writer.write(3)
    session.poll()
    assert seen_numbers(session)[0] == set(range(15)) | {100, 101, 102}
    writer.close()
    session.close()


def test_a_renamed_file_is_drained_then_closed(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(10)
    session = Session([str(log)])
    session.scan()
    os.rename(log, tmp_path / "agent.log.1")
    writer.write(4)  # the app writes on until it re-opens
    old = writer.reopen()
    os.close(old)
    writer.write(2)
    session.poll()
    assert seen_numbers(session)[1] == 16
    held = session.table.open_count()
    session.table.release_drained(now=time.monotonic() + files.RENAMED_GRACE_S + 0.1)
    assert session.table.open_count() == held - 1
    writer.close()
    session.close()


def test_running_out_of_descriptors_is_reported_once_and_reading_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.log").write_bytes(line(i))
    real_open = os.open
    failing = {"on": True}

    def emfile_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if failing["on"] and str(path).endswith(".log"):
            raise OSError(errno.EMFILE, "Too many open files", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", emfile_open)
    session = Session([str(tmp_path)])
    session.scan()  # never raises
    assert session.problems.count(session.table.fd_problem or "") == 1
    assert session.table.fd_problem is not None and "ulimit" in session.table.fd_problem
    failing["on"] = False  # descriptors again: every file is read, once
    session.poll()
    assert seen_numbers(session)[0] == set(range(5))
    session.close()


# ------------------------------------------------------------------ rotation


def test_a_copy_opened_before_it_was_written_is_not_read_again(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(20)
    session = Session([str(tmp_path)])
    session.scan()
    writer.write(6)  # unread when logrotate copies and truncates
    copy = tmp_path / "agent.log.1"
    copy.touch()  # copytruncate has created the copy, not written it yet: seen empty
    session.poll([str(copy)])
    shutil.copyfile(log, copy)
    os.truncate(log, 0)
    writer.write(4)
    session.poll([str(copy), str(log)])
    numbers, lines, events = seen_numbers(session)
    assert numbers == writer.written and lines == events == 30
    writer.close()
    session.close()


def test_following_only_the_file_reads_unread_lines_from_its_copy(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    writer = Writer(log)
    writer.write(20)
    session = Session([str(log)])  # the file, not its directory
    session.scan()
    writer.write(7)  # unread when the file is copied and truncated
    shutil.copyfile(log, tmp_path / "agent.log.1")
    os.truncate(log, 0)
    writer.write(3)
    session.poll([str(log), str(tmp_path / "agent.log.1")])  # what the watcher reports
    numbers, lines, events = seen_numbers(session)
    assert numbers == writer.written and lines == events == 30
    writer.close()
    session.close()


def test_a_hole_is_skipped_not_read(tmp_path: Path) -> None:
    """A writer without O_APPEND goes on at its old offset after copytruncate: the file is
    sparse up to there; the first line after the hole is read, no NUL is held."""
    import resource

    log = tmp_path / "agent.log"
    log.write_bytes(line(0))
    session = Session([str(log)])
    session.scan()
    fd = os.open(log, os.O_WRONLY)
    os.truncate(log, 0)
    os.pwrite(fd, line(1) + line(2), 256 << 20)  # a 256 MB hole before it
    os.close(fd)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    session.poll()
    assert time.monotonic() - t0 < 5
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) < 50 << 10  # KB
    numbers, lines, _events = seen_numbers(session)
    assert numbers == {0, 1, 2} and lines == 3
    assert session.index.unparsed_lines == 0
    session.close()


def test_a_long_line_being_written_is_not_read_again_and_again(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    log.write_bytes(b"")
    session = Session([str(log)])
    session.scan()
    start = orjson.dumps({"event": "request_start", "request_id": "big"})[:-1] + b',"q":"'
    with log.open("ab") as f:
        f.write(start + b"x" * (3 << 20))
    session.poll()
    assert session.index.lines == 0
    assert session.table.files[0].long_from > 0  # where the search for its end stopped
    with log.open("ab") as f:
        f.write(b"y" * (2 << 20) + b'"}\n' + line(5))
    session.poll()
    assert session.index.lines == 2
    assert session.cut_lines == 1
    assert set(session.index.traces) == {"big", "r5"}
    session.close()


# ------------------------------------------------------------------ symlinks


def test_a_symlink_loop_given_as_a_path_says_so(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(SourceError, match="symbolic link loop"):
        parse_specs([str(tmp_path / "a")])


def test_a_recursive_glob_over_a_symlink_loop_ends(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "x.log").write_bytes(line(1))
    os.symlink(d, d / "sub" / "loop")  # logs/sub/loop -> logs
    os.symlink(d / "sub", d / "sub" / "loop2")
    t0 = time.monotonic()
    found = glob_files(str(d / "**" / "*.log"))
    assert time.monotonic() - t0 < 2
    assert found == [str(d / "sub" / "x.log")]


# ------------------------------------------------------------------ memory


def _finished(index: TraceIndex, n: int, *, fail_every: int = 0) -> None:
    from agenttui.ingest.records import decode_record

    for i in range(n):
        index.add(decode_record(b'{"event":"request_start","request_id":"r%d"}' % i), 2 * i)
        failed = fail_every and i % fail_every == 0
        end = (
            b'{"event":"request_failed","request_id":"r%d","error":"Boom: x","timestamp":%d}'
            if failed
            else b'{"event":"request_success","request_id":"r%d","timestamp":%d}'
        )
        index.add(decode_record(end % (i, 1_700_000_000 + i)), 2 * i + 1)


def test_dropping_old_traces_keeps_their_counts_and_error_groups() -> None:
    index = TraceIndex()
    _finished(index, 100, fail_every=10)
    groups_before = [(g.signature, g.count) for g in error_groups(index)]
    counts_before = index.status_counts()
    assert index.drop_oldest(30) == 70
    assert len(index) == 30 and index.dropped == 70 and index.added == 100
    assert "r0" not in index.traces and "r99" in index.traces
    assert index.status_counts() == counts_before
    assert [(g.signature, g.count) for g in error_groups(index)] == groups_before


def test_the_memory_budget_drops_the_oldest_finished_traces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agenttui.following as following

    log = tmp_path / "agent.log"
    log.write_bytes(b"".join(line(i) for i in range(5000)))
    session = Session([str(log)])
    session.set_memory_budget(256 << 20)
    monkeypatch.setattr(following, "tree_rss", lambda: 300 << 20)  # over the budget
    monkeypatch.setattr(following, "MIN_TRACES_KEPT", 100)
    session.scan()
    assert session.trace_cap is not None
    assert len(session.index) <= session.trace_cap + max(64, session.trace_cap // 50)
    assert session.index.dropped + len(session.index) == 5000
    assert session.index.lines == 5000
    session.close()


async def test_the_header_says_how_many_traces_left_memory(tmp_path: Path) -> None:
    from agenttui.ui.app import AgentTUI

    log = tmp_path / "agent.log"
    log.write_bytes(b"".join(line(i) for i in range(50)))
    session = Session([str(log)])
    app = AgentTUI(session)
    async with app.run_test(size=(160, 30)) as pilot:
        while app._scanning:
            await pilot.pause(0.05)
        with session.read() as index:
            index.drop_oldest(20)
        with log.open("ab") as f:  # the next read refreshes the screen
            f.write(line(50))
        for _ in range(100):
            await pilot.pause(0.05)
            totals = app.main.header._totals
            if totals is not None and totals.lines == 51:
                break
        header = app.main.header
        assert header._totals is not None and header._totals.dropped == 30
        assert "30 older traces not in memory; still in the file" in str(header.render())
        assert app.main.trace_list.total_count == 21
    session.close()


# ------------------------------------------------------------------ spool, terminal, signals


def test_the_stdin_spool_is_capped_and_counts_what_it_dropped(tmp_path: Path) -> None:
    spool.reset_for_tests()
    r, w = os.pipe()
    copy = spool.stdin_spool(r, max_bytes=64 << 10)
    try:
        session = Session(["-"], mapping={})
        session.scan()
        stop = threading.Event()
        follower = threading.Thread(target=session.follow, args=(lambda _n: None, stop))
        follower.start()
        for i in range(4000):  # ~170 KB through a 64 KB spool
            os.write(w, line(i))
            if i % 500 == 0:
                time.sleep(0.05)
        os.close(w)
        assert copy.wait(5)
        deadline = time.monotonic() + 10
        while seen_numbers(session)[1] < 4000 and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        follower.join(5)
        assert copy.dropped_bytes > 0
        assert sum(os.path.getsize(os.path.join(copy.dir, f)) for f in os.listdir(copy.dir)) <= (
            64 << 10
        ) + (64 << 10)  # plus one read from the pipe
        assert seen_numbers(session)[1] == 4000  # the reader kept up: nothing lost
        assert any("oldest" in p and "dropped" in p for p in session.problems)
        session.close()
    finally:
        spool.reset_for_tests()
    assert not os.path.exists(copy.dir)


def _agenttui(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agenttui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        **kwargs,
    )


def test_no_terminal_says_so_and_exits_2_at_once() -> None:
    t0 = time.monotonic()
    proc = _agenttui("sample_logs", stdin=subprocess.DEVNULL)
    _out, err = proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 5  # the interpreter's start, then at once
    assert proc.returncode == 2
    assert err.decode().count("\n") == 1
    assert "no terminal" in err.decode() and "watch" in err.decode()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_ends_watch_and_removes_the_stdin_spool(sig: int, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agenttui", "watch", "--jsonl", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line(1))
    proc.stdin.flush()
    deadline = time.monotonic() + 10
    while not list(tmp_path.glob("agenttui-stdin-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp_path.glob("agenttui-stdin-*"))
    time.sleep(0.3)
    proc.send_signal(sig)
    proc.wait(5)
    assert proc.returncode == 128 + sig
    assert list(tmp_path.glob("agenttui-*")) == []
    proc.stdin.close()
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()


def test_shutdown_hooks_run_once_newest_first_and_survive_errors() -> None:
    ran: list[str] = []

    def bad() -> None:
        ran.append("bad")
        raise RuntimeError("boom")

    shutdown.register(lambda: ran.append("first"))
    shutdown.register(bad)
    shutdown.register(lambda: ran.append("last"))
    shutdown.run_all()
    shutdown.run_all()
    assert ran == ["last", "bad", "first"]


# ------------------------------------------------------------------ configuration, masking


def test_max_memory_from_the_flag_the_config_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenttui.limits import LimitError, memory_budget

    monkeypatch.chdir(tmp_path)
    assert memory_budget(None) == 256 << 20
    assert memory_budget("512M") == 512 << 20
    assert memory_budget("1.5g") == int(1.5 * (1 << 30))
    (tmp_path / "agenttui.toml").write_text('[limits]\nmax_memory = "300MB"\n')
    assert memory_budget(None) == 300 << 20
    assert memory_budget("1G") == 1 << 30  # the flag wins
    (tmp_path / "agenttui.toml").write_text('[limits]\nmax_memory = "lots"\n')
    with pytest.raises(LimitError, match=r"max_memory in \[limits\]"):
        memory_budget(None)
    with pytest.raises(LimitError, match="--max-memory"):
        memory_budget("12K")


def test_the_tui_needs_a_terminal_but_dash_reads_keys_from_dev_tty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agenttui import cli
    from agenttui.commands.base import UsageError

    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.setattr(sys, "stdout", Stream(True))
    monkeypatch.setattr(sys, "stdin", Stream(False))
    with pytest.raises(UsageError, match="no terminal"):
        cli._need_terminal(["sample_logs"])
    opened: list[str] = []
    real_open = os.open

    def fake_open(path: Any, flags: int, *args: Any) -> int:
        if path == "/dev/tty":
            opened.append(path)
            return real_open(os.devnull, os.O_RDONLY)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    cli._need_terminal(["-"])  # a pipe on stdin is the source; keys come from /dev/tty
    assert opened == ["/dev/tty"]
    monkeypatch.setattr(sys, "stdout", Stream(False))
    with pytest.raises(UsageError, match="no terminal"):
        cli._need_terminal(["-"])


@pytest.mark.parametrize(
    "obj",
    [
        {"request_id": "r1", "status": "ok", "query": "weather in Paris", "tools": []},
        {"request_id": "r2", "error": "Bearer abcdefghijklmnop failed", "tools": []},
        {"request_id": "r3", "tools": [{"tool": "x", "error": "api_key=sk-abcdefghijklmnopqr"}]},
        {"session_id": "abc123", "query": "postgres://u:hunter2@db/x"},
    ],
)
def test_the_fast_path_never_skips_a_masking(obj: dict[str, Any]) -> None:
    from agenttui.output.secrets import mask_fields, may_hold_secrets

    text = orjson.dumps(obj).decode()
    assert mask_fields(obj) == obj or may_hold_secrets(text)
    if obj["request_id" if "request_id" in obj else "query"] == "r1":
        assert not may_hold_secrets(text)  # an ordinary trace takes the fast path


def test_the_fast_path_agrees_with_masking_on_random_text() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from agenttui.output.secrets import mask_fields, may_hold_secrets

    @settings(max_examples=500, deadline=None)
    @given(
        st.dictionaries(
            st.text(max_size=12),
            st.one_of(st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3)),
            max_size=4,
        )
    )
    def check(obj: dict[str, str | list[str]]) -> None:
        if not may_hold_secrets(orjson.dumps(obj).decode()):
            assert mask_fields(obj) == obj

    check()


def test_deleted_generations_share_one_stand_in(tmp_path: Path) -> None:
    """A delete/re-create storm makes a generation per file: the closed ones cost a slot."""
    log = tmp_path / "agent.log"
    session = Session([str(log.parent)])
    session.scan()
    for k in range(40):
        log.write_bytes(line(k))
        session.poll([str(log)])
        log.unlink()
        session.poll([str(log)])
        session.table.release_drained(now=time.monotonic() + 5)
    assert seen_numbers(session)[0] == set(range(40))
    kept = {id(lf) for lf in session.table.files}
    assert len(session.table.files) >= 40 and len(kept) <= 3
    assert session.events(session.index.traces["r3"])[0].raw is None  # gone with its file
    session.close()


def test_tool_durations_past_the_kept_number_are_sampled_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import agenttui.model.traces as traces_module
    from agenttui.ingest.records import decode_record

    monkeypatch.setattr(traces_module, "DURATIONS_KEPT", 1000)
    index = TraceIndex()
    t0 = time.perf_counter()
    for i in range(20_000):
        rid = b"r%d" % i
        index.add(
            decode_record(b'{"event":"tool_call_start","tool":"t","request_id":"%s"}' % rid), 0
        )
        index.add(
            decode_record(
                b'{"event":"tool_call_success","tool":"t","request_id":"%s","duration_ms":%d}'
                % (rid, i)
            ),
            1,
        )
    assert time.perf_counter() - t0 < 5
    stats = index.tool_stats()["t"]
    assert stats.calls == 20_000 and stats.max_ms == 19_999  # exact count and maximum
    assert len(index._durations[next(iter(index._durations))]) == 1000  # a sample is kept
