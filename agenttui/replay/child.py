"""Child process of a ``callable`` replay target: ``python -m agenttui.replay.child mod:fn``.

Reads the request ``{"query", "request_id", "context"}`` as JSON on stdin, imports the function
and calls it: with the query as its only argument, plus ``request_id`` and ``context`` as keyword
arguments when it takes them (or ``**kwargs``). A coroutine result is awaited. The result is
printed on stdout (a string as is, anything else as JSON) and the exit code is 0; an exception
prints its traceback on stderr and exits 1; a function that cannot be imported exits 3.

This runs the user's code: it is only ever started as a child process, never imported by the
TUI.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
import traceback
from typing import Any

IMPORT_FAILED = 3


def _resolve(spec: str) -> Any:
    module_name, _, attr_path = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{spec} is not callable")
    return obj


def _kwargs(fn: Any, request: dict[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return {k: request.get(k) for k in ("request_id", "context") if var_kw or k in params}


def main(argv: list[str] | None = None) -> int:
    """Run the callable named by ``argv[0]`` on the request read from stdin."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m agenttui.replay.child package.module:function", file=sys.stderr)
        return 2
    try:
        fn = _resolve(args[0])
    except Exception as exc:  # any import-time failure of the user's module
        print(f"cannot import {args[0]!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return IMPORT_FAILED
    request = json.loads(sys.stdin.buffer.read() or b"{}")
    if not isinstance(request, dict):
        request = {}
    try:
        result = fn(request.get("query"), **_kwargs(fn, request))
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
    except Exception:  # the agent's failure: its traceback, like an uncaught exception
        sys.stderr.write(traceback.format_exc())
        sys.stderr.flush()
        return 1
    out = result if isinstance(result, str) else json.dumps(result, default=str)
    sys.stdout.write(out)
    sys.stdout.flush()
    return 0


async def _await(awaitable: Any) -> Any:
    return await awaitable


if __name__ == "__main__":
    sys.exit(main())
