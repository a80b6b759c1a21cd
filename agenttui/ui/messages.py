"""Typed messages: the one way background work and screens reach the app and each other.

Threads never touch widgets: they post one of these (``post_message`` is thread-safe). Messages
that repeat while the UI is busy set ``can_replace`` so that a backlog collapses into one.
"""

from __future__ import annotations

from textual.message import Message

from agenttui.doctor.results import Checkup
from agenttui.replay.captures import Capture
from agenttui.session import Progress


class ScanProgress(Message):
    """The initial scan advanced (or finished)."""

    def __init__(self, progress: Progress) -> None:
        """Wrap a :class:`agenttui.session.Progress`."""
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        """A newer progress report supersedes an older one (never the final one)."""
        return isinstance(message, ScanProgress) and not message.progress.finished


class LogsChanged(Message):
    """Lines were read while following the logs (posted by the ingest thread)."""

    def can_replace(self, message: Message) -> bool:
        """Any number of pending changes are one change to the UI."""
        return isinstance(message, LogsChanged)


class IndexChanged(Message):
    """Sent by the app to every open screen, at most ``REFRESH_HZ`` times a second, after new
    lines reached the index: screens showing live data redraw from the session's read API."""

    def can_replace(self, message: Message) -> bool:
        """Pending refreshes collapse into one."""
        return isinstance(message, IndexChanged)


class CapturesChanged(Message):
    """The capture watcher found new or changed failure captures."""

    def __init__(self, by_request: dict[str, Capture]) -> None:
        """Request id -> its newest capture."""
        super().__init__()
        self.by_request = by_request

    def can_replace(self, message: Message) -> bool:
        """Only the newest state matters."""
        return isinstance(message, CapturesChanged)


class ShowList(Message):
    """A screen asks the app to return to the trace list, optionally filtered or on a trace."""

    def __init__(self, *, query: str | None = None, request_id: str | None = None) -> None:
        """Filter with ``query`` and/or put the cursor on ``request_id``."""
        super().__init__()
        self.query = query
        self.request_id = request_id


class HealthChecked(Message):
    """The health monitor finished a run of the checks (``checkup``) or a poll of the health
    endpoints (``checkup`` None)."""

    def __init__(self, checkup: Checkup | None = None) -> None:
        """A finished run's checkup, or None after a poll of the endpoints."""
        super().__init__()
        self.checkup = checkup

    def can_replace(self, message: Message) -> bool:
        """A pending poll is covered by any newer news; a pending run only by a newer run."""
        return isinstance(message, HealthChecked) and (
            message.checkup is None or self.checkup is not None
        )


class Notice(Message):
    """Background work has something to tell the user (a toast); ``text`` is already safe."""

    def __init__(self, text: str, *, severity: str = "information", timeout: float = 5) -> None:
        """The toast's text, severity (``information``, ``warning``, ``error``) and seconds."""
        super().__init__()
        self.text = text
        self.severity = severity
        self.timeout = timeout


class CopyReady(Message):
    """Text a thread prepared for the clipboard (OSC 52), with the toast that says so."""

    def __init__(self, text: str, notice: str) -> None:
        """What to copy (printable characters only) and what to say."""
        super().__init__()
        self.text = text
        self.notice = notice
