"""One list of cleanup callables, run once however the process ends.

Whatever leaves something behind when agenttui dies (child processes, temporary files and
directories, the standard-input spool) registers its cleanup here. :func:`run_all` runs them,
newest first, each at most once, a failing one not stopping the others; it is called by the
command line on every way out (normal exit, SIGTERM, SIGHUP, SIGINT) and at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Final

_hooks: list[Callable[[], object]] = []
_lock = threading.Lock()

SIGNALS: Final = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
"""The signals agenttui ends cleanly on."""


def register(hook: Callable[[], object]) -> Callable[[], object]:
    """Run ``hook`` at shutdown (returns it, so it can be used as a decorator)."""
    with _lock:
        _hooks.append(hook)
    return hook


def unregister(hook: Callable[[], object]) -> None:
    """Forget ``hook`` (its owner cleaned up already)."""
    with _lock, contextlib.suppress(ValueError):
        _hooks.remove(hook)


def run_all() -> None:
    """Run every registered hook once, newest first; errors are swallowed (we are exiting)."""
    while True:
        with _lock:
            if not _hooks:
                return
            hook = _hooks.pop()
        with contextlib.suppress(Exception):
            hook()


atexit.register(run_all)


class Terminated(BaseException):
    """Raised in the main thread when a termination signal arrives outside the TUI."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def signals_end_cleanly() -> Iterator[None]:
    """Within the block, SIGTERM, SIGHUP and SIGINT raise :class:`Terminated` in the main
    thread (so ``finally`` blocks run and the hooks with them); the old handlers come back
    after it. Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
