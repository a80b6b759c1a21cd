"""Tests of the demo agent (``agenttui.demo.agent``) and traffic generator.

They run the real CLIs as subprocesses in ``tmp_path`` and read the real files they
write. The only network use is TCP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agenttui.demo import agent
from agenttui.demo.process import start_traffic, stop_traffic

REPO_ROOT = Path(__file__).resolve().parents[1]
REQUEST_ID_RE = re.compile(r"^req-[0-9a-f]{12}$")
CAPTURE_NAME_RE = re.compile(r"^failed_\d{13}(-\d+)?\.json$")
SCRUBBED_ENV = ("SEARCH_API_KEY", "GREP_BIN", "TOOL_TIMEOUT", "AGENT_MODEL", "AGENT_TIME_SCALE")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for the subprocesses: repo importable, demo state inside tmp_path."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["AGENT_WORKDIR"] = str(tmp_path / "work")
    env.update(extra)
    return env


def _run_agent(
    tmp_path: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m agenttui.demo.agent`` in tmp_path, logging to tmp_path/agent.log."""
    cmd = [sys.executable, "-m", "agenttui.demo.agent", *args]
    cmd += ["--log-file", str(tmp_path / "agent.log"), "--captures-dir", str(tmp_path / "caps")]
    return subprocess.run(
        cmd,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _events(log: Path) -> list[dict[str, Any]]:
    """Parse every JSON line of a log file."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _captures(tmp_path: Path) -> list[Path]:
    """Capture files written so far."""
    caps = tmp_path / "caps"
    return sorted(caps.glob("failed_*.json")) if caps.exists() else []


def test_successful_query_logs_events_in_order(tmp_path: Path) -> None:
    proc = _run_agent(tmp_path, "read the bundled price list and compute the average price")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "average of price over 10 rows = 30.64"
    events = _events(tmp_path / "agent.log")
    assert [e["event"] for e in events] == [
        "request_start",
        "llm_call_start",
        "llm_call_end",
        "tool_call_start",
        "tool_call_success",
        "tool_call_start",
        "tool_call_success",
        "request_success",
    ]
    rid = events[0]["request_id"]
    assert REQUEST_ID_RE.match(rid)
    assert all(e["request_id"] == rid for e in events)
    assert all(e["level"] == "info" and e["timestamp"].endswith("Z") for e in events)
    start = events[0]
    assert start["query"].startswith("read the bundled") and start["model"] == agent.DEFAULT_MODEL
    assert [e["tool"] for e in events if e["event"] == "tool_call_start"] == [
        "read_file",
        "calculator",
    ]
    planned = events[2]
    assert planned["model"] == agent.DEFAULT_MODEL and planned["finish_reason"] == "tool_calls"
    assert planned["usage"]["completion_tokens"] == 12 + 40 * 2
    first_start, first_end = events[3], events[4]
    assert first_start["call_id"] == first_end["call_id"]
    assert first_start["params"]["path"].endswith("prices.csv")
    assert first_end["result_size"] > 0 and first_end["duration_ms"] >= 0
    assert events[-1]["answer_size"] == len(proc.stdout.strip())
    assert _captures(tmp_path) == []


@pytest.mark.parametrize(
    ("query", "env", "tool", "error_re"),
    [
        (
            "search the web for the latest Rust release",
            {},
            "web_search",
            r"^RuntimeError: missing environment variable SEARCH_API_KEY$",
        ),
        (
            "read data/prices.csv and compute the average",
            {},
            "read_file",
            r"^FileNotFoundError: .*'data/prices\.csv'",
        ),
        ("fetch http://localhost:8080/health", {}, "fetch_url", r"^ConnectionRefusedError: "),
        (
            "write report on Q3 sales",
            {},
            "write_report",
            r"^(PermissionError|IsADirectoryError): .*q3-sales\.md",
        ),
        ("grep the codebase for 'TODO'", {}, "run_grep", r"^FileNotFoundError: .*rg-not-installed"),
        (
            "ask the llm to compare 6 vendors",
            {"LLM_RATE_LIMIT": "1", "LLM_BURST": "3"},
            "call_llm",
            r"^RateLimitError: 429 Too Many Requests: rate limit exceeded for model ",
        ),
        (
            "check the inventory for sku A-104",
            {"TOOL_TIMEOUT": "0.3"},  # seed 2 -> the call takes 1.45 x TOOL_TIMEOUT
            "slow_api",
            r"^TimeoutError: /v1/inventory did not answer within TOOL_TIMEOUT=0\.3s$",
        ),
    ],
    ids=[
        "missing-env",
        "relative-path",
        "conn-refused",
        "permission",
        "no-binary",
        "429",
        "timeout",
    ],
)
def test_failure_kinds(
    tmp_path: Path, query: str, env: dict[str, str], tool: str, error_re: str
) -> None:
    proc = _run_agent(tmp_path, query, "--seed", "2", **env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    err_lines = proc.stderr.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("error: ")
    assert re.search(error_re, err_lines[0].removeprefix("error: "))

    events = _events(tmp_path / "agent.log")
    names = [e["event"] for e in events]
    assert names[0] == "request_start" and names[-2:] == ["tool_call_failed", "request_failed"]
    assert names[-3] == "tool_call_start"
    assert len({e["request_id"] for e in events}) == 1
    failed, req_failed = events[-2], events[-1]
    assert failed["tool"] == tool and failed["level"] == "error"
    assert failed["call_id"] == events[-3]["call_id"]
    assert re.search(error_re, failed["error"]) and failed["duration_ms"] >= 0
    exception = failed["exception"]
    assert isinstance(exception, list) and exception and all(isinstance(e, dict) for e in exception)
    assert exception[0]["exc_type"] == failed["error"].split(":")[0]
    frames = exception[0]["frames"]
    assert frames and {"filename", "lineno", "name"} <= set(frames[0])
    assert any(f["name"] == "run_query" for f in frames)
    assert req_failed["level"] == "error" and req_failed["error"] == failed["error"]

    (capture,) = _captures(tmp_path)
    assert CAPTURE_NAME_RE.match(capture.name) and req_failed["capture"] == capture.name
    data = json.loads(capture.read_text())
    assert {"request_id", "query", "error", "traceback", "context", "timestamp"} <= set(data)
    assert data["request_id"] == events[0]["request_id"] and data["query"] == query
    assert data["error"] == failed["error"]
    assert data["traceback"].startswith("Traceback (most recent call last):")
    context = data["context"]
    for key in ("cwd", "env", "TOOL_TIMEOUT", "model", "hostname", "pid", "python_version"):
        assert key in context
    assert context["cwd"] == str(tmp_path) and context["model"] == agent.DEFAULT_MODEL
    assert data["failed_tool"]["tool"] == tool


def test_capture_masks_secrets_and_stdin_replay_reuses_request_id(tmp_path: Path) -> None:
    first = _run_agent(
        tmp_path, "fetch http://billing.internal/api/invoices/7", OPENAI_API_KEY="sk-x"
    )
    assert first.returncode == 1
    (capture,) = _captures(tmp_path)
    data = json.loads(capture.read_text())
    assert data["context"]["env"]["OPENAI_API_KEY"] == "***"
    assert data["context"]["env"]["SEARCH_API_KEY"] is None
    assert "sk-x" not in capture.read_text()

    # Replay the capture file as-is: same request id, replay flag, still failing.
    replay = _run_agent(tmp_path, "--stdin", stdin=capture.read_text())
    assert replay.returncode == 1
    events = _events(tmp_path / "agent.log")
    rid = data["request_id"]
    assert [e["request_id"] for e in events] == [rid] * len(events)
    starts = [e for e in events if e["event"] == "request_start"]
    assert len(starts) == 2 and "replay" not in starts[0] and starts[1]["replay"] is True

    ok = _run_agent(
        tmp_path,
        "--stdin",
        stdin=json.dumps({"query": "compute 6 * 7", "request_id": "req-0123456789ab"}),
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "42"
    assert _events(tmp_path / "agent.log")[-1]["request_id"] == "req-0123456789ab"


def test_succeeding_variants_of_failing_tools(tmp_path: Path) -> None:
    assert _run_agent(tmp_path, "fetch http://status.internal/health").returncode == 0
    assert _run_agent(tmp_path, "draft a report on Q3 sales").returncode == 0
    web = _run_agent(tmp_path, "search the web for the latest Go release", SEARCH_API_KEY="k1")
    assert web.returncode == 0 and "go release" in web.stdout
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "prices.csv").write_text("sku,price\na,1\nb,3\n")
    rel = _run_agent(tmp_path, "read data/prices.csv and compute the average")
    assert rel.returncode == 0 and rel.stdout.strip() == "average of price over 2 rows = 2.00"
    assert _captures(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        ((), None),
        (("--stdin",), "not json"),
        (("--stdin",), "[1, 2]"),
        (("--stdin",), '{"request_id": "x"}'),
        (("--stdin", "a query"), '{"query": "q"}'),
        (("--bogus-flag", "q"), None),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...], stdin: str | None) -> None:
    proc = _run_agent(tmp_path, *args, stdin=stdin)
    assert proc.returncode == 2
    assert not (tmp_path / "agent.log").exists() or _events(tmp_path / "agent.log") == []


def test_no_log_file_logs_json_to_stderr(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agenttui.demo.agent", "hello, who are you?"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    assert events[0]["event"] == "request_start"
    assert events[-1]["event"] == "request_success"


def test_write_capture_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.123)
    paths = [agent.write_capture(tmp_path, {"n": i}) for i in range(3)]
    assert [p.name for p in paths] == [
        "failed_1700000000123.json",
        "failed_1700000000123-2.json",
        "failed_1700000000123-3.json",
    ]
    assert [json.loads(p.read_text())["n"] for p in paths] == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_planner_and_token_bucket() -> None:
    assert [c.tool for c in agent.plan("hello")] == ["summarize"]
    assert [c.tool for c in agent.plan("hello", agent.DRIFT_MODEL)] == ["summarize", "call_llm"]
    tools = [c.tool for c in agent.plan("ask the llm to compare 4 vendors")]
    assert tools == ["call_llm"] * 4
    now = [0.0]
    bucket = agent.TokenBucket(rate=1.0, capacity=2.0, clock=lambda: now[0])
    assert bucket.try_acquire() and bucket.try_acquire() and not bucket.try_acquire()
    now[0] = 1.0
    assert bucket.try_acquire() and not bucket.try_acquire()


def test_demo_package_imports_no_textual_or_rich() -> None:
    # structlog itself imports rich when it is installed; the demo must add nothing.
    for source in (REPO_ROOT / "agenttui" / "demo").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+(textual|rich)\b", source.read_text(), re.M)
    code = (
        "import sys, structlog, orjson\n"
        "before = set(sys.modules)\n"
        "import agenttui.demo.agent, agenttui.demo.traffic\n"
        "bad = [m for m in set(sys.modules) - before\n"
        "       if m.split('.')[0] in ('textual', 'rich')]\n"
        "assert not bad, bad\n"
    )
    env = _env(Path("/tmp"))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)


def test_traffic_generator_interleaves_and_fails_some(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "agenttui.demo.traffic", "--out", str(out)),
            *("--requests", "20", "--fast", "--seed", "5", "--concurrency", "4"),
        ],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    events = _events(out / "agent.log")
    starts = [e for e in events if e["event"] == "request_start"]
    ends = [e for e in events if e["event"] in ("request_success", "request_failed")]
    assert len(starts) == 20 and len(ends) == 20
    failed = [e for e in ends if e["event"] == "request_failed"]
    assert 1 <= len(failed) < 20
    assert len(list((out / "captures").glob("failed_*.json"))) == len(failed)
    # Interleaving: some request's lines are not contiguous in the file.
    order = [e["request_id"] for e in events]
    spans = {rid: (order.index(rid), len(order) - order[::-1].index(rid)) for rid in set(order)}
    assert any(end - start != order.count(rid) for rid, (start, end) in spans.items())


def _wait_for_lines(path: Path, timeout: float = 10.0) -> None:
    """Wait until ``path`` exists and holds at least one line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"no log lines in {path}")


