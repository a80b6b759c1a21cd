"""``agenttui formats PATH...``: the shape detected for each input and why, the ``[mapping]``
laid over it, and the inputs that could not be read (and why)."""

from __future__ import annotations

import argparse
import os
import time
from typing import IO, Any

import orjson

from agenttui.commands.base import output
from agenttui.ingest import sources
from agenttui.ingest.shapes.otlp import count_skipped
from agenttui.output.sanitize import clean
from agenttui.session import Session

STDIN_WAIT_S = 1.0
"""How long ``-`` is given to show its first line."""


def describe(session: Session) -> list[dict[str, Any]]:
    """One entry per input file: ``path``, ``shape``, ``reason``; ``note`` for a compressed or
    spooled input, ``mapping`` when a ``[mapping]`` is laid over the shape, ``skipped`` for
    OTLP metrics / profiles batches (no events), ``unread`` (why) for a file whose lines could
    not be read as events."""
    session.discover()
    if any(spec.kind == "stdin" for spec in session.specs):
        from agenttui.ingest.spool import stdin_spool

        spool = stdin_spool()
        deadline = time.monotonic() + STDIN_WAIT_S
        while time.monotonic() < deadline and not spool.done.is_set():
            if os.path.getsize(spool.path) > 0:
                break
            time.sleep(0.02)
        spool.wait(0.05)
    out = []
    for lf, shape, reason in session.formats():
        entry: dict[str, Any] = {
            "path": lf.name if lf.label else sources.display_path(lf.path),
            "shape": shape,
            "reason": reason,
        }
        if lf.finished:
            entry["note"] = "compressed: read once, not tailed"
        if shape.endswith("+mapping"):
            entry["mapping"] = True
        if shape == "-":
            entry["unread"] = reason
        elif lf.shape is None and "none JSON" in reason:
            entry["unread"] = "no line is JSON or key=value (read as plain text lines)"
        if "otlp" in shape.split("/")[-1] and lf.fd is not None and not lf.label:
            skipped, partial = count_skipped(lf.path)
            if skipped:
                entry["skipped"] = skipped
                more = " in the first 256 MB" if partial else ""
                entry["reason"] = (
                    f"{reason}; {skipped} metrics or profiles batch(es) skipped{more} (no events)"
                )
        out.append(entry)
    from agenttui.ingest.sniff import skipped_in

    for spec in session.specs:  # what a directory holds that is not read, and why
        if spec.kind == "dir":
            for path, why in skipped_in(spec.text):
                out.append({"path": sources.display_path(path), "shape": "skipped", "reason": why})
    return out


DESCRIPTION = (
    "The log shape detected for each input and why, the [mapping] laid over it, and the inputs"
    " that could not be read."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``formats`` arguments."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
    p.add_argument("--json", action="store_true", help="one JSON object per input")


def run(opts: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    return print_formats(opts.paths, as_json=opts.json)


def print_formats(paths: list[str], *, as_json: bool = False, out: IO[bytes] | None = None) -> int:
    """Print the detected shape of each input (one line each), then one line per input that
    could not be read; returns the exit code."""
    session = Session(paths)
    try:
        entries = describe(session)
        with output(out) as stream:
            if as_json:
                for entry in entries:
                    stream.write(orjson.dumps(entry) + b"\n")
            else:
                width = max((len(clean(e["path"])) for e in entries), default=0)
                for e in entries:
                    note = f" ({e['note']})" if "note" in e else ""
                    path, reason = clean(e["path"]), clean(e["reason"])
                    line = f"{path:<{width}}  {e['shape']:<18}  {reason}{note}"
                    stream.write(line.encode() + b"\n")
                if not entries:
                    stream.write(b"no log files found\n")
                for e in entries:
                    if "unread" in e:
                        line = f"could not read {clean(e['path'])}: {clean(e['unread'])}"
                        stream.write(line.encode() + b"\n")
        return 0
    finally:
        session.close()
