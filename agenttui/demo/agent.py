"""A small, deterministic AI agent that logs exactly like a production agent.

There is no LLM here: a keyword planner turns the query into a list of tool calls,
and every tool really performs its operation. Failures are therefore *real*:
a missing environment variable, a relative path that does not exist in the current
working directory, a refused TCP connection on 127.0.0.1, a write into a read-only
directory, a missing binary, a process-wide rate limiter and a timeout enforced with
:mod:`concurrent.futures`.

Logs are structlog JSON lines (one event per line, flushed per line, thread safe)::

    request_start -> llm_call_start -> llm_call_end (the planner: model, usage, finish reason)
                  -> tool_call_start -> tool_call_success | tool_call_failed
                  -> ... -> request_success | request_failed

Every line of one request carries the same ``request_id`` (bound with
``structlog.contextvars``). When a request fails, a capture file
``failed_<unix-ms>.json`` with the query, the error, the traceback and the runtime
context is written so that the request can be replayed later with ``--stdin``.

The agent is split by job: :mod:`~agenttui.demo.planner` (query -> tool calls),
:mod:`~agenttui.demo.tools` (the tools), :mod:`~agenttui.demo.runtime` (state the tools share),
:mod:`~agenttui.demo.logs` (JSON lines), :mod:`~agenttui.demo.captures` (failure captures) and
:mod:`~agenttui.demo.cli` (arguments, stdin requests); this module runs a request and is the
entry point.

Usage::

    python -m agenttui.demo.agent "read data/prices.csv and compute the average" \\
        --log-file agent.log --captures-dir captures
    python -m agenttui.demo.agent --stdin < captures/failed_1718000000000.json

Environment variables:
    SEARCH_API_KEY: API key of the (offline) web search tool; missing -> failure.
    TOOL_TIMEOUT: Timeout in seconds of the ``slow_api`` tool (default 2.0).
    GREP_BIN: Binary used by ``run_grep`` (default ``rg-not-installed``).
    AGENT_MODEL: Planner model name reported on ``request_start``.
    AGENT_WORKDIR: Directory holding ``reports/`` (read-only) and ``drafts/``.
    AGENT_TIME_SCALE: Multiplier applied to simulated latencies (default 1.0).
    LLM_RATE_LIMIT / LLM_BURST: Token bucket of ``call_llm`` (default 1/s, burst 3).
"""

from __future__ import annotations

import os
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agenttui.demo import runtime
from agenttui.demo.captures import build_context, write_capture
from agenttui.demo.cli import UsageError, parser, read_stdin_request
from agenttui.demo.logs import (
    bound_request,
    configure_logging,
    get_logger,
    new_call_id,
    new_request_id,
)
from agenttui.demo.logs import flush as flush_log
from agenttui.demo.planner import DEFAULT_MODEL, DRIFT_MODEL, PACKAGE_DATA, ToolCall, plan
from agenttui.demo.runtime import TokenBucket, interrupt_waits
from agenttui.demo.tools import TOOLS, RateLimitError, _ToolContext

__all__ = [
    "DEFAULT_MODEL",
    "DRIFT_MODEL",
    "PACKAGE_DATA",
    "TOOLS",
    "RateLimitError",
    "Result",
    "TokenBucket",
    "ToolCall",
    "build_context",
    "configure_logging",
    "interrupt_waits",
    "main",
    "new_request_id",
    "plan",
    "run_query",
    "shutdown",
    "write_capture",
]


def shutdown() -> None:
    """Stop background helpers (cut simulated waits short, stop the fake services) and flush
    the log. Call once at process exit; after it, simulated latencies return immediately."""
    runtime.shutdown()
    flush_log()


@dataclass
class Result:
    """Outcome of :func:`run_query`.

    Attributes:
        request_id: Request id bound to every log line of the request.
        query: The query text.
        ok: True when every tool call succeeded.
        answer: The answer text on success, else None.
        error: ``"ExcType: message"`` on failure, else None.
        duration_ms: Wall time of the request in milliseconds.
        model: Planner model name.
        tools: Names of the tools that were called, in order.
        failed_tool: Name of the tool that failed, if any.
        capture_path: Path of the capture file written on failure, if any.
    """

    request_id: str
    query: str
    ok: bool
    answer: str | None
    error: str | None
    duration_ms: float
    model: str
    tools: list[str] = field(default_factory=list)
    failed_tool: str | None = None
    capture_path: Path | None = None


# ------------------------------------------------------------------------ requests


def _format_error(exc: BaseException) -> str:
    """Format an exception as ``"ExcType: message"``."""
    return f"{type(exc).__name__}: {exc}"


def _ms(start: float) -> float:
    """Milliseconds elapsed since ``start`` (a ``perf_counter`` value)."""
    return round((time.perf_counter() - start) * 1000.0, 1)


