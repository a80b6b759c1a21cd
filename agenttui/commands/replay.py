"""``agenttui replay``, and the replay options shared with ``export-test`` and the TUI.

``agenttui replay CAPTURE_OR_DIR... [--jobs N] [--repeat N] [--json]`` prints one JSON object
per capture (``{"capture", "request_id", "verdict", "duration_ms", "error", "original_error",
"reason", "applied", "context_diff"...}``, secrets masked) and then a summary object; the exit
code is 0 only if no capture reproduced (1 otherwise; 2 for bad usage or an unusable target,
with one line naming the setting).

On Ctrl-C, SIGTERM or SIGHUP no new capture is started, the running replays are killed (every
process they started), the partial summary is printed and the exit code is 130 (143, 129). A
closed output (``| head -1``) stops the replays the same way, quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agenttui import config
from agenttui.commands.base import UsageError
from agenttui.output.sanitize import clean
from agenttui.output.secrets import mask, mask_fields
from agenttui.replay import captures, history
from agenttui.replay import runner as replay
from agenttui.replay.captures import Capture
from agenttui.replay.options import ReplayOptions
from agenttui.replay.process import kill_all

DEMO_NOTE = (
    "no replay target is configured; these captures come from the demo agent, "
    "so they are replayed against it"
)


def add_target_arguments(p: argparse.ArgumentParser) -> None:
    """The flags shared by ``replay``, ``export-test`` and the TUI."""
    if "--config" not in p._option_string_actions:  # another feature may have added it
        p.add_argument("--config", metavar="FILE", help="config file (default ./agenttui.toml)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--target-command",
        metavar="CMD",
        help="replay target: a command (split like a shell would, never run by "
        "one); the input is JSON on stdin",
    )
    group.add_argument(
        "--target-http", metavar="URL", help='replay target: POST {"query": ...} as JSON to URL'
    )
    group.add_argument(
        "--target-callable",
        metavar="MOD:FN",
        help="replay target: package.module:function, run in a child process",
    )
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment override for the replay (repeatable)",
    )
    p.add_argument("--timeout", metavar="S", help="seconds before a replay is killed (60)")
    p.add_argument(
        "--profile",
        choices=replay.PROFILES,
        help="'capture': apply the capture's variables named in [replay] capture_env (never "
        "LD_*, PATH, *_BIN...) and its cwd when inside [replay] capture_cwd_in",
    )
    p.add_argument(
        "--state-dir",
        metavar="DIR",
        help="replay history directory (default $XDG_STATE_HOME/agenttui)",
    )


def add_tui_arguments(p: argparse.ArgumentParser) -> None:
    """The TUI's capture and replay flags."""
    p.add_argument(
        "--captures",
        action="append",
        default=[],
        metavar="DIR",
        help="also list failure captures (failed_*.json) from DIR",
    )
    add_target_arguments(p)


def options(opts: argparse.Namespace, *, demo: bool = False) -> ReplayOptions:
    """Replay options from parsed arguments.

    Raises:
        replay.TargetError: ``--timeout`` is not a number.
    """
    timeout = None
    if opts.timeout is not None:
        try:
            timeout = float(opts.timeout)
        except ValueError:
            raise replay.TargetError("--timeout: must be a number of seconds") from None
        if not timeout > 0:
            raise replay.TargetError("--timeout: must be a positive number of seconds")
    return ReplayOptions(
        config=opts.config,
        target_command=opts.target_command,
        target_http=opts.target_http,
        target_callable=opts.target_callable,
        env=list(opts.env),
        timeout=timeout,
        profile=opts.profile,
        state_dir=opts.state_dir,
        captures_dirs=list(getattr(opts, "captures", []) or []),
        default_target=replay.demo_target() if demo else None,
    )


def check(opts: ReplayOptions) -> None:
    """Fail early on flags that cannot work (the TUI checks the rest when ``r`` is pressed).

    Raises:
        replay.TargetError: A bad ``--env`` or ``--config``.
    """
    replay.parse_env_pairs(opts.env)
    for d in opts.captures_dirs:
        if not Path(d).is_dir():
            raise replay.TargetError(f"--captures: {d}: not a directory")
    try:
        config.find(opts.config)
    except config.ConfigError as exc:
        raise replay.TargetError(str(exc)) from exc


