"""Doctor checks: real loopback sockets, real subprocesses, a fake cgroup tree.

Nothing here contacts an address other than 127.0.0.1: every server is started by the test,
and hosts from the environment are turned off (``env_hosts = false``) or the environment is
replaced.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agenttui import config
from agenttui.doctor import runner
from agenttui.doctor.access import Who, check_path, check_script, check_user, current_user
from agenttui.doctor.environment import check_binary
from agenttui.doctor.hosts import Target, check_host, env_targets, parse_target
from agenttui.doctor.output import as_json, format_table
from agenttui.doctor.pressure import check_pressure, pressure
from agenttui.doctor.processes import ProcessWatcher
from agenttui.doctor.resources import check_cpu, check_memory, read_cpu_quota, read_memory
from agenttui.doctor.results import Check, Checkup
from agenttui.doctor.runner import RUN_SLACK, Context, run
from agenttui.doctor.settings import PathRule, Settings, parse_settings, settings_for_tui
from agenttui.session import Session
from tests.conftest import ROOT

# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def server() -> Iterator[int]:
    """A loopback TCP server that accepts connections; yields its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(1)
    srv.close()


def closed_port() -> int:
    """A loopback port nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A loopback server whose accept queue is full: new connects hang (never accepted)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=1)
    yield port
    filler.close()
    srv.close()


def quiet_settings(**kw: object) -> Settings:
    """Settings that never look at hosts from the environment."""
    s = Settings(env_hosts=False)
    for key, value in kw.items():
        setattr(s, key, value)
    return s


def by_name(report: Checkup) -> dict[str, Check]:
    return {c.name: c for c in report.checks}


# ---------------------------------------------------------------------------- environment


def test_env_missing_empty_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-proj-" + "q7Zr" * 10
    monkeypatch.delenv("DOC_MISSING", raising=False)
    monkeypatch.setenv("DOC_EMPTY", "")
    monkeypatch.setenv("DOC_KEY", secret)
    monkeypatch.setenv("DOC_LOCAL", "http://user:hunter2@localhost:8080/v1")
    monkeypatch.setenv("DOC_QUOTED", '"abc"')
    report = run(
        quiet_settings(env=["DOC_MISSING", "DOC_EMPTY", "DOC_KEY", "DOC_LOCAL", "DOC_QUOTED"]),
        Context(log_dirs=[]),
    )
    checks = by_name(report)
    assert checks["env DOC_MISSING"].status == "fail"
    assert "not set" in checks["env DOC_MISSING"].reason
    assert checks["env DOC_MISSING"].fix
    assert checks["env DOC_EMPTY"].status == "fail"
    assert "empty" in checks["env DOC_EMPTY"].reason
    key = checks["env DOC_KEY"]
    assert key.status == "ok"
    assert "sk-" in key.reason and f"{len(secret)} chars" in key.reason
    local = checks["env DOC_LOCAL"]
    assert local.status == "warn" and "localhost" in local.reason
    assert checks["env DOC_QUOTED"].status == "warn"
    dumped = json.dumps(as_json(report)) + format_table(report)
    for value in (secret, "q7Zr", "hunter2", "abc"):
        assert value not in dumped


def test_env_targets_show_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "DB_HOST": "db.internal",
        "DB_PORT": "6543",
        "API_URL": "https://u:pw@api.x:8443/p?k=1",
        "CACHE_URL": "redis://cache",
        "AGENTTUI_URL": "http://ignored",
        "OTHER": "x",
    }
    targets = env_targets(env)
    assert [(t.source, t.host, t.port) for t in targets] == [
        ("API_URL", "api.x", 8443),
        ("CACHE_URL", "cache", 6379),
        ("DB_HOST", "db.internal", 6543),
    ]
    assert all("pw" not in t.label for t in targets)
    assert parse_target("[::1]:80") == Target("::1", 80, "config")
    assert parse_target("http://") is None


# ---------------------------------------------------------------------------- binaries


def test_binary_present_and_missing() -> None:
    ok = check_binary("python3")
    assert ok.status == "ok" and "Python 3" in ok.reason
    missing = check_binary("agenttui-no-such-binary")
    assert missing.status == "fail" and "not found on PATH" in missing.reason
    assert "install" in missing.fix


def test_binary_that_cannot_run(tmp_path: Path) -> None:
    bad = tmp_path / "broken"
    bad.write_bytes(b"\x7fELF garbage")
    bad.chmod(0o755)
    check = check_binary("broken", path=str(tmp_path))
    assert check.status == "fail" and "cannot run" in check.reason


# ---------------------------------------------------------------------------- hosts


def test_host_connects(server: int) -> None:
    target = Target("127.0.0.1", server, "config")
    ok = check_host(target, timeout=2, allow_localhost=True)
    assert ok.status == "ok" and "connects" in ok.reason
    warn = check_host(target, timeout=2)
    assert warn.status == "warn" and "localhost" in warn.reason and warn.fix


def test_host_refused() -> None:
    port = closed_port()
    check = check_host(Target("127.0.0.1", port, "DB_HOST"), timeout=2)
    assert check.status == "fail" and "refused" in check.reason and "DB_HOST" in check.reason
    assert check.fix


def test_host_connect_timeout(full_backlog: int) -> None:
    started = time.monotonic()
    check = check_host(Target("127.0.0.1", full_backlog, "config"), timeout=0.4)
    assert time.monotonic() - started < 2
    assert check.status == "fail" and "timed out" in check.reason


def test_dns_that_hangs_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*_a: object, **_k: object) -> list[object]:
        time.sleep(5)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    started = time.monotonic()
    check = check_host(Target("db.example", 5432, "config"), timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert check.status == "fail" and "did not answer" in check.reason


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: object, **_k: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    check = check_host(Target("db.typo", 5432, "DATABASE_URL"), timeout=1)
    assert check.status == "fail" and "does not resolve" in check.reason
    assert "DATABASE_URL" in check.fix


def test_whole_run_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    def stuck(*_a: object, **_k: object) -> list[Check]:
        time.sleep(10)
        return []

    monkeypatch.setattr(runner, "check_disk", stuck)
    started = time.monotonic()
    report = run(quiet_settings(timeout=0.3), Context())
    assert time.monotonic() - started < 0.3 + RUN_SLACK + 0.5
    disk = by_name(report)["disk"]
    assert disk.status == "fail" and "did not finish" in disk.reason


# ---------------------------------------------------------------------------- users and paths


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every user may enter (pytest's tmp_path is private to its owner)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="agenttui-doctor-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_paths_as_user(tmp_path: Path, open_dir: Path) -> None:
    me = current_user()
    (tmp_path / "data").mkdir()
    ok = check_path(PathRule("data", "rw"), me, cwd=tmp_path)
    assert ok.status == "ok"
    missing = check_path(PathRule("cache", "r"), me, cwd=tmp_path)
    assert missing.status == "fail" and "does not exist" in missing.reason
    assert "absolute path" in missing.fix
    other = Who("agent", 54321, frozenset({54321}), "the agent process (pid 1)")
    if tmp_path.stat().st_mode & 0o001 == 0:
        hidden = check_path(PathRule(str(tmp_path / "data"), "r"), other)
        assert hidden.status == "fail" and "cannot enter" in hidden.reason
    private = open_dir / "private.txt"
    private.write_text("x")
    private.chmod(0o600)
    denied = check_path(PathRule(str(private), "r"), other)
    assert denied.status == "fail" and "no read permission" in denied.reason
    assert "chown" in denied.fix
    private.chmod(0o644)
    assert check_path(PathRule(str(private), "r"), other).status == "ok"
    assert check_path(PathRule(str(private), "w"), other).status == "fail"


def test_user_check() -> None:
    root = Who("root", 0, frozenset({0}), "you")
    alice = Who("alice", 1000, frozenset({1000}), "you")
    assert check_user(alice, None).status == "ok"
    assert check_user(root, None).status == "warn"
    agent = Who("svc", 999, frozenset({999}), "the agent process (pid 7)")
    mixed = check_user(root, agent)
    assert mixed.status == "ok" and "svc" in mixed.reason


def test_scripts(tmp_path: Path, open_dir: Path) -> None:
    me = current_user()
    good = tmp_path / "good.sh"
    good.write_text("#!/usr/bin/env python3\nprint(1)\n")
    good.chmod(0o755)
    assert check_script(str(good), me).status == "ok"
    crlf = tmp_path / "crlf.sh"
    crlf.write_bytes(b"#!/bin/sh\r\necho hi\r\n")
    crlf.chmod(0o755)
    check = check_script(str(crlf), me)
    assert check.status == "fail" and "CR" in check.reason
    plain = open_dir / "plain.sh"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    other = Who("agent", 54321, frozenset({54321}), "the [doctor] user setting")
    assert check_script(str(plain), other).status == "fail"
    missing_interp = tmp_path / "x.sh"
    missing_interp.write_text("#!/usr/bin/env agenttui-no-such-interp\n")
    missing_interp.chmod(0o755)
    assert "not on PATH" in check_script(str(missing_interp), me).reason
    assert check_script(str(tmp_path / "nope.sh"), me).status == "fail"


# ---------------------------------------------------------------------------- cgroups


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def test_cgroup_v2_memory_and_cpu(tmp_path: Path) -> None:
    mib = 1 << 20
    root = _write(
        tmp_path,
        {
            "memory.max": str(512 * mib),
            "memory.current": str(500 * mib),
            "memory.stat": f"anon 1\ninactive_file {10 * mib}\n",
            "cpu.max": "50000 100000",
            "cpu.stat": "nr_periods 100\nnr_throttled 40\n",
        },
    )
    mem = read_memory(root, None)
    assert (mem.version, mem.limit, mem.usage, mem.working_set) == (
        2,
        512 * mib,
        500 * mib,
        490 * mib,
    )
    check = check_memory(Settings(), root, None)
    assert check.status == "fail" and "512 MB" in check.reason and "cgroup v2" in check.reason
    (root / "memory.current").write_text(str(450 * mib))
    assert check_memory(Settings(), root, None).status == "warn"
    (root / "memory.current").write_text(str(100 * mib))
    assert check_memory(Settings(), root, None).status == "ok"
    (root / "memory.max").write_text("max\n")
    unlimited = check_memory(Settings(), root, None)
    assert "no memory limit" in unlimited.reason
    cpu = check_cpu(root, None)
    assert cpu.status == "warn" and "0.5 CPUs" in cpu.reason and "40%" in cpu.reason
    (root / "cpu.max").write_text("max 100000\n")
    assert check_cpu(root, None).reason.startswith("no CPU quota")


def test_cgroup_v1_memory_and_cpu(tmp_path: Path) -> None:
    mib = 1 << 20
    root = _write(
        tmp_path,
        {
            "memory/memory.limit_in_bytes": str(1024 * mib),
            "memory/memory.usage_in_bytes": str(900 * mib),
            "memory/memory.stat": "total_inactive_file 0\n",
            "cpu/cpu.cfs_quota_us": "200000",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    mem = read_memory(root, None)
    assert (mem.version, mem.limit, mem.working_set) == (1, 1024 * mib, 900 * mib)
    assert check_memory(Settings(memory_warn_pct=80), root, None).status == "warn"
    (root / "memory/memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert read_memory(root, None).limit is None
    cpu = check_cpu(root, None)
    assert cpu.status == "ok" and "2 CPUs" in cpu.reason and "v1" in cpu.reason
    (root / "cpu/cpu.cfs_quota_us").write_text("-1\n")
    assert read_cpu_quota(root, None)[1] is None


def test_cgroup_path_from_proc(tmp_path: Path) -> None:
    root = _write(
        tmp_path / "cg",
        {
            "memory.max": "max",
            "memory.current": "1",
            "kubepods/pod1/memory.max": "1000",
            "kubepods/pod1/memory.current": "990",
        },
    )
    proc = tmp_path / "cgroup"
    proc.write_text("0::/kubepods/pod1\n")
    mem = read_memory(root, proc)
    assert mem.limit == 1000 and mem.usage == 990


def test_no_cgroup(tmp_path: Path) -> None:
    mem = read_memory(tmp_path, None)
    assert mem.version is None and mem.host_total > 0
    assert check_memory(Settings(), tmp_path, None).reason.startswith("no container limit")


# ---------------------------------------------------------------------------- processes


def _agent(marker: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])


def _wait_gone(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(5)


def test_process_watcher_notices_restart_by_name() -> None:
    marker = f"agenttui-test-agent-{uuid.uuid4().hex}"
    first = _agent(marker)
    second: subprocess.Popen[bytes] | None = None
    try:
        watcher = ProcessWatcher(pattern=marker)
        infos = watcher.refresh()
        assert [p.pid for p in infos] == [first.pid]
        info = infos[0]
        assert info.rss > 0 and info.threads >= 1 and info.open_files >= 0
        assert 0 <= info.uptime_s < 30
        assert watcher.check(infos).status == "ok"
        assert watcher.refresh() and not watcher.restarts
        _wait_gone(first)
        gone = watcher.refresh()
        assert gone == [] and watcher.check(gone).status == "fail"
        second = _agent(marker)
        infos = watcher.refresh()
        assert [p.pid for p in infos] == [second.pid]
        assert [(r.old_pid, r.new_pid) for r in watcher.restarts] == [(first.pid, second.pid)]
        check = watcher.check(infos)
        assert check.status == "warn" and "restarted 1x" in check.reason
        assert f"{first.pid} -> {second.pid}" in check.reason
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                _wait_gone(proc)


def test_process_watcher_by_pid_finds_the_new_one() -> None:
    marker = f"agenttui-test-agent-{uuid.uuid4().hex}"
    first = _agent(marker)
    second: subprocess.Popen[bytes] | None = None
    try:
        watcher = ProcessWatcher(pid=first.pid)
        assert [p.pid for p in watcher.refresh()] == [first.pid]
        _wait_gone(first)
        second = _agent(marker)
        assert [p.pid for p in watcher.refresh()] == [second.pid]
        assert watcher.restarts[-1].old_pid == first.pid
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                _wait_gone(proc)


def test_process_children_counted() -> None:
    marker = f"agenttui-test-agent-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, time; "
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code, marker])
    try:
        watcher = ProcessWatcher(pid=parent.pid)
        deadline = time.monotonic() + 5
        while True:
            infos = watcher.refresh()
            if (infos and infos[0].children >= 1) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert infos[0].children == 1
    finally:
        import psutil  # type: ignore[import-untyped]

        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        _wait_gone(parent)


# ---------------------------------------------------------------------------- log pressure


def _failed_call(rid: str, ts: float, error: str) -> list[dict[str, object]]:
    return [
        {"event": "request_start", "request_id": rid, "timestamp": ts, "query": "q"},
        {"event": "tool_call_start", "request_id": rid, "tool": "call_llm", "timestamp": ts},
        {
            "event": "tool_call_failed",
            "request_id": rid,
            "tool": "call_llm",
            "level": "error",
            "timestamp": ts + 0.1,
            "error": error,
        },
        {
            "event": "request_failed",
            "request_id": rid,
            "level": "error",
            "timestamp": ts + 0.2,
            "error": error,
        },
    ]


def test_pressure_per_minute(write_log: Callable[..., Path]) -> None:
    base = 1_700_000_000.0 - 1_700_000_000.0 % 60  # a minute boundary
    lines: list[dict[str, object]] = []
    lines += _failed_call("a", base + 5, "RateLimitError: 429 Too Many Requests")
    lines += _failed_call("b", base + 65, "RateLimitError: 429 Too Many Requests")
    lines += _failed_call("c", base + 70, "rate limit exceeded")
    lines += _failed_call("d", base + 130, "ReadTimeout: timed out after 5s")
    lines += _failed_call("e", base + 135, "FileNotFoundError: data.csv")
    lines += [
        {"event": "request_start", "request_id": "f", "timestamp": base + 170},
        {
            "event": "request_failed",
            "request_id": "f",
            "level": "error",
            "timestamp": base + 175,
            "error": "deadline exceeded",
        },
    ]
    lines += _failed_call("old", base - 3600, "429")
    session = Session([str(write_log(*lines))])
    session.scan()
    index = session.index
    p = pressure(index.traces.values(), index.errors, minutes=3)
    assert p.end == pytest.approx(base + 175.2, abs=0.5)
    assert p.rate_limited == [1, 2, 0]
    assert p.timeouts == [0, 0, 2]
    check = check_pressure(p)
    assert check.status == "warn" and "3 rate limited" in check.reason
    assert "2 timeouts" in check.reason
    quiet = pressure(index.traces.values(), index.errors, minutes=3, end=base + 3600)
    assert quiet.total_rate_limited == 0 and check_pressure(quiet).status == "ok"
    session.close()


# ---------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"binary": ["rg"]}, r"\[doctor\] binary: unknown setting"),
        ({"env": "KEY"}, r"\[doctor\] env must be a list"),
        ({"timeout": "3"}, r"\[doctor\] timeout must be a positive number"),
        ({"paths": [{"path": "x", "mode": "rq"}]}, r"\[doctor\] paths: mode"),
        ({"agent_pid": -1}, r"\[doctor\] agent_pid must be a positive integer"),
        ({"agent_name": "("}, r"\[doctor\] agent_name: not a valid pattern"),
    ],
)
def test_bad_settings(table: dict[str, object], message: str) -> None:
    with pytest.raises(config.ConfigError, match=message) as info:
        parse_settings(table)
    assert "\n" not in str(info.value)


def test_settings_for_tui_never_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "agenttui.toml"
    bad.write_text("[doctor]\nenv = 3\n")
    monkeypatch.setenv("AGENTTUI_CONFIG", str(bad))
    s = settings_for_tui()
    assert s.config_error is not None and "env" in s.config_error
    report = run(s, Context())
    assert by_name(report)["config"].status == "fail"
    bad.write_text('[doctor]\npaths = ["data", {path = "/tmp", mode = "rw"}]\n')
    monkeypatch.setenv("AGENTTUI_AGENT_PID", "123")
    s = settings_for_tui()
    assert s.config_error is None and s.agent_pid == 123
    assert s.paths == [PathRule("data", "r"), PathRule("/tmp", "rw")]


# ---------------------------------------------------------------------------- the command


def _doctor_cli(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "agenttui", "doctor", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_done_means(tmp_path: Path, server: int) -> None:
    """A box missing a variable, a binary and a reachable host: all three named, exit 1."""
    dead = closed_port()
    cfg = tmp_path / "prod.toml"
    cfg.write_text(f"""
