"""``agenttui watch PATH... --jsonl``: follow the logs, one JSON line per trace change."""

from __future__ import annotations

import argparse
import contextlib
import gc
import threading
import time
from typing import IO

import orjson

from agenttui.commands.base import add_show_secrets, output
from agenttui.output.secrets import mask_fields, may_hold_secrets
from agenttui.output.views import log_texts, trace_dict
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


class LongLived:
    """Keeps the cyclic garbage collector off objects that survived a full collection.

    Traces live for minutes (until the memory budget drops them) and are never in a cycle:
    refcounting frees them. Yet every few seconds a full collection walks all of them again,
    50-150 ms under a firehose, with ``watch`` held still meanwhile. So after each full
    collection the young garbage is collected and everything left is frozen
    (:func:`gc.freeze`): later collections walk only what is newer.
    """

    def __init__(self) -> None:
        self._full = gc.get_stats()[2]["collections"]

    def check(self) -> None:
        """Freeze what is there if a full collection ran since the last call (cheap)."""
        full = gc.get_stats()[2]["collections"]
        if full != self._full:
            gc.collect(1)
            gc.freeze()
            self._full = gc.get_stats()[2]["collections"]


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
            long_lived = LongLived()

            def emit(_lines: int) -> None:
                long_lived.check()
                with session.read() as index:
                    changed = index.take_changes()
                    seen = time.time()
                    chunks = []
                    for rid in changed:
                        trace = index.traces.get(rid)
                        if trace is not None:
                            obj = trace_dict(index, trace, session.source_of)
                            obj["seen_at"] = seen
                            # Masking costs more than all the rest: skipped when no value
                            # read from the logs can hold a secret.
                            if not show_secrets and may_hold_secrets(log_texts(obj)):
                                obj = mask_fields(obj)
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
