"""systemd journal entries as ``journalctl -o json`` prints them: native fields (python-systemd's
``JournalHandler``, ``sd_journal_send``), or a program's stdout line (itself JSON) in
``MESSAGE``."""

from __future__ import annotations

import contextlib
from typing import Any, Final

from agenttui.ingest.shapes.base import has_time, loads

SYSLOG_LEVELS: Final = ("emerg", "alert", "crit", "error", "warning", "notice", "info", "debug")
_NOT_FIELDS: Final = frozenset({"MESSAGE", "PRIORITY", "SYSLOG_TIMESTAMP", "EXCEPTION_TEXT"})
#: JournalHandler's own fields, kept under their usual names.
_RENAMED: Final = {
    "CODE_FUNC": "func",
    "CODE_FILE": "file",
    "CODE_LINE": "line",
    "LOGGER": "logger",
    "THREAD_NAME": "thread",
    "SYSLOG_IDENTIFIER": "identifier",
}


def _message(obj: dict[str, Any]) -> Any:
    message = obj.get("MESSAGE")
    if isinstance(message, list):  # a message that is not UTF-8: journalctl gives its bytes
        try:
            message = bytes(message).decode("utf-8", "backslashreplace")
        except (TypeError, ValueError):
            message = None
    return message


def journald(obj: dict[str, Any]) -> dict[str, Any]:
    """A journal entry in the usual names: the first line of ``MESSAGE`` is the event and the
    rest its traceback (``logging`` appends it), ``EXCEPTION_TEXT`` the traceback, upper-case
    extras lower-cased, ``_HOSTNAME`` the host."""
    message = _message(obj)
    c: dict[str, Any] = {}
    inner = None
    if isinstance(message, str) and message.lstrip().startswith("{"):
        inner = loads(message.encode("utf-8", "surrogatepass"))
    if isinstance(inner, dict):
        c.update(inner)
    elif isinstance(message, str) and "\n" in message:
        first, rest = message.split("\n", 1)
        c["event"] = first
        if rest.strip():
            c["exception"] = rest
    else:
        c["event"] = message
    exc_text = obj.get("EXCEPTION_TEXT")
    if isinstance(exc_text, str) and exc_text.strip():
        c["exception"] = exc_text
    for key, value in obj.items():
        if key[:1] == "_" or key in _NOT_FIELDS:
            continue
        c.setdefault(_RENAMED.get(key) or key.lower(), value)
    if not has_time(c):
        when = obj.get("_SOURCE_REALTIME_TIMESTAMP") or obj.get("__REALTIME_TIMESTAMP")
        if when is not None:
            c["timestamp"] = when
    if not any(k in c for k in ("level", "levelname", "severity")):
        priority = obj.get("PRIORITY")
        if isinstance(priority, str) and priority.isdigit() and int(priority) < 8:
            c["level"] = SYSLOG_LEVELS[int(priority)]
    for key in ("duration_ms", "duration", "elapsed"):  # journal fields are strings
        value = c.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                c[key] = float(value)
    for key, name in (("_HOSTNAME", "host"), ("_SYSTEMD_UNIT", "unit"), ("_PID", "pid")):
        if key in obj:
            c.setdefault(name, obj[key])
    return c


def journald_reason(obj: dict[str, Any]) -> str | None:
    """Why an object is a journal entry (None when it is not)."""
    if "__REALTIME_TIMESTAMP" not in obj or "MESSAGE" not in obj:
        return None
    inner = obj["MESSAGE"]
    if isinstance(inner, str) and inner.lstrip().startswith("{"):
        return "journalctl -o json: __REALTIME_TIMESTAMP, MESSAGE (holds JSON)"
    native = [k for k in ("CODE_FUNC", "EXCEPTION_TEXT", "LOGGER") if k in obj]
    if native:
        return "journalctl -o json: __REALTIME_TIMESTAMP, MESSAGE, " + ", ".join(native)
    return "journalctl -o json: __REALTIME_TIMESTAMP, MESSAGE"
