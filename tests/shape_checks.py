"""Helpers of the real-shape tests: exact traces and ``formats --json``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson

from agenttui.commands import formats
from tests import shape_story

ERROR = shape_story.ERROR


def exact(traces: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(id, status, error, duration ms, [(tool, status, error, duration ms)...]) per trace."""
    return [
        (
            t["request_id"],
            t["status"],
            t["error"],
            t["duration_ms"],
            [(s["tool"], s["status"], s["error"], s["duration_ms"]) for s in t["tools"]],
        )
        for t in traces
    ]


def formats_of(*paths: Path) -> list[dict[str, Any]]:
    """What ``agenttui formats --json`` prints."""
    out = io.BytesIO()
    assert formats.print_formats([str(p) for p in paths], as_json=True, out=out) == 0
    return [orjson.loads(line) for line in out.getvalue().splitlines()]
