"""Keeps the app's failure captures up to date and links them to traces.

Every :data:`REFRESH_S` seconds a thread worker re-scans the capture files (one ``stat`` each;
only new or changed ones are parsed) and links them to traces; the UI thread then marks those
traces in the list. Off the per-line ingest path entirely.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from agenttui.replay.captures import Capture, CaptureStore
from agenttui.replay.options import ReplayOptions
from agenttui.session import Session
from agenttui.ui.messages import CapturesChanged

if TYPE_CHECKING:
    from textual.app import App

REFRESH_S = 2.0
POKE_S = 0.25
"""Shortest gap between two scans asked for by arriving lines."""


class CaptureWatcher:
    """The captures of the app's session, and which traces have one."""

    def __init__(
        self, app: App[Any], session: Session, options: ReplayOptions | None = None
    ) -> None:
        """Watch the captures under the session's paths and ``options.captures_dirs``."""
        self.app = app
        self.session = session
        self.options = options or ReplayOptions()
        self.store = CaptureStore(session.specs, self.options.captures_dirs)
        self.by_request: dict[str, Capture] = {}
        """Request id -> its newest capture (UI thread)."""
        self._seen = (-1, -1)
        self._poked = 0.0

    def start(self) -> None:
        """Scan now and then every :data:`REFRESH_S` seconds."""
        self._launch()
        self.app.set_interval(REFRESH_S, self._launch)

    def poke(self) -> None:
        """Lines arrived: scan now (at most every :data:`POKE_S` seconds), so that a new
        failure's capture mark appears with the failure rather than on the next tick."""
        now = time.monotonic()
        if now - self._poked >= POKE_S:
            self._poked = now
            self._launch()

    def _launch(self) -> None:
        self.app.run_worker(
            self._scan, thread=True, exclusive=True, group="captures", exit_on_error=False
        )

    def _scan(self) -> None:
        """Thread: refresh the store and the links; hand the result to the UI thread."""
        changed = self.store.refresh()
        session = self.session
        with session.read():
            seen = (len(session.index), self.store.generation)
            if not changed and seen == self._seen:
                return
            by_request = self.store.by_request(session.index)
            seen = (len(session.index), self.store.generation)
        self._seen = seen
        self.app.post_message(CapturesChanged(by_request))

    def retry(self) -> None:
        """The result could not be shown yet: send it again after the next scan (UI thread)."""
        self._seen = (-1, -1)

    def capture_for(self, request_id: str | None) -> Capture | None:
        """The capture of a trace, if it has one."""
        return None if request_id is None else self.by_request.get(request_id)

    def link_of(self, capture: Capture) -> str | None:
        """The request id of the trace a capture is linked to (UI thread)."""
        for rid, cap in self.by_request.items():
            if os.path.abspath(cap.path) == os.path.abspath(capture.path):
                return rid
        return capture.request_id if capture.request_id in self.session.index.traces else None


__all__ = ["REFRESH_S", "CaptureWatcher"]
