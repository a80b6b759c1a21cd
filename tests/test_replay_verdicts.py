"""Honest replay verdicts (issue #15, section 2): ``fixed`` only when the step that failed in
production ran and succeeded here; transient failures say so; a capture written as
``"error": str(e)`` is compared by its traceback's ``Type: message``."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from agenttui import cli
from agenttui.replay import captures
from agenttui.replay import runner as replay
from agenttui.replay.runner import Settings, Target

RATE = "RateLimitError: 429 Too Many Requests"


def _capture(tmp_path: Path, **fields: Any) -> captures.Capture:
    data: dict[str, Any] = {
        "request_id": "req-v1",
        "query": "q",
        "error": "RuntimeError: boom",
        "timestamp": "2026-11-26T08:31:49Z",
        "failed_tool": {"tool": "call_llm"},
        "context": {},
    }
    data.update(fields)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "failed_1795681909860.json"
    path.write_text(json.dumps(data))
    return captures.load(str(path))


def _agent(tmp_path: Path, tools: list[tuple[str, str]], exit_with: str | None = None) -> Target:
    """An agent that logs the given (tool, ok|error) calls, then succeeds or fails."""
    lines = []
    for n, (tool, status) in enumerate(tools):
        end = "tool_call_success" if status == "ok" else "tool_call_failed"
        lines.append(f"log(event='tool_call_start', tool={tool!r}, call_id='{n}')")
        lines.append(f"log(event={end!r}, tool={tool!r}, call_id='{n}', level='info')")
    end = f"sys.exit({exit_with!r})" if exit_with else "print('answer')"
    body = textwrap.dedent(
        """
        import json, sys
        req = json.loads(sys.stdin.read())
        def log(**kw):
            kw["request_id"] = req["request_id"]
            sys.stderr.write(json.dumps(kw) + "\\n")
        """
    )
    path = tmp_path / "agent.py"
    path.write_text(body + "\n".join(lines) + "\n" + end + "\n")
    return Target("command", (sys.executable, str(path)), setting="t")


def _run(cap: captures.Capture, target: Target) -> replay.Result:
    return replay.replay(cap, Settings(target=target, timeout=10, kill_grace=0.2))


@pytest.mark.parametrize(
    ("tools", "verdict", "reason"),
    [
        ([("web_search", "ok"), ("call_llm", "ok")], replay.FIXED, ""),
        ([("web_search", "ok")], replay.NOT_REPRODUCED, "the failing step did not run"),
        ([("call_llm", "error")], replay.NOT_REPRODUCED, "the failing step did not succeed"),
        ([("call_llm", "error"), ("call_llm", "ok")], replay.FIXED, ""),
        ([], replay.NOT_REPRODUCED, "the replay logged no tool calls"),
    ],
)
def test_fixed_only_when_the_failing_step_ran_and_succeeded(
    tmp_path: Path, tools: list[tuple[str, str]], verdict: str, reason: str
) -> None:
    result = _run(_capture(tmp_path / "c"), _agent(tmp_path, tools))
    assert result.verdict == verdict
    assert result.reason.startswith(reason)


def test_transient_failure_says_so_beside_a_success(tmp_path: Path) -> None:
    cap = _capture(tmp_path / "c", error=RATE)
    result = _run(cap, _agent(tmp_path, [("call_llm", "ok")]))
    assert result.verdict == replay.FIXED and result.transient == "rate limit"
    assert "transient (rate limit)" in result.reason
    skipped = _run(cap, _agent(tmp_path, [("web_search", "ok")]))
    assert skipped.verdict == replay.NOT_REPRODUCED
    assert "did not run" in skipped.reason and "transient" in skipped.reason


def test_seed_style_capture_is_compared_by_its_traceback(tmp_path: Path) -> None:
    tb = (
        "Traceback (most recent call last):\n"
        '  File "/srv/agent.py", line 9, in call_llm\n'
        "    raise RateLimitError('429 Too Many Requests')\n"
        f"{RATE}\n"
    )
    cap = _capture(tmp_path / "c", error="429 Too Many Requests", traceback=tb)
    agent = tmp_path / "raise.py"
    agent.write_text(
        "class RateLimitError(Exception):\n    pass\n"
        "raise RateLimitError('429 Too Many Requests')\n"
    )
    result = _run(cap, Target("command", (sys.executable, str(agent)), setting="t"))
    assert result.verdict == replay.REPRODUCED, (result.error, result.original_signature)


def test_json_carries_the_original_error_and_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cap = _capture(tmp_path / "c", error=RATE)
    target = _agent(tmp_path, [("web_search", "ok")])
    code = cli.main(["replay", cap.path, "--json", "--target-command", " ".join(target.argv)])
    row, summary = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert row["verdict"] == "not reproduced" and row["original_error"] == RATE
    assert row["error"] is None and "did not run" in row["reason"]
    assert row["transient"] == "rate limit"
    assert summary["summary"]["not reproduced"] == 1 and code == 0


def test_incident_notes_include_the_replay_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenttui.replay import history

    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [
        {"event": "request_start", "request_id": "req-v1", "query": "q"},
        {"event": "request_failed", "request_id": "req-v1", "level": "error", "error": RATE},
    ]
    (logs / "agent.log").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cap = _capture(logs / "captures", error=RATE)
    state = tmp_path / "state"
    monkeypatch.setenv("AGENTTUI_STATE_DIR", str(state))
    result = _run(cap, _agent(tmp_path, [("web_search", "ok")]))
    history.save(state, cap, result.as_dict())
    assert cli.main(["report", "req-v1", str(logs)]) == 0
    out = capsys.readouterr().out
    assert "**not reproduced**" in out and "did not run" in out
    assert "(no replay of this request yet)" not in out
    assert cli.main(["report", "req-v1", str(logs), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["replay"][0]["verdict"] == "not reproduced"


def test_prod_vs_here_lists_the_differences_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_API_KEY", "sk-CANARYhere0123456789")
    monkeypatch.delenv("TOOL_TIMEOUT", raising=False)
    cap = _capture(
        tmp_path / "c",
        context={
            "cwd": "/srv/prod",
            "hostname": "prod-7",
            "python_version": "3.9.1",
            "model": "gpt-prod",
            "env": {"SEARCH_API_KEY": None, "TOOL_TIMEOUT": "0.05", "OPENAI_API_KEY": "***"},
            "packages": {"orjson": "0.0.1"},
        },
    )
    result = _run(cap, _agent(tmp_path, [("call_llm", "ok")]))
    rows = {r["what"]: (r["prod"], r["here"]) for r in result.context_diff}
    assert rows["cwd"][0] == "/srv/prod" and rows["hostname"] == ("prod-7", rows["hostname"][1])
    assert rows["env SEARCH_API_KEY"] == (None, "****")
    assert rows["env TOOL_TIMEOUT"] == ("0.05", None)
    assert rows["env OPENAI_API_KEY"][0] == "(set)"
    assert rows["package orjson"][0] == "0.0.1" and rows["model"][0] == "gpt-prod"
    assert "CANARYhere" not in json.dumps(result.summary())


def _flaky_agent(tmp_path: Path) -> Target:
    """Fails with the capture's error on odd runs, succeeds (calling call_llm) on even ones."""
    counter = tmp_path / "n"
    path = tmp_path / "flaky.py"
    path.write_text(
        textwrap.dedent(
            f"""
            import json, os, sys
            req = json.loads(sys.stdin.read())
            n = int(open({str(counter)!r}).read()) if os.path.exists({str(counter)!r}) else 0
            open({str(counter)!r}, "w").write(str(n + 1))
            def log(**kw):
                kw["request_id"] = req["request_id"]
                sys.stderr.write(json.dumps(kw) + "\\n")
            log(event="tool_call_start", tool="call_llm", call_id="1")
            if n % 2 == 0:
                log(event="tool_call_failed", tool="call_llm", call_id="1", level="error",
                    error={RATE!r})
                sys.exit({RATE!r})
            log(event="tool_call_success", tool="call_llm", call_id="1")
            print("ok")
            """
        )
    )
    return Target("command", (sys.executable, str(path)), setting="t")


