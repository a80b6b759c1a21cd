"""Failure captures: ``failed_<unix-ms>.json`` with the query, the error, the traceback and
the runtime context (secret-looking environment values masked), never overwriting a file."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from agenttui.demo.runtime import tool_timeout

_RELEVANT_ENV = (
    "SEARCH_API_KEY",
    "OPENAI_API_KEY",
    "TOOL_TIMEOUT",
    "GREP_BIN",
    "AGENT_MODEL",
    "AGENT_WORKDIR",
    "AGENT_TIME_SCALE",
    "LLM_RATE_LIMIT",
    "LLM_BURST",
    "PATH",
    "HOME",
    "LANG",
    "VIRTUAL_ENV",
)
_SECRET_NAME_RE = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)
_SECRET_VALUE_RE = re.compile(r"^(sk-|ghp_|gho_|xox[abp]-|AKIA|eyJ)|^[A-Za-z0-9+/_\-]{32,}={0,2}$")


def _mask(name: str, value: str | None) -> str | None:
    """Mask secret-looking environment values as ``"***"``."""
    if value is None or value == "":
        return value
    if _SECRET_NAME_RE.search(name) or _SECRET_VALUE_RE.search(value):
        return "***"
    return value


def build_context(model: str) -> dict[str, Any]:
    """Collect the runtime context stored in capture files.

    Args:
        model: Planner model name.

    Returns:
        cwd, relevant environment variables (secrets masked, unset ones as None),
        TOOL_TIMEOUT, model, hostname, pid and Python version.
    """
    env = {name: _mask(name, os.environ.get(name)) for name in _RELEVANT_ENV}
    return {
        "cwd": os.getcwd(),
        "env": env,
        "TOOL_TIMEOUT": tool_timeout(),
        "model": model,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "python_version": platform.python_version(),
        "platform": platform.platform(),
    }


def write_capture(captures_dir: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as ``failed_<unix-ms>.json`` without ever overwriting a file.

    The file appears atomically (written to a temp file, then hard-linked to its final
    name, which fails if the name exists). On a collision ``-2``, ``-3``... is appended.

    Args:
        captures_dir: Directory to write into (created if needed).
        payload: JSON-serialisable capture content.

    Returns:
        The path of the capture file.
    """
    captures_dir.mkdir(parents=True, exist_ok=True)
    # The marker by which agenttui replays this capture against the demo agent when no
    # target is configured (text in a traceback never chooses a target).
    payload = {"written_by": "agenttui.demo.agent", **payload}
    data = orjson.dumps(payload, option=orjson.OPT_INDENT_2, default=str)
    stamp = int(time.time() * 1000)
    fd, tmp_name = tempfile.mkstemp(prefix=".capture-", suffix=".tmp", dir=captures_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        for n in range(1, 10_000):
            name = f"failed_{stamp}.json" if n == 1 else f"failed_{stamp}-{n}.json"
            target = captures_dir / name
            try:
                os.link(tmp_name, target)
            except FileExistsError:
                continue
            except OSError:  # filesystem without hard links: exclusive create instead
                try:
                    with open(target, "xb") as out:
                        out.write(data)
                except FileExistsError:
                    continue
            return target
        raise FileExistsError(f"no free capture name for stamp {stamp}")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
