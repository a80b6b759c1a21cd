"""The headless commands: ``traces``, ``stats`` and ``watch``."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

import orjson

from agenttui.model import listing
from agenttui.output.sanitize import clean
from agenttui.output.secrets import mask_fields
from agenttui.output.views import stats_dict, trace_dict
from agenttui.session import Session


def run(
    name: str,
    paths: list[str],
    out: IO[bytes] | None = None,
    *,
    query: str | None = None,
    show_secrets: bool = False,
) -> int:
    """Run one command; returns the exit code.

    Args:
        name: ``traces``, ``stats`` or ``watch``.
        paths: Log files, directories or globs.
        out: Where to write (default: standard output).
        query: For ``traces``: only the traces matching this filter (:mod:`agenttui.model.query`);
            raises :class:`agenttui.model.query.QueryError` before reading anything when invalid.
        show_secrets: Print secret-looking values as they are (masked by default).
    """
    stream = out if out is not None else sys.stdout.buffer
    predicate = None
    if query is not None:
        from agenttui.model.query import compile_filter

        predicate = compile_filter(query)
    session = Session(paths)
    try:
        if name == "watch":
            return _watch(session, stream, show_secrets=show_secrets)
        session.wait_for_stdin()  # traces / stats of '-' are of the whole input
        session.scan()
        for problem in session.problems:
            print(f"agenttui: warning: {clean(problem)}", file=sys.stderr)
        if name == "traces":
            index = session.index
            # The order and the filter of the TUI's list (oldest first here).
            for trace in listing.ordered(session.read, predicate):
                obj = trace_dict(index, trace, session.source_of)
                stream.write(orjson.dumps(obj if show_secrets else mask_fields(obj)) + b"\n")
        else:
            stream.write(orjson.dumps(stats_dict(session.index)) + b"\n")
        stream.flush()
        return 0
    except BrokenPipeError:
        return 0
    finally:
        session.close()


def _watch(session: Session, stream: IO[bytes], *, show_secrets: bool = False) -> int:
    """Follow the sources; print each changed trace with the time it was seen."""
    session.scan()
    session.index.take_changes()  # only changes from now on
    stop = threading.Event()

    def emit(_lines: int) -> None:
        index = session.index
        with session.read():
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

    try:
        session.follow(emit, stop)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        stop.set()
    return 0


class ReportError(Exception):
    """``report`` cannot be written (unknown request id); the message is one line."""


def report(
    request_id: str, paths: list[str], *, as_json: bool = False, out: IO[bytes] | None = None
) -> int:
    """``agenttui report``: a Markdown incident note of one trace, or the whole trace as JSON.

    Raises:
        ReportError: No trace has that request id (or a unique prefix of it).
    """
    from agenttui.output.incident import incident_dict, incident_markdown

    stream = out if out is not None else sys.stdout.buffer
    session = Session(paths)
    try:
        session.scan()
        for problem in session.problems:
            print(f"agenttui: warning: {clean(problem)}", file=sys.stderr)
        traces = session.index.traces
        trace = traces.get(request_id)
        if trace is None:
            found = [rid for rid in traces if request_id and rid.startswith(request_id)]
            if len(found) != 1:
                if found:
                    raise ReportError(
                        f"{len(found)} request ids start with {request_id!r}: give more of it"
                    )
                raise ReportError(f"no trace with request id {request_id!r} in {', '.join(paths)}")
            trace = traces[found[0]]
        if as_json:
            stream.write(orjson.dumps(incident_dict(session, trace)) + b"\n")
        else:
            stream.write(incident_markdown(session, trace).encode())
        stream.flush()
        return 0
    except BrokenPipeError:
        return 0
    finally:
        session.close()
