"""The TUI side of issue #12: copies hold no control characters, a canary secret of every shape
appears on no screen nor in any note or copy, a FIFO capture never blocks and one ``q`` quits,
``esc`` cancels a replay at once, quitting kills the replay, and a refused state directory
leaves the TUI running without history."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from textual.widgets import Static

from agenttui.commands.replay import ReplayOptions
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.replay_screen import ReplayScreen
from agenttui.ui.screens.trace_screen import TraceScreen
from tests.secret_shapes import CANARIES, SHAPES
from tests.test_security import trickler
from tests.test_ui_pilot import SIZE, ready, screen_text, wait_for

EVIL_ID = "req-1\ntouch /tmp/agenttui-pwned\n\x1b]52;c;eA==\x07\x9b\x7f"


def _lines(rid: str, *, error: str, extra: dict[str, object] | None = None) -> str:
    rows = [
        {"event": "request_start", "request_id": rid, "query": "q", **(extra or {})},
        {"event": "request_failed", "request_id": rid, "level": "error", "error": error},
    ]
    return "".join(json.dumps(r) + "\n" for r in rows)


def _capture(folder: Path, rid: str, **fields: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "request_id": rid,
        "query": "q",
        "error": "RuntimeError: boom",
        "timestamp": "2026-11-26T08:31:49Z",
        "context": {},
        **fields,
    }
    (folder / "failed_1795681909860.json").write_text(json.dumps(data))


async def test_copies_hold_no_control_characters(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "agent.log").write_text(_lines(EVIL_ID, error="E: \x1b[2J boom\x9b"))
    app = AgentTUI(Session([str(logs)]))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign,assignment]
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("c")
        await pilot.press("y")
        await wait_for(pilot, lambda: len(copied) == 2)
    for text in copied:
        assert all(c.isprintable() for c in text), repr(text)
    assert "\n" not in copied[0] and "touch" in copied[0]  # shown, never a line to run
    assert json.loads(copied[1])["request_id"] == EVIL_ID  # the JSON still says what it was


async def test_canary_of_every_shape_on_no_screen_note_or_copy(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    blob = "\n".join(text for _n, text, _c in SHAPES)
    extra: dict[str, object] = {"secrets": blob, "nested": [[[{"detail": blob}]]]}
    (logs / "agent.log").write_text(_lines("req-c", error=blob, extra=extra))
    os.environ["AGENTTUI_STATE_DIR"] = str(tmp_path / "state")
    app = AgentTUI(Session([str(logs)]))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign,assignment]
    seen: list[str] = []
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot, app)
        seen.append(screen_text(app))
        await pilot.press("y", "i")
        await wait_for(pilot, lambda: len(copied) == 1)
        await wait_for(pilot, lambda: (tmp_path / "state" / "notes").is_dir())
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        await pilot.pause(0.3)
        seen.append(screen_text(app))
        await pilot.press("enter")
        await pilot.pause(0.3)
        seen.append(screen_text(app))
    notes = list((tmp_path / "state" / "notes").glob("*.md"))
    assert notes
    outputs = [*seen, *copied, *(n.read_text() for n in notes)]
    for canary in CANARIES:
        for out in outputs:
            assert canary not in out, (
                canary,
                outputs.index(out),
                out[out.find(canary) - 300 : out.find(canary) + 100],
            )


async def test_fifo_capture_never_blocks_and_one_q_quits(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "captures").mkdir(parents=True)
    (logs / "agent.log").write_text(_lines("req-f", error="E: e"))
    os.mkfifo(logs / "captures" / "failed_1.json")
    app = AgentTUI(Session([str(logs)]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: len(app.captures.store.all()) == 1)
        await pilot.pause(4.5)  # two more rescans
        assert "not a regular file" in (app.captures.store.all()[0].problem or "")
        t0 = time.monotonic()
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=3)
        assert time.monotonic() - t0 < 2.0


async def test_esc_cancels_a_trickling_http_replay_at_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "agent.log").parent.mkdir()
    (logs / "agent.log").write_text(_lines("req-h", error="RuntimeError: boom"))
    _capture(logs / "captures", "req-h")
    with trickler(head=False) as url:
        options = ReplayOptions(target_http=url, timeout=60, state_dir=str(tmp_path / "state"))
        app = AgentTUI(Session([str(logs)]), replay=options)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot, app)
            await wait_for(pilot, lambda: app.captures.capture_for("req-h") is not None)
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
            await pilot.press("y")
            screen = app.screen
            assert isinstance(screen, ReplayScreen)
            await wait_for(pilot, lambda: screen.running)
            await pilot.pause(0.5)
            t0 = time.monotonic()
            await pilot.press("escape")
            await pilot.pause(0.05)
            assert not screen.running and time.monotonic() - t0 < 0.5
            assert "CANCELLED" in str(screen.query_one("#verdict", Static).render())
            assert app.screen is screen  # esc cancelled; esc again goes back
            await pilot.press("escape")
            assert app.screen is not screen


async def test_quitting_kills_the_running_replay(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "agent.log").parent.mkdir()
    (logs / "agent.log").write_text(_lines("req-q", error="RuntimeError: boom"))
    _capture(logs / "captures", "req-q")
    pid_file = tmp_path / "pids"
    agent = tmp_path / "agent.py"
    agent.write_text(
        "import os, subprocess, sys, time\n"
        "c = subprocess.Popen([sys.executable, '-c', "
        "'import os, time; os.setsid(); time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(f'{{os.getpid()}} {{c.pid}}')\n"
        "time.sleep(60)\n"
    )
    options = ReplayOptions(
        target_command=f"{sys.executable} {agent}", timeout=60, state_dir=str(tmp_path / "s")
    )
    app = AgentTUI(Session([str(logs)]), replay=options)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: app.captures.capture_for("req-q") is not None)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: pid_file.exists() and len(pid_file.read_text().split()) == 2)
        t0 = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - t0 < 3.0
    pids = [int(p) for p in pid_file.read_text().split()]
    deadline = time.monotonic() + 2
    left = pids
    while left and time.monotonic() < deadline:
        left = []
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
        time.sleep(0.05)
    assert left == []


async def test_refused_state_dir_leaves_the_tui_running_without_history(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "agent.log").parent.mkdir()
    (logs / "agent.log").write_text(_lines("req-s", error="RuntimeError: boom"))
    _capture(logs / "captures", "req-s")
    real = tmp_path / "real-state"
    real.mkdir()
    link = tmp_path / "state"
    link.symlink_to(real)
    options = ReplayOptions(target_command="true", timeout=10, state_dir=str(link))
    app = AgentTUI(Session([str(logs)]), replay=options)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await wait_for(pilot, lambda: app.captures.capture_for("req-s") is not None)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("y")
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await wait_for(pilot, lambda: screen.result is not None, timeout=10)
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "FIXED" in text and "symbolic link" in text
        assert app.is_running
    assert list(real.iterdir()) == []
