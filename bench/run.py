#!/usr/bin/env python3
"""agenttui benchmark: index speed and memory vs lnav, live-tail latency, idle tail CPU.

Usage::

    python bench/make_corpus.py --out bench/corpus   # once (~30 s, ~600 MB)
    python bench/run.py                              # all steps, writes bench/results.md
    python bench/run.py --quick                      # small corpus, short live runs

Every child process is killed at the end, also on Ctrl-C; every loop is bounded in count and
time; nothing touches the network.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import make_corpus  # noqa: E402

LNAV = "/usr/bin/lnav"
FORMAT_NAME = "structlog_json"
TERMINAL_STATUSES = ("ok", "error")

#: lnav format for the agent's structlog JSON lines (lnav 0.11 format-v1 schema).
LNAV_FORMAT: dict[str, Any] = {
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    FORMAT_NAME: {
        "title": "structlog JSON",
        "description": "structlog JSONRenderer lines: merge_contextvars, add_log_level, "
        "TimeStamper(fmt='iso', utc=True), dict_tracebacks",
        "json": True,
        "timestamp-field": "timestamp",
        "level-field": "level",
        "body-field": "event",
        "opid-field": "request_id",
        "level": {
            "critical": "critical",
            "error": "error",
            "warning": "warning",
            "info": "info",
            "debug": "debug",
        },
        "value": {
            "request_id": {"kind": "string", "identifier": True},
            "event": {"kind": "string", "identifier": True},
            "level": {"kind": "string"},
            "timestamp": {"kind": "string"},
            "tool": {"kind": "string", "identifier": True},
            "call_id": {"kind": "string", "identifier": True},
            "query": {"kind": "string"},
            "error": {"kind": "string"},
            "duration_ms": {"kind": "float"},
            "result_size": {"kind": "integer"},
            "params": {"kind": "json"},
            "exception": {"kind": "json"},
        },
        "line-format": [
            {"field": "__timestamp__"},
            " ",
            {"field": "__level__", "text-transform": "uppercase"},
            " ",
            {"field": "request_id"},
            " ",
            {"field": "event"},
            " ",
            {"field": "tool", "default-value": ""},
            " ",
            {"field": "error", "default-value": ""},
        ],
    },
}
LNAV_QUERY = (
    f";SELECT count(*) AS n, count(DISTINCT log_opid) AS ops, "
    f"sum(log_level = 'error') AS errors, sum(log_level = 'invalid') AS invalid "
    f"FROM {FORMAT_NAME}"
)

# --------------------------------------------------------------------------------------------
# Child-process bookkeeping: everything we start is killed on exit, Ctrl-C or SIGTERM.

_CHILDREN: list[subprocess.Popen[bytes]] = []


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        kids = []
    for p in [*kids]:
        with _suppress():
            p.terminate()
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        with _suppress():
            proc.wait(timeout=3)
    for p in kids:
        with _suppress():
            p.kill()


def _suppress() -> contextlib.suppress:
    return contextlib.suppress(psutil.Error, OSError, subprocess.SubprocessError)


def kill_children() -> None:
    for proc in _CHILDREN:
        _kill_tree(proc)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def spawn(cmd: Sequence[str], **kw: Any) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(list(cmd), **kw)
    _CHILDREN.append(proc)
    return proc


# --------------------------------------------------------------------------------------------
# Measuring one command


@dataclass
class Run:
    cmd: list[str]
    rc: int | None
    wall_s: float
    peak_rss: int
    """Peak of the summed RSS of the process and its children, sampled every 10 ms (bytes)."""
    wait4_maxrss: int
    """ru_maxrss reported by wait4 for this child (bytes)."""
    cpu_s: float
    """User + system CPU seconds of the process and the children it waited for (wait4): less
    sensitive than wall time to other load on a shared machine."""
    stdout: str
    stderr: str
    timed_out: bool = False


def measure(
    cmd: Sequence[str],
    timeout: float = 600.0,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run ``cmd`` to completion; sample its process tree's RSS every 10 ms."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = spawn(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        peak = 0
        timed_out = False
        rusage = None
        status = None
        try:
            ps = psutil.Process(proc.pid)
        except psutil.Error:
            ps = None
        deadline = t0 + timeout
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if ps is not None:
                total = 0
                try:
                    total = ps.memory_info().rss
                    for c in ps.children(recursive=True):
                        with _suppress():
                            total += c.memory_info().rss
                except psutil.Error:
                    pass
                peak = max(peak, total)
            if time.perf_counter() > deadline:
                timed_out = True
                _kill_tree(proc)
                pid, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status) if status is not None else None
        out.seek(0)
        err.seek(0)
        return Run(
            list(cmd),
            proc.returncode,
            wall,
            peak,
            (rusage.ru_maxrss * 1024) if rusage else 0,
            (rusage.ru_utime + rusage.ru_stime) if rusage else 0.0,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            timed_out,
        )


def median_run(runs: list[Run]) -> Run:
    ok = sorted(runs, key=lambda r: r.wall_s)
    return ok[len(ok) // 2]


def mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


# --------------------------------------------------------------------------------------------
# Steps


@dataclass
class Results:
    machine: dict[str, str] = field(default_factory=dict)
    corpus: dict[str, Any] = field(default_factory=dict)
    rows: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(
        self,
        figure: str,
        ours: str,
        lnav: str = "",
        ratio: str = "",
        target: str = "",
        met: bool | None = None,
    ) -> None:
        self.rows.append(
            (figure, ours, lnav, ratio, target, "" if met is None else ("yes" if met else "**no**"))
        )

    def note(self, text: str) -> None:
        print(f"  note: {text}")
        self.notes.append(text)


def agenttui_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "agenttui", *args]


def step_stats(log: Path, repeats: int, res: Results) -> Run | None:
    print(f"[stats] agenttui stats {log} --json  x{repeats}")
    runs: list[Run] = []
    for i in range(repeats):
        r = measure(agenttui_cmd("stats", str(log), "--json"), timeout=600, cwd=ROOT)
        print(
            f"  run {i + 1}: rc={r.rc} wall={r.wall_s:.2f}s cpu={r.cpu_s:.2f}s "
            f"peak_rss={mb(r.peak_rss)} "
            f"wait4_maxrss={mb(r.wait4_maxrss)}"
        )
        if r.rc != 0:
            res.note(f"agenttui stats failed (rc={r.rc}): {r.stderr.strip()[-400:]}")
            return None
        runs.append(r)
    best = median_run(runs)
    res.row(f"stats: wall time (median of {repeats})", f"{best.wall_s:.2f} s")
    res.row("stats: CPU time, process tree (that run)", f"{best.cpu_s:.2f} s")
    res.row("stats: peak RSS, process tree (10 ms samples)", mb(best.peak_rss))
    res.row("stats: ru_maxrss (wait4, this child)", mb(best.wait4_maxrss))
    try:
        out = json.loads(best.stdout)
    except ValueError:
        res.note(f"agenttui stats --json printed no JSON: {best.stdout[:200]!r}")
        return best
    expect = res.corpus
    checks = [
        ("lines", expect.get("lines")),
        ("unparsed_lines", expect.get("nonjson_lines")),
        ("traces", expect.get("requests")),
    ]
    for key, want in checks:
        if want is not None and out.get(key) != want:
            res.note(f"agenttui stats {key}={out.get(key)} but the corpus has {want}")
    by_status = out.get("traces_by_status", {})
    print(
        f"  agenttui: lines={out.get('lines')} events={out.get('events')} "
        f"unparsed={out.get('unparsed_lines')} traces={out.get('traces')} "
        f"by_status={by_status}"
    )
    if expect.get("failures") is not None and by_status.get("error") != expect["failures"]:
        res.note(
            f"agenttui error traces={by_status.get('error')} but the corpus has "
            f"{expect['failures']} failed requests"
        )
    return best


def install_lnav_format(home: Path) -> Path:
    """Install the structlog format with ``lnav -i`` into ``$HOME/.lnav/formats/installed``."""
    src = home / f"{FORMAT_NAME}.json"
    src.write_text(json.dumps(LNAV_FORMAT, indent=2), encoding="utf-8")
    env = {**os.environ, "HOME": str(home)}
    subprocess.run(
        [LNAV, "-i", str(src)],
        env=env,
        check=False,
        timeout=60,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    dest = home / ".lnav" / "formats" / "installed" / f"{FORMAT_NAME}.json"
    if not dest.exists():  # older/newer lnav: put it there ourselves
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
    return dest


def _parse_lnav_table(text: str) -> dict[str, int]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for i in range(len(lines) - 1):
        head, vals = lines[i].split(), lines[i + 1].split()
        if head[:2] == ["n", "ops"] and len(vals) == len(head):
            try:
                return {h: int(v) for h, v in zip(head, vals, strict=True)}
            except ValueError:
                continue
    return {}


def step_lnav(log: Path, repeats: int, res: Results) -> Run | None:
    if not Path(LNAV).exists():
        res.note(f"lnav not installed at {LNAV}: skipped (apt-get install lnav)")
        return None
    version = subprocess.run(
        [LNAV, "-V"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    ).stdout.strip()
    res.machine["lnav"] = version
    with tempfile.TemporaryDirectory(prefix="bench-lnav-") as tmp:
        home = Path(tmp)
        fmt = install_lnav_format(home)
        env = {**os.environ, "HOME": str(home)}
        cmd = [LNAV, "-n", "-c", LNAV_QUERY, str(log)]
        print(f"[lnav] {version}, format {fmt}")
        print(f"  HOME={home} {' '.join(repr(c) if ' ' in c else c for c in cmd)}  x{repeats}")
        runs: list[Run] = []
        for i in range(repeats):
            r = measure(cmd, timeout=900, env=env)
            counts = _parse_lnav_table(r.stdout)
            print(
                f"  run {i + 1}: rc={r.rc} wall={r.wall_s:.2f}s cpu={r.cpu_s:.2f}s "
                f"peak_rss={mb(r.peak_rss)} "
                f"wait4_maxrss={mb(r.wait4_maxrss)} counts={counts}"
            )
            if r.rc != 0 or not counts:
                res.note(f"lnav failed (rc={r.rc}): {(r.stderr or r.stdout).strip()[-400:]}")
                return None
            runs.append(r)
    best = median_run(runs)
    counts = _parse_lnav_table(best.stdout)
    json_lines = res.corpus.get("json_lines")
    parsed = counts.get("n", 0) - counts.get("invalid", 0)
    if json_lines and abs(parsed - json_lines) > 0.01 * json_lines:
        res.note(
            f"lnav parsed {parsed} messages with the {FORMAT_NAME} format, the corpus "
            f"has {json_lines} JSON lines: the format did not apply"
        )
    if res.corpus.get("requests") and counts.get("ops") != res.corpus["requests"]:
        res.note(
            f"lnav counted {counts.get('ops')} distinct opids, corpus has "
            f"{res.corpus['requests']} requests"
        )
    res.note(
        f"lnav counts: {counts} (corpus: {res.corpus.get('json_lines')} JSON lines, "
        f"{res.corpus.get('nonjson_lines')} non-JSON, {res.corpus.get('requests')} "
        f"requests, {res.corpus.get('failures')} failures)"
    )
    return best


# --------------------------------------------------------------------------------------------
# Live tail: a writer appending structlog-shaped lines and a reader of `watch --jsonl`


class LiveWriter:
    """Appends agent-shaped structlog lines to ``path`` at ``rate`` lines/s in ~10 ms batches.

    Records, per request, the wall-clock time at which its terminal line was written.
    """

    def __init__(self, path: Path, rate: int, seconds: float, seed: int = 3) -> None:
        self.path = path
        self.rate = rate
        self.seconds = seconds
        self.rng = random.Random(seed)
        self.terminal_at: dict[str, float] = {}
        self.lines = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._iso = make_corpus.IsoClock()
        agent = make_corpus.build_sim_agent()
        self._pool = make_corpus.build_pool(agent, random.Random(seed), size=20)
        self._active: list[list[Any]] = []
        self._n = 0

    def _new(self) -> list[Any]:
        rng = self.rng
        self._n += 1
        rid = f"live-{self._n:07d}-{rng.getrandbits(48):012x}"
        failed = rng.random() < make_corpus.FAIL_RATE
        steps: list[tuple[str, Any]] = [("request_start", None)]
        for k in range(3):
            tool = rng.choice(make_corpus.TOOLS)
            cid = f"call_{self._n:08d}{k:02d}{rng.getrandbits(56):014x}"
            steps.append(("tool_call_start", (tool, cid)))
            if failed and k == 2:
                steps.append(("tool_call_failed", (tool, cid)))
            else:
                steps.append(("tool_call_success", (tool, cid)))
        steps.append(("request_failed" if failed else "request_success", None))
        return [rid, steps, 0]

    def _line(self, rid: str, kind: str, arg: Any) -> str:
        now_us = time.time_ns() // 1000
        ts = self._iso(now_us)
        base = {"event": kind, "request_id": rid, "level": "info", "timestamp": ts}
        if kind == "request_start":
            return json.dumps({"query": "benchmark live query", **base})
        if kind == "tool_call_start":
            return json.dumps({"tool": arg[0], "params": {"q": "x"}, "call_id": arg[1], **base})
        if kind == "tool_call_success":
            return json.dumps(
                {"tool": arg[0], "call_id": arg[1], "result_size": 512, "duration_ms": 12.5, **base}
            )
        if kind == "request_success":
            return json.dumps({"duration_ms": 40.0, **base})
        v = self._pool[self.rng.randrange(len(self._pool))]
        base["level"] = "error"
        if kind == "request_failed":
            return json.dumps({"error": v.error, "duration_ms": 40.0, **base})
        head = json.dumps(
            {"tool": arg[0], "call_id": arg[1], "error": v.error, "duration_ms": 12.5, **base}
        )
        exc = v.exc_json.replace(make_corpus.RID_PLACEHOLDER, rid).replace(
            make_corpus.CALL_PLACEHOLDER, arg[1]
        )
        return head[:-1] + ', "exception": ' + exc + "}"

    def run(self) -> None:
        try:
            self._run()
        except BaseException as e:  # reported by the caller
            self.error = e

    def _run(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            t0 = time.monotonic()
            end = t0 + self.seconds
            while not self.stop.is_set():
                now = time.monotonic()
                if now >= end:
                    break
                due = int((now - t0) * self.rate) - self.lines
                batch: list[str] = []
                terminals: list[str] = []
                for _ in range(max(0, min(due, self.rate))):
                    while len(self._active) < 150:
                        self._active.append(self._new())
                    i = self.rng.randrange(len(self._active))
                    req = self._active[i]
                    kind, arg = req[1][req[2]]
                    req[2] += 1
                    batch.append(self._line(req[0], kind, arg))
                    if req[2] == len(req[1]):
                        terminals.append(req[0])
                        self._active[i] = self._active[-1]
                        self._active.pop()
                if batch:
                    data = ("\n".join(batch) + "\n").encode()
                    view = memoryview(data)
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
                    at = time.time()
                    for rid in terminals:
                        self.terminal_at[rid] = at
                    self.lines += len(batch)
                time.sleep(0.01)
        finally:
            os.close(fd)


class WatchReader:
    """Reads ``watch --jsonl`` output; records when each trace was first printed as finished."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.first_done: dict[str, float] = {}
        self.lines = 0
        self.bad = 0
        self.statuses: dict[str, int] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            self.lines += 1
            try:
                obj = json.loads(raw)
                rid = obj["request_id"]
                status = obj.get("status")
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status in TERMINAL_STATUSES and rid not in self.first_done:
                    self.first_done[rid] = float(obj["seen_at"])
            except (ValueError, KeyError, TypeError):
                self.bad += 1


