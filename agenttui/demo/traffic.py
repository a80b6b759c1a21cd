"""Live traffic generator: runs many demo-agent queries concurrently.

Worker threads run :func:`agenttui.demo.agent.run_query` on queries drawn from
:data:`TEMPLATES`, so the JSON lines of concurrent requests interleave in
``DIR/agent.log`` exactly as they do in production, and failed requests leave
capture files in ``DIR/captures/``. Roughly a quarter of the requests fail, across
every failure kind of the agent (missing env var, relative path, refused connection,
permission denied, missing binary, rate limit, timeout).

The process changes its working directory to ``DIR`` so that queries using the
relative path ``data/prices.csv`` really fail. Past 60 % of the requests (or after
200 requests when running forever) the planner model switches to
:data:`~agenttui.demo.agent.DRIFT_MODEL`, which adds an LLM call to every plan:
a visible model drift with more rate-limit failures.

Usage::

    python -m agenttui.demo.traffic --out DIR [--requests N] [--concurrency 4]
        [--rate R] [--seed S] [--fast]

SIGTERM and SIGINT stop it cleanly (in-flight requests finish, exit code 0). To run it as a
child process (the TUI's ``--demo``), see :mod:`agenttui.demo.process`.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from agenttui.demo import agent, health

__all__ = [
    "TEMPLATES",
    "TrafficStats",
    "main",
    "make_query",
    "run_traffic",
]

TEMPLATES: list[tuple[str, float]] = [
    # (template, weight). Placeholders are filled from _FILLERS.
    ("search the web for the latest {lang} release", 0.5),
    ("look up recent news about {company} and summarize it", 0.4),
    ("read data/prices.csv and compute the average", 0.6),
    ("read data/{dataset}.csv and compute the total", 0.4),
    ("read the bundled price list and compute the average price", 1.6),
    ("read the bundled price list and compute the total", 1.2),
    ("summarize the release notes", 1.2),
    ("tl;dr of the release notes for the {team} team", 0.8),
    ("fetch http://status.internal/health", 1.4),
    ("fetch http://catalog.internal/v1/items?limit={n} and summarize", 1.0),
    ("fetch http://localhost:8080/health", 0.4),
    ("fetch http://billing.internal/api/invoices/{n}", 0.4),
    ("write report on {quarter} sales", 0.4),
    ("generate the weekly report on {team} incidents", 0.3),
    ("draft a report on {quarter} sales", 1.2),
    ("draft a report on {team} velocity from the bundled price list", 0.8),
    ("grep the codebase for 'TODO'", 0.3),
    ("grep the logs for '{error_word}'", 0.3),
    ("ask the llm to summarize the {company} contract", 1.0),
    ("classify the sentiment of this review: {review}", 1.0),
    ("translate '{phrase}' to German", 0.9),
    ("ask the llm to compare {n_small} vendors for {thing}", 0.7),
    ("check the inventory for sku A-{sku}", 0.9),
    ("sync the legacy erp orders for {quarter}", 0.6),
    ("compute {a} * {b} + {c}", 1.4),
    ("what is {a} / {b}", 1.0),
    ("calculate {a} + {b} - {c}", 1.0),
    ("summarize: {review}", 1.2),
    ("hello, who are you?", 0.6),
    ("give me a tl;dr of {company}'s last earnings call", 0.6),
]
"""Query templates with their relative weights; together they exercise every tool."""

DEFAULT_RATE = 3.0
"""Default request start rate (requests/second) of live traffic."""

FAST_TIME_SCALE = 0.02
"""``AGENT_TIME_SCALE`` used by ``--fast`` (latencies 50x shorter, rate 50x higher)."""

_FILLERS: dict[str, list[str]] = {
    "lang": ["Rust", "Python", "Go", "Kotlin", "Zig"],
    "company": ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli"],
    "dataset": ["prices", "orders", "refunds", "inventory"],
    "team": ["payments", "search", "platform", "mobile", "growth"],
    "quarter": ["Q1", "Q2", "Q3", "Q4"],
    "error_word": ["Traceback", "ERROR", "timeout", "panic"],
    "review": [
        "the espresso machine broke after two days",
        "fast shipping and great beans",
        "support never answered my email",
        "decent grinder but noisy",
    ],
    "phrase": ["good morning", "your order has shipped", "thanks for your patience"],
    "thing": ["cloud storage", "log retention", "GPU hosting", "CI runners"],
}


@dataclass
class TrafficStats:
    """Counters of a traffic run.

    Attributes:
        requests: Requests completed.
        failed: Requests that failed.
        errors: Failed requests by exception type (e.g. ``"TimeoutError"``).
        failed_tools: Failed requests by tool name.
    """

    requests: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    failed_tools: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """Return a one-line human summary."""
        rate = (100.0 * self.failed / self.requests) if self.requests else 0.0
        tools = ", ".join(f"{k}={v}" for k, v in sorted(self.failed_tools.items()))
        return f"{self.requests} requests, {self.failed} failed ({rate:.0f}%): {tools}"


def make_query(rng: random.Random) -> str:
    """Draw one query from :data:`TEMPLATES` using ``rng``.

    Args:
        rng: Random generator (seeded for reproducible traffic).

    Returns:
        The filled-in query text.
    """
    templates = [t for t, _ in TEMPLATES]
    weights = [w for _, w in TEMPLATES]
    template = rng.choices(templates, weights=weights, k=1)[0]
    values: dict[str, str] = {key: rng.choice(opts) for key, opts in _FILLERS.items()}
    values.update(
        n=str(rng.randint(1, 500)),
        n_small=str(rng.randint(2, 6)),
        sku=str(rng.randint(100, 109)),
        a=str(rng.randint(2, 999)),
        b=str(rng.randint(2, 99)),
        c=str(rng.randint(0, 50)),
    )
    return template.format(**values)


def run_traffic(
    out_dir: Path,
    *,
    requests: int = 0,
    concurrency: int = 4,
    rate: float | None = None,
    seed: int | None = None,
    stop: threading.Event | None = None,
    drift_after: int | None = None,
) -> TrafficStats:
    """Run queries concurrently until ``requests`` are done or ``stop`` is set.

    Logging must already be configured (see :func:`agent.configure_logging`).

    Args:
        out_dir: Output directory; captures go to ``out_dir / "captures"``.
        requests: Number of requests to run; 0 runs until ``stop`` is set.
        concurrency: Number of worker threads.
        rate: Maximum request start rate in requests/second; None = as fast as possible.
        seed: Seed of the query and latency choices.
        stop: Event that ends the run early (in-flight requests still finish).
        drift_after: Request index from which the drift model is used; default 60 %
            of ``requests`` (200 when running forever).

    Returns:
        Counters of the run.
    """
    stop = stop or threading.Event()
    rng = random.Random(seed)
    captures = out_dir / "captures"
    captures.mkdir(parents=True, exist_ok=True)
    if drift_after is None:
        drift_after = int(requests * 0.6) if requests else 200
    stats = TrafficStats()
    lock = threading.Lock()
    jobs: queue.Queue[tuple[str, int, str] | None] = queue.Queue(maxsize=max(1, concurrency))

    def worker() -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            if stop.is_set():  # drain queued jobs without running them
                continue
            query, job_seed, model = job
            result = agent.run_query(query, captures_dir=captures, model=model, seed=job_seed)
            with lock:
                stats.requests += 1
                if not result.ok:
                    stats.failed += 1
                    stats.errors[(result.error or "?").split(":", 1)[0]] += 1
                    stats.failed_tools[result.failed_tool or "?"] += 1

    threads = [
        threading.Thread(target=worker, name=f"traffic-{i}", daemon=True)
        for i in range(max(1, concurrency))
    ]
    for thread in threads:
        thread.start()
    interval = 1.0 / rate if rate and rate > 0 else 0.0
    next_start = time.monotonic()
    index = 0
    try:
        while not stop.is_set() and (requests == 0 or index < requests):
            if interval:
                delay = next_start - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    break
                next_start = max(next_start + interval, time.monotonic() - interval)
            model = agent.DRIFT_MODEL if index >= drift_after else agent.DEFAULT_MODEL
            job = (make_query(rng), rng.getrandbits(32), model)
            while not stop.is_set():
                try:
                    jobs.put(job, timeout=0.1)
                    break
                except queue.Full:
                    continue
            else:
                break
            index += 1
    finally:
        for _ in threads:
            jobs.put(None)
        for thread in threads:
            thread.join()
    return stats


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m agenttui.demo.traffic",
        description="Generate live demo-agent traffic: DIR/agent.log and DIR/captures/.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--requests", type=int, default=0, help="number of requests (0 = forever)")
    parser.add_argument("--concurrency", type=int, default=4, help="worker threads (default 4)")
    parser.add_argument(
        "--rate", type=float, help="max requests/second (default 3; 150 with --fast)"
    )
    parser.add_argument("--seed", type=int, help="seed of the query mix and latencies")
    parser.add_argument("--fast", action="store_true", help="tiny latencies (seconds, not minutes)")
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=0,
        help="stop when this process is gone (the TUI that started the demo)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        0 when the run ended normally or on SIGTERM/SIGINT, 2 for bad usage.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    if args.requests < 0 or args.concurrency < 1 or (args.rate is not None and args.rate <= 0):
        print("usage error: --requests >= 0, --concurrency >= 1, --rate > 0", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.fast:
        os.environ.setdefault("AGENT_TIME_SCALE", str(FAST_TIME_SCALE))
        os.environ.setdefault("TOOL_TIMEOUT", "0.05")
    else:
        os.environ.setdefault("TOOL_TIMEOUT", "1.0")
    os.environ.setdefault("LLM_RATE_LIMIT", "2")
    os.environ.setdefault("LLM_BURST", "5")
    # --fast keeps the live mix (same load relative to the rate limit), just compressed.
    rate = args.rate or DEFAULT_RATE / (FAST_TIME_SCALE if args.fast else 1.0)
    out_dir = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(out_dir)  # the relative data/prices.csv really does not exist here
    agent.configure_logging(out_dir / "agent.log")
    health_server, _url = health.serve(out_dir)
    stats = TrafficStats()
    try:
        # Run in a worker thread so that the main thread stays free for signals.
        done = threading.Event()

        def target() -> None:
            nonlocal stats
            try:
                stats = run_traffic(
                    out_dir,
                    requests=args.requests,
                    concurrency=args.concurrency,
                    rate=rate,
                    seed=args.seed,
                    stop=stop,
                )
            finally:
                done.set()

        runner = threading.Thread(target=target, name="traffic-main", daemon=True)
        runner.start()
        while not done.wait(0.2):
            if args.parent_pid and os.getppid() != args.parent_pid:
                stop.set()  # the TUI died without stopping us (SIGHUP, SIGKILL): stop too
            if stop.is_set():
                agent.interrupt_waits()  # cut simulated waits short; in-flight requests finish
                break
        runner.join()
    finally:
        health_server.shutdown()
        health_server.server_close()
        agent.shutdown()
    print(f"traffic: {stats.summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
