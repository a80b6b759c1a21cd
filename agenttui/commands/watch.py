"""``agenttui watch PATH... --jsonl``: follow the logs, one JSON line per trace change."""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from typing import IO

import orjson

from agenttui.commands.base import add_show_secrets, output
from agenttui.output.secrets import mask_fields
from agenttui.output.views import trace_dict
from agenttui.session import Session

DESCRIPTION = "Follow the logs; print a JSON line each time a trace changes."


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``watch`` arguments."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
    add_show_secrets(p)
    p.add_argument(
        "--jsonl", action="store_true", required=True, help="print one JSON line per trace change"
    )


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    return follow(opts.paths, show_secrets=opts.show_secrets)


def follow(
    paths: list[str],
    out: IO[bytes] | None = None,
    *,
    show_secrets: bool = False,
    stop: threading.Event | None = None,
) -> int:
    """Follow the sources; print each changed trace with the time it was seen.

    Args:
        paths: Log files, directories or globs.
        out: Where to write (default: standard output).
        show_secrets: Print secret-looking values as they are.
        stop: Ends the command when set (default: runs until interrupted).
    """
    session = Session(paths)
    stop = stop or threading.Event()
    try:
        session.scan()
        with session.read() as index:
            index.take_changes()  # only changes from now on
        with output(out) as stream:

            def emit(_lines: int) -> None:
                with session.read() as index:
                    changed = index.take_changes()
                    seen = time.time()
                    chunks = []
                    for rid in changed:
                        trace = index.traces.get(rid)
                        if trace is not None:
                            obj = trace_dict(index, trace, session.source_of)
                            if not show_secrets:
                                obj = mask_fields(obj)
                            obj["seen_at"] = seen
                            chunks.append(orjson.dumps(obj))
                if chunks:
                    stream.write(b"\n".join(chunks) + b"\n")
                    stream.flush()

            with contextlib.suppress(KeyboardInterrupt):
                session.follow(emit, stop)
        return 0
    finally:
        stop.set()
        session.close()