@dataclass
class LiveResult:
    writer: LiveWriter
    reader: WatchReader
    cpu_s: float
    wall_s: float
    rss_start: int
    rss_end: int
    rc: int | None
    stderr: str


def _tree_cpu_rss(ps: psutil.Process) -> tuple[float, int]:
    cpu = 0.0
    rss = 0
    for p in [ps, *ps.children(recursive=True)]:
        with _suppress():
            t = p.cpu_times()
            cpu += t.user + t.system
            rss += p.memory_info().rss
    return cpu, rss


def run_live(live_dir: Path, rate: int, seconds: float, label: str) -> LiveResult | None:
    live_dir.mkdir(parents=True, exist_ok=True)
    log = live_dir / "live.log"
    log.write_bytes(b"")
    cmd = agenttui_cmd("watch", str(log), "--jsonl")
    print(f"[{label}] {' '.join(cmd[1:])}: {rate} lines/s for {seconds:.0f} s")
    writer = LiveWriter(log, rate, seconds)
    with tempfile.TemporaryFile() as err:
        proc = spawn(
            cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT, bufsize=0
        )
        assert proc.stdout is not None
        reader = WatchReader(proc.stdout)
        reader.thread.start()
        try:
            time.sleep(1.5)  # let it start and reach the (empty) end of the file
            if proc.poll() is not None:
                err.seek(0)
                print(
                    f"  watch exited early rc={proc.returncode}: "
                    f"{err.read().decode('utf-8', 'replace')[-400:]}"
                )
                return None
            ps = psutil.Process(proc.pid)
            cpu0, rss0 = _tree_cpu_rss(ps)
            t0 = time.monotonic()
            wt = threading.Thread(target=writer.run, daemon=True)
            wt.start()
            wt.join(seconds + 30)
            writer.stop.set()
            cpu1, rss1 = _tree_cpu_rss(ps)
            wall = time.monotonic() - t0
            # let the last changes come out (bounded)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len(reader.first_done) < len(writer.terminal_at):
                time.sleep(0.05)
        finally:
            _kill_tree(proc)
            reader.thread.join(5)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if writer.error:
        raise writer.error
    return LiveResult(writer, reader, cpu1 - cpu0, wall, rss0, rss1, proc.returncode, stderr)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def step_latency(live_dir: Path, rate: int, seconds: float, res: Results) -> None:
    r = run_live(live_dir, rate, seconds, "latency")
    if r is None:
        res.note("latency: agenttui watch did not run")
        return
    lat = [
        (r.reader.first_done[rid] - at) * 1000
        for rid, at in r.writer.terminal_at.items()
        if rid in r.reader.first_done
    ]
    done = len(r.writer.terminal_at)
    print(
        f"  wrote {r.writer.lines} lines, {done} finished requests; watch printed "
        f"{r.reader.lines} lines ({r.reader.bad} unreadable), statuses {r.reader.statuses}; "
        f"matched {len(lat)}"
    )
    if not lat:
        res.note(f"latency: no finished trace matched; watch stderr: {r.stderr[-400:]}")
        return
    p50, p95, p99 = (_pct(lat, q) for q in (50, 95, 99))
    print(f"  latency ms: p50={p50:.1f} p95={p95:.1f} p99={p99:.1f} max={max(lat):.1f}")
    res.row(f"tail latency p50 ({rate} lines/s, {seconds:.0f} s)", f"{p50:.1f} ms")
    res.row("tail latency p95", f"{p95:.1f} ms")
    res.row("tail latency p99", f"{p99:.1f} ms", target="<= 100 ms", met=p99 <= 100)
    res.row(
        "finished traces seen / written", f"{len(lat)} / {done}", target="all", met=len(lat) == done
    )


