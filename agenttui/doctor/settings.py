"""The ``[doctor]`` table of ``agenttui.toml``, checked into :class:`Settings`.

Example::

    [doctor]
    env = ["SEARCH_API_KEY", "DATABASE_URL"]
    binaries = ["rg", "jq"]
    hosts = ["db:5432", "http://api.internal:8080"]
    paths = [{path = "data", mode = "r"}, {path = "/var/cache/agent", mode = "rw"}]
    scripts = ["bin/fetch.sh"]
    health_url = ["http://127.0.0.1:8000/health", "http://127.0.0.1:8001/health"]

``--health-url`` (repeatable) and ``AGENTTUI_HEALTH_URL`` (comma separated) replace
``health_url``.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from agenttui import config

DEFAULT_TIMEOUT: Final = 3.0
"""Seconds each network check may take (DNS and TCP together)."""
DEFAULT_HEALTH_TIMEOUT: Final = 2.0
"""Seconds one poll of a health endpoint may take (connect, headers and body together)."""
DEFAULT_HEALTH_EVERY: Final = 5.0
"""Seconds between two polls of the health endpoints while the TUI runs."""


@dataclass(slots=True)
class PathRule:
    """A path that must exist with some access (``r``, ``w``, ``x`` letters)."""

    path: str
    mode: str = "r"


@dataclass(slots=True)
class Settings:
    """The ``[doctor]`` table, checked."""

    env: list[str] = field(default_factory=list)
    binaries: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    env_hosts: bool = True
    """Also check hosts named by ``*_HOST`` / ``*_URL`` environment variables."""
    allow_localhost: bool = False
    """Do not warn when a host points at localhost (development boxes)."""
    paths: list[PathRule] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    disk: list[str] = field(default_factory=list)
    """Extra places whose free disk space matters (log directories are always checked)."""
    user: str | None = None
    """Check paths and scripts as this user (default: the agent process's, else ours)."""
    memory_warn_pct: float = 85.0
    memory_fail_pct: float = 95.0
    disk_warn_pct: float = 90.0
    timeout: float = DEFAULT_TIMEOUT
    agent_pid: int | None = None
    agent_name: str | None = None
    pressure_minutes: int = 10
    health_urls: list[str] = field(default_factory=list)
    """The agent's own health endpoints (``GET``, JSON answer), one per worker."""
    health_timeout: float = DEFAULT_HEALTH_TIMEOUT
    health_every: float = DEFAULT_HEALTH_EVERY
    config_error: str | None = None
    """Set (instead of raising) by :func:`settings_for_tui` when the config is broken."""


_LISTS: Final = ("env", "binaries", "hosts", "scripts", "disk")
_BOOLS: Final = ("env_hosts", "allow_localhost")
_NUMBERS: Final = (
    "memory_warn_pct",
    "memory_fail_pct",
    "disk_warn_pct",
    "timeout",
    "health_timeout",
    "health_every",
)


def parse_settings(table: dict[str, Any]) -> Settings:
    """Check the ``[doctor]`` table and turn it into :class:`Settings`.

    Raises:
        config.ConfigError: A setting is unknown or has the wrong type (one line naming it).
    """
    s = Settings()
    known = {
        *_LISTS,
        *_BOOLS,
        *_NUMBERS,
        "paths",
        "user",
        "agent_pid",
        "agent_name",
        "pressure_minutes",
        "health_url",
    }
    for key, value in table.items():
        where = f"[doctor] {key}"
        if key not in known:
            raise config.ConfigError(
                f"{where}: unknown setting (known: {', '.join(sorted(known))})"
            )
        if key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise config.ConfigError(f"{where} must be a list of non-empty strings")
            setattr(s, key, list(value))
        elif key in _BOOLS:
            if not isinstance(value, bool):
                raise config.ConfigError(f"{where} must be true or false")
            setattr(s, key, value)
        elif key in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise config.ConfigError(f"{where} must be a positive number")
            setattr(s, key, float(value))
        elif key == "paths":
            s.paths = _parse_paths(value)
        elif key == "health_url":
            s.health_urls = parse_health_urls(value, where)
        elif key in ("user", "agent_name"):
            if not isinstance(value, str) or not value:
                raise config.ConfigError(f"{where} must be a non-empty string")
            setattr(s, key, value)
        elif key in ("agent_pid", "pressure_minutes"):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise config.ConfigError(f"{where} must be a positive integer")
            setattr(s, key, value)
    if s.agent_name is not None:
        compile_pattern(s.agent_name, "[doctor] agent_name")
    return s


def _parse_paths(value: object) -> list[PathRule]:
    where = "[doctor] paths"
    if not isinstance(value, list):
        raise config.ConfigError(f"{where} must be a list")
    out = []
    for item in value:
        if isinstance(item, str) and item:
            out.append(PathRule(item))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"]:
            raise config.ConfigError(
                f'{where}: each entry is a path or {{path = "...", mode = "rw"}}'
            )
        mode = item.get("mode", "r")
        if (
            not isinstance(mode, str)
            or not mode
            or set(mode) - set("rwx")
            or set(item) - {"path", "mode"}
        ):
            raise config.ConfigError(
                f"{where}: mode of {item['path']!r} must be letters "
                f"from r, w, x (and only path and mode keys)"
            )
        out.append(PathRule(item["path"], mode))
    return out


def compile_pattern(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise config.ConfigError(f"{where}: not a valid pattern: {exc}") from exc


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from the config file (``./agenttui.toml`` unless ``path``).

    Raises:
        config.ConfigError: The file or the ``[doctor]`` table is broken.
    """
    return parse_settings(config.section(config.load(path), "doctor"))


def parse_health_urls(value: object, where: str) -> list[str]:
    """``health_url``: one URL or a list of them, each ``http://`` or ``https://`` with a host.

    Raises:
        config.ConfigError: Not a string or a list of strings, or not an http(s) URL.
    """
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise config.ConfigError(f"{where} must be a URL or a list of URLs")
    out: list[str] = []
    for item in items:
        text = item.strip()
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError as exc:
            raise config.ConfigError(f"{where}: {text!r} is not a URL ({exc})") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise config.ConfigError(
                f"{where}: {text!r} is not an http:// or https:// URL with a host"
            )
        if text not in out:
            out.append(text)
    return out


def settings_for_tui(health_urls: list[str] | None = None) -> Settings:
    """Settings for the TUI: never raises (a broken config becomes a failing check).

    The file is ``$AGENTTUI_CONFIG`` or ``./agenttui.toml``; ``AGENTTUI_AGENT_PID``,
    ``AGENTTUI_AGENT_NAME`` and ``AGENTTUI_HEALTH_URL`` override the settings of the same
    name, and ``health_urls`` (from ``--health-url``) overrides them all.
    """
    try:
        s = load_settings(config.env_override("config"))
        pid = config.env_override("agent_pid")
        if pid is not None:
            if not pid.isdigit():
                raise config.ConfigError("AGENTTUI_AGENT_PID must be a process id")
            s.agent_pid = int(pid)
        name = config.env_override("agent_name")
        if name is not None:
            compile_pattern(name, "AGENTTUI_AGENT_NAME")
            s.agent_name = name
        apply_health_urls(s, health_urls)
        return s
    except config.ConfigError as exc:
        broken = Settings(config_error=str(exc))
        with contextlib.suppress(config.ConfigError):  # the endpoints are still worth polling
            apply_health_urls(broken, health_urls)
        return broken


def apply_health_urls(s: Settings, flags: list[str] | None) -> None:
    """Override ``health_url`` from ``AGENTTUI_HEALTH_URL`` (comma separated), then ``flags``.

    Raises:
        config.ConfigError: One of them is not an http(s) URL.
    """
    env = config.env_override("health_url")
    if env is not None:
        urls = [u for u in env.split(",") if u.strip()]
        s.health_urls = parse_health_urls(urls, "AGENTTUI_HEALTH_URL")
    if flags:
        s.health_urls = parse_health_urls(list(flags), "--health-url")
