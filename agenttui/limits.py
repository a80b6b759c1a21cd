"""The memory budget: ``--max-memory``, else ``max_memory`` in ``[limits]`` of agenttui.toml,
else :data:`DEFAULT_MAX_MEMORY` (see :meth:`agenttui.session.Session.set_memory_budget`)."""

from __future__ import annotations

from typing import Any, Final

from agenttui import config

DEFAULT_MAX_MEMORY: Final = 256 << 20
MIN_MAX_MEMORY: Final = 64 << 20
MAX_MEMORY_HELP: Final = (
    "memory budget of the whole process tree (default 256M; also max_memory in [limits] of "
    "agenttui.toml): past it the oldest finished traces leave memory (they stay in the files "
    "and in the counts)"
)


class LimitError(config.ConfigError):
    """A budget that is not a size; the message is one line naming where it was given."""


def memory_budget(flag: str | None) -> int:
    """Bytes of the memory budget: ``flag`` (``--max-memory``), else ``[limits] max_memory``,
    else 256 MB. Sizes read like ``512M``, ``1G``, ``300MB``, ``1.5g`` or bytes.

    Raises:
        LimitError: Not a size of at least 64 MB.
        agenttui.config.ConfigError: The config file cannot be read.
    """
    text: Any = flag
    origin = "--max-memory"
    if text is None:
        text = config.section(config.load(), "limits").get("max_memory")
        origin = f"max_memory in [limits] of {config.FILE_NAME}"
    if text is None:
        return DEFAULT_MAX_MEMORY
    size = parse_size(text)
    if size is None or size < MIN_MAX_MEMORY:
        raise LimitError(f"{origin}: {text!r} is not a size of at least 64M (e.g. 256M, 1G)")
    return size


def parse_size(value: object) -> int | None:
    """``512M``, ``1G``, ``300MB``, ``1.5g`` or a number of bytes; None when not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    factor = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    try:
        size = float(number)
    except ValueError:
        return None
    return int(size * factor) if size > 0 else None
