"""One list of cleanup callables, run once however the process ends.

Whatever leaves something behind when agenttui dies (child processes, temporary files and
directories, the standard-input spool) registers its cleanup here. :func:`run_all` runs them,
newest first, each at most once, a failing one not stopping the others; it is called by the
command line on every way out (normal exit, SIGTERM, SIGHUP, SIGINT) and at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, Final

_hooks: list[Callable[[], object]] = []
_installed: list[bool] = []
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
    """Raised in the main thread when SIGTERM or SIGHUP arrives outside the TUI (SIGINT
    raises ``KeyboardInterrupt``, as usual)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_deliver: list[Callable[[int], object]] = []
"""While not empty, signals are handed to its last callable instead of raising."""
_received: list[int] = []


DEADLINE_S: Final = 3.0
"""After a termination signal, the process ends within this long whatever hangs (a terminal
that went away can block the TUI's output thread): the hooks run and it exits."""
_TERMINAL_RESET: Final = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?25h\x1b[?1049l"
)
"""Mouse tracking off, bracketed paste off, cursor shown, main screen."""
_saved_tty: list[tuple[int, list[Any]]] = []
_armed: list[int] = []
_deadline_on: list[bool] = []
"""Non-empty while :func:`signals_end_cleanly` runs with its deadline (the command line)."""


def save_terminal() -> None:
    """Remember the terminal's settings (before a TUI changes them), for :func:`arm_deadline`."""
    import termios

    for fd in (0, 1):
        with contextlib.suppress(OSError, termios.error):
            if os.isatty(fd):
                _saved_tty.append((fd, termios.tcgetattr(fd)))
                return


def arm_deadline(signum: int, seconds: float = DEADLINE_S) -> None:
    """End the process ``seconds`` from now if it has not ended by then: run the hooks, put
    the terminal back as it was (when it is still there), exit with 128 + ``signum``. Once:
    later calls do nothing."""
    if _armed or not _deadline_on:
        return
    _armed.append(signum)

    def expire() -> None:
        time.sleep(seconds)
        run_all()
        _restore_terminal()
        os._exit(128 + signum)

    threading.Thread(target=expire, name="agenttui-deadline", daemon=True).start()


def _restore_terminal() -> None:
    import termios

    for fd, attrs in _saved_tty:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            os.write(fd, _TERMINAL_RESET)


def _raise(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)
    if _deliver:
        if len(_received) == 1:
            arm_deadline(signum)
        _deliver[-1](signum)  # e.g. ask a running app to exit from its own loop
        return
    if len(_received) > 1:
        return  # a second signal while already ending: the first one is being handled
    if signum == signal.SIGINT:
        raise KeyboardInterrupt  # as Python does: code that handles Ctrl-C keeps doing so
    arm_deadline(signum)
    raise Terminated(signum)


def deliver(signum: int) -> bool:
    """A termination signal seen by an event loop's own handler: recorded, a deadline armed,
    and handed to the callable of :func:`deliver_to` if one is set.

    Returns:
        Whether a callable took it.
    """
    _received.append(signum)
    arm_deadline(signum)
    if _deliver:
        _deliver[-1](signum)
        return True
    return False


def received() -> int | None:
    """The first termination signal received (None if none)."""
    return _received[0] if _received else None


@contextlib.contextmanager
def deliver_to(callback: Callable[[int], object]) -> Iterator[None]:
    """Within the block, a termination signal calls ``callback(signum)`` instead of raising
    (a TUI is running: it must restore the terminal itself; raising at a random point of its
    start-up could leave a lock held). A signal that came before the block is delivered at
    once. Handlers are set again afterwards (an asyncio loop resets them when it closes)."""
    _deliver.append(callback)
    try:
        if _received:
            callback(_received[0])
        yield
    finally:
        _deliver.remove(callback)
        if threading.current_thread() is threading.main_thread() and _installed:
            for sig in SIGNALS:
                signal.signal(sig, _raise)


@contextlib.contextmanager
def signals_end_cleanly(*, deadline: bool = True) -> Iterator[None]:
    """Within the block, SIGTERM, SIGHUP and SIGINT raise :class:`Terminated` in the main
    thread (so ``finally`` blocks run and the hooks with them), or go to the callable of
    :func:`deliver_to`; the old handlers come back after it. With ``deadline``, the process
    ends :data:`DEADLINE_S` after the first signal whatever hangs. Outside the main thread it
    does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, _raise)
    _installed.append(True)
    if deadline:
        _deadline_on.append(True)
    try:
        yield
    finally:
        _installed.pop()
        if deadline:
            _deadline_on.pop()
        else:
            _received.clear()  # a nested use (a test): it leaves no state behind
        for sig, handler in old.items():
            signal.signal(sig, handler)
