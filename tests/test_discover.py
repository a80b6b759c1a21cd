"""Finding the logs without a path (agenttui.ingest.discover) and telling logs from the rest
(agenttui.ingest.sniff), in temporary directories: one log, several, none, a source tree."""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenttui.ingest import sources
from agenttui.ingest.discover import discover
from agenttui.ingest.sniff import check_file, describe, walk_check
from agenttui.session import Session
from tests.test_ui_fixtures import write_logs


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTTUI_LOGS", raising=False)


def structlog_line(rid: str, event: str = "request_start", **extra: object) -> bytes:
    return orjson.dumps(
        {"event": event, "request_id": rid, "timestamp": "2026-11-26T08:00:00.123456Z", **extra}
    )


def source_tree(root: Path) -> None:
    """A Python project: code, a virtualenv, a git dir, caches, node_modules, a binary."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text("import os\nprint('hello')\n" * 50)
    (root / "README.md").write_text("# project\n")
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    venv = root / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib" / "x.log").write_bytes(structlog_line("in-venv") + b"\n")
    (root / "node_modules" / "a").mkdir(parents=True)
    (root / "node_modules" / "a" / "index.js").write_text("module.exports = 1\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00\x01binary")
    (root / "data.bin").write_bytes(b"\x7fELF\x00\x00\x00" * 100)
    (root / "notes").write_text("just some notes\nnothing structured\n")


def test_one_log_in_the_working_directory(tmp_path: Path) -> None:
    write_logs(tmp_path, name="agent.log")
    found = discover(str(tmp_path), system=False)
    assert [Path(c.path).name for c in found.candidates] == ["agent.log"]
    only = found.candidates[0]
    assert only.shape == "structlog"
    assert only.requests == 12
    assert only.failures == 3  # failed requests in its last lines
    assert not only.sampled
    assert any(place.startswith("./*.log") for place in found.looked)


def test_several_logs_newest_first_with_captures_beside(tmp_path: Path) -> None:
    old = write_logs(tmp_path / "logs", name="old.jsonl")
    new = write_logs(tmp_path / "logs", name="new.log")
    now = time.time()
    os.utime(old, (now - 3600, now - 3600))
    (tmp_path / "logs" / "noise.txt").write_text("plain text, no structure\n")
    (tmp_path / "captures").mkdir()
    (tmp_path / "captures" / "failed_1.json").write_text("{}")
    found = discover(str(tmp_path), system=False)
    assert [c.path for c in found.candidates] == [str(new), str(old)]
    assert found.captures == [str(tmp_path / "captures")]
    assert (str(tmp_path / "logs" / "noise.txt"), "its first lines are not structured logs") in (
        found.skipped
    )


def test_none_says_where_it_looked(tmp_path: Path) -> None:
    found = discover(str(tmp_path), system=False)
    assert found.candidates == []
    text = "\n".join(found.looked)
    for place in ("[logs] paths", "$AGENTTUI_LOGS", "./logs", "./*.log"):
        assert place in text


def test_a_source_tree_is_not_read_as_logs(tmp_path: Path) -> None:
    source_tree(tmp_path)
    found = discover(str(tmp_path), system=False)
    assert found.candidates == []
    # Given by hand, the directory shows only its logs (none), never the code.
    session = Session([str(tmp_path)])
    try:
        assert sources.expand(session.specs) == []
        write_logs(tmp_path / "logs")
        assert [Path(p).name for p in sources.expand(session.specs)] == ["agent.log"]
        session.scan()
        assert len(session.index) == 12
        assert session.index.unparsed_lines == 1  # the fixture's one non-JSON line only
    finally:
        session.close()


def test_config_and_environment_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_logs(tmp_path, name="agent.log")
    monkeypatch.setenv("AGENTTUI_LOGS", f"/srv/a.log{os.pathsep}/srv/b")
    found = discover(str(tmp_path), system=False)
    assert found.explicit == ["/srv/a.log", "/srv/b"]
    assert found.explicit_from == "$AGENTTUI_LOGS"
    conf = tmp_path / "agenttui.toml"
    conf.write_text('[logs]\npaths = ["/var/log/agent"]\n')
    found = discover(str(tmp_path), system=False, config_file=str(conf))
    assert found.explicit == ["/var/log/agent"]
    assert found.explicit_from.startswith("[logs] paths")


def test_fifo_device_and_symlink_out_of_bounds_are_never_opened(tmp_path: Path) -> None:
    inside = tmp_path / "logs"
    inside.mkdir()
    fifo = inside / "pipe.log"
    os.mkfifo(fifo)
    assert check_file(str(fifo)) is not None  # would block forever if opened for reading
    outside = write_logs(tmp_path / "elsewhere")
    link = inside / "link.log"
    link.symlink_to(outside)
    assert "symlink" in (check_file(str(link), bounds=str(inside)) or "")
    assert check_file(str(link), bounds=str(tmp_path)) is None
    assert check_file("/dev/null") is not None
    found = discover(str(tmp_path), system=False, deadline_s=2.0)
    assert found.candidates == []


def test_container_wrapped_and_logfmt_lines_are_logs(tmp_path: Path) -> None:
    inner = structlog_line("r1").decode()
    docker = tmp_path / "abc-json.log"
    docker.write_bytes(
        orjson.dumps({"log": inner + "\n", "stream": "stdout", "time": "2026-11-26T08:00:00Z"})
        + b"\n"
    )
    cri = tmp_path / "pod_0.txt"
    cri.write_bytes(b"2026-11-26T08:00:00.1Z stdout F " + inner.encode() + b"\n")
    logfmt = tmp_path / "svc.current"
    logfmt.write_bytes(b'ts=2026-11-26T08:00:00Z level=info msg="hello" request_id=r1\n' * 3)
    for path, shape in ((docker, "container (docker)"), (cri, "container (CRI)"), (logfmt, "")):
        got = describe(str(path), "test")
        assert not isinstance(got, str), got
        assert got.shape.startswith(shape or "logfmt")
        assert got.requests == 1  # counted inside the runtime's wrapping too


def test_by_hand_a_log_named_file_is_read_even_unstructured(tmp_path: Path) -> None:
    plain = tmp_path / "app.log"
    plain.write_text("plain text line\n")
    assert walk_check(str(plain)) is None
    assert check_file(str(plain)) is not None  # but discovery does not offer it
    binary = tmp_path / "wtmp.log"
    binary.write_bytes(b"\x00\x01\x02" * 10)
    assert walk_check(str(binary)) == "binary (NUL bytes)"
    stray = tmp_path / "agent.log"  # one NUL in a line of a real log: still a log
    stray.write_bytes(structlog_line("a") + b"\n" + b"x\x00y\n" + structlog_line("b") * 5)
    assert walk_check(str(stray)) is None


def test_formats_lists_what_a_directory_holds_that_is_skipped(tmp_path: Path) -> None:
    import io

    from agenttui.commands import formats

    source_tree(tmp_path)
    write_logs(tmp_path / "logs")
    out = io.BytesIO()
    assert formats.print_formats([str(tmp_path)], as_json=True, out=out) == 0
    entries = [orjson.loads(line) for line in out.getvalue().splitlines()]
    read = [e for e in entries if e["shape"] != "skipped"]
    skipped = {Path(e["path"]).name: e["reason"] for e in entries if e["shape"] == "skipped"}
    assert [Path(e["path"]).name for e in read] == ["agent.log"]
    assert skipped["app.py"].startswith("source code")
    assert skipped["data.bin"].startswith("binary")
    assert skipped["venv"] in ("a Python virtualenv", "dependencies or cache")
    assert skipped["node_modules"] == "dependencies or cache"
    assert skipped["notes"] == "its first lines are not structured logs"


def test_an_unreadable_file_not_named_like_a_log_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    btmp = tmp_path / "btmp"
    btmp.write_bytes(b"\x00" * 10)
    log = tmp_path / "agent.log"
    log.write_bytes(structlog_line("r") + b"\n")
    real_open = os.open

    def deny(path: str, flags: int, *args: int) -> int:
        if os.path.basename(os.fsdecode(path)) in ("btmp", "agent.log"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", deny)
    assert walk_check(str(btmp)) == "Permission denied"
    assert walk_check(str(log)) is None  # a log: read, and its problem reported


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=4096), st.sampled_from(["x.log", "x.jsonl", "x", "x.txt", "x.log.1"]))
def test_any_bytes_get_a_verdict_never_an_exception(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    for verdict in (check_file(str(path)), walk_check(str(path))):
        assert verdict is None or isinstance(verdict, str)
    got = describe(str(path), "test")
    assert isinstance(got, str) or (got.requests >= 0 and got.failures >= 0)
    if data.count(b"\0") * 100 > len(data):
        assert check_file(str(path)) is not None  # binary is never a log
