"""The headless commands: ``traces``, ``stats`` and ``watch``."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

import orjson

from agenttui.report import stats_dict, trace_dict
from agenttui.session import Session


def run(name: str, paths: list[str], out: IO[bytes] | None = None) -> int:
    """Run one command; returns the exit code."""
    stream = out if out is not None else sys.stdout.buffer
    session = Session(paths)
    try:
        if name == "watch":
            return _watch(session, stream)
        session.scan()
        for problem in session.problems:
            print(f"agenttui: warning: {problem}", file=sys.stderr)
        if name == "traces":
            index = session.index
            for trace in index.ordered():
                stream.write(orjson.dumps(trace_dict(index, trace)) + b"\n")
        else:
            stream.write(orjson.dumps(stats_dict(session.index)) + b"\n")
        stream.flush()
        return 0
    except BrokenPipeError:
        return 0
    finally:
        session.close()


def _watch(session: Session, stream: IO[bytes]) -> int:
    """Follow the sources; print each changed trace with the time it was seen."""
    session.scan()
    session.index.take_changes()  # only changes from now on
    stop = threading.Event()

    def emit(_lines: int) -> None:
        index = session.index
        with session.lock:
            changed = index.take_changes()
            seen = time.time()
            chunks = []
            for rid in changed:
                trace = index.traces.get(rid)
                if trace is not None:
                    obj = trace_dict(index, trace)
                    obj["seen_at"] = seen
                    chunks.append(orjson.dumps(obj))
        if chunks:
            stream.write(b"\n".join(chunks) + b"\n")
            stream.flush()

    try:
        session.follow(emit, stop)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        stop.set()
    return 0
