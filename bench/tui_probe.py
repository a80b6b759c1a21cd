"""Probe the TUI on a corpus, headless: time to the first rows, key latency during the full
scan, and time to open traces. Prints one JSON object (run by bench/run.py)."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

from textual.events import Key

from agenttui.session import Session
from agenttui.ui.app import AgentTUI


async def probe(path: str) -> dict[str, float | int | bool]:
    t0 = time.perf_counter()
    session = Session([path])
    app = AgentTUI(session)
    out: dict[str, float | int | bool] = {}
    async with app.run_test(size=(100, 30)):
        while not (app.main.ready and app.main.trace_list.row_count > 0):
            await asyncio.sleep(0.005)
        out["first_rows_s"] = time.perf_counter() - t0
        with session.read() as index:
            newest = max((t.start for t in index.traces.values()), default=0.0)
        tl = app.main.trace_list
        top = session.index.traces[tl.visible_request_ids()[0]]
        out["top_row_is_newest"] = top.start == newest
        # Keys while the full index is built behind the preview: a key event is queued on
        # the app (as the terminal driver does) and the cursor watched for the move.
        key_ms: list[float] = []
        while not session.scanned and len(key_ms) < 200:
            before = tl.cursor
            k0 = time.perf_counter()
            app.post_message(Key("j" if before == 0 else "k", None))
            while tl.cursor == before and time.perf_counter() - k0 < 5:
                await asyncio.sleep(0.001)
            key_ms.append((time.perf_counter() - k0) * 1000)
            await asyncio.sleep(0.05)
        while not session.scanned:
            await asyncio.sleep(0.05)
        out["full_index_s"] = time.perf_counter() - t0
        out["keys_during_scan"] = len(key_ms)
        key_ms.sort()
        out["key_p50_ms"] = key_ms[len(key_ms) // 2] if key_ms else float("nan")
        out["key_max_ms"] = key_ms[-1] if key_ms else float("nan")
    # Opening a trace: its events read back from their offsets, cold cache.
    rng = random.Random(1)
    traces = list(session.index.traces.values())
    open_ms: list[float] = []
    for trace in rng.sample(traces, min(300, len(traces))):
        session.reader.clear()
        o0 = time.perf_counter()
        events = session.events(trace)
        open_ms.append((time.perf_counter() - o0) * 1000)
        assert len(events) == trace.events
    open_ms.sort()
    out["open_p50_ms"] = open_ms[len(open_ms) // 2]
    out["open_p99_ms"] = open_ms[int(len(open_ms) * 0.99) - 1]
    out["open_max_ms"] = open_ms[-1]
    session.close()
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(sys.argv[1]))))
