"""Prod vs here: how the capture's runtime context differs from the replay's.

The "works on my machine" question, answered side by side: environment variable names set,
unset or different (values masked), cwd, user, Python version, hostname, model name and
package versions when the capture records them. Only differences are listed.
"""

from __future__ import annotations

import getpass
import importlib.metadata
import os
import platform
import socket
from collections.abc import Mapping
from typing import Any, Final

from agenttui.output.secrets import is_masked, mask_env
from agenttui.replay.captures import Capture

MAX_ROWS: Final = 60
"""Rows kept (the capture's environment may be large)."""
_MODEL_VARS: Final = ("AGENT_MODEL", "MODEL", "OPENAI_MODEL", "LLM_MODEL")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.geteuid())


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _masked(name: str, value: str | None) -> str | None:
    return None if value is None else mask_env({name: value})[name]


def context_diff(capture: Capture, env: Mapping[str, str], cwd: str) -> list[dict[str, Any]]:
    """``[{"what", "prod", "here"}]`` for each difference (``None``: unset or unknown; values
    masked)."""
    ctx = capture.context or {}
    rows: list[dict[str, Any]] = []

    def row(what: str, prod: Any, here: Any) -> None:
        prod_s, here_s = _text(prod), _text(here)
        if prod_s != here_s:
            rows.append({"what": what, "prod": prod_s, "here": here_s})

    if "cwd" in ctx:
        row("cwd", ctx.get("cwd"), cwd)
    for key, found in (
        ("user", _user()),
        ("python_version", platform.python_version()),
        ("hostname", socket.gethostname()),
    ):
        if key in ctx:
            row(key, ctx.get(key), found)
    if "model" in ctx:
        row("model", ctx.get("model"), next((env[v] for v in _MODEL_VARS if v in env), None))
    packages = ctx.get("packages")
    if isinstance(packages, dict):
        for name in sorted(packages)[:MAX_ROWS]:
            if isinstance(name, str):
                row(f"package {name}", packages[name], _version(name))
    recorded = ctx.get("env")
    if isinstance(recorded, dict):
        for name in sorted(k for k in recorded if isinstance(k, str)):
            prod = _text(recorded[name])
            local = env.get(name)
            if prod is not None and is_masked(prod):
                if local is None:  # masked there: only set vs unset can be compared
                    rows.append({"what": f"env {name}", "prod": "(set)", "here": None})
                continue
            if prod != local:
                rows.append(
                    {
                        "what": f"env {name}",
                        "prod": _masked(name, prod),
                        "here": _masked(name, local),
                    }
                )
    return rows[:MAX_ROWS]


__all__ = ["context_diff"]
