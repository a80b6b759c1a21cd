"""Firehose: the TUI under a log written at 50,000 lines/s for 30 s.

A writer process appends structlog-style JSON lines at a fixed rate (in 10 ms batches, as a
busy agent's logger would) while the TUI runs headless (``App.run_test``) in this process.
Measured:

* key latency: every 200 ms a ``j``/``k`` key event is queued on the app (as the terminal
  driver does) and timed until the selection moves; the target is 200 ms;
* RSS of this process (the TUI) every second;
* ingest lag: lines written minus lines indexed, every second;
* at the end: that the header's line counter equals the lines written.

Run: ``python bench/firehose.py [--rate 50000] [--seconds 30]``; prints one JSON object.
``tests/test_firehose.py`` runs a CI-sized version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BATCHES_PER_SECOND = 100
LINES_PER_REQUEST = 6


def write_firehose(path: str, rate: int, seconds: float) -> int:
    """Append ``rate`` lines/s to ``path`` for ``seconds``; returns the lines written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    per_batch = max(1, rate // BATCHES_PER_SECOND)
    total = int(rate * seconds)
    written = 0
    request = 0
    start = time.monotonic()
    batch_no = 0
    try:
        while written < total:
            now = time.time()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + (
                f".{int(now % 1 * 1e6):06d}Z"
            )
            lines = []
            n = min(per_batch, total - written)
            for i in range(written, written + n):
                step = i % LINES_PER_REQUEST
                rid = f"fh-{request:09d}"
                if step == 0:
                    lines.append(
                        f'{{"timestamp":"{stamp}","level":"info","event":"request_start",'
                        f'"request_id":"{rid}","query":"firehose question {i}"}}'
                    )
                elif step in (1, 3):
                    lines.append(
                        f'{{"timestamp":"{stamp}","level":"info",'
                        f'"event":"tool_call_start","request_id":"{rid}",'
                        f'"tool":"tool_{step}","call_id":"c{step}"}}'
                    )
                elif step in (2, 4):
                    lines.append(
                        f'{{"timestamp":"{stamp}","level":"info",'
                        f'"event":"tool_call_success","request_id":"{rid}",'
                        f'"tool":"tool_{step - 1}","call_id":"c{step - 1}",'
                        f'"duration_ms":{i % 97 + 1}.5}}'
                    )
                else:
                    failed = request % 10 == 0
                    event = "request_failed" if failed else "request_success"
                    extra = ',"level":"error","error":"Boom: firehose"' if failed else ""
                    lines.append(
                        f'{{"timestamp":"{stamp}","event":"{event}",'
                        f'"request_id":"{rid}","duration_ms":12.0{extra}}}'
                    )
                    request += 1
            os.write(fd, ("\n".join(lines) + "\n").encode())
            written += n
            batch_no += 1
            delay = start + batch_no / BATCHES_PER_SECOND - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        os.close(fd)
    return written


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


async def run(
    rate: int,
    seconds: float,
    *,
    size: tuple[int, int] = (100, 30),
    key_every: float = 0.2,
    max_memory: int | None = None,
) -> dict[str, Any]:
    """Run the firehose against the TUI; returns the figures.

    ``max_memory``: the session's memory budget in bytes (``--max-memory``), None for none.
    """
    from textual.events import Key

    from agenttui.session import Session
    from agenttui.ui.app import AgentTUI

    with tempfile.TemporaryDirectory(prefix="agenttui-firehose-") as tmp:
        log = Path(tmp) / "agent.log"
        log.write_bytes(b"")
        session = Session([tmp])
        session.set_memory_budget(max_memory)
        app = AgentTUI(session)
        out: dict[str, Any] = {"rate": rate, "seconds": seconds}
        async with app.run_test(size=size) as pilot:
            while not (app.main.ready and not app._scanning):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # watching
            writer = subprocess.Popen(
                [sys.executable, __file__, "--writer", str(log), str(rate), str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            tl = app.main.trace_list
            session = app.session
            key_ms: list[float] = []
            rss: list[float] = []
            lag: list[int] = []
            t0 = time.monotonic()
            next_sample = t0
            missed = 0
            while writer.poll() is None:
                if time.monotonic() >= next_sample:
                    next_sample += 1.0
                    rss.append(round(_rss_mb(), 1))
                    lag.append(int(rate * (time.monotonic() - t0)) - session.index.lines)
                if tl.row_count < 2:
                    await asyncio.sleep(key_every)
                    continue
                before = tl.selected
                key = "j" if tl.cursor == 0 else "k"
                k0 = time.perf_counter()
                app.post_message(Key(key, None))
                while tl.selected == before and time.perf_counter() - k0 < 5:
                    await asyncio.sleep(0.001)
                if tl.selected == before:
                    missed += 1
                key_ms.append((time.perf_counter() - k0) * 1000)
                await asyncio.sleep(key_every)
            written = int((writer.communicate()[0] or "0").strip() or 0)
            out["write_s"] = round(time.monotonic() - t0, 2)
            c0 = time.monotonic()
            while session.index.lines < written and time.monotonic() - c0 < 120:
                await asyncio.sleep(0.05)
            out["catch_up_s"] = round(time.monotonic() - c0, 2)
            await asyncio.sleep(0.3)  # two refresh ticks: the header shows the final count
            await pilot.pause()
            totals = app.main.header._totals
            out["written"] = written
            out["indexed"] = session.index.lines
            out["header_lines"] = totals.lines if totals else None
            out["traces"] = len(session.index) + session.index.dropped
            out["dropped"] = session.index.dropped
            key_ms.sort()
            out["keys"] = len(key_ms)
            out["keys_missed"] = missed
            if key_ms:
                out["key_p50_ms"] = round(key_ms[len(key_ms) // 2], 1)
                out["key_p95_ms"] = round(key_ms[min(len(key_ms) - 1, int(len(key_ms) * 0.95))], 1)
                out["key_p99_ms"] = round(key_ms[min(len(key_ms) - 1, int(len(key_ms) * 0.99))], 1)
                out["key_max_ms"] = round(key_ms[-1], 1)
                out["keys_over_200ms"] = sum(1 for k in key_ms if k > 200)
            out["rss_mb"] = rss
            out["rss_start_mb"] = rss[0] if rss else None
            out["rss_end_mb"] = round(_rss_mb(), 1)
            out["peak_rss_mb"] = max([*rss, out["rss_end_mb"]])
            out["max_lag_lines"] = max(lag) if lag else 0
            out["bytes_per_trace"] = (
                round((out["rss_end_mb"] - rss[0]) * 1e6 / len(session.index))
                if rss and len(session.index)
                else None
            )
            await pilot.press("q")
        app.session.close()
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        print(write_firehose(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=50_000, help="lines per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-memory", default=None, help="memory budget, e.g. 256M")
    args = parser.parse_args()
    from agenttui.limits import parse_size

    budget = parse_size(args.max_memory) if args.max_memory else None
    print(json.dumps(asyncio.run(run(args.rate, args.seconds, max_memory=budget))))


if __name__ == "__main__":
    main()
