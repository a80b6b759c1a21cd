"""A DataTable with the keys of every list: ``j``/``k``, ``g``/``G`` (top/bottom), Home, End."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class NavTable(DataTable[Text]):
    """Row-cursor table that moves like the trace list (and like less, k9s, lnav)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g,home", "top", "Top", show=False),
        Binding("G,end", "bottom", "Bottom", show=False),
    ]

    def action_top(self) -> None:
        """The first row."""
        if self.row_count:
            self.move_cursor(row=0)

    def action_bottom(self) -> None:
        """The last row."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def action_step(self, step: int) -> None:
        """``n`` / ``N``: the next / previous row, wrapping around."""
        if self.row_count:
            self.move_cursor(row=(self.cursor_row + step) % self.row_count)
