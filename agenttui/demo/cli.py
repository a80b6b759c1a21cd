"""The demo agent's command line: a query as an argument, or a JSON request on stdin (the
replay of a capture)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from agenttui.demo.planner import DEFAULT_MODEL


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


def read_stdin_request() -> tuple[str, str | None, dict[str, Any] | None]:
    """Parse ``{"query": ..., "request_id": ..., "context": ...}`` from stdin.

    Returns:
        ``(query, request_id, context)``.

    Raises:
        UsageError: If stdin is not such a JSON object.
    """
    raw = sys.stdin.buffer.read()
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"--stdin expects one JSON object: {exc}") from exc
    if not isinstance(obj, dict):
        raise UsageError("--stdin expects one JSON object")
    query = obj.get("query")
    if not isinstance(query, str) or not query.strip():
        raise UsageError('--stdin object needs a non-empty string "query"')
    request_id = obj.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not request_id):
        raise UsageError('"request_id" must be a non-empty string')
    context = obj.get("context")
    if context is not None and not isinstance(context, dict):
        raise UsageError('"context" must be an object')
    return query, request_id, context


def parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m agenttui.demo.agent",
        description="Run one query through the demo agent (JSON logs, capture on failure).",
    )
    parser.add_argument("query", nargs="?", help="query text (or use --stdin)")
    parser.add_argument("--stdin", action="store_true", help="read a JSON request from stdin")
    parser.add_argument("--log-file", type=Path, help="append JSON logs here (default stderr)")
    parser.add_argument(
        "--captures-dir",
        type=Path,
        help="where failed_*.json go (default: captures/ next to --log-file, else ./captures)",
    )
    parser.add_argument("--model", help=f"planner model (default {DEFAULT_MODEL})")
    parser.add_argument("--seed", type=int, help="seed of the simulated latencies")
    return parser
