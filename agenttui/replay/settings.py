"""Replay settings: the target (command, http, callable), timeout, environment overrides, the
``capture`` profile and what of a capture it may apply.

Read from ``[replay]`` in ``agenttui.toml``; ``AGENTTUI_REPLAY_*`` environment variables and
command-line flags take precedence. Every problem is a :class:`TargetError` with one line that
names the setting.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from agenttui import config

DEFAULT_TIMEOUT: Final = 60.0
MAX_OUTPUT: Final = 1 << 20
"""Bytes kept of each output stream (stdout, stderr, log file); the rest is counted."""
KILL_GRACE_S: Final = 0.5
"""After SIGTERM to the process group, wait this long before SIGKILL."""
PROFILES: Final = ("none", "capture")
DEMO_SETTING: Final = "demo agent"

_CALLABLE_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
ENV_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TargetError(Exception):
    """The replay target cannot be used; the message is one line naming the setting."""


# ------------------------------------------------------------------------------ settings


@dataclass(frozen=True, slots=True)
class Target:
    """Where a replay goes."""

    kind: str
    """``command``, ``http`` or ``callable``."""
    argv: tuple[str, ...] = ()
    url: str = ""
    callable: str = ""
    setting: str = "replay"
    """Where it was set (``replay.command``, ``--target-http``...), for error messages."""

    def describe(self) -> str:
        """One line for people."""
        if self.kind == "command":
            return "command: " + shlex.join(self.argv)
        if self.kind == "http":
            return f"http: POST {self.url}"
        return f"callable: {self.callable}"

    def as_dict(self) -> dict[str, Any]:
        """For history files and exported tests."""
        if self.kind == "command":
            return {"kind": "command", "argv": list(self.argv)}
        if self.kind == "http":
            return {"kind": "http", "url": self.url}
        return {"kind": "callable", "callable": self.callable}


def demo_target() -> Target:
    """The demo agent as a command target (its captures go to a scratch directory)."""
    return Target(
        "command",
        (sys.executable, "-m", "agenttui.demo.agent", "--stdin", "--captures-dir", "{scratch}"),
        setting=DEMO_SETTING,
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a replay needs besides the capture."""

    target: Target
    timeout: float = DEFAULT_TIMEOUT
    env: Mapping[str, str] = field(default_factory=dict)
    """Overrides: ``[replay.env]`` then ``--env`` (the latter wins)."""
    profile: str = "none"
    cwd: str | None = None
    """Working directory of the target (default: ours; the profile may use the capture's)."""
    log_file: str | None = None
    """A file the agent logs to (read from its end before the run), else its stderr."""
    max_output: int = MAX_OUTPUT
    kill_grace: float = KILL_GRACE_S
    capture_env: tuple[str, ...] = ()
    """``[replay] capture_env``: the capture variables the ``capture`` profile may apply (none
    by default; names that change how programs load or run never are)."""
    capture_cwd_in: str | None = None
    """``[replay] capture_cwd_in``: the capture's ``cwd`` is applied only inside this directory."""


def _argv(value: Any, setting: str) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise TargetError(f"{setting}: cannot split the command: {exc}") from exc
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        raise TargetError(f"{setting}: must be a list of strings or a string")
    if not argv or not argv[0]:
        raise TargetError(f"{setting}: is empty")
    program = argv[0]
    if os.sep in program:
        if not (os.path.isfile(program) and os.access(program, os.X_OK)):
            raise TargetError(f"{setting}: {program!r} is not an executable file")
    elif shutil.which(program) is None:
        raise TargetError(f"{setting}: {program!r} not found on PATH")
    return tuple(argv)


def _url(value: Any, setting: str) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise TargetError(f"{setting}: must be an http:// or https:// URL")
    return value


def _callable(value: Any, setting: str) -> str:
    if not isinstance(value, str) or not _CALLABLE_RE.match(value):
        raise TargetError(f"{setting}: must look like package.module:function")
    return value


def make_target(kind: str, value: Any, setting: str) -> Target:
    """Check one target setting.

    Raises:
        TargetError: The value cannot be used (the message names ``setting``).
    """
    if kind == "command":
        return Target("command", argv=_argv(value, setting), setting=setting)
    if kind == "http":
        return Target("http", url=_url(value, setting), setting=setting)
    if kind == "callable":
        return Target("callable", callable=_callable(value, setting), setting=setting)
    raise TargetError(f"{setting}: unknown target kind {kind!r}")


def parse_env_pairs(pairs: Sequence[str], setting: str = "--env") -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict.

    Raises:
        TargetError: A pair without ``=`` or with a bad name.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not ENV_NAME_RE.match(name):
            raise TargetError(f"{setting}: expected KEY=VALUE, got {pair[:60]!r}")
        out[name] = value
    return out


