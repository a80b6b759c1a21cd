#!/usr/bin/env python3
"""Per-line cost of indexing, stage by stage, in one process.

Usage::

    python bench/profile_lines.py bench/corpus/agent.log [--lines N]

Stages, each timed (CPU time of this process, so that other load on the machine counts less)
over whole chunks so that the timer costs nothing per line:

* ``read``: ``sources.read_lines`` (pread, split, offsets);
* ``decode``: ``orjson.loads`` (with the lenient second chance) -- the generic path;
* ``normalise``: ``records.normalise`` of each decoded object;
* ``decode_record``: the two stages above, line by line, as indexing did (no list of
  dicts kept alive);
* ``fast decode``: ``fast_structlog.decode_records`` (typed msgspec decoding straight into
  records, replacing the two stages above);
* ``fold``: ``TraceIndex.add`` of each record;
* ``floor``: typed decoding plus the least any grouping does (see :func:`_floor`).

Prints microseconds per line for each, and the totals of both paths.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agenttui.ingest import fast_structlog, sources  # noqa: E402
from agenttui.ingest.records import (  # noqa: E402
    RAW_RECORD,
    Record,
    _lenient,
    decode_record,
    normalise,
)
from agenttui.model.traces import OFFSET_BITS, TraceIndex  # noqa: E402


def _floor(lines: list[bytes], offsets: list[int], traces: dict[str, list[int]]) -> None:
    """The least per-line work any grouping does in CPython: typed decoding, one dict lookup
    by request id, one append of the offset, a branch on the event. A lower bound for the
    pure-Python path, not a usable index."""
    decode = fast_structlog._decode
    get = traces.get
    errors = fast_structlog._Error
    for line, off in zip(lines, offsets, strict=True):
        try:
            d = decode(line)
        except errors:
            continue
        rid = d.request_id
        if rid is None:
            continue
        t = get(rid)
        if t is None:
            t = traces[rid] = []
        t.append(off)
        if d.event == "tool_call_start":
            t.append(0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", type=Path)
    ap.add_argument("--lines", type=int, default=0, help="stop after this many lines (0: all)")
    ap.add_argument("--no-gc", action="store_true", help="with the cyclic garbage collector off")
    args = ap.parse_args(argv)

    import orjson

    table = sources.FileTable()
    lf = table.open(str(args.log))
    t = {
        "read": 0.0,
        "decode": 0.0,
        "normalise": 0.0,
        "fast": 0.0,
        "fold": 0.0,
        "ffold": 0.0,
        "floor": 0.0,
        "generic": 0.0,
    }
    floor: dict[str, list[int]] = {}
    slow_index = TraceIndex()
    fast_index = TraceIndex()
    for ix in (slow_index, fast_index):
        ix.track_changes = False
    n = 0
    loads = orjson.loads
    err = orjson.JSONDecodeError
    base = lf.id << OFFSET_BITS
    gc.freeze()
    if args.no_gc:
        gc.disable()
    try:
        while not args.lines or n < args.lines:
            t0 = time.process_time()
            chunk = sources.read_lines(table, lf)
            t1 = time.process_time()
            if chunk is None:
                break
            t["read"] += t1 - t0
            lines = chunk.lines
            objs: list[object] = []
            append = objs.append
            for line in lines:
                try:
                    append(loads(line))
                except err:
                    append(_lenient(line))
            t2 = time.process_time()
            recs: list[Record] = [normalise(o) if isinstance(o, dict) else RAW_RECORD for o in objs]
            t3 = time.process_time()
            fast = fast_structlog.decode_records(lines)
            t4 = time.process_time()
            add = slow_index.add
            for off, rec in zip(chunk.offsets, recs, strict=True):
                add(rec, base | off)
            t5 = time.process_time()
            fadd = fast_index.add
            for off, rec in zip(chunk.offsets, fast, strict=True):
                fadd(rec, base | off)
            t6 = time.process_time()
            t["decode"] += t2 - t1
            t["normalise"] += t3 - t2
            t["fast"] += t4 - t3
            t["fold"] += t5 - t4
            t["ffold"] += t6 - t5
            _floor(lines, chunk.offsets, floor)
            t7 = time.process_time()
            t["floor"] += t7 - t6
            generic = list(map(decode_record, lines))
            t["generic"] += time.process_time() - t7
            del generic
            n += len(lines)
            if recs != fast:
                print("fast records differ from the generic ones", file=sys.stderr)
                return 1
    finally:
        table.close()
    us = {k: v / max(1, n) * 1e6 for k, v in t.items()}
    print(f"{n:,} lines of {args.log}")
    print(f"  read        {us['read']:.2f} us/line")
    print(f"  decode      {us['decode']:.2f} us/line  (orjson.loads)")
    print(f"  normalise   {us['normalise']:.2f} us/line")
    print(f"  fold        {us['fold']:.2f} us/line  (TraceIndex.add)")
    slow = us["read"] + us["decode"] + us["normalise"] + us["fold"]
    print(f"  total       {slow:.2f} us/line")
    print(f"  (decode + normalise line by line, as indexing did: {us['generic']:.2f} us/line)")
    print(f"  fast decode {us['fast']:.2f} us/line  (fast_structlog: decode + normalise)")
    print(f"  fold        {us['ffold']:.2f} us/line")
    print(f"  fast total  {us['read'] + us['fast'] + us['ffold']:.2f} us/line")
    print(f"  floor       {us['floor']:.2f} us/line  (msgspec decode + the least any fold does)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
