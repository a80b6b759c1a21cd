"""The TUI indexes a large file with child processes and swaps the preview for the full index."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agenttui import session
from agenttui.model import bulk
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from tests.test_bulk import _corpus


async def test_tui_scans_in_parallel_behind_a_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "agent.log"
    _corpus(path, 1500)
    monkeypatch.setenv("AGENTTUI_WORKERS", "2")
    monkeypatch.setattr(bulk, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(session, "PREVIEW_MIN_BYTES", 1)
    monkeypatch.setattr(session, "PREVIEW_BYTES", path.stat().st_size // 10)
    s = Session([str(path)])
    app = AgentTUI(s)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(300):
            if s.scanned:
                break
            await asyncio.sleep(0.05)
        await pilot.pause(0.3)
        assert s.scanned
        assert len(s.index) == 1500
        assert not s.problems
        assert "1,500" in str(app.main.header.render())
    s.close()
