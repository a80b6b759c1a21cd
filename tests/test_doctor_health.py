"""The agent's health endpoint: real HTTP servers on 127.0.0.1, started by the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenttui import config
from agenttui.doctor import endpoint_watch
from agenttui.doctor.endpoint_fetch import fetch
from agenttui.doctor.endpoint_read import interpret, read
from agenttui.doctor.endpoint_watch import EndpointWatch, label_of
from agenttui.doctor.output import as_json, endpoint_summary, format_table
from agenttui.doctor.runner import Context, run
from agenttui.doctor.settings import Settings, parse_settings, settings_for_tui
from tests.conftest import ROOT
from tests.health_server import HealthServer, health_server
from tests.test_doctor import closed_port

__all__ = ["health_server"]

SEED = {
    "status": "healthy",
    "checks": {"database": True, "api_key": True, "tools": True, "memory": True},
}


def rows(watch: EndpointWatch, url: str) -> dict[str, tuple[str, str]]:
    """name -> (status, reason) of the newest rows of ``url``."""
    (probe,) = watch.latest([url])
    return {c.name: (c.status, c.reason) for c in probe.checks}


def test_healthy(health_server: HealthServer) -> None:
    health_server.behaviour.answer(SEED)
    watch = EndpointWatch()
    probe = watch.poll(health_server.url, 2.0)
    label = f"127.0.0.1:{health_server.port}"
    assert probe.label == label and probe.verdict == "ok" and probe.word == "healthy"
    got = rows(watch, health_server.url)
    assert set(got) == {f"health {label}"} | {
        f"health {label} {n}" for n in ("database", "api_key", "tools", "memory")
    }
    assert all(status == "ok" for status, _ in got.values())
    assert "first seen" in got[f"health {label} tools"][1]
    assert endpoint_summary([probe]) == ("healthy", "ok")
    assert health_server.behaviour.hits == ["/health"]


def test_unhealthy_rows_and_reason(health_server: HealthServer) -> None:
    health_server.behaviour.answer(
        {
            "status": "unhealthy",
            "checks": {
                "database": True,
                "api_key": False,
                "tools": "error",
                "memory": 97.5,
                "cache": {"status": "ok", "latency_ms": 3, "password": "hunter2"},
            },
            "version": "1.4.2",
            "token": "sk-live-abcdefghijklmnop1234",
        }
    )
    watch = EndpointWatch()
    probe = watch.poll(health_server.url, 2.0)
    assert probe.verdict == "fail" and probe.word == "unhealthy"
    label = probe.label
    got = rows(watch, health_server.url)
    assert got[f"health {label}"][0] == "fail"
    assert got[f"health {label} api_key"][0] == "fail"
    assert got[f"health {label} tools"][0] == "fail"
    assert got[f"health {label} memory"][0] == "fail"  # 97.5% of memory: over 95
    assert got[f"health {label} database"][0] == "ok"
    assert got[f"health {label} cache"][0] == "ok"
    shown = json.dumps(got)
    assert "latency_ms" in shown and "1.4.2" in shown
    assert "hunter2" not in shown and "abcdefghijklmnop" not in shown
    assert endpoint_summary([probe]) == ("unhealthy", "fail")


def test_flip_is_an_event(health_server: HealthServer) -> None:
    health_server.behaviour.answer(SEED)
    watch = EndpointWatch()
    watch.poll(health_server.url, 2.0)
    assert watch.flips() == []
    health_server.behaviour.answer(
        {"status": "unhealthy", "checks": {**SEED["checks"], "tools": False}}  # type: ignore[dict-item]
    )
    before = time.time()
    watch.poll(health_server.url, 2.0)
    flips = watch.flips()
    assert [(f.check, f.now) for f in flips] == [("", "unhealthy"), ("tools", "false")]
    tools = flips[1]
    assert before - 1 <= tools.at <= time.time() + 1
    stamp = time.strftime("%H:%M:%S", time.gmtime(tools.at))
    assert tools.describe() == f"tools went unhealthy at {stamp}"
    status, reason = rows(watch, health_server.url)[f"health {label_of(health_server.url)} tools"]
    assert status == "fail" and f"since {stamp} (was true)" in reason
    watch.poll(health_server.url, 2.0)  # still failing: no new flip
    assert len(watch.flips()) == 2
    health_server.behaviour.answer(SEED)
    watch.poll(health_server.url, 2.0)  # back to healthy: recovery is not a flip to unhealthy
    assert len(watch.flips()) == 2
    _, reason = rows(watch, health_server.url)[f"health {label_of(health_server.url)} tools"]
    assert "(was false)" in reason


def test_slow_answer_honours_the_deadline(health_server: HealthServer) -> None:
    health_server.behaviour.delay = 5.0
    started = time.monotonic()
    answer = fetch(health_server.url, 0.5)
    assert time.monotonic() - started < 1.2
    assert answer.status is None and answer.error is not None
    assert "within 0.5s" in answer.error


def test_dribbled_headers_honour_the_deadline(health_server: HealthServer) -> None:
    """A server that keeps sending header bytes never trips a socket timeout: the deadline
    still ends the poll."""
    health_server.behaviour.dribble = True
    started = time.monotonic()
    watch = EndpointWatch()
    probe = watch.poll(health_server.url, 0.6)
    assert time.monotonic() - started < 1.3
    assert probe.verdict == "fail" and probe.word == "unreachable"
    assert "no complete answer within 0.6s" in probe.reason


def test_garbage_is_a_fail_row(health_server: HealthServer) -> None:
    b = health_server.behaviour
    b.body, b.content_type = b"<html>\x1b[31mOops</html>", "text/html"
    watch = EndpointWatch()
    probe = watch.poll(health_server.url, 2.0)
    assert probe.verdict == "fail" and probe.word == "not JSON"
    (row,) = probe.checks
    assert row.status == "fail" and "not JSON" in row.reason and "\x1b" not in row.reason
    assert row.fix


def test_non_2xx_is_a_fail_row_with_its_checks(health_server: HealthServer) -> None:
    health_server.behaviour.answer({"status": "down", "checks": {"database": False}}, 503)
    watch = EndpointWatch()
    probe = watch.poll(health_server.url, 2.0)
    assert probe.verdict == "fail" and probe.word == "HTTP 503"
    got = rows(watch, health_server.url)
    assert "HTTP 503" in got[f"health {probe.label}"][1]
    assert got[f"health {probe.label} database"][0] == "fail"


def test_refused_is_a_fail_row() -> None:
    url = f"http://127.0.0.1:{closed_port()}/health"
    probe = EndpointWatch().poll(url, 2.0)
    assert probe.verdict == "fail" and probe.word == "unreachable"
    assert "refused" in probe.checks[0].reason


def test_redirects_stay_on_the_host(health_server: HealthServer) -> None:
    b = health_server.behaviour
    b.status, b.location = 302, "http://example.invalid/health"
    answer = fetch(health_server.url, 1.0)
    assert answer.error is not None and "another host, not followed" in answer.error
    assert b.hits == ["/health"]


def test_body_is_capped(health_server: HealthServer) -> None:
    health_server.behaviour.body = b'{"status": "ok", "pad": "' + b"x" * 100_000 + b'"}'
    answer = fetch(health_server.url, 2.0, max_bytes=4096)
    assert answer.error is not None and "cap" in answer.error and len(answer.body) == 0


def test_run_includes_the_endpoint_and_fails(health_server: HealthServer) -> None:
    health_server.behaviour.answer({"status": "unhealthy", "checks": {"tools": False}})
    s = Settings(env_hosts=False, health_urls=[health_server.url], health_timeout=1.0)
    checkup = run(s, Context())
    assert checkup.failed
    data = as_json(checkup)
    (endpoint,) = data["health"]
    assert endpoint["status"] == "unhealthy" and endpoint["healthy"] is False
    assert endpoint["checks"] == [
        {"name": "tools", "verdict": "fail", "value": "false", "extra": ""}
    ]
    assert "health endpoints: unhealthy" in format_table(checkup)


# ---------------------------------------------------------------------------- reading JSON


@pytest.mark.parametrize(
    ("data", "overall", "items"),
    [
        ({"status": "UP", "components": {"db": {"status": "UP"}}}, "ok", {"db": "ok"}),
        ({"healthy": False, "checks": [{"name": "tools", "ok": False}]}, "fail", {"tools": "fail"}),
        ({"database": "ok", "cache": "error"}, "unknown", {"database": "ok", "cache": "fail"}),
        (
            {"status": "pass", "checks": {"db:time": [{"status": "warn", "observedValue": 8}]}},
            "ok",
            {"db:time": "warn"},
        ),
        ({"checks": {"outer": {"inner": {"ok": True}}}}, "unknown", {"outer.inner": "ok"}),
        ({"status": "ok", "checks": {"uptime_s": 12345}}, "ok", {"uptime_s": "unknown"}),
        ({"status": {"db": "ok", "cache": "down"}}, "unknown", {"db": "ok", "cache": "fail"}),
        ([1, 2], "unknown", {}),
        ("ok", "ok", {}),
    ],
)
def test_shapes(data: object, overall: str, items: dict[str, str]) -> None:
    reading = interpret(data)
    assert reading.overall == overall
    assert {i.name: i.verdict for i in reading.items} == items


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_read_never_crashes_on_bytes(body: bytes) -> None:
    try:
        read(body)
    except ValueError as exc:
        assert "\n" not in str(exc)


def _containers(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    _containers,
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_interpret_any_json(data: object) -> None:
    reading = interpret(data)
    assert len(reading.items) <= 40
    for item in reading.items:
        assert "\n" not in item.name and "\n" not in item.shown


# ---------------------------------------------------------------------------- settings


def test_health_url_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert parse_settings({"health_url": "http://127.0.0.1:8000/health"}).health_urls == [
        "http://127.0.0.1:8000/health"
    ]
    assert parse_settings({"health_url": ["http://a:1/h", "https://b/h"]}).health_urls == [
        "http://a:1/h",
        "https://b/h",
    ]
    for bad in ("ftp://a/h", "127.0.0.1:8000", 3, ["http://a:99999/"]):
        with pytest.raises(config.ConfigError, match="health_url"):
            parse_settings({"health_url": bad})
    cfg = tmp_path / "agenttui.toml"
    cfg.write_text('[doctor]\nhealth_url = "http://127.0.0.1:1/health"\n')
    monkeypatch.setenv("AGENTTUI_CONFIG", str(cfg))
    assert settings_for_tui().health_urls == ["http://127.0.0.1:1/health"]
    monkeypatch.setenv("AGENTTUI_HEALTH_URL", "http://127.0.0.1:2/health, http://127.0.0.1:3/h")
    assert settings_for_tui().health_urls == [
        "http://127.0.0.1:2/health",
        "http://127.0.0.1:3/h",
    ]
    assert settings_for_tui(["http://127.0.0.1:4/health"]).health_urls == [
        "http://127.0.0.1:4/health"
    ]
    monkeypatch.setenv("AGENTTUI_HEALTH_URL", "nope")
    assert "AGENTTUI_HEALTH_URL" in (settings_for_tui().config_error or "")


# ---------------------------------------------------------------------------- the command


def _doctor(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (cwd / "agenttui.toml").write_text(
        "[doctor]\nenv_hosts = false\nmemory_warn_pct = 99.9\nmemory_fail_pct = 99.99\n"
        "disk_warn_pct = 99.9\n"
    )
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


def test_cli_exit_codes(health_server: HealthServer, tmp_path: Path) -> None:
    health_server.behaviour.answer(SEED)
    ok = _doctor(["--json", "--health-url", health_server.url], tmp_path)
    assert ok.returncode == 0, ok.stdout
    assert json.loads(ok.stdout)["health"][0]["status"] == "healthy"
    health_server.behaviour.answer({"status": "unhealthy", "checks": {"tools": False}})
    bad = _doctor(["--health-url", health_server.url], tmp_path)
    assert bad.returncode == 1
    assert "tools" in bad.stdout and "health endpoints: unhealthy" in bad.stdout
    dead = f"http://127.0.0.1:{closed_port()}/health"
    gone = _doctor(["--json"], tmp_path, {"AGENTTUI_HEALTH_URL": f"{health_server.url},{dead}"})
    assert gone.returncode == 1
    data = json.loads(gone.stdout)
    assert [h["reachable"] for h in data["health"]] == [True, False]
    assert _doctor(["--health-url", "ftp://x"], tmp_path).returncode == 2


def test_budgets_and_masked_url(
    health_server: HealthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flips and remembered checks are bounded; a token in the URL is never shown."""
    monkeypatch.setattr(endpoint_watch, "MAX_TRACKED", 4)
    url = health_server.url + "?token=s3cr3t-value-123"
    watch = EndpointWatch([url], max_flips=3)
    for n in range(6):
        health_server.behaviour.answer({"status": "ok", "checks": {f"c{n}": True}})
        watch.poll(url, 2.0)
        health_server.behaviour.answer({"status": "down", "checks": {f"c{n}": False}})
        watch.poll(url, 2.0)
    assert len(watch.flips()) == 3 and watch.dropped_flips > 0
    (probe,) = watch.latest([url])
    assert "s3cr3t" not in probe.url and "token=****" in probe.url
    assert all("s3cr3t" not in c.reason for c in probe.checks)
    assert len(watch._since) <= 4 + 1  # pruned to what the endpoint reports now
