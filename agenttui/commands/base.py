"""What every sub-command shares: the parser that turns bad usage into one line, the usage
error, the ``--show-secrets`` flag, and the one way to write to standard output and stop quietly
when the reader goes away (``agenttui traces ... | head -1``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

SHOW_SECRETS_HELP = (
    "show secret-looking values (API keys, tokens, passwords) as they are; masked by default"
)


class UsageError(Exception):
    """Bad command-line usage; the message is one line (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of printing and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Turn argparse's complaint into a :class:`UsageError`."""
        raise UsageError(message)


def add_tz(p: argparse.ArgumentParser) -> None:
    """The ``--tz`` option of everything that reads logs."""
    p.add_argument(
        "--tz",
        metavar="ZONE",
        default=None,
        help="zone of log times written without one, e.g. logging's asctime "
        "(Europe/Paris, UTC, +02:00; default: [mapping] tz, else this machine's)",
    )


def apply_tz(opts: argparse.Namespace) -> None:
    """``--tz``: checked, then handed to every reader as ``AGENTTUI_TZ`` (over ``[mapping]``).

    Raises:
        UsageError: Not a zone.
    """
    tz = getattr(opts, "tz", None)
    if tz is None:
        return
    from agenttui.ingest.shapes.python import parse_tz

    try:
        parse_tz(tz)
    except ValueError as exc:
        raise UsageError(f"--tz: {exc}") from exc
    os.environ["AGENTTUI_TZ"] = tz


def add_show_secrets(p: argparse.ArgumentParser) -> None:
    """The ``--show-secrets`` flag."""
    p.add_argument("--show-secrets", action="store_true", help=SHOW_SECRETS_HELP)


@contextmanager
def output(out: IO[bytes] | None = None) -> Iterator[IO[bytes]]:
    """Where a command writes: ``out``, else standard output; flushed at the end.

    A reader that went away (a closed pipe) ends the writing quietly: nothing more is written,
    and standard output is pointed at ``/dev/null`` so that Python's own flush at exit does not
    print a ``BrokenPipeError`` traceback.
    """
    stream = out if out is not None else sys.stdout.buffer
    try:
        yield stream
        stream.flush()
    except BrokenPipeError:
        if out is None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, sys.stdout.fileno())
            finally:
                os.close(devnull)
