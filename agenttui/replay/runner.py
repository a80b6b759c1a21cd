"""Replay a failure capture against a local agent and say whether it still fails.

Targets (``[replay]`` in ``agenttui.toml``; see :mod:`agenttui.replay.settings`):

* ``command``: an argv (never a shell); the input is JSON on stdin (:mod:`.transports`);
* ``http``: a URL, POSTed to with a deadline on the whole exchange (:mod:`.http_target`);
* ``callable``: ``package.module:function``, in a child process (:mod:`.child`).

A run has a timeout (default 60 s) after which every process it started is killed
(:mod:`.process`), the environment overrides of ``[replay.env]`` and ``--env``, and optionally
the ``capture`` profile, which applies only what ``[replay] capture_env`` and
``capture_cwd_in`` allow of the capture (:mod:`.environment`). The agent's own log lines become
the replay trace (:mod:`.logs`); the verdict compares error signatures (:mod:`.result`).

This module is the orchestration, and re-exports the names of those modules.
"""

from __future__ import annotations

import os
import threading
import time

from agenttui.replay.captures import Capture
from agenttui.replay.context import context_diff
from agenttui.replay.environment import child_env, is_dangerous, is_demo_capture
from agenttui.replay.http_target import replay_http
from agenttui.replay.logs import LogCollector, log_size, read_log
from agenttui.replay.process import kill_all, run_process
from agenttui.replay.result import (
    CANCELLED,
    CRASHED,
    DIFFERENT,
    FIXED,
    FLAKY,
    NOT_REPRODUCED,
    REPRODUCED,
    TIMEOUT,
    VERDICTS,
    Progress,
    ReplayTrace,
    Result,
    describe_counts,
    error_diff,
    format_exception,
    judge,
    last_traceback,
    repeated,
)
from agenttui.replay.settings import (
    DEFAULT_TIMEOUT,
    KILL_GRACE_S,
    MAX_OUTPUT,
    PROFILES,
    Settings,
    Target,
    TargetError,
    demo_target,
    load_settings,
    make_target,
    parse_env_pairs,
)
from agenttui.replay.transports import CALLABLE_IMPORT_EXIT, CHILD_MODULE, replay_process


def replay(
    capture: Capture,
    settings: Settings,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Result:
    """Replay one capture against the target and judge the outcome.

    Raises:
        TargetError: The target cannot be used at all (a callable that cannot be imported).
        ValueError: The capture has no query to replay.
    """
    if not capture.replayable:
        raise ValueError(f"{capture.name}: nothing to replay ({capture.problem or 'no query'})")
    say: Progress = progress or (lambda _msg: None)
    env, cwd, applied = child_env(capture, settings)
    target = settings.target
    collector = LogCollector(settings.max_output, progress)
    log_start = log_size(settings.log_file)
    t0 = time.monotonic()
    result = Result(
        capture=capture.path,
        request_id=capture.request_id,
        verdict=CRASHED,
        started=time.time(),
        duration_ms=0.0,
        target=target.describe(),
        settings={
            "target": target.as_dict(),
            "timeout": settings.timeout,
            "profile": settings.profile,
            **applied,
        },
        original_error=capture.error,
    )
    result.context_diff = context_diff(capture, env, cwd or os.getcwd())
    say(f"replaying {capture.name} with {target.describe()}")
    for warning in applied["warnings"]:
        say(warning)
    if target.kind == "http":
        replay_http(capture, settings, result, say, stop)
    else:
        replay_process(capture, settings, env, cwd, result, collector, say, stop)
    result.duration_ms = (time.monotonic() - t0) * 1000.0
    if settings.log_file:
        collector.feed(read_log(settings.log_file, log_start, settings.max_output))
    collector.close()
    result.trace = collector.trace(capture)
    judge(capture, result, collector)
    say(f"verdict: {result.verdict}" + (f" ({result.error})" if result.error else ""))
    return result


__all__ = [
    "CALLABLE_IMPORT_EXIT",
    "CANCELLED",
    "CHILD_MODULE",
    "CRASHED",
    "DEFAULT_TIMEOUT",
    "DIFFERENT",
    "FIXED",
    "FLAKY",
    "KILL_GRACE_S",
    "MAX_OUTPUT",
    "NOT_REPRODUCED",
    "PROFILES",
    "REPRODUCED",
    "TIMEOUT",
    "VERDICTS",
    "LogCollector",
    "Progress",
    "ReplayTrace",
    "Result",
    "Settings",
    "Target",
    "TargetError",
    "child_env",
    "demo_target",
    "describe_counts",
    "error_diff",
    "format_exception",
    "is_dangerous",
    "is_demo_capture",
    "kill_all",
    "last_traceback",
    "load_settings",
    "make_target",
    "parse_env_pairs",
    "repeated",
    "replay",
    "run_process",
]
