"""``agenttui watch PATH... --jsonl``: follow the logs, one JSON line per trace change."""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from typing import IO

import orjson

from agenttui.commands.base import add_show_secrets, output
from agenttui.output.secrets import mask_fields, may_hold_secrets
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
    from agenttui.limits import MAX_MEMORY_HELP

    p.add_argument("--max-memory", metavar="SIZE", default=None, help=MAX_MEMORY_HELP)


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from agenttui.limits import memory_budget

    return follow(
        opts.paths, show_secrets=opts.show_secrets, max_memory=memory_budget(opts.max_memory)
    )


def follow(
    paths: list[str],
    out: IO[bytes] | None = None,
    *,
    show_secrets: bool = False,
    stop: threading.Event | None = None,
    max_memory: int | None = None,
) -> int:
    """Follow the sources; print each changed trace with the time it was seen, as lines are
    read (after each chunk, never in bursts).

    Args:
        paths: Log files, directories or globs.
        out: Where to write (default: standard output).
        show_secrets: Print secret-looking values as they are.
        stop: Ends the command when set (default: runs until interrupted).
        max_memory: The memory budget in bytes (see :meth:`Session.set_memory_budget`):
            past it the oldest finished traces are forgotten (a late event starts one anew).
    """
    session = Session(paths)
    session.set_memory_budget(max_memory)
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
                            obj["seen_at"] = seen
                            raw = orjson.dumps(obj)
                            # Masking costs more than all the rest: skipped when the text
                            # cannot hold a secret.
                            if not show_secrets and may_hold_secrets(raw.decode()):
                                raw = orjson.dumps(mask_fields(obj))
                            chunks.append(raw)
                if chunks:
                    stream.write(b"\n".join(chunks) + b"\n")
                    stream.flush()

            with contextlib.suppress(KeyboardInterrupt):
                session.follow(emit, stop)
        return 0
    finally:
        stop.set()
        session.close()
