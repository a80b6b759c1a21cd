"""Small interfaces between screens and the app, instead of attribute probing."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ShowsRequest(Protocol):
    """A screen that shows (or has selected) one request: app-wide keys act on it (``c``,
    ``y``, ``i``, ``r``)."""

    def selected_request_id(self) -> str | None:
        """The request id the screen is about, if any."""
        ...
