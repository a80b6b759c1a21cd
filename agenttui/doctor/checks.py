"""Doctor: the production checklist run as checks (headless; no textual, no rich).

Half of production-only failures are the environment, not the code: a missing variable, a
binary not on PATH, a host that does not resolve, a path the agent's user cannot write, a
container memory limit. Each check returns a :class:`Check` (``ok`` / ``warn`` / ``fail``, a
one-line reason and a fix hint). Checks run concurrently, each in a daemon thread with a
deadline, so a hanging DNS lookup or TCP connect never holds the run up for longer than the
timeout (and never keeps the process from exiting).

Environment values are never shown: only their shape (set or empty, length, a key-like prefix,
a URL pointing at localhost). Hosts taken from ``*_URL`` variables are shown as ``host:port``
only, never with credentials, path or query.

Settings come from the ``[doctor]`` table of ``agenttui.toml``::

    [doctor]
    env = ["SEARCH_API_KEY", "DATABASE_URL"]
    binaries = ["rg", "jq"]
    hosts = ["db:5432", "http://api.internal:8080"]
    paths = [{path = "data", mode = "r"}, {path = "/var/cache/agent", mode = "rw"}]
    scripts = ["bin/fetch.sh"]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import resource
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, Final, Literal
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]

from agenttui import config
from agenttui.output.sanitize import clean, shorten

Status = Literal["ok", "warn", "fail"]
STATUSES: Final = ("fail", "warn", "ok")
"""Worst first."""

DEFAULT_TIMEOUT: Final = 3.0
"""Seconds each network check may take (DNS and TCP together)."""
RUN_SLACK: Final = 1.0
"""The whole run ends at most this long after the per-check timeout."""
CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
PROC_CGROUP: Final = Path("/proc/self/cgroup")
UNLIMITED: Final = 1 << 60
"""cgroup v1 reports "no limit" as a huge number (9223372036854771712)."""

DEFAULT_PORTS: Final = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "redis": 6379,
    "rediss": 6379,
    "amqp": 5672,
    "amqps": 5671,
    "mongodb": 27017,
    "nats": 4222,
    "grpc": 443,
    "ftp": 21,
    "ssh": 22,
}
PACKAGES: Final = {
    "rg": "ripgrep",
    "fd": "fd-find",
    "ag": "silversearcher-ag",
    "convert": "imagemagick",
    "pdftotext": "poppler-utils",
}
"""apt package names that differ from the binary name (for the fix hint)."""

RATE_LIMIT_RE: Final = re.compile(
    r"\b429\b|rate.?limit|too many requests|quota exceeded|throttl", re.IGNORECASE
)
TIMEOUT_RE: Final = re.compile(r"time[d]?\s?out|timeout|deadline exceeded|ETIMEDOUT", re.IGNORECASE)


# ------------------------------------------------------------------------------- results


@dataclass(slots=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    reason: str
    """One line: what was found."""
    fix: str = ""
    """One line: what to do about it (empty when ok)."""
    detail: dict[str, Any] = field(default_factory=dict)
    """Figures behind the reason (JSON-friendly)."""

    def __post_init__(self) -> None:
        self.reason = _line(self.reason)
        self.fix = _line(self.fix)
        self.name = _line(self.name)


def _line(text: str) -> str:
    """One clean line (control characters made visible)."""
    return clean(" ".join(str(text).split()))


@dataclass(slots=True)
class ProcInfo:
    """One agent process as seen by the :class:`ProcessWatcher`."""

    pid: int
    name: str
    user: str
    rss: int
    cpu_pct: float
    threads: int
    open_files: int
    fd_limit: int | None
    uptime_s: float
    children: int
    status: str


@dataclass(slots=True)
class Restart:
    """A restart noticed between two refreshes: a new pid for the same agent."""

    at: float
    old_pid: int | None
    new_pid: int


@dataclass(slots=True)
class Pressure:
    """429s and timeouts per minute over the last minutes of the logs."""

    minutes: int
    end: float | None
    """Epoch seconds the window ends at (the newest log time seen), None without logs."""
    rate_limited: list[int]
    """Count per minute, oldest first (``minutes`` entries)."""
    timeouts: list[int]

    @property
    def total_rate_limited(self) -> int:
        """429s in the window."""
        return sum(self.rate_limited)

    @property
    def total_timeouts(self) -> int:
        """Timeouts in the window."""
        return sum(self.timeouts)


@dataclass(slots=True)
class Report:
    """Everything one doctor run found."""

    checks: list[Check]
    processes: list[ProcInfo] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    pressure: Pressure | None = None
    elapsed_s: float = 0.0
    finished_at: float = 0.0

    def counts(self) -> dict[str, int]:
        """Checks by status."""
        out = dict.fromkeys(STATUSES, 0)
        for check in self.checks:
            out[check.status] += 1
        return out

    @property
    def failed(self) -> bool:
        """Whether any check failed."""
        return any(c.status == "fail" for c in self.checks)

    def summary(self) -> str:
        """One word or three: ``ok``, ``2 fail 1 warn``."""
        counts = self.counts()
        parts = [f"{counts[s]} {s}" for s in ("fail", "warn") if counts[s]]
        return " ".join(parts) or "ok"

    def ordered(self) -> list[Check]:
        """Checks worst first (stable within a status)."""
        return sorted(self.checks, key=lambda c: STATUSES.index(c.status))

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-friendly data."""
        p = self.pressure
        return {
            "ok": not self.failed,
            "summary": self.summary(),
            "counts": self.counts(),
            "checks": [asdict(c) for c in self.checks],
            "processes": [asdict(pi) for pi in self.processes],
            "restarts": [asdict(r) for r in self.restarts],
            "pressure": None
            if p is None
            else {
                "minutes": p.minutes,
                "end": p.end,
                "rate_limited_per_minute": p.rate_limited,
                "timeouts_per_minute": p.timeouts,
                "rate_limited": p.total_rate_limited,
                "timeouts": p.total_timeouts,
            },
            "elapsed_s": round(self.elapsed_s, 3),
        }


# ------------------------------------------------------------------------------- settings


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
    config_error: str | None = None
    """Set (instead of raising) by :func:`settings_for_tui` when the config is broken."""


_LISTS: Final = ("env", "binaries", "hosts", "scripts", "disk")
_BOOLS: Final = ("env_hosts", "allow_localhost")
_NUMBERS: Final = ("memory_warn_pct", "memory_fail_pct", "disk_warn_pct", "timeout")


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
        elif key in ("user", "agent_name"):
            if not isinstance(value, str) or not value:
                raise config.ConfigError(f"{where} must be a non-empty string")
            setattr(s, key, value)
        elif key in ("agent_pid", "pressure_minutes"):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise config.ConfigError(f"{where} must be a positive integer")
            setattr(s, key, value)
    if s.agent_name is not None:
        _compile_pattern(s.agent_name, "[doctor] agent_name")
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


