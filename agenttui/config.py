"""The configuration file ``agenttui.toml``: found in the working directory, or given with
``--config``. Each feature reads its own table (``[replay]``, ``[doctor]``, ``[mapping]``...);
command-line flags and ``AGENTTUI_*`` environment variables take precedence over it.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

FILE_NAME = "agenttui.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line naming the file or setting."""


def find(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: ``explicit`` (must exist), else ``./agenttui.toml`` if present."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    path = Path.cwd() / FILE_NAME
    return path if path.is_file() else None


def load(explicit: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read the whole config file (an empty dict when there is none).

    Raises:
        ConfigError: The file cannot be read or is not valid TOML.
    """
    path = find(explicit)
    if path is None:
        return {}
    try:
        # O_NONBLOCK + fstat: a FIFO or device planted as agenttui.toml is never read
        # (agenttui.safeopen does the same for every other file; config imports nothing).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{path}: not a regular file")
            os.set_blocking(fd, True)
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    """One table of the config (empty when absent).

    Raises:
        ConfigError: ``name`` is present but is not a table.
    """
    value = config.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in {FILE_NAME} must be a table")
    return value


def env_override(name: str) -> str | None:
    """The value of ``AGENTTUI_<NAME>`` (upper-cased), or None when unset or empty."""
    value = os.environ.get(f"AGENTTUI_{name.upper()}", "")
    return value or None
