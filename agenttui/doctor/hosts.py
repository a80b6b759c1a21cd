"""Hosts: DNS resolves and TCP connects within a deadline."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from agenttui.doctor.results import Check
from agenttui.doctor.settings import DEFAULT_TIMEOUT

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