def _compile_pattern(pattern: str, where: str) -> re.Pattern[str]:
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


def settings_for_tui() -> Settings:
    """Settings for the TUI: never raises (a broken config becomes a failing check).

    The file is ``$AGENTTUI_CONFIG`` or ``./agenttui.toml``; ``AGENTTUI_AGENT_PID`` and
    ``AGENTTUI_AGENT_NAME`` override the agent settings.
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
            _compile_pattern(name, "AGENTTUI_AGENT_NAME")
            s.agent_name = name
        return s
    except config.ConfigError as exc:
        return Settings(config_error=str(exc))


# ------------------------------------------------------------------------------- environment


_KEY_PREFIX: Final = re.compile(r"^([A-Za-z]{2,6}[-_])[A-Za-z0-9]")


def env_shape(value: str) -> dict[str, Any]:
    """What can be said about a value without showing it."""
    shape: dict[str, Any] = {"set": True, "empty": not value.strip(), "length": len(value)}
    if value != value.strip():
        shape["whitespace"] = True
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        shape["quoted"] = True
    match = _KEY_PREFIX.match(value)
    if match and len(value) >= 16 and "://" not in value:
        shape["prefix"] = match.group(1)
    if "://" in value:
        parts = urlsplit(value.strip())
        shape["url"] = parts.scheme or True
        shape["localhost"] = is_local_name(parts.hostname or "")
    return shape


def describe_shape(shape: dict[str, Any]) -> str:
    """The shape in words: ``set, 51 chars, starts with sk-``."""
    if not shape.get("set"):
        return "not set"
    if shape["empty"]:
        return "set but empty" if not shape["length"] else "set but only whitespace"
    words = [f"set, {shape['length']} chars"]
    if "prefix" in shape:
        words.append(f"starts with {shape['prefix']}")
    if "url" in shape:
        words.append(f"a {shape['url']} URL" if isinstance(shape["url"], str) else "a URL")
        if shape.get("localhost"):
            words.append("pointing at localhost")
    if shape.get("quoted"):
        words.append("wrapped in quotes")
    if shape.get("whitespace"):
        words.append("with leading/trailing whitespace")
    return ", ".join(words)


def check_env(
    name: str, *, allow_localhost: bool = False, environ: Mapping[str, str] | None = None
) -> Check:
    """A required environment variable: set, non-empty, plausible (value never shown)."""
    env = os.environ if environ is None else environ
    label = f"env {name}"
    value = env.get(name)
    if value is None:
        return Check(
            label,
            "fail",
            f"{name} is not set",
            f"set {name} in the agent's environment (service unit, container "
            f"env, .env file, secret store)",
            {"set": False},
        )
    shape = env_shape(value)
    said = describe_shape(shape)
    if shape["empty"]:
        return Check(
            label,
            "fail",
            f"{name} is {said}",
            f"give {name} a value where the agent's environment is defined",
            shape,
        )
    if shape.get("quoted"):
        return Check(
            label,
            "warn",
            f"{name} is {said}",
            "the quotes are part of the value: remove them (env files do not strip quotes)",
            shape,
        )
    if shape.get("whitespace"):
        return Check(
            label,
            "warn",
            f"{name} is {said}",
            "strip the whitespace (a trailing newline often comes from a secret file)",
            shape,
        )
    if shape.get("localhost") and not allow_localhost:
        return Check(
            label,
            "warn",
            f"{name} is {said}",
            "production config pointing at localhost is usually a leftover from "
            "development: set the service's real host",
            shape,
        )
    return Check(label, "ok", f"{name} is {said}", "", shape)


# ------------------------------------------------------------------------------- binaries


def check_binary(name: str, *, timeout: float = DEFAULT_TIMEOUT, path: str | None = None) -> Check:
    """A binary on PATH that runs (its ``--version`` line when it has one)."""
    label = f"binary {name}"
    found = shutil.which(name, path=path)
    if found is None:
        package = PACKAGES.get(name, name)
        where = path if path is not None else os.environ.get("PATH", "")
        return Check(
            label,
            "fail",
            f"{name} not found on PATH",
            f"install it (e.g. apt-get install {package}) or add its directory to PATH",
            {"path_dirs": len([d for d in where.split(os.pathsep) if d])},
        )
    detail: dict[str, Any] = {"path": found}
    try:
        proc = subprocess.run(
            [found, "--version"],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Check(
            label,
            "warn",
            f"{found}: '--version' did not answer within {timeout:g}s",
            "check that it runs by hand; it may wait for input",
            detail,
        )
    except OSError as exc:
        return Check(
            label,
            "fail",
            f"{found} cannot run: {exc.strerror or exc}",
            "check its permissions (chmod +x), architecture and interpreter",
            detail,
        )
    out = (proc.stdout or proc.stderr).decode("utf-8", "replace")
    first = next((ln.strip() for ln in out.splitlines() if ln.strip()), "")
    detail["version"] = shorten(clean(first), 60)
    if proc.returncode != 0 and not first:
        return Check(
            label,
            "warn",
            f"{found} runs but '--version' exited {proc.returncode}",
            "check that it runs by hand",
            detail,
        )
    return Check(label, "ok", f"{found}" + (f" ({detail['version']})" if first else ""), "", detail)


# ------------------------------------------------------------------------------- hosts


@dataclass(slots=True)
class Target:
    """A host to check, and where it came from."""

    host: str
    port: int | None
    source: str
    """``config`` or the environment variable's name."""

    @property
    def label(self) -> str:
        """``host db:5432`` (``[::1]:80`` for IPv6)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"host {host}" + (f":{self.port}" if self.port else "")


def parse_target(
    text: str, source: str = "config", default_port: int | None = None
) -> Target | None:
    """``db:5432``, ``db``, ``[::1]:80`` or a URL; None when no host can be read from it."""
    text = text.strip()
    try:
        if "://" in text:
            parts = urlsplit(text)
            host = parts.hostname
            port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
        else:
            parts = urlsplit("//" + text)
            host = parts.hostname
            port = parts.port or default_port
    except ValueError:
        return None
    if not host:
        return None
    return Target(host, port, source)


def env_targets(environ: Mapping[str, str] | None = None) -> list[Target]:
    """Hosts named by ``*_HOST`` (with ``*_PORT``) and ``*_URL`` variables."""
    env = os.environ if environ is None else environ
    out: list[Target] = []
    for name in sorted(env):
        value = env[name].strip()
        if not value or name.startswith("AGENTTUI_"):
            continue
        if name.endswith("_HOST"):
            port_text = env.get(name[:-5] + "_PORT", "").strip()
            port = int(port_text) if port_text.isdigit() and int(port_text) < 65536 else None
            target = parse_target(value, name, port)
        elif name.endswith("_URL"):
            target = parse_target(value, name)
        else:
            continue
        if target is not None:
            out.append(target)
    return out


def is_local_name(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, ``127.x``, ``::1``, ``0.0.0.0``)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _in_thread(fn: Callable[[], Any], timeout: float) -> tuple[bool, Any]:
    """Run ``fn`` in a daemon thread; (finished, result or exception) within ``timeout``."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:  # handed back to the caller
            box.append((False, exc))

    thread = threading.Thread(target=run, name="doctor-call", daemon=True)
    thread.start()
    thread.join(timeout)
    if not box:
        return False, None
    ok, value = box[0]
    if not ok:
        raise value
    return True, value


