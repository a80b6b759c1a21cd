"""``agenttui stats PATH... [--json]``: totals and per-tool calls, errors and percentiles."""

from __future__ import annotations

import argparse
from typing import IO, Any

import orjson

from agenttui.commands.base import add_show_secrets, output
from agenttui.commands.traces import duration, warn_problems
from agenttui.output.tables import cell, render
from agenttui.output.views import stats_dict
from agenttui.session import Session

DESCRIPTION = "Totals and per-tool latency percentiles."


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``stats`` arguments."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
    add_show_secrets(p)
    p.add_argument(
        "--json", action="store_true", help="one JSON object, for scripts (default: tables)"
    )


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    return print_stats(opts.paths, as_json=opts.json)


def print_stats(paths: list[str], out: IO[bytes] | None = None, *, as_json: bool = True) -> int:
    """Print the statistics of ``paths`` as one JSON object (or tables when not ``as_json``);
    returns the exit code."""
    session = Session(paths)
    try:
        session.wait_for_stdin()  # stats of '-' are of the whole input
        session.scan()
        warn_problems(session)
        with output(out) as stream, session.read() as index:
            stats = stats_dict(index)
            if as_json:
                stream.write(orjson.dumps(stats) + b"\n")
            else:
                stream.write(stats_tables(stats).encode())
        return 0
    finally:
        session.close()


def stats_tables(stats: dict[str, Any]) -> str:
    """``stats`` for a person: the totals, then one row per tool, like ``kubectl get``."""
    by_status = stats["traces_by_status"]
    totals = render(
        ("traces", "ok", "error", "running", "lines", "events", "unparsed lines"),
        [
            [
                str(stats["traces"]),
                str(by_status["ok"]),
                str(by_status["error"]),
                str(by_status["running"]),
                str(stats["lines"]),
                str(stats["events"]),
                str(stats["unparsed_lines"]),
            ]
        ],
        right=range(7),
    )
    rows = []
    for name, t in stats["tools"].items():
        completed = t["calls"] - t["running"]
        rate = f"{100 * t['errors'] / completed:.1f}%" if completed else "-"
        rows.append(
            [
                cell(name, 40),
                str(t["calls"]),
                str(t["running"]),
                str(t["errors"]),
                rate,
                *(duration(t[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
            ]
        )
    if not rows:
        return totals + "\nNo tool calls.\n"
    tools = render(
        ("tool", "calls", "running", "errors", "err %", "p50", "p95", "p99", "max"),
        rows,
        right=range(1, 9),
    )
    return (
        totals + "\n" + tools + "\nerr % and percentiles are over completed calls (not running).\n"
    )
