"""The replay options shared by ``replay``, ``export-test`` and the TUI: target flags,
``--env``, ``--timeout``, ``--profile``, ``--state-dir``, ``--captures``; checked lazily (the
TUI starts anyway and says what is wrong when ``r`` is pressed)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from agenttui import config
from agenttui.replay import history
from agenttui.replay import runner as replay
from agenttui.replay.captures import Capture


class UsageError(Exception):
    """Bad command-line usage (one line)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


@dataclass(slots=True)
class ReplayOptions:
    """What the command line said about replays (checked lazily: the TUI starts anyway)."""

    config: str | None = None
    target_command: str | None = None
    target_http: str | None = None
    target_callable: str | None = None
    env: list[str] = field(default_factory=list)
    timeout: float | None = None
    profile: str | None = None
    state_dir: str | None = None
    captures_dirs: list[str] = field(default_factory=list)
    default_target: replay.Target | None = None
    """Used when nothing else names a target (``--demo``: the demo agent)."""

    def settings(self, capture: Capture | None = None) -> replay.Settings:
        """The replay settings; without a configured target, captures of the demo agent are
        replayed against it.

        Raises:
            replay.TargetError: A setting cannot be used (one line naming it).
            config.ConfigError: The config file cannot be read.
        """
        default = self.default_target
        if default is None and capture is not None and replay.is_demo_capture(capture):
            # Only the demo agent's own marker, never text in a traceback, chooses it.
            default = replay.demo_target()
        return replay.load_settings(
            self.config,
            target_command=self.target_command,
            target_http=self.target_http,
            target_callable=self.target_callable,
            env_pairs=self.env,
            timeout=self.timeout,
            profile=self.profile,
            default_target=default,
        )

    def history_dir(self) -> Path:
        """Where replay history goes."""
        return history.state_dir(self.state_dir)


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


__all__ = [
    "Parser",
    "ReplayOptions",
    "UsageError",
    "add_target_arguments",
    "add_tui_arguments",
    "check",
    "options",
]