def resolve(host: str, port: int | None, timeout: float) -> list[tuple[Any, ...]] | None:
    """``getaddrinfo`` with a deadline (None when it did not answer in time).

    Raises:
        socket.gaierror: The name does not resolve.
    """
    done, value = _in_thread(
        lambda: socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM), timeout
    )
    return value if done else None


def check_host(
    target: Target, *, timeout: float = DEFAULT_TIMEOUT, allow_localhost: bool = False
) -> Check:
    """DNS resolves, TCP connects within ``timeout``; a warning for localhost."""
    label = target.label
    via = "" if target.source == "config" else f" (from {target.source})"
    where = "the config" if target.source == "config" else target.source
    deadline = time.monotonic() + timeout
    detail: dict[str, Any] = {"host": target.host, "port": target.port, "source": target.source}
    try:
        infos = resolve(target.host, target.port, timeout)
    except (socket.gaierror, UnicodeError) as exc:
        return Check(
            label,
            "fail",
            f"DNS: {target.host} does not resolve ({getattr(exc, 'strerror', None) or exc}){via}",
            f"check the host name in {where}, the DNS servers (/etc/resolv.conf) and /etc/hosts",
            detail,
        )
    if infos is None:
        return Check(
            label,
            "fail",
            f"DNS lookup did not answer within {timeout:g}s{via}",
            "check /etc/resolv.conf and that the DNS server is reachable",
            detail,
        )
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    detail["addresses"] = addresses[:4]
    local = is_local_name(target.host) or all(is_local_name(a) for a in addresses)
    detail["localhost"] = local
    local_fix = (
        f"production config pointing at localhost is usually a leftover: set the "
        f"real host in {where}"
    )
    if target.port is None:
        if local and not allow_localhost:
            return Check(label, "warn", f"points at localhost{via}", local_fix, detail)
        return Check(
            label,
            "ok",
            f"resolves to {', '.join(addresses[:2])}{via} (no port: DNS only)",
            "",
            detail,
        )
    errors: list[str] = []
    refused = timed_out = False
    for info in infos:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        family, kind, proto, _, sockaddr = info
        started = time.monotonic()
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(remaining)
                sock.connect(sockaddr)
        except TimeoutError:
            timed_out = True
            errors.append(f"{sockaddr[0]}: timed out")
            continue
        except ConnectionRefusedError:
            refused = True
            errors.append(f"{sockaddr[0]}: refused")
            continue
        except OSError as exc:
            errors.append(f"{sockaddr[0]}: {exc.strerror or exc}")
            continue
        ms = (time.monotonic() - started) * 1000
        detail["connect_ms"] = round(ms, 1)
        detail["address"] = str(sockaddr[0])
        if local and not allow_localhost:
            return Check(
                label, "warn", f"connects, but points at localhost{via}", local_fix, detail
            )
        return Check(label, "ok", f"connects to {sockaddr[0]} in {ms:.0f} ms{via}", "", detail)
    detail["errors"] = errors
    if refused and not timed_out:
        fix = "is the service running and listening on that port?" + (
            " On a server, localhost is this box, not the service" if local else ""
        )
        return Check(
            label, "fail", f"TCP connection refused at port {target.port}{via}", fix, detail
        )
    if timed_out:
        return Check(
            label,
            "fail",
            f"TCP connect timed out after {timeout:g}s{via}",
            "a firewall or security group drops the packets, or the host is down",
            detail,
        )
    return Check(
        label,
        "fail",
        f"cannot connect: {'; '.join(errors)[:120]}{via}",
        "check the network route to the host",
        detail,
    )


# ------------------------------------------------------------------------------- users, paths


@dataclass(slots=True)
class Who:
    """The user paths are checked as."""

    name: str
    uid: int
    gids: frozenset[int]
    why: str
    """``you``, ``the agent process`` or ``the [doctor] user setting``."""


def current_user() -> Who:
    """The user running agenttui."""
    uid = os.geteuid()
    return Who(_user_name(uid), uid, frozenset({os.getegid(), *os.getgroups()}), "you")


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def user_by_name(name: str) -> Who | None:
    """A user from the passwd database, with its groups (None when unknown)."""
    try:
        import grp
        import pwd

        entry = pwd.getpwnam(name)
    except (KeyError, ImportError):
        return None
    gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
    return Who(name, entry.pw_uid, frozenset(gids), "the [doctor] user setting")


def user_of_process(pid: int) -> Who | None:
    """The effective user and groups of a process (None when it cannot be read)."""
    try:
        proc = psutil.Process(pid)
        uid = int(proc.uids().effective)
        gids = {int(proc.gids().effective)}
        status = Path(f"/proc/{pid}/status")
        if status.is_file():
            for line in status.read_text().splitlines():
                if line.startswith("Groups:"):
                    gids.update(int(g) for g in line.split()[1:])
    except (psutil.Error, OSError, ValueError):
        return None
    return Who(_user_name(uid), uid, frozenset(gids), f"the agent process (pid {pid})")


def _allowed(st: os.stat_result, who: Who, letter: str) -> bool:
    bits = {"r": 4, "w": 2, "x": 1}[letter]
    mode = st.st_mode
    if who.uid == 0:
        return letter != "x" or bool(mode & 0o111) or stat.S_ISDIR(mode)
    if st.st_uid == who.uid:
        return bool(mode & (bits << 6))
    if st.st_gid in who.gids:
        return bool(mode & (bits << 3))
    return bool(mode & bits)


