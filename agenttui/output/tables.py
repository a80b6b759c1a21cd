"""Plain-text tables for the terminal, like ``kubectl get``: upper-case headers, columns padded
to their widest cell, two spaces between columns. Cells are cleaned (control characters made
visible) and kept on one line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agenttui.output.sanitize import clean, shorten


def cell(value: object, width: int | None = None) -> str:
    """A value as one cleaned line (``-`` when missing), cut to ``width`` characters."""
    if value is None or value == "":
        return "-"
    text = clean(str(value)).replace("\n", " ")
    return shorten(text, width) if width is not None else text


def render(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> str:
    """The table as text, one line per row (the columns in ``right`` aligned right)."""
    rows = [list(r) for r in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    right = set(right)
    last = len(headers) - 1

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, text in enumerate(cells):
            if i in right:
                out.append(text.rjust(widths[i]))
            elif i == last:
                out.append(text)  # no trailing spaces
            else:
                out.append(text.ljust(widths[i]))
        return "  ".join(out).rstrip()

    return "\n".join([line([h.upper() for h in headers]), *(line(r) for r in rows)]) + "\n"
