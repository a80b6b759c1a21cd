"""Build :class:`rich.text.Text` for one event: pretty JSON and a readable traceback.

Nothing here parses markup: log text is cleaned and appended to ``Text`` objects.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from rich.highlighter import JSONHighlighter
from rich.text import Text

from agenttui.model.events import Event
from agenttui.output.sanitize import clean, clean_bytes
from agenttui.ui.format import masked_fields, safe, unmasked

_JSON = JSONHighlighter()
LOCALS_WIDTH = 70
"""Longest rendering of one frame's locals."""
LOCALS_LINES = 3
"""Lines shown of a local whose value spans several."""


def pretty_json(data: Any) -> Text:
    """``data`` as indented JSON, secrets masked, cleaned and highlighted (never parsed as
    markup)."""
    data = masked_fields(data)
    try:
        raw = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # nested deeper than orjson goes, or an integer beyond 64 bits
        try:
            raw = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode(
                "utf-8", "backslashreplace"
            )
        except (RecursionError, ValueError):
            return Text(
                "(nested too deeply to pretty-print: see the raw line)",
                style="italic yellow",
                end="",
            )
    text = Text(clean_bytes(raw, multiline=True), end="")
    _JSON.highlight(text)
    return text


def traceback_text(exception: Any) -> Text | None:
    """A Python-style traceback from structlog ``dict_tracebacks`` output or a string.

    Returns:
        None when ``exception`` is empty.
    """
    if exception is None or exception == "" or exception == []:
        return None
    exception = masked_fields(exception)  # locals named like secrets
    if isinstance(exception, str):
        return Text(safe(exception, multiline=True), style="red", end="")
    if not isinstance(exception, list) or not all(isinstance(e, dict) for e in exception):
        return pretty_json(exception)
    out = Text(end="")
    # structlog lists the raised exception first and its causes after it; Python prints the
    # innermost cause first.
    chain = list(reversed(exception))
    for i, exc in enumerate(chain):
        if i:
            link = (
                "The above exception was the direct cause of the following exception:"
                if chain[i - 1].get("is_cause")
                else "During handling of the above exception, another exception occurred:"
            )
            out.append(f"\n{link}\n\n", style="italic")
        _one_exception(out, exc)
    return out


def _one_exception(out: Text, exc: dict[str, Any]) -> None:
    out.append("Traceback (most recent call last):\n", style="bold")
    frames = exc.get("frames") or []
    if isinstance(frames, list):
        for frame in frames:
            if not isinstance(frame, dict):
                continue
            out.append("  File ")
            out.append(f'"{safe(frame.get("filename", "?"))}"', style="magenta")
            out.append(", line ")
            out.append(safe(frame.get("lineno", "?")), style="bold")
            out.append(", in ")
            out.append(safe(frame.get("name", "?")), style="green")
            out.append("\n")
            line = frame.get("line")
            if isinstance(line, str) and line.strip():
                out.append(f"    {safe(line.strip())}\n")
            local_vars = frame.get("locals")
            if isinstance(local_vars, dict) and local_vars:
                _locals(out, local_vars)
    exc_type = safe(exc.get("exc_type", "Exception"))
    value = exc.get("exc_value")
    out.append(exc_type, style="bold red")
    if value not in (None, ""):
        out.append(": ", style="red")
        out.append(safe(value, multiline=True), style="red")
    out.append("\n")


def _locals(out: Text, local_vars: dict[Any, Any]) -> None:
    """A frame's locals on one line (cut); values that span several lines follow it with their
    real line breaks (the first :data:`LOCALS_LINES`; control characters still made visible)."""
    multi = {k: v for k, v in local_vars.items() if isinstance(v, str) and "\n" in v.strip()}
    pairs = ", ".join(f"{safe(k)}={safe(v)}" for k, v in local_vars.items() if k not in multi)
    if len(pairs) > LOCALS_WIDTH:
        pairs = pairs[: LOCALS_WIDTH - 1] + "…"
    if pairs:
        out.append(f"      {pairs}\n", style="dim")
    for key, value in multi.items():
        lines = safe(value, multiline=True).strip("\n").split("\n")
        out.append(f"      {safe(key)}=\n", style="dim")
        for line in lines[:LOCALS_LINES]:
            out.append(f"        {line}\n", style="dim")
        if len(lines) > LOCALS_LINES:
            out.append(
                f"        … {len(lines) - LOCALS_LINES} more lines (event JSON below)\n",
                style="dim italic",
            )


def multiline_values(data: Any, limit: int = 20) -> list[tuple[str, str]]:
    """String values of a JSON object that hold line breaks: ``(path, text)``, secrets masked
    and control characters made visible, line breaks kept."""
    data = masked_fields(data)
    found: list[tuple[str, str]] = []

    def walk(value: Any, path: str, depth: int) -> None:
        if len(found) >= limit or depth > 8:
            return
        if isinstance(value, str):
            if "\n" in value.strip():
                found.append((path, clean(value, multiline=True)))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k), depth + 1)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", depth + 1)

    walk(data, "", 0)
    return found


def event_title(event: Event) -> str:
    """``file:offset`` of the event (cleaned)."""
    return f"{safe(event.file)}:{event.offset}"


def raw_text(event: Event) -> Text:
    """The event's line as text (cleaned; escapes visible)."""
    if event.raw is None:
        return Text(
            "(the line is gone: the file was truncated or rotated away)",
            style="italic yellow",
            end="",
        )
    return Text(clean(unmasked(event.raw.decode("utf-8", "backslashreplace"))), end="")