def run_query(
    query: str,
    *,
    request_id: str | None = None,
    captures_dir: Path | None = None,
    model: str | None = None,
    seed: int | None = None,
    replay_context: dict[str, Any] | None = None,
) -> Result:
    """Plan and execute one query, logging every step as JSON lines.

    Args:
        query: The user query.
        request_id: Request id to reuse (e.g. when replaying a capture); new if None.
        captures_dir: Where to write ``failed_*.json`` on failure; no capture if None.
        model: Planner model; defaults to ``AGENT_MODEL`` or :data:`DEFAULT_MODEL`.
        seed: Seed of the simulated latencies; derived from the request id if None.
        replay_context: Context of the capture being replayed; when given,
            ``request_start`` carries ``replay=True``.

    Returns:
        The :class:`Result` of the request. Tool exceptions never propagate.
    """
    log = get_logger()
    request_id = request_id or new_request_id()
    model = model or os.environ.get("AGENT_MODEL") or DEFAULT_MODEL
    rng = random.Random(seed if seed is not None else request_id)
    start = time.perf_counter()
    tools: list[str] = []
    with bound_request(request_id):
        extra: dict[str, Any] = {"replay": True} if replay_context is not None else {}
        log.info("request_start", query=query, model=model, **extra)
        previous: str | None = None
        outputs: list[str] = []
        current: ToolCall | None = None
        call_id = ""
        try:
            for current in _planned(log, query, model, rng):
                call_id = new_call_id()
                tools.append(current.tool)
                log.info(
                    "tool_call_start", tool=current.tool, call_id=call_id, params=current.params
                )
                t0 = time.perf_counter()
                try:
                    ctx = _ToolContext(rng=rng, model=model, previous=previous)
                    previous = TOOLS[current.tool](current.params, ctx)
                except Exception as exc:
                    log.error(
                        "tool_call_failed",
                        tool=current.tool,
                        call_id=call_id,
                        error=_format_error(exc),
                        duration_ms=_ms(t0),
                        exc_info=True,
                    )
                    raise
                log.info(
                    "tool_call_success",
                    tool=current.tool,
                    call_id=call_id,
                    result_size=len(previous),
                    duration_ms=_ms(t0),
                )
                outputs.append(previous)
        except Exception as exc:
            error = _format_error(exc)
            capture_path: Path | None = None
            if captures_dir is not None:
                payload = {
                    "request_id": request_id,
                    "query": query,
                    "error": error,
                    "traceback": "".join(traceback.format_exception(exc)),
                    "context": build_context(model),
                    "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "failed_tool": {
                        "tool": current.tool if current else None,
                        "call_id": call_id,
                        "params": current.params if current else None,
                    },
                }
                if replay_context is not None:
                    payload["replayed_context"] = replay_context
                capture_path = write_capture(captures_dir, payload)
            fields: dict[str, Any] = {"error": error, "duration_ms": _ms(start)}
            if capture_path is not None:
                fields["capture"] = capture_path.name
            log.error("request_failed", **fields)
            return Result(
                request_id=request_id,
                query=query,
                ok=False,
                answer=None,
                error=error,
                duration_ms=fields["duration_ms"],
                model=model,
                tools=tools,
                failed_tool=current.tool if current else None,
                capture_path=capture_path,
            )
        answer = outputs[-1] if outputs else ""
        duration = _ms(start)
        log.info("request_success", duration_ms=duration, answer_size=len(answer))
    return Result(
        request_id=request_id,
        query=query,
        ok=True,
        answer=answer,
        error=None,
        duration_ms=duration,
        model=model,
        tools=tools,
    )


def _planned(log: Any, query: str, model: str, rng: random.Random) -> list[ToolCall]:
    """Plan the query, logged as the planner model's LLM call (its latency simulated, its
    usage counted from the query and the plan)."""
    log.info("llm_call_start", model=model)
    t0 = time.perf_counter()
    steps = plan(query, model)
    seconds = rng.uniform(0.15, 0.4) * runtime.time_scale()
    if seconds > 0:
        runtime.SHUTDOWN.wait(seconds)
    log.info(
        "llm_call_end",
        model=model,
        duration_ms=_ms(t0),
        usage={"prompt_tokens": 350 + 2 * len(query), "completion_tokens": 12 + 40 * len(steps)},
        finish_reason="tool_calls" if steps else "stop",
    )
    return steps


# ----------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        0 on success, 1 if the request failed, 2 for bad usage.
    """
    p = parser()
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        if args.stdin and args.query:
            raise UsageError("give either a query or --stdin, not both")
        if args.stdin:
            query, request_id, context = read_stdin_request()
        elif args.query and args.query.strip():
            query, request_id, context = args.query, None, None
        else:
            raise UsageError("a query (or --stdin) is required")
    except UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    captures_dir = args.captures_dir
    if captures_dir is None:
        captures_dir = (args.log_file.parent if args.log_file else Path.cwd()) / "captures"
    configure_logging(args.log_file)
    try:
        result = run_query(
            query,
            request_id=request_id,
            captures_dir=captures_dir,
            model=args.model,
            seed=args.seed,
            replay_context=(context or {}) if args.stdin else None,
        )
    finally:
        shutdown()
    if result.ok:
        print(result.answer)
        return 0
    print(f"error: {result.error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
