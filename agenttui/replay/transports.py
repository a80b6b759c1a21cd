"""The process targets of a replay: ``command`` (an argv, never a shell) and ``callable`` (a
function run by ``python -m agenttui.replay.child``, never in this process).

The input ``{"query", "request_id", "context"}`` is sent as JSON on stdin; exit code 0 is
success and stdout the answer. ``{scratch}`` in an argument becomes a fresh directory, removed
after the run. The process runs under :func:`agenttui.replay.process.tracked`: whatever it
starts is killed when the replay ends.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Final

from agenttui.replay.captures import Capture
from agenttui.replay.logs import LogCollector
from agenttui.replay.process import run_process, signal_name, tracked
from agenttui.replay.result import CANCELLED, CRASHED, DIFFERENT, FIXED, TIMEOUT, Progress, Result
from agenttui.replay.settings import Settings, TargetError

CHILD_MODULE: Final = "agenttui.replay.child"
CALLABLE_IMPORT_EXIT: Final = 3
"""Exit code of :mod:`agenttui.replay.child` when the callable cannot be imported."""


def input_bytes(capture: Capture) -> bytes:
    """The request sent on stdin (``ensure_ascii``: lone surrogates and NUL characters travel
    as ``\\u`` escapes)."""
    return json.dumps(capture.input(), ensure_ascii=True, default=str).encode()


def replay_process(
    capture: Capture,
    settings: Settings,
    env: dict[str, str],
    cwd: str | None,
    result: Result,
    collector: LogCollector,
    say: Progress,
    stop: threading.Event | None,
) -> None:
    """Run the command or callable target; fill ``result`` (verdict before judging).

    Raises:
        TargetError: The program cannot be started, or the callable cannot be imported.
    """
    target = settings.target
    with tracked(settings.kill_grace) as (marker, scratch):
        if target.kind == "command":
            folder = scratch() if any("{scratch}" in a for a in target.argv) else ""
            argv = [a.replace("{scratch}", folder) for a in target.argv]
        else:
            argv = [sys.executable, "-m", CHILD_MODULE, target.callable]
            env = dict(env)
            here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), here) if p)
        feed = None if settings.log_file else collector.feed
        try:
            run = run_process(
                argv,
                input_bytes(capture),
                env=env,
                cwd=cwd,
                timeout=settings.timeout,
                limit=settings.max_output,
                marker=marker,
                on_stderr=feed,
                stop=stop,
                grace=settings.kill_grace,
                on_start=lambda pid: say(f"started pid {pid}"),
            )
        except OSError as exc:
            raise TargetError(
                f"{target.setting}: cannot start {argv[0]!r}: {exc.strerror or exc}"
            ) from exc
    result.exit_code = run.exit_code
    result.stdout = run.stdout.decode("utf-8", errors="backslashreplace")
    result.stdout_dropped = run.stdout_dropped
    result.stderr = run.stderr.decode("utf-8", errors="backslashreplace")
    result.stderr_dropped = run.stderr_dropped
    if run.cancelled:
        result.verdict = CANCELLED
    elif run.timed_out:
        result.verdict = TIMEOUT
        result.error = f"no answer within {settings.timeout:g} s (its processes were killed)"
    elif run.exit_code is not None and run.exit_code < 0:
        result.signal = signal_name(-run.exit_code)
        result.verdict = CRASHED
        result.error = f"killed by {result.signal}"
    elif target.kind == "callable" and run.exit_code == CALLABLE_IMPORT_EXIT:
        line = (result.stderr.strip().splitlines() or ["cannot import"])[-1]
        raise TargetError(f"{target.setting}: {line[:300]}")
    elif run.exit_code == 0:
        result.verdict = FIXED
        result.answer = result.stdout
    elif run.exit_code is not None and run.exit_code >= 128:
        result.signal = signal_name(run.exit_code - 128)
        result.verdict = CRASHED
        result.error = f"exit code {run.exit_code} ({result.signal})"
    else:
        result.verdict = DIFFERENT  # judged against the signature below
    say(f"exit code {run.exit_code}" + (" (timed out)" if run.timed_out else ""))


__all__ = ["CALLABLE_IMPORT_EXIT", "CHILD_MODULE", "input_bytes", "replay_process"]
