"""The small app run before the dashboard when ``agenttui`` has no path: pick the logs.

It shows :class:`~agenttui.ui.screens.picker_screen.PickerScreen` (several candidates) or
:class:`~agenttui.ui.screens.picker_screen.NoLogsScreen` (none, looking again) and returns the paths
to open, or None when the user quits.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from agenttui.ingest.discover import Discovery
from agenttui.ui.screens.picker_screen import NoLogsScreen, PickerScreen, open_paths


class FirstContactApp(App[list[str]]):
    """Picker or "no logs" screen; exits with the paths to open."""

    CSS_PATH = "app.tcss"
    TITLE = "agenttui"

    def __init__(
        self, found: Discovery, look: Callable[[], Discovery], *, now: float | None = None
    ) -> None:
        """Start from ``found``; ``look`` searches again (in a thread)."""
        super().__init__()
        self.found = found
        self._look = look
        self._now = now

    def on_mount(self) -> None:
        """The screen for what was found."""
        self.show(self.found)

    def show(self, found: Discovery) -> None:
        """The picker, the "no logs" screen, or exit when one candidate is clear."""
        self.found = found
        paths = open_paths(found)
        if paths:
            self.exit(paths)
        elif found.candidates:
            self.push_screen(PickerScreen(found, self._now), self._done)
        else:
            screen = NoLogsScreen(found, self._look)
            self.push_screen(screen, lambda paths: self._after_none(screen, paths))

    def _done(self, paths: list[str] | None) -> None:
        if paths:
            self.exit(paths)

    def _after_none(self, screen: NoLogsScreen, paths: list[str] | None) -> None:
        if paths:
            self.exit(paths)
        else:
            self.show(screen.found)


def choose(found: Discovery, look: Callable[[], Discovery]) -> list[str] | None:
    """Run the picker (or the "no logs" screen) and return the paths to open."""
    return FirstContactApp(found, look).run()
