"""Captures, replay targets (real child processes, a real HTTP server on 127.0.0.1), verdicts,
process cleanup, history, the ``replay`` / ``export-test`` commands."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest

from agenttui import cli, config
from agenttui.replay import captures, history
from agenttui.replay import export as export_test
from agenttui.replay import runner as replay
from agenttui.replay.captures import Capture, CaptureStore
from agenttui.replay.runner import Settings, Target, TargetError
from agenttui.session import Session

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CAPTURES = ROOT / "sample_logs" / "captures"
ERROR = "RuntimeError: missing environment variable SEARCH_API_KEY"


# ------------------------------------------------------------------------------ helpers


def write_capture(folder: Path, name: str = "failed_1795681909860.json", **fields: Any) -> Path:
    data: dict[str, Any] = {
        "request_id": "req-abc123def456",
        "query": "look up news",
        "error": ERROR,
        "traceback": 'Traceback (most recent call last):\n  File "/srv/agent.py", line 3, in '
        f"run\n{ERROR}\n",
        "context": {
            "cwd": "/nowhere",
            "env": {"SEARCH_API_KEY": None, "TOOL_TIMEOUT": "0.05"},
            "TOOL_TIMEOUT": 0.05,
        },
        "timestamp": "2026-11-26T08:31:49.860558Z",
        "failed_tool": {"tool": "web_search"},
    }
    data.update(fields)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def script(tmp_path: Path, name: str, body: str) -> Target:
    """A Python script target (run with this interpreter)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return Target("command", (sys.executable, str(path)), setting="test")


def settings(target: Target, **kw: Any) -> Settings:
    kw.setdefault("timeout", 5.0)
    kw.setdefault("kill_grace", 0.2)
    return Settings(target=target, **kw)


AGENT_LOGS = """
import json, sys
req = json.loads(sys.stdin.read())
def log(**kw):
    kw.setdefault("request_id", req["request_id"])
    sys.stderr.write(json.dumps(kw) + "\\n")
log(event="request_start", query=req["query"], timestamp="2026-01-01T00:00:00Z")
log(event="tool_call_start", tool="web_search", call_id="c1", timestamp="2026-01-01T00:00:00Z")
"""