def step_idle(live_dir: Path, rate: int, seconds: float, res: Results) -> None:
    r = run_live(live_dir, rate, seconds, "idle")
    if r is None:
        res.note("idle: agenttui watch did not run")
        return
    cpu_pct = 100 * r.cpu_s / r.wall_s if r.wall_s else float("nan")
    print(
        f"  wrote {r.writer.lines} lines; watch CPU {cpu_pct:.1f}% of one core; RSS "
        f"{mb(r.rss_start)} -> {mb(r.rss_end)}"
    )
    res.row(
        f"tail CPU ({rate} lines/s, {seconds:.0f} s)",
        f"{cpu_pct:.1f}% of a core",
        target="< 50%",
        met=cpu_pct < 50,
    )
    res.row(
        "tail RSS start -> end",
        f"{mb(r.rss_start)} -> {mb(r.rss_end)} (+{(r.rss_end - r.rss_start) / 2**20:.1f} MB)",
    )


def step_tui(log: Path, res: Results) -> None:
    """The TUI, headless: first rows, keys during the full scan, opening traces."""
    print(f"[tui] bench/tui_probe.py {log}")
    r = measure([sys.executable, str(BENCH / "tui_probe.py"), str(log)], timeout=600, cwd=ROOT)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res.note(f"tui probe failed (rc={r.rc}): {r.stderr.strip()[-400:]}")
        return
    print(f"  {out}")
    res.row(
        "TUI: newest traces on screen after start",
        f"{out['first_rows_s']:.2f} s",
        target="<= 1.0 s",
        met=out["first_rows_s"] <= 1.0 and out["top_row_is_newest"],
    )
    res.row("TUI: full index filled in behind", f"{out['full_index_s']:.1f} s")
    res.row(
        f"TUI: key handled during the scan ({out['keys_during_scan']} keys), p50 / max",
        f"{out['key_p50_ms']:.1f} / {out['key_max_ms']:.1f} ms",
        target="not blocked",
        met=out["key_max_ms"] < 200,
    )
    res.row(
        "TUI: open a trace (300 random, cold), p50 / p99 / max",
        f"{out['open_p50_ms']:.2f} / {out['open_p99_ms']:.2f} / {out['open_max_ms']:.2f} ms",
        target="< 100 ms",
        met=out["open_max_ms"] < 100,
    )
    res.row("TUI: process peak RSS (incl. children)", mb(r.peak_rss))