[doctor]
env = ["SEARCH_API_KEY", "PRESENT_KEY"]
binaries = ["agenttui-missing-tool", "python3"]
hosts = ["127.0.0.1:{dead}", "127.0.0.1:{server}"]
allow_localhost = true
env_hosts = false
""")
    started = time.monotonic()
    result = _doctor_cli(
        ["--config", str(cfg)], tmp_path, {"PRESENT_KEY": "sk-live-0123456789abcdef"}
    )
    assert time.monotonic() - started < 15
    assert result.returncode == 1, result.stderr
    out = result.stdout
    lines = out.splitlines()

    def line_of(name: str) -> int:
        return next(i for i, ln in enumerate(lines) if name in ln)

    for name, words in (
        (" env SEARCH_API_KEY ", "not set"),
        (" binary agenttui-missing-tool ", "not found on PATH"),
        (f" host 127.0.0.1:{dead} ", "refused"),
    ):
        i = line_of(name)
        assert "fail" in lines[i] and words in lines[i]
        assert lines[i + 1].strip().startswith("fix: ")
    assert "ok" in lines[line_of(f" host 127.0.0.1:{server} ")]
    assert "ok" in lines[line_of(" binary python3 ")]
    assert "sk-live-0123456789abcdef" not in out
    as_json = _doctor_cli(["--config", str(cfg), "--json"], tmp_path)
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    failed = {c["name"] for c in data["checks"] if c["status"] == "fail"}
    assert {
        "env SEARCH_API_KEY",
        "binary agenttui-missing-tool",
        f"host 127.0.0.1:{dead}",
    } <= failed
    assert data["ok"] is False and data["counts"]["fail"] >= 3


def test_cli_ok_and_bad_usage(tmp_path: Path) -> None:
    cfg = tmp_path / "agenttui.toml"
    cfg.write_text(
        '[doctor]\nbinaries = ["python3"]\nenv_hosts = false\n'
        "memory_warn_pct = 99.9\nmemory_fail_pct = 99.99\ndisk_warn_pct = 99.9\n"
    )
    ok = _doctor_cli(["--json", str(ROOT / "sample_logs")], tmp_path)
    assert ok.returncode == 0, ok.stdout
    data = json.loads(ok.stdout)
    assert data["pressure"]["rate_limited"] > 0
    cfg.write_text('[doctor]\nbinary = ["rg"]\n')
    bad = _doctor_cli([], tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "[doctor] binary" in bad.stderr
    assert _doctor_cli(["--agent-pid", "x"], tmp_path).returncode == 2
    assert _doctor_cli(["--config", str(tmp_path / "nope.toml")], tmp_path).returncode == 2
    assert _doctor_cli(["--agent-name", "["], tmp_path).returncode == 2
    assert _doctor_cli([str(tmp_path / "no-such-logs")], tmp_path).returncode == 2