def pids_alive(pid_file: Path) -> list[int]:
    pids = [int(p) for p in pid_file.read_text().split()] if pid_file.exists() else []
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def wait_gone(pid_file: Path, timeout: float = 2.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while pids_alive(pid_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pids_alive(pid_file)


@pytest.fixture
def cap(tmp_path: Path) -> Capture:
    return captures.load(str(write_capture(tmp_path / "caps")))


# ------------------------------------------------------------------------------ captures


def test_capture_fields_and_problems(tmp_path: Path) -> None:
    good = captures.load(str(write_capture(tmp_path)))
    assert good.problem is None and good.replayable
    assert good.request_id == "req-abc123def456" and good.failed_tool == "web_search"
    assert good.timestamp == pytest.approx(1795681909.86, abs=0.01)
    assert good.input() == {
        "query": "look up news",
        "request_id": "req-abc123def456",
        "context": good.context,
    }

    bad = tmp_path / "failed_2.json"
    bad.write_text('{"query": "x", ')
    loaded = captures.load(str(bad))
    assert loaded.problem is not None and loaded.problem.startswith("not valid JSON")
    assert not loaded.replayable

    arr = tmp_path / "failed_3.json"
    arr.write_text("[1, 2]")
    assert captures.load(str(arr)).problem == "not a JSON object (a list)"

    partial = tmp_path / "failed_4.json"
    partial.write_text(json.dumps({"query": "q", "error": 5}))
    p = captures.load(str(partial))
    assert p.replayable
    assert p.problem is not None
    assert 'no "request_id"' in p.problem and '"error" is not a string' in p.problem


def test_store_lists_bad_captures_notices_new_ones_and_links(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "agent.log").write_text(
        json.dumps(
            {
                "event": "request_start",
                "request_id": "req-1",
                "query": "q one",
                "timestamp": "2026-11-26T08:31:49Z",
            }
        )
        + "\n"
        + json.dumps(
            {
                "event": "request_failed",
                "request_id": "req-1",
                "error": ERROR,
                "timestamp": "2026-11-26T08:31:50Z",
            }
        )
        + "\n"
        + json.dumps(
            {
                "event": "request_start",
                "request_id": "req-2",
                "query": "q two",
                "timestamp": "2026-11-26T08:31:49Z",
            }
        )
        + "\n"
    )
    write_capture(logs / "captures", request_id="req-1")
    (logs / "captures" / "failed_9.json").write_text("not json")
    session = Session([str(logs)])
    session.scan()
    store = CaptureStore(session.specs)
    assert store.refresh()
    assert len(store.all()) == 2  # the broken one is listed, with its problem
    assert any(c.problem for c in store.all())
    assert not store.refresh()  # nothing changed
    # no request id: linked by query and nearest time
    write_capture(
        logs / "captures", name="failed_1795681909999.json", request_id=None, query="q two"
    )
    assert store.refresh()
    links = store.by_request(session.index)
    assert set(links) == {"req-1", "req-2"}
    assert links["req-2"].request_id is None
    session.close()


# ------------------------------------------------------------------------------ settings


def test_settings_precedence_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTTUI_REPLAY_COMMAND", raising=False)
    with pytest.raises(TargetError, match="no target"):
        replay.load_settings()
    (tmp_path / "agenttui.toml").write_text(
        '[replay]\ncommand = ["true"]\ntimeout = 3\nprofile = "capture"\n[replay.env]\nA = "1"\n'
    )
    s = replay.load_settings(env_pairs=["B=2", "A=9"])
    assert s.target.argv == ("true",) and s.timeout == 3 and s.profile == "capture"
    assert dict(s.env) == {"A": "9", "B": "2"}
    monkeypatch.setenv("AGENTTUI_REPLAY_COMMAND", "false --x")
    assert replay.load_settings().target.argv == ("false", "--x")
    s = replay.load_settings(target_http="http://127.0.0.1:1/run", timeout=1.5)
    assert s.target.kind == "http" and s.timeout == 1.5
    monkeypatch.delenv("AGENTTUI_REPLAY_COMMAND")

    cases = {
        'command = "no-such-binary-xyz"': "replay.command: 'no-such-binary-xyz' not found",
        "command = 5": "replay.command: must be a list of strings or a string",
        'http = "ftp://x"': "replay.http: must be an http",
        'callable = "not a callable"': "replay.callable: must look like",
        'command = ["true"]\nhttp = "http://127.0.0.1:1/"': "replay.http: give only one",
        'command = ["true"]\ntimeout = "soon"': "replay.timeout: must be a number",
        'command = ["true"]\nprofile = "prod"': "replay.profile: must be one of",
        'command = ["true"]\nbogus = 1': "replay.bogus: unknown setting",
    }
    for body, message in cases.items():
        (tmp_path / "agenttui.toml").write_text(f"[replay]\n{body}\n")
        with pytest.raises(TargetError) as info:
            replay.load_settings()
        assert message in str(info.value) and "\n" not in str(info.value)
    (tmp_path / "agenttui.toml").unlink()
    with pytest.raises(TargetError, match="--env: expected KEY=VALUE"):
        replay.load_settings(target_command="true", env_pairs=["novalue"])
    (tmp_path / "agenttui.toml").write_text("[replay\n")
    with pytest.raises(config.ConfigError):
        replay.load_settings()


# ------------------------------------------------------------------------------ verdicts


def test_fixed_command_gets_input_on_stdin(tmp_path: Path, cap: Capture) -> None:
    target = script(
        tmp_path,
        "ok",
        """
        import json, sys
        req = json.loads(sys.stdin.read())
        print("answer to", req["query"], req["request_id"], sorted(req["context"]))
    """,
    )
    result = replay.replay(cap, settings(target))
    assert result.verdict == replay.NOT_REPRODUCED and result.exit_code == 0
    assert result.answer.startswith("answer to look up news req-abc123def456")
    assert result.error is None
    assert "+error: (none: it succeeded)" in result.diff


def test_reproduced_builds_the_replay_trace(tmp_path: Path, cap: Capture) -> None:
    target = script(
        tmp_path,
        "repro",
        AGENT_LOGS
        + f"""
log(event="tool_call_failed", tool="web_search", call_id="c1", level="error",
    error={ERROR!r}, duration_ms=1.5, timestamp="2026-01-01T00:00:00.002Z",
    exception=[{{"exc_type": "RuntimeError", "exc_value": "missing environment variable "
                "SEARCH_API_KEY", "frames": [{{"filename": "/home/me/agent.py", "lineno": 9,
                "name": "web_search"}}]}}])
log(event="request_failed", level="error", error={ERROR!r}, duration_ms=3.0,
    timestamp="2026-01-01T00:00:00.003Z")
sys.exit(1)
""",
    )
    progress: list[str] = []
    result = replay.replay(cap, settings(target), progress=progress.append)
    assert result.verdict == replay.REPRODUCED
    assert result.error == ERROR and result.signature == result.original_signature
    tr = result.trace
    assert tr.request_id == "req-abc123def456" and tr.status == "error"
    assert [(s.tool, s.status, s.duration_ms) for s in tr.spans] == [("web_search", "error", 1.5)]
    assert 'File "/home/me/agent.py", line 9, in web_search' in result.traceback
    assert '-  File "/srv/agent.py", line 3, in run' in result.diff
    assert any("tool_call_failed web_search" in line for line in progress)


def test_different_failure_from_a_plain_traceback(tmp_path: Path, cap: Capture) -> None:
    target = script(
        tmp_path,
        "other",
        """
        import sys
        sys.stdin.read()
        open("/definitely/not/here.csv")
    """,
    )
    result = replay.replay(cap, settings(target))
    assert result.verdict == replay.DIFFERENT
    assert result.error is not None and result.error.startswith("FileNotFoundError")
    assert result.traceback.startswith("Traceback (most recent call last):")


def test_same_error_with_other_numbers_and_paths_is_reproduced(tmp_path: Path) -> None:
    c = captures.load(
        str(
            write_capture(
                tmp_path,
                error="TimeoutError: /v1/inventory did not answer within TOOL_TIMEOUT=0.05s",
            )
        )
    )
    target = script(
        tmp_path,
        "t",
        """
        import sys
        sys.stdin.read()
        raise TimeoutError("/v2/inventory did not answer within TOOL_TIMEOUT=2s")
    """,
    )
    assert replay.replay(c, settings(target)).verdict == replay.REPRODUCED


def test_timeout_kills_the_group_even_when_sigterm_is_ignored(tmp_path: Path, cap: Capture) -> None:
    pid_file = tmp_path / "pids"
    target = script(
        tmp_path,
        "hang",
        f"""
        import os, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        kids = [subprocess.Popen([sys.executable, "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "time.sleep(60)"]) for _ in range(2)]
        with open({str(pid_file)!r}, "w") as f:
            f.write(" ".join(str(p) for p in [os.getpid()] + [k.pid for k in kids]))
        time.sleep(60)
    """,
    )
    t0 = time.monotonic()
    result = replay.replay(cap, settings(target, timeout=1.0))
    assert result.verdict == replay.TIMEOUT
    assert time.monotonic() - t0 < 4
    assert len(pid_file.read_text().split()) == 3
    assert wait_gone(pid_file) == []


def test_killed_by_a_signal_is_a_crash(tmp_path: Path, cap: Capture) -> None:
    target = script(
        tmp_path,
        "segv",
        """
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    """,
    )
    result = replay.replay(cap, settings(target))
    assert result.verdict == replay.CRASHED
    assert result.signal == "SIGKILL" and result.error == "killed by SIGKILL"


def test_grandchildren_left_behind_are_killed(tmp_path: Path, cap: Capture) -> None:
    pid_file = tmp_path / "pids"
    target = script(
        tmp_path,
        "forker",
        f"""
        import os, subprocess, sys
        kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        open({str(pid_file)!r}, "w").write(str(kid.pid))
        print("done")
    """,
    )
    result = replay.replay(cap, settings(target))
    assert result.verdict == replay.NOT_REPRODUCED
    assert wait_gone(pid_file) == []


def test_flood_is_bounded_and_counted(tmp_path: Path, cap: Capture) -> None:
    target = script(
        tmp_path,
        "flood",
        """
        import os, sys
        sys.stdin.read()
        block = b"x" * (1 << 20)
        for _ in range(100):
            os.write(1, block)
        for _ in range(20):
            os.write(2, block)
    """,
    )
    result = replay.replay(cap, settings(target, timeout=20))
    assert result.verdict == replay.NOT_REPRODUCED
    assert len(result.stdout) == replay.MAX_OUTPUT
    assert result.stdout_dropped == 100 * (1 << 20) - replay.MAX_OUTPUT
    assert result.stderr_dropped == 20 * (1 << 20) - replay.MAX_OUTPUT


def test_hostile_query_never_reaches_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    query = f"$(touch {marker}) `touch {marker}`; touch {marker}\0 \x1b[2J" + "é" * (1 << 19)
    c = captures.load(str(write_capture(tmp_path, query=query)))
    assert c.query == query
    target = script(
        tmp_path,
        "echo",
        """
        import json, sys
        q = json.loads(sys.stdin.buffer.read())["query"]
        print(len(q), "\\0" in q)
    """,
    )
    result = replay.replay(c, settings(target))
    assert result.verdict == replay.NOT_REPRODUCED
    assert result.answer.split() == [str(len(query)), "True"]
    assert not marker.exists()


def test_capture_profile_applies_only_the_allowlist(
    tmp_path: Path, cap: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_API_KEY", "local-key")
    workdir = tmp_path / "prod-cwd"
    workdir.mkdir()
    cap.context = {
        "cwd": str(workdir),
        "TOOL_TIMEOUT": 0.05,
        "env": {"SEARCH_API_KEY": None, "GREP_BIN": "rg", "PATH": "/nope", "SECRET_TOKEN": "***"},
    }
    target = script(
        tmp_path,
        "env",
        """
        import json, os
        print(json.dumps({k: os.environ.get(k) for k in
                          ("SEARCH_API_KEY", "TOOL_TIMEOUT", "GREP_BIN", "EXTRA")}), os.getcwd())
    """,
    )
    plain = replay.replay(cap, settings(target, env={"EXTRA": "1"}))
    assert json.loads(plain.answer.rsplit(" ", 1)[0])["SEARCH_API_KEY"] == "local-key"
    # the profile alone applies nothing
    bare = replay.replay(cap, settings(target, env={"EXTRA": "1"}, profile="capture"))
    env_seen, cwd = bare.answer.strip().rsplit(" ", 1)
    assert json.loads(env_seen)["SEARCH_API_KEY"] == "local-key" and cwd != str(workdir)
    assert bare.settings["capture_env"] == {}
    # the allowlist applies what it names, never GREP_BIN or PATH; cwd only inside the root
    prod = replay.replay(
        cap,
        settings(
            target,
            env={"EXTRA": "1"},
            profile="capture",
            capture_env=("SEARCH_API_KEY", "TOOL_TIMEOUT", "GREP_BIN", "PATH"),
            capture_cwd_in=str(tmp_path),
        ),
    )
    env_seen, cwd = prod.answer.strip().rsplit(" ", 1)
    assert json.loads(env_seen) == {
        "SEARCH_API_KEY": None,
        "TOOL_TIMEOUT": "0.05",
        "GREP_BIN": None,
        "EXTRA": "1",
    }
    assert cwd == str(workdir)
    assert prod.settings["capture_env"] == {"SEARCH_API_KEY": "(unset)", "TOOL_TIMEOUT": "0.05"}
    warnings = " ".join(prod.settings["warnings"])
    assert "GREP_BIN: never applied" in warnings and "PATH: never applied" in warnings
    assert prod.summary()["applied"]["capture_cwd"] == str(workdir)


def test_log_file_target_logs_become_the_trace(tmp_path: Path, cap: Capture) -> None:
    log = tmp_path / "agent.log"
    log.write_text(json.dumps({"event": "request_start", "request_id": "old"}) + "\n")
    target = script(
        tmp_path,
        "logfile",
        f"""
        import json, sys
        req = json.loads(sys.stdin.read())
        with open({str(log)!r}, "a") as f:
            for ev in ("tool_call_start", "tool_call_success"):
                f.write(json.dumps({{"event": ev, "tool": "calc", "call_id": "1",
                                    "request_id": req["request_id"]}}) + "\\n")
        print("ok")
    """,
    )
    result = replay.replay(cap, settings(target, log_file=str(log)))
    # it succeeded, but web_search (what failed in production) never ran
    assert result.verdict == replay.NOT_REPRODUCED
    assert result.reason == "the failing step did not run (web_search was not called)"
    assert result.trace.request_id == "req-abc123def456"
    assert [s.tool for s in result.trace.spans] == ["calc"]


# ------------------------------------------------------------------------------ callable


def test_callable_target_runs_in_a_child(
    tmp_path: Path, cap: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "myagent.py").write_text(
        textwrap.dedent("""
        import os
        def ok(query, request_id=None):
            return {"pid": os.getpid(), "q": query, "rid": request_id}
        def fails(query):
            raise RuntimeError("missing environment variable SEARCH_API_KEY")
        async def other(query, **kw):
            raise KeyError(sorted(kw))
    """)
    )
    monkeypatch.chdir(tmp_path)
    out = replay.replay(cap, settings(replay.make_target("callable", "myagent:ok", "t")))
    assert out.verdict == replay.NOT_REPRODUCED
    answer = json.loads(out.answer)
    assert answer["pid"] != os.getpid() and answer["rid"] == "req-abc123def456"
    fails = replay.replay(cap, settings(replay.make_target("callable", "myagent:fails", "t")))
    assert fails.verdict == replay.REPRODUCED
    other = replay.replay(cap, settings(replay.make_target("callable", "myagent:other", "t")))
    assert other.verdict == replay.DIFFERENT and other.error is not None
    assert other.error.startswith("KeyError")
    with pytest.raises(TargetError, match="t: cannot import 'myagent:missing'"):
        replay.replay(cap, settings(replay.make_target("callable", "myagent:missing", "t")))


# ------------------------------------------------------------------------------ http


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        mode = self.path.strip("/")
        if mode == "slow":
            time.sleep(3)
        if mode == "ok":
            status, payload = 200, {"answer": body["query"].upper()}
        elif mode == "repro":
            status, payload = 500, {"error": ERROR}
        else:
            status, payload = 502, {"error": "ValueError: upstream said no"}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the slow case: the client gave up
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_http_target_verdicts(server: str, cap: Capture) -> None:
    def run(path: str, timeout: float = 5.0) -> replay.Result:
        target = replay.make_target("http", f"{server}/{path}", "t")
        return replay.replay(cap, settings(target, timeout=timeout))

    ok = run("ok")
    assert ok.verdict == replay.NOT_REPRODUCED and ok.http_status == 200, ok.error
    assert json.loads(ok.answer) == {"answer": "LOOK UP NEWS"}
    repro = run("repro")
    assert repro.verdict == replay.REPRODUCED and repro.http_status == 500
    other = run("other")
    assert other.verdict == replay.DIFFERENT and other.error == "ValueError: upstream said no"
    assert run("slow", timeout=0.5).verdict == replay.TIMEOUT
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    down = replay.replay(
        cap, settings(replay.make_target("http", f"http://127.0.0.1:{dead}/", "t"))
    )
    assert down.verdict == replay.CRASHED and "cannot reach" in (down.error or "")


# ------------------------------------------------------------------------------ history


def test_history_is_saved_under_the_state_dir(
    tmp_path: Path, cap: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTTUI_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    root = history.state_dir()
    assert root == tmp_path / "xdg" / "agenttui"
    target = script(tmp_path, "ok2", "print('fine')\n")
    result = replay.replay(cap, settings(target, env={"API_TOKEN": "sk-secret"}))
    path = history.save(root, cap, result.as_dict())
    assert path.is_relative_to(root) and "sk-secret" not in path.read_text()
    (path.parent / "20000101T000000.000000Z-broken.json").write_text("{")
    entries = history.load(root, cap)
    assert (
        entries[0]["verdict"] == "not reproduced" and entries[0]["input"]["query"] == "look up news"
    )
    assert entries[0]["settings"]["env"] == {"API_TOKEN": "****"}
    assert "problem" in entries[1]  # listed, not dropped
    assert not list((tmp_path / "caps").glob("replays"))  # never next to the captures


# ------------------------------------------------------------------------------ commands


def test_replay_command_on_sample_captures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    picked = sorted(SAMPLE_CAPTURES.glob("failed_*.json"))[:4]
    for p in picked:
        shutil.copy(p, folder)
    (folder / "failed_0.json").write_text("{broken")
    code = cli.main(
        [
            "replay",
            str(tmp_path),
            "--json",
            "--jobs",
            "4",
            "--state-dir",
            str(tmp_path / "state"),
            "--timeout",
            "20",
        ]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    rows, summary = lines[:-1], lines[-1]["summary"]
    assert len(rows) == 5 and summary["total"] == 5 and summary["skipped"] == 1
    for row in rows:
        assert set(row) >= {"capture", "request_id", "verdict", "duration_ms", "error"}
    assert {r["verdict"] for r in rows} <= {*replay.VERDICTS, "skipped"}
    assert summary["reproduced"] >= 1  # missing SEARCH_API_KEY and relative paths stay broken
    assert code == 1
    assert list((tmp_path / "state" / "replays").iterdir())


def test_replay_command_bad_target_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_capture(tmp_path)
    assert cli.main(["replay", str(tmp_path), "--target-http", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "agenttui: error: --target-http: must be an http:// or https:// URL"


def test_replay_command_exit_zero_when_fixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_capture(tmp_path / "c")
    ok = tmp_path / "ok.py"
    ok.write_text("print('fine')\n")
    code = cli.main(
        [
            "replay",
            str(tmp_path / "c"),
            "--target-command",
            f"{sys.executable} {ok}",
            "--state-dir",
            str(tmp_path / "s"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("not reproduced")


def test_export_test_runs_with_pytest(tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "c", query='it\'s "quoted" \\ {braces} \0')
    agent = tmp_path / "agent.py"
    agent.write_text(
        textwrap.dedent("""
        import json, os, sys
        req = json.loads(sys.stdin.read())
        if os.environ.get("MODE") != "fixed":
            sys.exit("RuntimeError: still broken")
        print("ok", len(req["query"]))
    """)
    )
    for mode, expect in (("fixed", 0), ("broken", 1)):
        out = tmp_path / f"test_export_{mode}.py"
        code = cli.main(
            [
                "export-test",
                str(capture),
                "-o",
                str(out),
                "--target-command",
                f"{sys.executable} {agent}",
                "--env",
                f"MODE={mode}",
                "--timeout",
                "10",
            ]
        )
        assert code == 0
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        assert run.returncode == expect, run.stdout + run.stderr
    assert (
        cli.main(["export-test", str(capture), "-o", str(out), "--target-command", "true"]) == 2
    )  # never overwrites


def test_export_test_demo_default_and_callable(tmp_path: Path) -> None:
    demo_capture = sorted(SAMPLE_CAPTURES.glob("failed_*.json"))[0]
    c = captures.load(str(demo_capture))
    source = export_test.render(c, replay.Settings(target=replay.demo_target()))
    compile(source, "t.py", "exec")
    assert "sys.executable, '-m', 'agenttui.demo.agent'" in source and "tmp_path" in source
    src = export_test.render(
        c, replay.Settings(target=replay.make_target("callable", "pkg.mod:fn", "t"))
    )
    compile(src, "t.py", "exec")


def test_settings_replace_keeps_frozen(cap: Capture) -> None:
    s = settings(Target("command", ("true",)))
    assert replace(s, timeout=1).timeout == 1


def test_silent_success_is_fixed_only_without_a_named_failing_step(
    tmp_path: Path, cap: Capture
) -> None:
    """A target that logs nothing cannot show that the failing tool ran: not reproduced, with
    the reason; a capture that names no failing step is fixed by the request succeeding."""
    target = script(tmp_path, "quiet", "print('fine')\n")
    named = replay.replay(cap, settings(target))
    assert named.verdict == replay.NOT_REPRODUCED
    assert named.reason == "the replay logged no tool calls: it cannot show that web_search ran"
    unnamed = captures.load(str(write_capture(tmp_path / "u", failed_tool=None)))
    assert replay.replay(unnamed, settings(target)).verdict == replay.FIXED
