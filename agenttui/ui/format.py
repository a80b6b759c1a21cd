"""Small formatting helpers shared by the UI: times, durations, safe text.

Every string that comes from a log goes through :func:`safe` (or
:func:`agenttui.output.sanitize.clean`) and ends up in a :class:`rich.text.Text`, never in a markup
string.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Final

from agenttui.output import secrets
from agenttui.output.sanitize import clean, shorten

STATUS_MARK: Final = {"ok": "✓", "error": "✗", "running": "●"}
"""A mark per status, so that the status reads without colour (NO_COLOR)."""

STATUS_STYLE: Final = {"ok": "green", "error": "bold red", "running": "yellow"}


_reveal_secrets = False


def set_show_secrets(show: bool) -> None:
    """Reveal (True) or mask (False, the default) secret-looking values in every view."""
    global _reveal_secrets
    _reveal_secrets = show


def show_secrets() -> bool:
    """Whether secret-looking values are shown as they are (``--show-secrets``)."""
    return _reveal_secrets


def unmasked(text: str) -> str:
    """``text`` with secrets masked unless ``--show-secrets`` (characters left as they are)."""
    return text if _reveal_secrets else secrets.mask(text)


def masked_fields(value: object) -> object:
    """A decoded JSON value with secrets masked unless ``--show-secrets``."""
    return value if _reveal_secrets else secrets.mask_fields(value)


def safe(text: object, *, multiline: bool = False) -> str:
    """Untrusted log text with secrets masked and control and invisible characters made
    visible."""
    if text is None:
        return ""
    if not isinstance(text, str):
        try:
            text = str(text)
        except (RecursionError, ValueError):
            text = "(value nested too deeply to show)"
    return clean(text if _reveal_secrets else secrets.mask(text), multiline=multiline)


def one_line(text: object, width: int) -> str:
    """Untrusted text cleaned, on one line, cut to ``width`` cells."""
    return shorten(safe(text), max(0, width))


def model_name(text: object, width: int) -> str:
    """A model's name cleaned, on one line, cut from the left to ``width`` cells: its version
    is at its end (``…o-2024-08-06``), and two versions must not look alike."""
    name = safe(text)
    if width <= 0:
        return ""
    if len(name) <= width:
        return name
    return "…" + name[len(name) - (width - 1) :]


def clock(ts: float | None) -> str:
    """``HH:MM:SS`` in UTC, or ``--:--:--`` when unknown."""
    if ts is None or not math.isfinite(ts):
        return "--:--:--"
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return "--:--:--"


def clock_ms(ts: float | None) -> str:
    """``HH:MM:SS.mmm`` in UTC, or blanks when unknown."""
    if ts is None or not math.isfinite(ts):
        return "--:--:--.---"
    try:
        dt = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return "--:--:--.---"
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def stamp(ts: float | None) -> str:
    """``YYYY-MM-DD HH:MM:SS.mmmZ`` (UTC), or ``unknown``."""
    if ts is None or not math.isfinite(ts):
        return "unknown"
    try:
        dt = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return "unknown"
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def duration(ms: float | None) -> str:
    """A duration in a few characters: ``850ms``, ``12.3s``, ``4m05s``, ``-`` when unknown."""
    if ms is None or not math.isfinite(ms):
        return "-"
    if ms < 0:
        ms = 0.0
    if ms < 10:
        return f"{ms:.1f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def count(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"


def short_id(request_id: str, width: int = 12) -> str:
    """A request id cut to ``width`` (the tail is usually the unique part)."""
    rid = safe(request_id)
    if len(rid) <= width:
        return rid
    return "…" + rid[-(width - 1) :]