def test_repeat_reports_counts_and_flaky(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cap = _capture(tmp_path / "c", error=RATE)
    target = _flaky_agent(tmp_path)
    argv = ["replay", cap.path, "--json", "--repeat", "5", "--target-command"]
    code = cli.main([*argv, " ".join(target.argv)])
    row, summary = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert row["verdict"] == "flaky" and row["runs"] == 5
    assert row["repeat"] == {"reproduced": 3, "fixed": 2}
    assert summary["summary"]["flaky"] == 1 and code == 1
    assert replay.describe_counts(row["repeat"]) == "reproduced 3/5, fixed 2/5"


async def test_shift_r_replays_five_times_in_the_tui(tmp_path: Path) -> None:
    from agenttui.commands.replay import ReplayOptions
    from agenttui.session import Session
    from agenttui.ui.app import AgentTUI
    from agenttui.ui.screens.replay_screen import ReplayScreen
    from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for

    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [
        {"event": "request_start", "request_id": "req-v1", "query": "q"},
        {"event": "request_failed", "request_id": "req-v1", "level": "error", "error": RATE},
    ]
    (logs / "agent.log").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _capture(logs / "captures", error=RATE)
    target = _flaky_agent(tmp_path)
    options = ReplayOptions(target_command=" ".join(target.argv), state_dir=str(tmp_path / "s"))
    app = AgentTUI(Session([str(logs)]), replay=options)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: app.captures.capture_for("req-v1") is not None)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("escape", "R")
        await pilot.pause(0.2)
        assert "Replay this capture 5 times" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.result is not None, timeout=30)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "FLAKY" in text and "reproduced 3/5, fixed 2/5" in text
