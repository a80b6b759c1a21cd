"""Environment variables (their shape, never their value) and binaries on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from agenttui.doctor.hosts import is_local_name
from agenttui.doctor.results import Check
from agenttui.doctor.settings import DEFAULT_TIMEOUT
from agenttui.output.sanitize import clean, shorten

PACKAGES: Final = {
    "rg": "ripgrep",
    "fd": "fd-find",
    "ag": "silversearcher-ag",
    "convert": "imagemagick",
    "pdftotext": "poppler-utils",
}
"""apt package names that differ from the binary name (for the fix hint)."""


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