def test_stop_traffic_leaves_no_process(tmp_path: Path) -> None:
    proc = start_traffic(tmp_path / "live", seed=1, env=_env(tmp_path))
    try:
        _wait_for_lines(tmp_path / "live" / "agent.log")
    finally:
        stop_traffic(proc)
    assert proc.returncode == 0  # SIGTERM is a clean exit
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    assert "Traceback" not in (tmp_path / "live" / "traffic.stderr").read_text()
    for line in (tmp_path / "live" / "agent.log").read_text().splitlines():
        json.loads(line)  # no torn lines


def test_traffic_exits_cleanly_on_sigint(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agenttui.demo.traffic", "--out", str(out), "--fast"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_lines(out / "agent.log")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def test_traffic_stops_when_its_parent_dies(tmp_path: Path) -> None:
    """A TUI killed by SIGHUP never runs its cleanup: the demo traffic must stop by itself."""
    import psutil  # type: ignore[import-untyped]

    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from agenttui.demo.process import start_traffic\n"
        f"proc = start_traffic(Path({str(tmp_path)!r}), fast=True)\n"
        "print(proc.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert psutil.pid_exists(child_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    else:
        psutil.Process(child_pid).kill()
        raise AssertionError("demo traffic outlived its parent")


def test_traffic_serves_its_real_health(tmp_path: Path) -> None:
    """The demo's /health reports its missing binary and variable as failing checks, and the
    doctor reads it like any agent's endpoint."""
    from agenttui.demo.process import health_url
    from agenttui.doctor.endpoint_watch import EndpointWatch

    out = tmp_path / "live"
    proc = start_traffic(out, seed=1, env=_env(tmp_path))
    try:
        url = health_url(out, timeout=10)
        assert url is not None and url.startswith("http://127.0.0.1:")
        watch = EndpointWatch([url])
        probe = watch.poll(url, 2.0)
        assert probe.word == "unhealthy"
        items = {i.name: i for i in probe.items}
        assert items["api_key"].verdict == "fail"  # SEARCH_API_KEY is scrubbed
        assert items["tools"].verdict == "fail" and "rg-not-installed" in items["tools"].extra
        assert items["services"].verdict == "ok"
        assert items["memory"].verdict in ("ok", "warn", "fail")
        fixed = start_traffic(
            tmp_path / "fixed",
            seed=1,
            env=_env(tmp_path, SEARCH_API_KEY="sk-demo-0123456789abcdef", GREP_BIN="true"),
        )
        try:
            other = health_url(tmp_path / "fixed", timeout=10)
            assert other is not None
            answer = {i.name: i.verdict for i in watch.poll(other, 2.0).items}
            assert answer["api_key"] == "ok" and answer["tools"] == "ok"
        finally:
            stop_traffic(fixed)
    finally:
        stop_traffic(proc)
