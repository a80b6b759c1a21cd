"""``agenttui stats PATH... --json``: totals and per-tool latency percentiles."""

from __future__ import annotations

import argparse
from typing import IO

import orjson

from agenttui.commands.base import add_show_secrets, output
from agenttui.commands.traces import warn_problems
from agenttui.output.views import stats_dict
from agenttui.session import Session

DESCRIPTION = "Totals and per-tool latency percentiles."


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``stats`` arguments."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
    add_show_secrets(p)
    p.add_argument("--json", action="store_true", required=True, help="print JSON")


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    return print_stats(opts.paths)


def print_stats(paths: list[str], out: IO[bytes] | None = None) -> int:
    """Print the statistics of ``paths`` as one JSON object; returns the exit code."""
    session = Session(paths)
    try:
        session.wait_for_stdin()  # stats of '-' are of the whole input
        session.scan()
        warn_problems(session)
        with output(out) as stream, session.read() as index:
            stream.write(orjson.dumps(stats_dict(index)) + b"\n")
        return 0
    finally:
        session.close()
