"""``agenttui report REQUEST_ID [PATH...] [--json]``: an incident note of one trace."""

from __future__ import annotations

import argparse
from typing import IO

import orjson

from agenttui.commands.base import UsageError, output
from agenttui.commands.traces import warn_problems
from agenttui.session import Session

DESCRIPTION = "Incident note of one trace in Markdown (--json: the whole trace)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``report`` arguments."""
    p.add_argument("request_id", metavar="REQUEST_ID", help="the request id (or a prefix)")
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        default=["."],
        help="log files, directories or globs (default: .)",
    )
    p.add_argument("--json", action="store_true", help="the whole trace as JSON")


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    return print_report(opts.request_id, opts.paths, as_json=opts.json)


def print_report(
    request_id: str, paths: list[str], *, as_json: bool = False, out: IO[bytes] | None = None
) -> int:
    """Print a Markdown incident note of one trace, or the whole trace as JSON.

    Raises:
        UsageError: No trace has that request id (or a unique prefix of it).
    """
    from agenttui.output.incident import incident_dict, incident_markdown

    session = Session(paths)
    try:
        session.scan()
        warn_problems(session)
        with session.read() as index:
            traces = index.traces
            trace = traces.get(request_id)
            if trace is None:
                found = [rid for rid in traces if request_id and rid.startswith(request_id)]
                if len(found) > 1:
                    raise UsageError(
                        f"{len(found)} request ids start with {request_id!r}: give more of it"
                    )
                if not found:
                    raise UsageError(
                        f"no trace with request id {request_id!r} in {', '.join(paths)}"
                    )
                trace = traces[found[0]]
        from agenttui.replay.captures import CaptureStore
        from agenttui.replay.history import state_dir, verdict_hook

        store = CaptureStore(session.specs)  # the replay verdicts of the request's capture
        store.refresh()
        with session.read() as index:
            by_request = store.by_request(index)
        hook = verdict_hook(state_dir(), by_request.get)
        with output(out) as stream:
            if as_json:
                stream.write(orjson.dumps(incident_dict(session, trace, hook)) + b"\n")
            else:
                stream.write(incident_markdown(session, trace, hook).encode())
        return 0
    finally:
        session.close()
