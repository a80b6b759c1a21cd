"""Make untrusted log text safe to show in a terminal.

Every string that comes from a log line is attacker-influenced (users type the queries).
Before display, control characters, escape sequences, bidi overrides and zero-width
characters are replaced by a visible escape such as ``\\x1b`` so that they are shown, never
executed. Markup safety is the UI's job (it wraps text in ``rich.text.Text``); this module only
deals with characters.
"""

from __future__ import annotations

_INVISIBLE = [
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x061C,  # arabic letter mark
    *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
    *range(0x2028, 0x202F),  # line/paragraph separators, bidi embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # bidi isolates
    0xFEFF,  # zero-width no-break space / BOM
    *range(0xFFF9, 0xFFFC),  # interlinear annotations
]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE: dict[int, str] = {code: _escape(code) for code in _INVISIBLE}
_MULTILINE_TABLE: dict[int, str] = {**_TABLE, 0x0A: "\n", 0x09: "    "}
_SURROGATES = range(0xD800, 0xE000)


def _strip_surrogates(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) in _SURROGATES else c for c in text)


def clean(text: str, *, multiline: bool = False) -> str:
    """Return ``text`` with every control or invisible character made visible.

    Args:
        text: Untrusted text.
        multiline: Keep newlines (and turn tabs into spaces) for multi-line views.

    Returns:
        Text holding only printable characters (plus newlines when ``multiline``).
    """
    out = text.translate(_MULTILINE_TABLE if multiline else _TABLE)
    if not out.isprintable() and any(0xD800 <= ord(c) < 0xE000 for c in out):
        out = _strip_surrogates(out)
    return out


def clean_bytes(data: bytes, *, multiline: bool = False) -> str:
    """Decode bytes that may be invalid UTF-8 and clean them.

    Invalid bytes are shown as ``\\xNN`` escapes, never dropped.
    """
    return clean(data.decode("utf-8", errors="backslashreplace"), multiline=multiline)


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` characters, ending with an ellipsis when cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"