def access_as(path: Path, mode: str, who: Who) -> str | None:
    """Why ``who`` lacks ``mode`` on ``path`` (None when allowed).

    Uses ``os.access`` for the current user (ACLs and read-only mounts included) and the
    permission bits of the path and each parent directory for another user.
    """
    if who.uid == os.geteuid() and who.why == "you":
        flags = {"r": os.R_OK, "w": os.W_OK, "x": os.X_OK}
        missing = [m for m in mode if not os.access(path, flags[m])]
        return f"no {'/'.join(_WORDS[m] for m in missing)} permission" if missing else None
    absolute = path.absolute()
    for parent in reversed(absolute.parents):
        try:
            if not _allowed(parent.stat(), who, "x"):
                return f"cannot enter {parent}"
        except OSError as exc:
            return f"{parent}: {exc.strerror or exc}"
    st = absolute.stat()
    missing = [m for m in mode if not _allowed(st, who, m)]
    return f"no {'/'.join(_WORDS[m] for m in missing)} permission" if missing else None


_WORDS: Final = {"r": "read", "w": "write", "x": "execute"}


def _owner(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "?"
    return f"{_user_name(st.st_uid)}:{st.st_gid} {stat.filemode(st.st_mode)}"


def check_path(rule: PathRule, who: Who, cwd: Path | None = None) -> Check:
    """A path exists and ``who`` may read / write / execute it."""
    base = Path.cwd() if cwd is None else cwd
    path = Path(rule.path)
    full = path if path.is_absolute() else base / path
    label = f"path {rule.path}"
    detail: dict[str, Any] = {"path": str(full), "mode": rule.mode, "as": who.name}
    relative = "" if path.is_absolute() else f" (relative: resolved from {base})"
    if not full.exists():
        return Check(
            label,
            "fail",
            f"{full} does not exist{relative}",
            "create it, or fix the path"
            + (
                "; use an absolute path: the working directory differs in production"
                if relative
                else ""
            ),
            detail,
        )
    try:
        why = access_as(full, rule.mode, who)
    except OSError as exc:
        why = exc.strerror or str(exc)
    if why is not None:
        return Check(
            label,
            "fail",
            f"{who.name} ({who.why}): {why} on {full}",
            f"chown/chmod it for {who.name} (now {_owner(full)})",
            detail,
        )
    kind = "directory" if full.is_dir() else "file"
    return Check(
        label, "ok", f"{kind}, {who.name} can {'/'.join(_WORDS[m] for m in rule.mode)}", "", detail
    )


def check_user(who: Who, agent: Who | None) -> Check:
    """Who runs agenttui and the agent; a warning for root."""
    detail: dict[str, Any] = {"user": who.name, "uid": who.uid}
    reason = f"running as {who.name} (uid {who.uid})"
    if agent is not None and agent.uid != who.uid:
        detail["agent_user"] = agent.name
        reason += f"; {agent.why} runs as {agent.name}: paths are checked as {agent.name}"
    runner = agent or who
    if runner.uid == 0:
        return Check(
            "user",
            "warn",
            reason + ("" if agent is None else "; the agent is root"),
            "run the agent as an unprivileged user (root hides permission problems "
            "that appear elsewhere)",
            detail,
        )
    return Check("user", "ok", reason, "", detail)


def check_script(text: str, who: Who, cwd: Path | None = None) -> Check:
    """A script exists, is executable by ``who``, and its ``#!`` interpreter exists."""
    base = Path.cwd() if cwd is None else cwd
    path = Path(text) if Path(text).is_absolute() else base / text
    label = f"script {text}"
    detail: dict[str, Any] = {"path": str(path)}
    if not path.is_file():
        return Check(
            label,
            "fail",
            f"{path} does not exist",
            "fix the path in the config, or deploy the script",
            detail,
        )
    why = access_as(path, "rx", who)
    if why is not None:
        return Check(label, "fail", f"{who.name}: {why} on {path}", f"chmod +x {path}", detail)
    try:
        with path.open("rb") as f:
            head = f.readline(256)
    except OSError as exc:
        return Check(label, "fail", f"cannot read {path}: {exc.strerror}", "", detail)
    if head.startswith(b"#!"):
        line = head[2:]
        if line.rstrip(b"\n").endswith(b"\r"):
            return Check(
                label,
                "fail",
                "the #! line ends in CR (Windows line endings): 'bad interpreter'",
                f"convert it: sed -i 's/\\r$//' {path}",
                detail,
            )
        words = line.decode("utf-8", "replace").split()
        if words:
            interp = words[0]
            if Path(interp).name == "env" and len(words) > 1:
                found = shutil.which(words[1])
                detail["interpreter"] = words[1]
                if found is None:
                    return Check(
                        label,
                        "fail",
                        f"its interpreter {words[1]} is not on PATH",
                        f"install {words[1]} or change the #! line",
                        detail,
                    )
            elif not os.access(interp, os.X_OK):
                detail["interpreter"] = interp
                return Check(
                    label,
                    "fail",
                    f"its interpreter {interp} does not exist",
                    "install it or change the #! line",
                    detail,
                )
    return Check(label, "ok", f"executable by {who.name}", "", detail)


# ------------------------------------------------------------------------------- cgroups


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return None


def _stat_file(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (_read(path) or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _cgroup_dirs(root: Path, controller: str | None, proc_cgroup: Path | None) -> list[Path]:
    """Candidate directories of our cgroup: the one /proc names, then the mount root."""
    base = root if controller is None else root / controller
    found: list[Path] = []
    text = _read(proc_cgroup) if proc_cgroup is not None else None
    for line in (text or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        wanted = (controller is None and controllers == "") or (
            controller is not None and controller in controllers.split(",")
        )
        if wanted and rel.strip("/"):
            found.append(base / rel.strip("/"))
    found.append(base)
    return [d for d in found if d.is_dir()]


@dataclass(slots=True)
class Memory:
    """Memory limit and use: the container's (cgroup) and the host's."""

    version: int | None
    """cgroup version (1 or 2), None when no cgroup memory controller was found."""
    limit: int | None
    """Bytes, None when unlimited."""
    usage: int | None
    working_set: int | None
    """Usage minus inactive page cache (what the OOM killer looks at)."""
    host_total: int
    host_used_pct: float


def read_memory(root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP) -> Memory:
    """Read memory from cgroup v2, else v1, beside psutil's host view."""
    vm = psutil.virtual_memory()
    host_total, host_pct = int(vm.total), float(vm.percent)
    for d in _cgroup_dirs(root, None, proc_cgroup):
        if (d / "memory.max").is_file() or (d / "memory.current").is_file():
            text = _read(d / "memory.max")
            limit = None if text in (None, "max") else _int(text)
            usage = _int(_read(d / "memory.current"))
            inactive = _stat_file(d / "memory.stat").get("inactive_file", 0)
            ws = None if usage is None else max(0, usage - inactive)
            return Memory(2, limit, usage, ws, host_total, host_pct)
    for d in _cgroup_dirs(root, "memory", proc_cgroup):
        if (d / "memory.limit_in_bytes").is_file():
            limit = _int(_read(d / "memory.limit_in_bytes"))
            stats = _stat_file(d / "memory.stat")
            hier = stats.get("hierarchical_memory_limit")
            if hier is not None and (limit is None or hier < limit):
                limit = hier
            if limit is not None and limit >= UNLIMITED:
                limit = None
            usage = _int(_read(d / "memory.usage_in_bytes"))
            inactive = stats.get("total_inactive_file", stats.get("inactive_file", 0))
            ws = None if usage is None else max(0, usage - inactive)
            return Memory(1, limit, usage, ws, host_total, host_pct)
    return Memory(None, None, None, None, host_total, host_pct)


def size(n: float | None) -> str:
    """Bytes for people: ``512 MB``, ``1.5 GB``."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB", "MB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def check_memory(
    settings: Settings, root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP
) -> Check:
    """The container's memory limit beside the host's, with a warning near the limit."""
    m = read_memory(root, proc_cgroup)
    detail: dict[str, Any] = asdict(m)
    host = f"host {size(m.host_total)} {m.host_used_pct:.0f}% used"
    if m.limit is None or m.limit > m.host_total:
        used = m.host_used_pct
        where = (
            "no container limit" if m.version is None else f"cgroup v{m.version}: no memory limit"
        )
        reason = f"{where}; {host}"
        fix_at = "free memory on the host or give the agent a bigger machine"
    else:
        used = 100.0 * (m.working_set or 0) / m.limit if m.limit else 0.0
        detail["used_pct"] = round(used, 1)
        reason = (
            f"cgroup v{m.version} limit {size(m.limit)}, in use {size(m.working_set)} "
            f"({used:.0f}%); {host}"
        )
        fix_at = "raise the container's memory limit, or find what grows (agent RSS, caches)"
    if used >= settings.memory_fail_pct:
        return Check("memory", "fail", reason + " (the OOM killer is near)", fix_at, detail)
    if used >= settings.memory_warn_pct:
        return Check("memory", "warn", reason, fix_at, detail)
    return Check("memory", "ok", reason, "", detail)


def read_cpu_quota(
    root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP
) -> tuple[int | None, float | None, dict[str, int]]:
    """(cgroup version, quota in CPUs or None when unlimited, cpu.stat)."""
    for d in _cgroup_dirs(root, None, proc_cgroup):
        text = _read(d / "cpu.max")
        if text is not None:
            parts = text.split()
            quota: float | None = None
            if (
                len(parts) == 2
                and parts[0] != "max"
                and parts[1].isdigit()
                and parts[0].isdigit()
                and int(parts[1])
            ):
                quota = int(parts[0]) / int(parts[1])
            return 2, quota, _stat_file(d / "cpu.stat")
    for controller in ("cpu,cpuacct", "cpu"):
        for d in _cgroup_dirs(root, controller, proc_cgroup):
            q = _int(_read(d / "cpu.cfs_quota_us"))
            p = _int(_read(d / "cpu.cfs_period_us"))
            if q is not None:
                quota = q / p if q > 0 and p else None
                return 1, quota, _stat_file(d / "cpu.stat")
    return None, None, {}


def check_cpu(root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP) -> Check:
    """CPU quota (cgroup) against the host's CPUs; a warning when throttled often."""
    version, quota, stats = read_cpu_quota(root, proc_cgroup)
    cpus = os.cpu_count() or 1
    detail: dict[str, Any] = {"cgroup": version, "quota_cpus": quota, "host_cpus": cpus}
    if quota is None:
        return Check("cpu", "ok", f"no CPU quota; {cpus} CPUs on the host", "", detail)
    reason = f"cgroup v{version} quota {quota:.2g} CPUs of {cpus} on the host"
    periods, throttled = stats.get("nr_periods", 0), stats.get("nr_throttled", 0)
    if periods:
        pct = 100.0 * throttled / periods
        detail["throttled_pct"] = round(pct, 1)
        reason += f", throttled in {pct:.0f}% of periods"
        if pct >= 20:
            return Check(
                "cpu",
                "warn",
                reason,
                "raise the CPU quota (or lower concurrency): throttling shows up as timeouts",
                detail,
            )
    if quota < 1:
        return Check(
            "cpu",
            "warn",
            reason,
            "less than one CPU: slow responses and timeouts under load; raise the quota",
            detail,
        )
    return Check("cpu", "ok", reason, "", detail)


# ------------------------------------------------------------------------------- disk, files


def check_disk(paths: Iterable[str], warn_pct: float = 90.0) -> list[Check]:
    """Free space and inodes where the logs and captures live (one check per filesystem)."""
    out: list[Check] = []
    seen: set[int] = set()
    for text in paths:
        path = Path(text)
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            st = os.statvfs(path)
            dev = path.stat().st_dev
        except OSError as exc:
            out.append(
                Check(
                    f"disk {text}", "warn", f"cannot read: {exc.strerror or exc}", "check the path"
                )
            )
            continue
        if dev in seen:
            continue
        seen.add(dev)
        total = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used_pct = 100.0 * (total - free) / total if total else 0.0
        inodes_pct = (100.0 * (st.f_files - st.f_favail) / st.f_files) if st.f_files else 0.0
        detail = {
            "path": str(path),
            "total": total,
            "free": free,
            "used_pct": round(used_pct, 1),
            "inodes_used_pct": round(inodes_pct, 1),
        }
        reason = f"{size(free)} free of {size(total)} ({used_pct:.0f}% used)"
        label = f"disk {text}"
        fix = "free space (old logs, captures, caches) or grow the volume"
        if used_pct >= 98 or inodes_pct >= 98:
            out.append(
                Check(
                    label,
                    "fail",
                    reason + (f", inodes {inodes_pct:.0f}% used" if inodes_pct >= 98 else ""),
                    fix,
                    detail,
                )
            )
        elif used_pct >= warn_pct or inodes_pct >= warn_pct:
            out.append(
                Check(label, "warn", reason + f", inodes {inodes_pct:.0f}% used", fix, detail)
            )
        else:
            out.append(Check(label, "ok", reason, "", detail))
    return out


def check_open_files() -> Check:
    """Open files against the ulimit (this shell's limit, and the system-wide table)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    detail: dict[str, Any] = {"soft": soft, "hard": hard}
    shown = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    reason = f"ulimit -n {shown} (hard {'unlimited' if hard == resource.RLIM_INFINITY else hard})"
    nr = _read(Path("/proc/sys/fs/file-nr"))
    if nr:
        parts = nr.split()
        if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit() and int(parts[2]):
            used, maximum = int(parts[0]), int(parts[2])
            detail["system_open"], detail["system_max"] = used, maximum
            reason += f"; system {used:,} of {maximum:,} open"
            if used >= 0.95 * maximum:
                return Check(
                    "open files",
                    "fail",
                    reason,
                    "raise fs.file-max or find the process leaking descriptors",
                    detail,
                )
    if soft != resource.RLIM_INFINITY and soft < 1024:
        return Check(
            "open files",
            "warn",
            reason,
            "raise it (ulimit -n 65536, LimitNOFILE= "
            "in the service unit): each connection is a file",
            detail,
        )
    return Check("open files", "ok", reason, "", detail)


# ------------------------------------------------------------------------------- processes


class ProcessWatcher:
    """Finds the agent processes and notices restarts (a new pid) across refreshes."""

    def __init__(self, pid: int | None = None, pattern: str | None = None) -> None:
        """Watch the process ``pid``, or those whose name or command line match ``pattern``.

        Raises:
            config.ConfigError: ``pattern`` is not a valid regular expression.
        """
        self.pid = pid
        self.pattern = None if pattern is None else _compile_pattern(pattern, "agent name")
        self.restarts: list[Restart] = []
        self._known: dict[int, float] = {}
        """pid -> create time of the processes seen last time."""
        self._procs: dict[int, Any] = {}
        self._cmdline: list[str] | None = None
        """The first process's command line (to find it again after a restart)."""
        self._lock = threading.Lock()
        self.refreshes = 0

    @property
    def active(self) -> bool:
        """Whether there is anything to watch."""
        return self.pid is not None or self.pattern is not None

    def _matches(self) -> list[Any]:
        if self.pattern is None:
            alive = [pid for pid, created in self._known.items() if _same(pid, created)]
            if alive:
                return [psutil.Process(pid) for pid in alive]
            if self._cmdline is None:  # never seen: the pid given
                assert self.pid is not None
                return [psutil.Process(self.pid)] if psutil.pid_exists(self.pid) else []
        me = os.getpid()
        found = []
        for proc in psutil.process_iter(["pid", "name", "cmdline"]):
            info = proc.info
            if info["pid"] == me:
                continue
            cmd = info.get("cmdline") or []
            if self.pattern is not None:
                if self.pattern.search(info.get("name") or "") or self.pattern.search(
                    " ".join(cmd)
                ):
                    found.append(proc)
            elif cmd == self._cmdline:
                found.append(proc)
        return found

    def refresh(self) -> list[ProcInfo]:
        """Look at the processes now; new pids after the first refresh are restarts."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> list[ProcInfo]:
        try:
            found = self._matches()
        except psutil.Error:
            found = []
        now = time.time()
        current: dict[int, float] = {}
        infos: list[ProcInfo] = []
        for proc in found:
            try:
                created = float(proc.create_time())
                cached = self._procs.get(proc.pid)
                if cached is None or self._known.get(proc.pid) != created:
                    cached = self._procs[proc.pid] = proc
                    cached.cpu_percent(None)
                    cpu = _average_cpu(proc, _uptime(proc.pid, created, now))
                else:
                    cpu = float(cached.cpu_percent(None))
                infos.append(_proc_info(cached, cpu, _uptime(proc.pid, created, now)))
                current[proc.pid] = created
                if self._cmdline is None and self.pid is not None:
                    self._cmdline = list(proc.cmdline())
            except psutil.Error:
                continue
        if self.refreshes and self._known:
            gone = [pid for pid, created in self._known.items() if current.get(pid) != created]
            for pid, created in current.items():
                if self._known.get(pid) != created:
                    old = gone.pop(0) if gone else None
                    self.restarts.append(Restart(now, old, pid))
        if current or not self._known:
            self._known = current
        for pid in list(self._procs):
            if pid not in current:
                del self._procs[pid]
        self.refreshes += 1
        return infos

    def check(self, infos: list[ProcInfo], since: float | None = None) -> Check:
        """The agent check: found, and restarted or not."""
        what = (
            f"pid {self.pid}" if self.pattern is None else f"name matching {self.pattern.pattern!r}"
        )
        if not infos:
            return Check(
                "agent",
                "fail",
                f"no process with {what} is running",
                "start the agent, or fix --agent-pid / --agent-name",
                {"watching": what},
            )
        restarts = [r for r in self.restarts if since is None or r.at >= since]
        first = infos[0]
        reason = (
            f"{len(infos)} process{'es' if len(infos) > 1 else ''}; pid {first.pid} up "
            f"{age(first.uptime_s)}, RSS {size(first.rss)}"
        )
        detail: dict[str, Any] = {
            "watching": what,
            "pids": [i.pid for i in infos],
            "restarts": len(restarts),
        }
        if restarts:
            last = restarts[-1]
            old = f"{last.old_pid} -> " if last.old_pid else ""
            return Check(
                "agent",
                "warn",
                f"{reason}; restarted {len(restarts)}x (pid {old}{last.new_pid})",
                "look at the agent's last log lines and the "
                "kernel log (OOM kills: dmesg | grep -i oom)",
                detail,
            )
        for info in infos:
            if info.fd_limit and info.open_files >= 0.8 * info.fd_limit:
                return Check(
                    "agent",
                    "warn",
                    f"{reason}; pid {info.pid} has {info.open_files} of {info.fd_limit} files open",
                    "raise its open files limit or look for a descriptor leak",
                    detail,
                )
        return Check("agent", "ok", reason, "", detail)


def _same(pid: int, created: float) -> bool:
    """Whether ``pid`` is still the process created at ``created`` (not a reused pid)."""
    try:
        return bool(float(psutil.Process(pid).create_time()) == created)
    except psutil.Error:
        return False


def _uptime(pid: int, created: float, now: float) -> float:
    """Seconds since the process started (from /proc like ps; psutil's clock can lag)."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat_line.rsplit(")", 1)[1].split()[19])
        since_boot = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, since_boot - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return max(0.0, now - created)


def _average_cpu(proc: Any, uptime: float) -> float:
    try:
        times = proc.cpu_times()
        return 100.0 * (times.user + times.system) / uptime if uptime > 0 else 0.0
    except psutil.Error:
        return 0.0


def _proc_info(proc: Any, cpu: float, uptime: float) -> ProcInfo:
    with proc.oneshot():
        try:
            fds = int(proc.num_fds())
        except (psutil.Error, AttributeError):
            fds = -1
        try:
            limit = int(proc.rlimit(psutil.RLIMIT_NOFILE)[0])
        except (psutil.Error, AttributeError, OSError):
            limit = None
        try:
            children = len(proc.children(recursive=True))
        except psutil.Error:
            children = 0
        try:
            user = str(proc.username())
        except (psutil.Error, KeyError):
            user = "?"
        return ProcInfo(
            pid=int(proc.pid),
            name=clean(str(proc.name())),
            user=clean(user),
            rss=int(proc.memory_info().rss),
            cpu_pct=round(cpu, 1),
            threads=int(proc.num_threads()),
            open_files=fds,
            fd_limit=limit if limit and limit > 0 else None,
            uptime_s=uptime,
            children=children,
            status=str(proc.status()),
        )


def age(seconds: float) -> str:
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


# ------------------------------------------------------------------------------- log pressure


def pressure(index: Any, minutes: int = 10, end: float | None = None) -> Pressure:
    """429s and timeouts per minute over the last ``minutes`` of a :class:`TraceIndex`.

    Counts failed tool calls whose error matches (at the call's start minute), and failed
    traces whose error matches but have no such tool call (at the trace's start). The window
    ends at ``end``, by default the newest time in the index (so old logs still show their
    last minutes). Hold the session's lock while calling.
    """
    cache: dict[int, int] = {}
    errors = index.errors

    def kind(error_id: int) -> int:
        """1: rate limited, 2: timeout, 0: neither."""
        found = cache.get(error_id)
        if found is None:
            text = errors[error_id] if error_id >= 0 else ""
            found = 1 if RATE_LIMIT_RE.search(text) else 2 if TIMEOUT_RE.search(text) else 0
            cache[error_id] = found
        return found

    hits: list[tuple[float, int]] = []
    newest = -1.0
    for t in index.traces.values():
        last = t.last
        if last == last and last > newest:
            newest = last
        if not t.tool_errors and t.error_id < 0:
            continue
        counted = False
        if t.tool_errors:
            for _tool, status, start, _dur, error_id in t.span_rows():
                if status == 2 and start == start:
                    k = kind(error_id)
                    if k:
                        hits.append((start, k))
                        counted = True
        if not counted and t.error_id >= 0 and t.status == "error" and t.start == t.start:
            k = kind(t.error_id)
            if k:
                hits.append((t.start, k))
    stop = end if end is not None else (newest if newest >= 0 else None)
    rate = [0] * minutes
    slow = [0] * minutes
    if stop is not None:
        first = (int(stop // 60) - minutes + 1) * 60
        for ts, k in hits:
            slot = int((ts - first) // 60)
            if 0 <= slot < minutes:
                (rate if k == 1 else slow)[slot] += 1
    return Pressure(minutes, stop, rate, slow)


def check_pressure(p: Pressure) -> Check:
    """A warning when the logs show 429s or timeouts in the window."""
    detail = {
        "rate_limited": p.total_rate_limited,
        "timeouts": p.total_timeouts,
        "minutes": p.minutes,
    }
    if p.end is None:
        return Check("logs 429/timeouts", "ok", "no timed events in the logs yet", "", detail)
    reason = (
        f"{p.total_rate_limited} rate limited (429), {p.total_timeouts} timeouts in the "
        f"last {p.minutes} min of logs"
    )
    if p.total_rate_limited or p.total_timeouts:
        peak = max(p.rate_limited + p.timeouts)
        fix = []
        if p.total_rate_limited:
            fix.append("lower concurrency, back off on 429 or raise the quota")
        if p.total_timeouts:
            fix.append("check the slow dependency and the timeouts (CPU throttling?)")
        return Check(
            "logs 429/timeouts", "warn", f"{reason} (peak {peak}/min)", "; ".join(fix), detail
        )
    return Check("logs 429/timeouts", "ok", reason, "", detail)


# ------------------------------------------------------------------------------- the run


@dataclass(slots=True)
class Context:
    """What a run looks at besides the settings."""

    log_dirs: list[str] = field(default_factory=list)
    cgroup_root: Path = CGROUP_ROOT
    proc_cgroup: Path | None = PROC_CGROUP
    environ: dict[str, str] | None = None
    cwd: Path | None = None
    read: Callable[[], AbstractContextManager[Any]] | None = None
    """The session's read API (:meth:`agenttui.session.Session.read`) for the 429/timeout
    pressure (None: not computed)."""


Job = tuple[str, Callable[[], Check | list[Check]]]


def _fixed(check: Check) -> Check:
    return check


def jobs(settings: Settings, ctx: Context, agent_pid: int | None = None) -> list[Job]:
    """The table of checks to run for these settings (``agent_pid``: paths checked as its user)."""
    env = dict(os.environ if ctx.environ is None else ctx.environ)
    out: list[Job] = []
    if settings.config_error:
        out.append(
            (
                "config",
                partial(
                    _fixed,
                    Check(
                        "config",
                        "fail",
                        settings.config_error,
                        "fix agenttui.toml ('agenttui doctor' names the setting)",
                    ),
                ),
            )
        )
    for name in settings.env:
        out.append(
            (
                f"env {name}",
                partial(check_env, name, allow_localhost=settings.allow_localhost, environ=env),
            )
        )
    for name in settings.binaries:
        out.append(
            (
                f"binary {name}",
                partial(check_binary, name, timeout=settings.timeout, path=env.get("PATH")),
            )
        )
    targets: list[Target] = []
    for text in settings.hosts:
        target = parse_target(text)
        if target is None:
            out.append(
                (
                    f"host {text}",
                    partial(
                        _fixed,
                        Check(
                            f"host {text}",
                            "fail",
                            "cannot read a host from it",
                            "write host:port or a URL in [doctor] hosts",
                        ),
                    ),
                )
            )
        else:
            targets.append(target)
    if settings.env_hosts:
        targets.extend(env_targets(env))
    seen: set[tuple[str, int | None]] = set()
    for target in targets:
        key = (target.host.lower(), target.port)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            (
                target.label,
                partial(
                    check_host,
                    target,
                    timeout=settings.timeout,
                    allow_localhost=settings.allow_localhost,
                ),
            )
        )
    me = current_user()
    agent_user: Who | None = None
    if settings.user:
        agent_user = user_by_name(settings.user)
        if agent_user is None:
            out.append(
                (
                    "user",
                    partial(
                        _fixed,
                        Check(
                            "user",
                            "fail",
                            f"user {settings.user!r} does not exist",
                            "fix [doctor] user",
                        ),
                    ),
                )
            )
    elif agent_pid is not None:
        agent_user = user_of_process(agent_pid)
    who = agent_user or me
    if not settings.user or agent_user is not None:
        out.append(("user", partial(check_user, me, agent_user)))
    for rule in settings.paths:
        out.append((f"path {rule.path}", partial(check_path, rule, who, ctx.cwd)))
    for script in settings.scripts:
        out.append((f"script {script}", partial(check_script, script, who, ctx.cwd)))
    out.append(("memory", partial(check_memory, settings, ctx.cgroup_root, ctx.proc_cgroup)))
    out.append(("cpu", partial(check_cpu, ctx.cgroup_root, ctx.proc_cgroup)))
    disk_paths = [*ctx.log_dirs, *settings.disk] or [str(ctx.cwd or Path.cwd())]
    out.append(("disk", partial(check_disk, disk_paths, settings.disk_warn_pct)))
    out.append(("open files", check_open_files))
    return out


def run(
    settings: Settings, ctx: Context | None = None, watcher: ProcessWatcher | None = None
) -> Report:
    """Run every check concurrently; the whole run ends within ``timeout`` + a second.

    A check still running at the deadline is reported as failed ("did not finish"); its
    daemon thread is left behind and never holds the process open.
    """
    ctx = ctx or Context()
    started = time.monotonic()
    if watcher is None and (settings.agent_pid or settings.agent_name):
        watcher = ProcessWatcher(settings.agent_pid, settings.agent_name)
    processes: list[ProcInfo] = []
    if watcher is not None and watcher.active:
        processes = watcher.refresh()
    table = jobs(settings, ctx, processes[0].pid if processes else None)
    results: list[list[Check] | None] = [None] * len(table)

    def runner(i: int, name: str, fn: Callable[[], Check | list[Check]]) -> None:
        try:
            value = fn()
            results[i] = value if isinstance(value, list) else [value]
        except Exception as exc:  # a check must never take the run down
            results[i] = [
                Check(
                    name,
                    "fail",
                    f"check crashed: {type(exc).__name__}: {exc}",
                    "report this as an agenttui bug",
                )
            ]

    threads = []
    for i, (name, fn) in enumerate(table):
        thread = threading.Thread(
            target=runner, args=(i, name, fn), daemon=True, name=f"doctor-{i}"
        )
        thread.start()
        threads.append(thread)
    deadline = started + settings.timeout + RUN_SLACK
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    checks: list[Check] = []
    for (name, _fn), result in zip(table, results, strict=True):
        if result is None:
            checks.append(
                Check(
                    name,
                    "fail",
                    f"did not finish within {settings.timeout + RUN_SLACK:g}s",
                    "the system call hangs: check DNS, mounts (NFS) and the process table",
                )
            )
        else:
            checks.extend(result)
    if watcher is not None and watcher.active:
        checks.append(watcher.check(processes))
    p: Pressure | None = None
    if ctx.read is not None:
        with ctx.read() as index:
            p = pressure(index, settings.pressure_minutes)
        checks.append(check_pressure(p))
    return Report(
        checks,
        processes,
        list(watcher.restarts) if watcher else [],
        p,
        time.monotonic() - started,
        time.time(),
    )


# ------------------------------------------------------------------------------- output


MARKS: Final = {"ok": "✓", "warn": "!", "fail": "✗"}


def format_table(report: Report, width: int = 100) -> str:
    """The report as plain text for a terminal (worst first, a fix under each problem)."""
    checks = report.ordered()
    name_w = min(28, max((len(c.name) for c in checks), default=5))
    lines = []
    for c in checks:
        lines.append(
            shorten(f"{MARKS[c.status]} {c.status:<4}  {c.name:<{name_w}}  {c.reason}", width)
        )
        if c.fix and c.status != "ok":
            lines.append(shorten(f"{'':<{name_w + 9}}fix: {c.fix}", width))
    if report.processes:
        lines.append("")
        lines.append("agent processes:")
        for pi in report.processes:
            fds = f"{pi.open_files}/{pi.fd_limit or '?'}"
            lines.append(
                shorten(
                    f"  pid {pi.pid:<7} {pi.name:<16} {pi.user:<10} "
                    f"RSS {size(pi.rss):>8}  CPU {pi.cpu_pct:5.1f}%  "
                    f"threads {pi.threads:<3} files {fds:<10} "
                    f"up {age(pi.uptime_s)}  children {pi.children}",
                    width,
                )
            )
    p = report.pressure
    if p is not None and p.end is not None:
        lines.append("")
        lines.append(f"per minute, last {p.minutes} min of logs (oldest first):")
        lines.append("  429s      " + " ".join(f"{n:>3}" for n in p.rate_limited))
        lines.append("  timeouts  " + " ".join(f"{n:>3}" for n in p.timeouts))
    counts = report.counts()
    lines.append("")
    lines.append(
        f"{len(checks)} checks: {counts['fail']} fail, {counts['warn']} warn, "
        f"{counts['ok']} ok ({report.elapsed_s:.1f}s)"
    )
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    """Arguments of ``agenttui doctor`` (the caller supplies an erroring parser class)."""
    p = argparse.ArgumentParser(prog="agenttui doctor")
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``doctor`` arguments to ``p``."""
    p.description = (
        "Run the production checklist once: environment, binaries, hosts, "
        "paths, memory, CPU, disk, open files, the agent process."
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="the agent's logs: 429/timeout pressure and disk space where they live",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--config", metavar="FILE", help="config file (default ./agenttui.toml)")
    p.add_argument("--agent-pid", type=int, metavar="N", help="the agent's process id")
    p.add_argument(
        "--agent-name",
        metavar="PATTERN",
        help="regular expression matched against process names and command lines",
    )


def command(opts: argparse.Namespace, out: IO[str] | None = None) -> int:
    """``agenttui doctor``: 0 when nothing fails, 1 when a check fails, 2 for bad usage."""
    stream = out if out is not None else sys.stdout
    try:
        settings = load_settings(opts.config)
        if opts.agent_pid is not None:
            if opts.agent_pid <= 0:
                raise config.ConfigError("--agent-pid must be a positive process id")
            settings.agent_pid = opts.agent_pid
            settings.agent_name = None
        if opts.agent_name is not None:
            _compile_pattern(opts.agent_name, "--agent-name")
            settings.agent_name = opts.agent_name
            settings.agent_pid = None
    except config.ConfigError as exc:
        print(f"agenttui: error: {exc}", file=sys.stderr)
        return 2
    ctx = Context()
    session = None
    if opts.paths:
        from agenttui.ingest import sources
        from agenttui.session import Session

        session = Session(opts.paths)  # SourceError: exit 2 in the caller
        session.index.track_changes = False
        session.scan()
        ctx.read = session.read
        ctx.log_dirs = sources.watch_roots(session.specs)
    try:
        report = run(settings, ctx)
    finally:
        if session is not None:
            session.close()
    try:
        if opts.json:
            stream.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
        else:
            width = shutil.get_terminal_size((100, 24)).columns if stream.isatty() else 200
            stream.write(format_table(report, max(60, width)))
        stream.flush()
    except BrokenPipeError:
        pass
    return 1 if report.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``doctor`` on its own (``python -m agenttui.doctor.checks``)."""
    return command(parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
