"""Error signatures: one error normalised so that occurrences of the same failure compare equal.

``signature("FileNotFoundError: [Errno 2] No such file or directory: 'data/orders.csv'")`` and the
same error for ``'data/prices.csv'`` both give
``FileNotFoundError: [Errno 2] No such file or directory: '<path>'``.

What is replaced, in this order:

* the module path of the exception type (``agenttui.demo.agent.RateLimitError`` ->
  ``RateLimitError``), so a formatted traceback and a structlog summary agree;
* URLs -> ``<url>``; e-mail addresses -> ``<email>``;
* quoted values: ``'<path>'`` when they hold a path separator, else ``'<str>'`` (a quoted
  text with spaces is a message: its parts are normalised instead);
* UUIDs -> ``<uuid>``; ``0x`` hex numbers and hex ids of 6+ characters with a digit -> ``<hex>``;
* IPv4 / bracketed IPv6 addresses -> ``<ip>``; ``host:port`` -> ``<host>:<port>``;
* absolute and ``./`` / ``~/`` paths -> ``<path>``;
* numbers (with an optional unit such as ``ms``, ``s``, ``%``) -> ``<n>``, except the ones that
  name the failure: ``[Errno 2]``, ``HTTP 404`` and a leading ``429`` status.

Whitespace is collapsed and the result cut to :data:`MAX_LENGTH` characters. No I/O, no state:
the replay verdicts reuse it to compare a capture's error with a replay's.
"""

from __future__ import annotations

import re
from typing import Final

MAX_LENGTH: Final = 200

_TRACEBACK_HEAD: Final = "Traceback (most recent call last)"

_TYPE: Final = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_]\w*(?::|$))")
_URL: Final = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()\[\]]+")
_EMAIL: Final = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_QUOTED: Final = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`")
_UUID: Final = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_HEX0X: Final = re.compile(r"\b0x[0-9a-fA-F]+\b")
_HEXID: Final = re.compile(
    r"(?<![0-9a-zA-Z])(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])"
    r"[0-9a-fA-F]{6,}(?![0-9a-zA-Z])"
)
_IPV4: Final = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])")
_IPV6: Final = re.compile(r"\[[0-9a-fA-F:]*:[0-9a-fA-F:.]*\](?::\d{1,5})?")
_HOSTPORT: Final = re.compile(r"(?<![\w.-])[a-zA-Z][\w-]*(?:\.[\w-]+)*:\d{2,5}(?!\w)")
_PATH: Final = re.compile(
    r"(?<![\w.<>/])(?:~|\.{1,2})?/[^\s'\",;:()\[\]<>]+"
    r"|\b[A-Za-z]:\\[^\s'\",;()\[\]<>]+"
)
_KEEP: Final = re.compile(r"\[Errno \d+\]|\bHTTP[ /]\d{3}\b|^\d{3}(?= [A-Z])")
_NUMBER: Final = re.compile(
    r"(?<![\w.<])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?:ns|us|µs|ms|s|m|h|d|kb|mb|gb|b|%)?(?![\w.>])",
    re.IGNORECASE,
)
_SPACE: Final = re.compile(r"\s+")
_PRIVATE: Final = 0xF0000
"""Kept parts stand in as private-use characters while the rest is replaced."""
_PLACEHOLDER: Final = re.compile("[\U000f0000-\U000ffffd]")


def error_line(error_text: str) -> str:
    """The ``Type: message`` line of an error text.

    A formatted traceback gives its last non-empty line; anything else its first non-empty
    line.
    """
    lines = [line.strip() for line in error_text.splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith(_TRACEBACK_HEAD):
        return lines[-1]
    return lines[0]


def split_type(line: str) -> tuple[str | None, str]:
    """Split ``Type: message`` into the type (module path removed) and the message.

    Returns:
        ``(None, line)`` when the line does not start with something that looks like an
        exception type (an identifier followed by ``:`` or the end of the line).
    """
    line = _TYPE.sub("", line, count=1)
    head, sep, rest = line.partition(":")
    if head and head.isidentifier() and (sep or head[0].isupper()):
        return head, rest.strip()
    return None, line


def _quoted(match: re.Match[str]) -> str:
    value = match.group(0)
    quote = value[0]
    inner = value[1:-1]
    if any(c.isspace() for c in inner) or not inner:
        return value  # a message inside a message: its parts are normalised one by one
    return f"{quote}<path>{quote}" if ("/" in inner or "\\" in inner) else f"{quote}<str>{quote}"


def _normalise_message(message: str) -> str:
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return chr(_PRIVATE + len(kept) - 1)

    text = _KEEP.sub(keep, _PLACEHOLDER.sub("", message))
    text = _URL.sub("<url>", text)
    text = _EMAIL.sub("<email>", text)
    text = _QUOTED.sub(_quoted, text)
    text = _UUID.sub("<uuid>", text)
    text = _HEX0X.sub("<hex>", text)
    text = _IPV6.sub("<ip>", text)
    text = _IPV4.sub("<ip>", text)
    text = _HOSTPORT.sub("<host>:<port>", text)
    text = _PATH.sub("<path>", text)
    text = _HEXID.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    if kept:
        text = _PLACEHOLDER.sub(lambda m: kept[ord(m.group(0)) - _PRIVATE], text)
    return _SPACE.sub(" ", text).strip()


def signature(error_text: str) -> str:
    """Normalise an error into its signature: error type plus the message with the parts that
    vary between occurrences (numbers, ids, paths, hosts, quoted values) replaced.

    Args:
        error_text: A ``Type: message`` line, a whole formatted traceback, or any error text.

    Returns:
        The signature (empty for an empty text). Equal signatures mean the same failure.
    """
    line = error_line(error_text)
    if not line:
        return ""
    exc_type, message = split_type(line)
    normalised = _normalise_message(message)
    if exc_type is None:
        out = normalised
    elif normalised:
        out = f"{exc_type}: {normalised}"
    else:
        out = exc_type
    return out[:MAX_LENGTH]


__all__ = ["MAX_LENGTH", "error_line", "signature", "split_type"]