def _timeout(value: Any, setting: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise TargetError(f"{setting}: must be a number of seconds") from None
    if not 0 < seconds < 1e7:
        raise TargetError(f"{setting}: must be a positive number of seconds")
    return seconds


def load_settings(
    config_path: str | None = None,
    *,
    target_command: str | None = None,
    target_http: str | None = None,
    target_callable: str | None = None,
    env_pairs: Sequence[str] = (),
    timeout: float | str | None = None,
    profile: str | None = None,
    default_target: Target | None = None,
) -> Settings:
    """Settings from the config file, ``AGENTTUI_REPLAY_*`` variables and flags (in rising
    precedence).

    Args:
        config_path: ``--config`` (else ``./agenttui.toml`` when present).
        target_command: ``--target-command`` (split with shlex).
        target_http: ``--target-http``.
        target_callable: ``--target-callable``.
        env_pairs: ``--env KEY=VALUE`` flags.
        timeout: ``--timeout`` seconds.
        profile: ``--profile`` (``none`` or ``capture``).
        default_target: Used when nothing names a target (the demo agent for ``--demo``).

    Raises:
        TargetError: A setting cannot be used, or no target is set and there is no default.
        config.ConfigError: The config file cannot be read.
    """
    table = config.section(config.load(config_path), "replay")
    known = {
        "command",
        "http",
        "callable",
        "timeout",
        "env",
        "profile",
        "log_file",
        "cwd",
        "capture_env",
        "capture_cwd_in",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise TargetError(
            f"replay.{unknown[0]}: unknown setting (known: {', '.join(sorted(known))})"
        )

    flags = [
        (k, v, f"--target-{k}")
        for k, v in (
            ("command", target_command),
            ("http", target_http),
            ("callable", target_callable),
        )
        if v is not None
    ]
    envs = [
        (k, v, f"AGENTTUI_REPLAY_{k.upper()}")
        for k in ("command", "http", "callable")
        if (v := config.env_override(f"replay_{k}")) is not None
    ]
    files = [(k, table[k], f"replay.{k}") for k in ("command", "http", "callable") if k in table]
    target: Target | None = None
    for level in (flags, envs, files):
        if len(level) > 1:
            raise TargetError(
                f"{level[1][2]}: give only one replay target ({level[0][2]} is set too)"
            )
        if level:
            kind, value, setting = level[0]
            target = make_target(kind, value, setting)
            break
    if target is None:
        if default_target is None:
            raise TargetError(
                "replay: no target: set command, http or callable in [replay] of "
                "agenttui.toml, or use --target-command/--target-http/"
                "--target-callable"
            )
        target = default_target

    seconds = DEFAULT_TIMEOUT
    if timeout is not None:
        seconds = _timeout(timeout, "--timeout")
    elif (raw := config.env_override("replay_timeout")) is not None:
        seconds = _timeout(raw, "AGENTTUI_REPLAY_TIMEOUT")
    elif "timeout" in table:
        seconds = _timeout(table["timeout"], "replay.timeout")

    env: dict[str, str] = {}
    file_env = table.get("env", {})
    if not isinstance(file_env, dict):
        raise TargetError('replay.env: must be a table of NAME = "value"')
    for name, value in file_env.items():
        if not ENV_NAME_RE.match(name):
            raise TargetError(f"replay.env.{name}: not a valid variable name")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TargetError(f"replay.env.{name}: must be a string")
        env[name] = str(value)
    env.update(parse_env_pairs(env_pairs))

    chosen_profile = profile or config.env_override("replay_profile") or table.get("profile")
    chosen_profile = chosen_profile if chosen_profile is not None else "none"
    if chosen_profile not in PROFILES:
        setting = (
            "--profile"
            if profile
            else "AGENTTUI_REPLAY_PROFILE"
            if config.env_override("replay_profile")
            else "replay.profile"
        )
        raise TargetError(f"{setting}: must be one of {', '.join(PROFILES)}")

    log_file = config.env_override("replay_log_file") or table.get("log_file")
    if log_file is not None and not isinstance(log_file, str):
        raise TargetError("replay.log_file: must be a path")
    cwd = table.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not os.path.isdir(cwd)):
        raise TargetError("replay.cwd: must be an existing directory")
    allowed = table.get("capture_env", [])
    if not isinstance(allowed, list) or not all(
        isinstance(n, str) and ENV_NAME_RE.match(n) for n in allowed
    ):
        raise TargetError('replay.capture_env: must be a list of variable names ("MODEL")')
    cwd_in = table.get("capture_cwd_in")
    if cwd_in is not None and (not isinstance(cwd_in, str) or not os.path.isdir(cwd_in)):
        raise TargetError("replay.capture_cwd_in: must be an existing directory")
    return Settings(
        target=target,
        timeout=seconds,
        env=env,
        profile=str(chosen_profile),
        cwd=cwd,
        log_file=log_file,
        capture_env=tuple(allowed),
        capture_cwd_in=os.path.realpath(cwd_in) if cwd_in else None,
    )


__all__ = [
    "DEFAULT_TIMEOUT",
    "KILL_GRACE_S",
    "MAX_OUTPUT",
    "PROFILES",
    "Settings",
    "Target",
    "TargetError",
    "demo_target",
    "load_settings",
    "make_target",
    "parse_env_pairs",
]
