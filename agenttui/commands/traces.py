"""``agenttui traces PATH... [--json] [--filter QUERY]``: the traces in the TUI list's order
(oldest first), as a table or one JSON object per line."""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any

import orjson

from agenttui.commands.base import add_show_secrets, output
from agenttui.model import listing
from agenttui.output.sanitize import clean
from agenttui.output.secrets import mask_fields
from agenttui.output.tables import cell, render
from agenttui.output.views import trace_dict
from agenttui.session import Session

DESCRIPTION = "The traces, oldest first: a table, or one JSON object per line with --json."


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
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line, for scripts (default: a table)",
    )


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    return print_traces(
        opts.paths, query=opts.filter, show_secrets=opts.show_secrets, as_json=opts.json
    )


def print_traces(
    paths: list[str],
    out: IO[bytes] | None = None,
    *,
    query: str | None = None,
    show_secrets: bool = False,
    as_json: bool = True,
) -> int:
    """Print every trace (matching ``query``) as a JSON line, or as a table row when not
    ``as_json``; returns the exit code.

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
            if not as_json:
                objs = [trace_dict(index, trace) for trace in shown]
                masked = [obj if show_secrets else mask_fields(obj) for obj in objs]
                stream.write(traces_table(masked).encode())
                return 0
            for trace in shown:
                obj = trace_dict(index, trace, session.source_of)
                stream.write(orjson.dumps(obj if show_secrets else mask_fields(obj)) + b"\n")
        return 0
    finally:
        session.close()


def traces_table(objs: list[dict[str, Any]]) -> str:
    """``traces`` for a person: one aligned row per trace, oldest first, like ``kubectl get``."""
    if not objs:
        return "No traces.\n"
    rows = [
        [
            cell((o["start"] or "").replace("T", " ").rstrip("Z")),
            cell(o["request_id"]),
            o["status"],
            duration(o["duration_ms"]),
            str(o["tool_calls"]),
            str(o["tool_errors"]) if o["tool_errors"] else "-",
            cell(o["query"], 40),
            cell(o["error"], 80),
        ]
        for o in objs
    ]
    headers = ("start (utc)", "request", "status", "took", "calls", "errors", "query", "error")
    return render(headers, rows, right=(3, 4, 5))


def duration(ms: float | None) -> str:
    """``850ms``, ``12.3s``, ``-`` when unknown."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.1f}ms" if ms < 10 else f"{ms:.0f}ms"
    return f"{ms / 1000:.2f}s" if ms < 10_000 else f"{ms / 1000:.1f}s"


def warn_problems(session: Session) -> None:
    """Print the session's problems (unreadable files...) on standard error, one line each."""
    for problem in session.problems:
        print(f"agenttui: warning: {clean(problem)}", file=sys.stderr)