# --------------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": sys.version.split()[0],
        "os": platform.platform(),
    }


def ensure_corpus(corpus: Path, lines: int) -> dict[str, Any]:
    log = corpus / "agent.log"
    meta_path = corpus / "corpus.json"
    if not log.exists():
        print(f"[corpus] generating {lines:,} lines into {corpus} ...")
        make_corpus.generate(corpus, lines)
    if meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    else:
        meta = {"bytes": log.stat().st_size}
    print(
        f"[corpus] {log}: {meta.get('lines', '?'):,} lines, {meta['bytes'] / 1e6:.0f} MB, "
        f"{meta.get('requests', '?'):,} requests, {meta.get('failures', '?'):,} failures"
    )
    return meta


def render(res: Results) -> str:
    m = res.machine
    c = res.corpus
    out = [
        "# agenttui benchmark results",
        "",
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram')} RAM, "
        f"Python {m.get('python')}, {m.get('os')}" + (f", {m['lnav']}" if "lnav" in m else ""),
        "",
        f"Corpus: {c.get('lines', '?'):,} lines ({c.get('nonjson_lines', '?'):,} non-JSON), "
        f"{c.get('bytes', 0) / 1e6:.0f} MB, {c.get('requests', '?'):,} requests, "
        f"{c.get('failures', '?'):,} failed (made by bench/make_corpus.py, seed "
        f"{c.get('seed', '?')})",
        "",
        "| figure | agenttui | lnav | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    out += ["| " + " | ".join(r) + " |" for r in res.rows]
    if res.notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in res.notes]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=BENCH / "corpus")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="small corpus (bench/corpus-quick, 100k lines) and short live runs",
    )
    ap.add_argument("--lines", type=int, default=None, help="lines when generating the corpus")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-stats", action="store_true")
    ap.add_argument("--skip-lnav", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-idle", action="store_true")
    ap.add_argument("--skip-tui", action="store_true")
    ap.add_argument("--results", type=Path, default=BENCH / "results.md")
    args = ap.parse_args(argv)

    signal.signal(signal.SIGTERM, _on_sigterm)
    corpus: Path = args.corpus
    lines = args.lines or make_corpus.DEFAULT_LINES
    lat_s, idle_s = 10.0, 20.0
    if args.quick:
        if args.corpus == BENCH / "corpus":
            corpus = BENCH / "corpus-quick"
        lines = args.lines or 100_000
        lat_s, idle_s = 4.0, 5.0
    res = Results(machine=machine_info())
    try:
        res.corpus = ensure_corpus(corpus, lines)
        log = corpus / "agent.log"
        ours = None if args.skip_stats else step_stats(log, args.repeats, res)
        theirs = None if args.skip_lnav else step_lnav(log, args.repeats, res)
        if theirs is not None:
            res.row("lnav: wall time (median)", "", f"{theirs.wall_s:.2f} s")
            res.row("lnav: peak RSS, process tree", "", mb(theirs.peak_rss))
            res.row("lnav: CPU time (that run)", "", f"{theirs.cpu_s:.2f} s")
        if ours is not None and theirs is not None:
            tr = ours.wall_s / theirs.wall_s
            rr = ours.peak_rss / theirs.peak_rss if theirs.peak_rss else float("nan")
            cr = ours.cpu_s / theirs.cpu_s if theirs.cpu_s else float("nan")
            res.row(
                "index time",
                f"{ours.wall_s:.2f} s",
                f"{theirs.wall_s:.2f} s",
                f"{tr:.2f}x",
                "<= 0.25x lnav",
                tr <= 0.25,
            )
            res.row(
                "CPU time (both cores together)",
                f"{ours.cpu_s:.2f} s",
                f"{theirs.cpu_s:.2f} s",
                f"{cr:.2f}x",
            )
            res.row(
                "peak RSS",
                mb(ours.peak_rss),
                mb(theirs.peak_rss),
                f"{rr:.2f}x",
                "<= 0.33x lnav and < 256 MB",
                rr <= 0.33 and ours.peak_rss < 256 * 2**20,
            )
        rusage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        res.note(
            f"cross-check: getrusage(RUSAGE_CHILDREN).ru_maxrss = {mb(rusage)} (largest "
            f"child of this run so far, whichever it was)"
        )
        if not args.skip_latency:
            step_latency(corpus, 5000, lat_s, res)
        if not args.skip_idle:
            step_idle(corpus, 1000, idle_s, res)
        if not args.skip_tui:
            step_tui(log, res)
    except KeyboardInterrupt:
        print("interrupted: killing children")
        return 130
    finally:
        kill_children()
        for f in ("live.log",):
            with _suppress():
                (corpus / f).unlink()
    text = render(res)
    print()
    print(text)
    args.results.write_text(text, encoding="utf-8")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
