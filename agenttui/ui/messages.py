"""Messages posted by the ingest worker thread to the app (never touch widgets from a thread)."""

from __future__ import annotations

from textual.message import Message

from agenttui.session import Progress


class ScanProgress(Message):
    """The initial scan advanced (or finished)."""

    def __init__(self, progress: Progress) -> None:
        """Wrap a :class:`agenttui.session.Progress`."""
        super().__init__()
        self.progress = progress


class LogsChanged(Message):
    """Lines were read while following the logs."""

    def __init__(self, lines: int) -> None:
        """Remember how many lines were read."""
        super().__init__()
        self.lines = lines
