"""The columns of the trace list: their widths for a given width, and cell padding."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

ERROR_WIDTH = 20
"""The error column's width on a narrow list (the query column shrinks first)."""
MIN_QUERY = 8
MIN_ERROR = 8


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths of the columns for one widget width."""

    width: int
    time: int = 8
    rid: int = 12
    status: int = 9
    dur: int = 7
    calls: int = 5
    errs: int = 4
    query: int = 0
    error: int = 0

    @classmethod
    def for_width(cls, width: int) -> Columns:
        """Lay out the columns in ``width`` cells.

        Query and error share what the fixed columns leave; when that is narrow the query
        shrinks first (down to :data:`MIN_QUERY` cells), so that the error stays readable at 80
        columns.
        """
        rid = 12 if width >= 90 else 10
        fixed = 8 + 1 + rid + 1 + 9 + 1 + 7 + 1 + 5 + 1 + 4 + 1
        rest = max(0, width - fixed)
        if rest - 1 >= 2 * ERROR_WIDTH:
            query = (rest - 1) * 11 // 20
            error = rest - 1 - query
        elif rest - 1 >= MIN_QUERY + MIN_ERROR:
            error = min(ERROR_WIDTH, rest - 1 - MIN_QUERY)
            query = rest - 1 - error
        else:
            query, error = rest, 0
        return cls(width=width, rid=rid, query=query, error=error)

    def heading(self) -> str:
        """The column titles, aligned like the rows."""
        parts = [
            left("time UTC", self.time),
            left("request", self.rid),
            left("status", self.status),
            right("dur", self.dur),
            right("calls", self.calls),
            right("errs", self.errs),
            left("query", self.query),
        ]
        if self.error:
            parts.append(left("error", self.error))
        return set_cell_size(" ".join(parts), self.width)


def left(text: str, width: int) -> str:
    """``text`` padded or cut to ``width`` cells."""
    return set_cell_size(text, width) if width > 0 else ""


def right(text: str, width: int) -> str:
    """``text`` aligned right in ``width`` cells (cut when longer)."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length >= width:
        return set_cell_size(text, width)
    return " " * (width - length) + text
