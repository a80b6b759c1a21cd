"""``agenttui traces PATH... --json [--filter QUERY]``: one JSON object per trace, by start."""

from __future__ import annotations

import argparse
import sys
from typing import IO

import orjson

from agenttui.commands.base import add_show_secrets, output
from agenttui.model import listing
from agenttui.output.sanitize import clean
from agenttui.output.secrets import mask_fields
from agenttui.output.views import trace_dict
from agenttui.session import Session

DESCRIPTION = "One JSON object per trace, ordered by start."


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``traces`` arguments."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
    add_show_secrets(p)
    p.add_argument(
        "--filter",
        metavar="QUERY",
        default=None,
        help='only matching traces, e.g. "status:error tool:web_search dur>5s"',
    )
    p.add_argument("--json", action="store_true", required=True, help="print JSON")


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    return print_traces(opts.paths, query=opts.filter, show_secrets=opts.show_secrets)


def print_traces(
    paths: list[str],
    out: IO[bytes] | None = None,
    *,
    query: str | None = None,
    show_secrets: bool = False,
) -> int:
    """Print every trace (matching ``query``) as a JSON line; returns the exit code.

    Raises:
        agenttui.model.query.QueryError: ``query`` does not parse (before reading anything).
    """
    predicate = None
    if query is not None:
        from agenttui.model.query import compile_filter

        predicate = compile_filter(query)
    session = Session(paths)
    try:
        session.wait_for_stdin()  # traces of '-' are of the whole input
        session.scan()
        warn_problems(session)
        # The order and the filter of the TUI's list (oldest first here).
        shown = listing.ordered(session.read, predicate)
        with output(out) as stream, session.read() as index:
            for trace in shown:
                obj = trace_dict(index, trace, session.source_of)
                stream.write(orjson.dumps(obj if show_secrets else mask_fields(obj)) + b"\n")
        return 0
    finally:
        session.close()


def warn_problems(session: Session) -> None:
    """Print the session's problems (unreadable files...) on standard error, one line each."""
    for problem in session.problems:
        print(f"agenttui: warning: {clean(problem)}", file=sys.stderr)