DESCRIPTION = (
    "Replay failure captures against a local agent and say whether each still fails. "
    "Exit code 0 only if none reproduced."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``replay`` arguments."""
    p.add_argument(
        "paths",
        nargs="+",
        metavar="CAPTURE_OR_DIR",
        help="capture files, or directories / globs holding failed_*.json",
    )
    p.add_argument(
        "--jobs", "-j", type=int, default=1, metavar="N", help="replays run at the same time (1)"
    )
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="replay each capture N times and report the counts (reproduced 3/5: flaky)",
    )
    add_target_arguments(p)


def run(opts: argparse.Namespace) -> int:
    """Replay every capture; 1 when one reproduced, 0 otherwise."""
    return _replay(opts)


class _Stopped(BaseException):
    """Ctrl-C, SIGTERM or SIGHUP during ``replay``: stop, kill, summarise."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end ``replay`` like Ctrl-C does (in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise _Stopped(128 + signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _replay(opts: argparse.Namespace) -> int:
    if opts.jobs < 1:
        raise UsageError("--jobs: must be at least 1")
    if not 1 <= opts.repeat <= 1000:
        raise UsageError("--repeat: must be between 1 and 1000")
    ropts = options(opts)
    check(ropts)
    paths = captures.collect(opts.paths)
    if not paths:
        raise UsageError(f"no failed_*.json capture under {', '.join(opts.paths)}")
    caps = [captures.load(p) for p in paths]
    # Check the target once, up front: a broken config is one line and exit code 2.
    settings: dict[str, replay.Settings] = {}
    noted = False
    for cap in caps:
        if not cap.replayable:
            continue
        s = ropts.settings(cap)
        if s.target.setting == "demo agent" and ropts.default_target is None and not noted:
            print(f"agenttui: {DEMO_NOTE}", file=sys.stderr)
            noted = True
        settings[cap.path] = s
    state = ropts.history_dir()
    counts: Counter[str] = Counter()
    stop = threading.Event()

    def one(cap: Capture) -> dict[str, Any]:
        if not cap.replayable:
            return {
                "capture": cap.path,
                "request_id": cap.request_id,
                "verdict": "skipped",
                "duration_ms": None,
                "error": cap.problem,
            }
        if stop.is_set():
            return {"capture": cap.path, "verdict": replay.CANCELLED}
        verdicts: list[str] = []
        out: dict[str, Any] = {}
        for _run in range(opts.repeat):
            if stop.is_set():
                break
            result = replay.replay(cap, settings[cap.path], stop=stop)
            verdicts.append(result.verdict)
            out = result.summary()
            if result.verdict != replay.CANCELLED:
                try:
                    history.save(state, cap, result.as_dict())
                except history.HistoryError as exc:
                    out["history_problem"] = str(exc)
        if opts.repeat > 1:
            out["verdict"], out["repeat"] = replay.repeated(verdicts)
            out["runs"] = len(verdicts)
        return out

    code: int | None = None
    first_error: list[BaseException] = []
    pool = ThreadPoolExecutor(max_workers=opts.jobs)
    futures: list[Future[dict[str, Any]]] = []
    try:
        with _stop_on_signals():
            futures = [pool.submit(one, cap) for cap in caps]
            for fut in futures:
                while not fut.done():
                    wait([fut], timeout=0.2, return_when=FIRST_COMPLETED)
                try:
                    out = fut.result()
                except replay.TargetError as exc:
                    if not first_error:
                        first_error.append(exc)
                    stop.set()
                    continue
                if out["verdict"] == replay.CANCELLED and "request_id" not in out:
                    continue  # never started
                counts[out["verdict"]] += 1
                _print(out, opts.json)
    except KeyboardInterrupt:
        code = 130
    except _Stopped as exc:
        code = exc.code
    except BrokenPipeError:
        code = 141
    finally:
        if code is not None or first_error:
            stop.set()
            for f in futures:
                f.cancel()
            kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
    if first_error:
        raise first_error[0]
    summary: dict[str, Any] = {
        "total": len(caps),
        **{v: counts.get(v, 0) for v in replay.VERDICTS},
        "skipped": counts.get("skipped", 0),
    }
    if opts.repeat > 1:
        summary[replay.FLAKY] = counts.get(replay.FLAKY, 0)
    if code is not None:
        summary["cancelled"] = counts.get(replay.CANCELLED, 0)
        summary["not started"] = len(caps) - sum(counts.values())
        summary["interrupted"] = True
    if code == 141:
        _quiet_stdout()
        return code
    try:
        if opts.json:
            print(json.dumps({"summary": summary}), flush=True)
        else:
            print(
                ", ".join(f"{n} {k}" for k, n in summary.items() if k != "interrupted"), flush=True
            )
            if code is not None:
                print("agenttui: interrupted: running replays killed", file=sys.stderr)
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    if code is not None:
        return code
    return 1 if counts.get(replay.REPRODUCED, 0) or counts.get(replay.FLAKY, 0) else 0


def _quiet_stdout() -> None:
    """The reader went away (``| head``): send the rest to /dev/null so that Python's exit
    does not fail flushing it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _print(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(mask_fields(out), ensure_ascii=True), flush=True)
        return
    dur = "-" if out["duration_ms"] is None else f"{out['duration_ms']:.0f}ms"
    error = clean(mask(str(out["error"] or "")))[:100]
    print(f"{out['verdict']:<17} {dur:>8}  {clean(str(out['capture']))}  {error}", flush=True)
    if out.get("repeat"):
        print(f"  {replay.describe_counts(out['repeat'])}", flush=True)
    if out.get("reason"):
        print(f"  why: {clean(mask(str(out['reason'])))[:200]}", flush=True)
    for warning in (out.get("applied") or {}).get("warnings") or []:
        print(f"  {clean(mask(str(warning)))[:200]}", flush=True)


__all__ = ["ReplayOptions", "add_arguments", "add_tui_arguments", "check", "options", "run"]
