"""Shared test helpers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"


def jl(**fields: Any) -> bytes:
    """One JSON line."""
    return orjson.dumps(fields) + b"\n"


@pytest.fixture(autouse=True)
def _private_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay history and notes of a test go to a fresh state directory, never the user's."""
    if "AGENTTUI_STATE_DIR" not in os.environ:
        monkeypatch.setenv("AGENTTUI_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    # The demo agent replayed by tests keeps its scratch files in a test directory too,
    # not in /tmp/agenttui-demo-<uid> where they would outlive the run.
    if "AGENT_WORKDIR" not in os.environ:
        monkeypatch.setenv("AGENT_WORKDIR", str(tmp_path_factory.mktemp("agent-work")))


@pytest.fixture
def write_log(tmp_path: Path) -> Callable[..., Path]:
    """Write lines (dicts or bytes) into a log file in tmp_path and return its path."""

    def write(*lines: dict[str, Any] | bytes, name: str = "agent.log") -> Path:
        path = tmp_path / name
        with path.open("ab") as f:
            for line in lines:
                f.write(line if isinstance(line, bytes) else orjson.dumps(line) + b"\n")
        return path

    return write


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory of its own (for an ``agenttui.toml``), no ``AGENTTUI_TZ``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTTUI_TZ", "")  # restored (unset) after the test, even if --tz set it
    monkeypatch.delenv("AGENTTUI_TZ")
    yield tmp_path


def parallel_pieces(monkeypatch: pytest.MonkeyPatch, log: Path, pieces: int = 7) -> list[int]:
    """From now on index ``log`` with two workers, in about ``pieces`` pieces; returns the list
    that gets, for each parallel scan, how many ranges it handed to child processes."""
    from agenttui.model import bulk

    monkeypatch.setenv("AGENTTUI_WORKERS", "2")
    monkeypatch.setattr(bulk, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(bulk, "PIECE_BYTES", log.stat().st_size // pieces)
    started: list[int] = []
    real_start = bulk.start_children

    def start(*args: object) -> tuple[int, bulk.Children]:
        own_end, children = real_start(*args)  # type: ignore[arg-type]
        started.append(len(children.ranges))
        return own_end, children

    monkeypatch.setattr(bulk, "start_children", start)
    return started
