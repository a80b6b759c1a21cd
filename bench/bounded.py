"""Bounded under production load: the figures of the "done when" list that are not churn.

Steps (each prints one JSON object; ``all`` runs them in turn, about 3 minutes):

* ``files``: 20,000 files in a directory: ``stats`` reads them all (time, tree RSS), ``watch``
  (under ``ulimit -n 1024``) and the TUI (headless, in this process) follow a new line written
  into random files (latency), descriptors sampled, ``watch`` CPU when idle;
* ``memory``: ``watch --max-memory`` and the TUI with a memory budget under a firehose of
  50,000 lines/s (``--seconds``: 600 for the 10 minutes of the target; ``--only watch`` or
  ``--only tui`` for one half): process-tree RSS every second against the budget + 10%,
  ``watch`` latency (``seen_at`` minus the request's end: p50 / p99 / max, the worst of each
  10 s, every request waited for), ``watch`` CPU, TUI keys (p50 / p95 / p99 / max), lines
  indexed, traces dropped, and the load average before and after;
* ``bigline``: a 200 MB line (no newline for a while, then one) and a 4 GB sparse file:
  peak tree RSS and wall time of ``stats`` and of ``watch`` reading them;
* ``noterm``: ``agenttui sample_logs </dev/null`` (exit code, message, time);
* ``signals``: the TUI in tmux (``--demo``: a child process and a temporary directory, and
  ``-`` fed by a pipe: the spool), killed with SIGTERM / SIGHUP: ``stty -a`` afterwards, the
  alternate screen, mouse and cursor state of the pane, processes and temporary files left.

Run: ``python bench/bounded.py all`` (or one step). Every child is killed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

_children: list[subprocess.Popen[bytes]] = []


def _spawn(cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, **kw)
    _children.append(proc)
    return proc


def _kill_all() -> None:
    for proc in _children:
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(5)


def _tree(pid: int) -> list[psutil.Process]:
    try:
        me = psutil.Process(pid)
        return [me, *me.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss(pid: int) -> int:
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


class Sampler(threading.Thread):
    """Peak tree RSS (and descriptors of the top process) every ``every`` s."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = 0
        self.max_fds = 0
        self.series: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        last = 0.0
        while not self.stop.wait(self.every):
            rss = tree_rss(self.pid)
            self.peak = max(self.peak, rss)
            with contextlib.suppress(OSError):
                self.max_fds = max(self.max_fds, len(os.listdir(f"/proc/{self.pid}/fd")))
            if time.monotonic() - last >= 1.0:
                last = time.monotonic()
                self.series.append(round(rss / 1e6, 1))


def agenttui(*args: str) -> list[str]:
    return [sys.executable, "-m", "agenttui", *args]


def _line(rid: str, event: str = "request_success") -> bytes:
    stamp = time.time()
    return (
        f'{{"timestamp":{stamp:.6f},"level":"info","event":"{event}","request_id":"{rid}"}}\n'
    ).encode()


# ------------------------------------------------------------------ 20,000 files


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def step_files(n: int = 20_000, probes: int = 20) -> dict[str, Any]:
    out: dict[str, Any] = {"step": "files", "files": n}
    with tempfile.TemporaryDirectory(prefix="agenttui-bench-files-") as tmp:
        for i in range(n):
            with open(os.path.join(tmp, f"svc-{i:05d}.log"), "wb") as f:
                f.write(_line(f"f{i}"))
        t0 = time.monotonic()
        proc = _spawn(agenttui("stats", "--json", tmp), stdout=subprocess.PIPE)
        sampler = Sampler(proc.pid)
        sampler.start()
        stdout, _ = proc.communicate(timeout=300)
        sampler.stop.set()
        stats = json.loads(stdout)
        out["stats_s"] = round(time.monotonic() - t0, 2)
        out["stats_traces"] = stats.get("traces", stats.get("totals", {}).get("traces"))
        out["stats_peak_rss_mb"] = round(sampler.peak / 1e6, 1)
        out["stats_max_fds"] = sampler.max_fds
        # watch, with ulimit -n 1024
        watch = _spawn(
            agenttui("watch", "--jsonl", tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_low_fd_limit,
        )
        seen: dict[str, float] = {}

        def collect() -> None:
            assert watch.stdout is not None
            for raw in watch.stdout:
                with contextlib.suppress(ValueError):
                    seen.setdefault(json.loads(raw)["request_id"], time.monotonic())

        threading.Thread(target=collect, daemon=True).start()
        sampler = Sampler(watch.pid, every=0.1)
        sampler.start()
        ps = psutil.Process(watch.pid)
        t_scan = time.monotonic()
        while time.monotonic() - t_scan < 120:  # its own scan of the files: until it idles
            c0 = sum(ps.cpu_times()[:2])
            time.sleep(1.0)
            if sum(ps.cpu_times()[:2]) - c0 < 0.3:
                break
        out["watch_scan_s"] = round(time.monotonic() - t_scan, 1)
        c0 = sum(ps.cpu_times()[:2])
        time.sleep(5)
        out["watch_idle_cpu_pct"] = round((sum(ps.cpu_times()[:2]) - c0) / 5 * 100, 1)
        latencies = []
        rng = random.Random(5)
        for k in range(probes):
            path = os.path.join(tmp, f"svc-{rng.randrange(n):05d}.log")
            rid = f"probe{k}"
            t = time.monotonic()
            with open(path, "ab") as f:
                f.write(_line(rid))
            while rid not in seen and time.monotonic() - t < 10:
                time.sleep(0.002)
            latencies.append(seen.get(rid, t + 10) - t)
            time.sleep(0.2)
        sampler.stop.set()
        watch.send_signal(signal.SIGTERM)
        watch.wait(10)
        latencies.sort()
        out["watch_latency_ms_p50_max"] = [
            round(latencies[len(latencies) // 2] * 1000, 1),
            round(latencies[-1] * 1000, 1),
        ]
        out["watch_probes_seen"] = sum(1 for k in range(probes) if f"probe{k}" in seen)
        out["watch_max_fds"] = sampler.max_fds
        out["watch_exit"] = watch.returncode
        out["watch_stderr"] = (watch.stderr.read() if watch.stderr else b"").decode()[-300:]
        out.update(asyncio.run(_tui_files(tmp, n, probes)))
    return out


async def _tui_files(tmp: str, n: int, probes: int) -> dict[str, Any]:
    from agenttui.session import Session
    from agenttui.ui.app import AgentTUI

    app = AgentTUI(Session([tmp]))
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 30)) as pilot:
        t0 = time.monotonic()
        while app._scanning and time.monotonic() - t0 < 120:
            await asyncio.sleep(0.05)
        out["tui_scan_s"] = round(time.monotonic() - t0, 2)
        await asyncio.sleep(1.0)
        rng = random.Random(7)
        latencies = []
        fds = []
        for k in range(probes):
            path = os.path.join(tmp, f"svc-{rng.randrange(n):05d}.log")
            rid = f"tui{k}"
            placed = app.main.trace_list.total_count
            t = time.monotonic()
            with open(path, "ab") as f:
                f.write(_line(rid))
            while app.main.trace_list.total_count <= placed and time.monotonic() - t < 10:
                await asyncio.sleep(0.005)
            latencies.append(time.monotonic() - t)
            fds.append(len(os.listdir("/proc/self/fd")))
            await asyncio.sleep(0.2)
        latencies.sort()
        out["tui_latency_ms_p50_max"] = [
            round(latencies[len(latencies) // 2] * 1000, 1),
            round(latencies[-1] * 1000, 1),
        ]
        out["tui_max_fds"] = max(fds)
        out["tui_log_fds"] = app.session.table.open_count()
        await pilot.press("q")
    app.session.close()
    return out


# ------------------------------------------------------------------ memory


def step_memory(rate: int, seconds: float, budget: str, only: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"step": "memory", "rate": rate, "seconds": seconds, "budget": budget}
    out["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    if only != "tui":
        out.update(_memory_watch(rate, seconds, budget))
    if only != "watch":
        out["tui"] = _memory_tui(rate, seconds, budget)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


class Latencies:
    """``watch`` latencies in a histogram of milliseconds (a 10-minute run prints millions of
    lines), the largest of each 10-second window, and how many requests were printed ended."""

    CAP_MS = 600_000

    def __init__(self) -> None:
        self.counts = [0] * (self.CAP_MS + 1)
        self.n = 0
        self.max = 0.0
        self.windows: dict[int, float] = {}
        self.ended = 0
        self.start = time.time()

    def add(self, seen_at: float, latency: float, ended: bool) -> None:
        self.counts[min(self.CAP_MS, max(0, int(latency * 1000)))] += 1
        self.n += 1
        self.max = max(self.max, latency)
        window = int((seen_at - self.start) // 10) * 10
        self.windows[window] = max(self.windows.get(window, 0.0), latency)
        self.ended += ended

    def percentile(self, q: float) -> float:
        """The q-th percentile in milliseconds (to the millisecond below)."""
        rank = min(self.n - 1, int(self.n * q / 100))
        seen = 0
        for ms, count in enumerate(self.counts):
            seen += count
            if seen > rank:
                return float(ms)
        return float(self.CAP_MS)


def _memory_watch(rate: int, seconds: float, budget: str) -> dict[str, Any]:
    from datetime import datetime

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="agenttui-bench-mem-") as tmp:
        log = os.path.join(tmp, "agent.log")
        Path(log).touch()
        watch = _spawn(
            agenttui("watch", "--jsonl", "--max-memory", budget, tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        lat = Latencies()
        times: dict[str, float] = {}  # the writer's times, parsed once per distinct string

        def collect() -> None:
            assert watch.stdout is not None
            for raw in watch.stdout:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    obj = json.loads(raw)
                    end = obj.get("end") or obj.get("start")
                    if end:
                        ts = times.get(end)
                        if ts is None:
                            if len(times) > 10_000:
                                times.clear()
                            ts = datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()
                            times[end] = ts
                        lat.add(obj["seen_at"], obj["seen_at"] - ts, obj["status"] != "running")

        threading.Thread(target=collect, daemon=True).start()
        sampler = Sampler(watch.pid, every=0.2)
        sampler.start()
        ps = psutil.Process(watch.pid)
        time.sleep(1.5)
        cpu0 = sum(ps.cpu_times()[:2])
        lat.start = time.time()
        writer = _spawn(
            [sys.executable, str(BENCH / "firehose.py"), "--writer", log, str(rate), str(seconds)],
            stdout=subprocess.PIPE,
        )
        written = int((writer.communicate()[0] or b"0").strip() or 0)
        wall = time.time() - lat.start
        cpu = sum(ps.cpu_times()[:2]) - cpu0
        requests = written // 6
        # Until every request was printed ended (a watch behind must not hide its backlog).
        last, still = lat.ended, time.monotonic()
        while lat.ended < requests and time.monotonic() - still < 10:
            time.sleep(0.5)
            if lat.ended != last:
                last, still = lat.ended, time.monotonic()
        sampler.stop.set()
        watch.send_signal(signal.SIGTERM)
        watch.wait(10)
        limit = _size(budget) * 1.1
        out["watch_written"] = written
        out["watch_requests_printed_ended"] = [lat.ended, requests]
        out["watch_cpu_pct"] = round(cpu / wall * 100, 1)
        out["watch_rss_mb_series"] = sampler.series
        out["watch_peak_rss_mb"] = round(sampler.peak / 1e6, 1)
        out["watch_rss_limit_mb"] = round(limit / 1e6, 1)
        out["watch_rss_met"] = sampler.peak <= limit
        if lat.n:
            out["watch_latency_ms_p50_p99_max"] = [
                lat.percentile(50),
                lat.percentile(99),
                round(lat.max * 1000, 1),
            ]
            out["watch_latency_met"] = lat.percentile(99) <= 1000
            out["watch_latency_ms_max_per_10s"] = [
                round(v * 1000) for _k, v in sorted(lat.windows.items())
            ]
            out["watch_lines_printed"] = lat.n
    return out


def _memory_tui(rate: int, seconds: float, budget: str) -> dict[str, Any]:
    import firehose

    sampler = Sampler(os.getpid(), every=1.0)  # this process (the TUI) and the writer
    sampler.start()
    tui = asyncio.run(firehose.run(rate, seconds, max_memory=_size(budget)))
    sampler.stop.set()
    out = {
        k: tui.get(k)
        for k in (
            "written",
            "indexed",
            "catch_up_s",
            "max_lag_lines",
            "header_lines",
            "traces",
            "dropped",
            "key_p50_ms",
            "key_p95_ms",
            "key_p99_ms",
            "key_max_ms",
            "keys",
            "keys_missed",
            "rss_mb",
            "rss_end_mb",
            "peak_rss_mb",
        )
    }
    limit = _size(budget) * 1.1
    out["peak_tree_rss_mb"] = round(sampler.peak / 1e6, 1)
    out["tree_rss_limit_mb"] = round(limit / 1e6, 1)
    out["tree_rss_met"] = sampler.peak <= limit
    out["keys_met"] = (tui.get("key_p99_ms") or 1e9) <= 200
    return out


def _size(text: str) -> int:
    from agenttui.limits import parse_size

    size = parse_size(text)
    assert size is not None
    return size


# ------------------------------------------------------------------ 200 MB line, 4 GB sparse


def _measure(cmd: list[str], timeout: float = 170) -> dict[str, Any]:
    t0 = time.monotonic()
    proc = _spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = Sampler(proc.pid, every=0.02)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    sampler.stop.set()
    return {
        "rc": proc.returncode,
        "wall_s": round(time.monotonic() - t0, 2),
        "peak_rss_mb": round(sampler.peak / 1e6, 1),
        "out": stdout.decode()[:160],
        "err": stderr.decode()[-160:],
    }


def step_bigline() -> dict[str, Any]:
    out: dict[str, Any] = {"step": "bigline"}
    with tempfile.TemporaryDirectory(prefix="agenttui-bench-big-") as tmp:
        big = os.path.join(tmp, "big.log")
        with open(big, "wb") as f:
            f.write(_line("before"))
            f.write(b'{"event":"request_start","request_id":"huge","query":"')
            chunk = b"x" * (1 << 20)
            for _ in range(200):
                f.write(chunk)
            f.write(b'"}\n')
            f.write(_line("after"))
        out["line_200mb_stats"] = _measure(agenttui("stats", "--json", big))
        sparse = os.path.join(tmp, "sparse.log")
        with open(sparse, "wb") as f:
            f.write(_line("s-start"))
            f.seek(2 << 30)
            f.write(_line("s-middle"))
            f.seek((4 << 30) - 4096)
            f.write(_line("s-end"))
        out["sparse_4gb_size"] = os.path.getsize(sparse)
        out["sparse_4gb_stats"] = _measure(agenttui("stats", "--json", sparse))
        # watch: the line arrives while it follows (written in pieces over a few seconds)
        live = os.path.join(tmp, "live.log")
        Path(live).touch()
        watch = _spawn(agenttui("watch", "--jsonl", live), stdout=subprocess.PIPE)
        sampler = Sampler(watch.pid, every=0.02)
        sampler.start()
        time.sleep(1.5)
        t0 = time.monotonic()
        with open(live, "ab") as f:
            f.write(b'{"event":"request_start","request_id":"live-huge","query":"')
            for _ in range(200):
                f.write(chunk)
                f.flush()
                time.sleep(0.01)
            f.write(b'"}\n')
            f.write(_line("live-after"))
        got: list[str] = []
        assert watch.stdout is not None
        os.set_blocking(watch.stdout.fileno(), False)
        buf = b""
        while time.monotonic() - t0 < 60 and "live-after" not in got:
            with contextlib.suppress(BlockingIOError, TypeError):
                buf += watch.stdout.read() or b""
            got = [json.loads(x)["request_id"] for x in buf.splitlines() if x.strip()]
            time.sleep(0.05)
        sampler.stop.set()
        watch.send_signal(signal.SIGTERM)
        watch.wait(10)
        out["line_200mb_watch"] = {
            "printed": got,
            "s": round(time.monotonic() - t0, 2),
            "peak_rss_mb": round(sampler.peak / 1e6, 1),
        }
    return out


# ------------------------------------------------------------------ no terminal


def step_noterm() -> dict[str, Any]:
    t0 = time.monotonic()
    proc = subprocess.run(
        agenttui("sample_logs"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=ROOT,
        timeout=30,
    )
    return {
        "step": "noterm",
        "rc": proc.returncode,
        "s": round(time.monotonic() - t0, 3),
        "stderr": proc.stderr.decode().strip(),
    }


# ------------------------------------------------------------------ signals in tmux


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def _pane_flags(name: str) -> dict[str, str]:
    fmt = "#{alternate_on} #{mouse_any_flag} #{cursor_flag} #{pane_pid}"
    alt, mouse, cursor, pid = _tmux("display", "-p", "-t", name, fmt).split()
    return {"alternate_on": alt, "mouse_any_flag": mouse, "cursor_flag": cursor, "pid": pid}


def _agenttui_pids(root_pid: int) -> list[int]:
    out = []
    for p in _tree(root_pid):
        with contextlib.suppress(psutil.Error):
            if any("agenttui" in part for part in p.cmdline()[1:4]):
                out.append(p.pid)
    return out


def step_signals() -> list[dict[str, Any]]:
    results = []
    cases = [
        ("SIGTERM", "--demo"),
        ("SIGHUP", "--demo"),
        ("SIGTERM", "stdin"),
        ("SIGHUP", "stdin"),
        ("SIGINT", "sample_logs"),
    ]
    for sig_name, what in cases:
        tmpdir = tempfile.mkdtemp(prefix="bounded-bench-tmp-")
        name = f"bounded-sig-{os.getpid()}"
        stty = os.path.join(tmpdir, "stty.txt")
        if what == "--demo":
            cmd = f"{sys.executable} -m agenttui --demo"
        elif what == "stdin":
            cmd = f"cat {ROOT}/sample_logs/*.log | {sys.executable} -m agenttui -"
        else:
            cmd = f"{sys.executable} -m agenttui {ROOT}/sample_logs"
        script = os.path.join(tmpdir, "run.sh")
        Path(script).write_text(
            f"cd {ROOT}\nexport TMPDIR={tmpdir}\n{cmd}\necho rc=$? > {tmpdir}/rc.txt\n"
            f"stty -a > {stty}\nsleep 30\n"
        )
        _tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", f"bash {script}")
        try:
            time.sleep(4)
            before = _pane_flags(name)
            pane_pid = int(before["pid"])
            targets = [
                p
                for p in _agenttui_pids(pane_pid)
                if "-m" in psutil.Process(p).cmdline() and "agenttui" in psutil.Process(p).cmdline()
            ]
            main = min(targets) if targets else None
            all_before = _agenttui_pids(pane_pid)
            t0 = time.monotonic()
            if main is not None:
                os.kill(main, getattr(signal, sig_name))
            while not os.path.exists(stty) and time.monotonic() - t0 < 15:
                time.sleep(0.05)
            ended_s = round(time.monotonic() - t0, 2)
            time.sleep(0.5)
            after = _pane_flags(name)
            text = Path(stty).read_text() if os.path.exists(stty) else ""
            flags = [w for w in text.split() if w.lstrip("-") in ("icanon", "echo", "isig")]
            left_tmp = sorted(
                p.name
                for p in Path(tmpdir).iterdir()
                if p.name not in ("stty.txt", "rc.txt", "run.sh")
            )
            rc_file = Path(tmpdir, "rc.txt")
            results.append(
                {
                    "signal": sig_name,
                    "run": what,
                    "processes_before": len(all_before),
                    "ended_s": ended_s,
                    "rc": rc_file.read_text().strip() if rc_file.exists() else None,
                    "stty": flags,
                    "alternate_screen_before_after": [
                        before["alternate_on"],
                        after["alternate_on"],
                    ],
                    "mouse_before_after": [before["mouse_any_flag"], after["mouse_any_flag"]],
                    "cursor_shown_after": after["cursor_flag"],
                    "agenttui_processes_left": len(_agenttui_pids(pane_pid)),
                    "temp_files_left": left_tmp,
                }
            )
        finally:
            _tmux("kill-session", "-t", name)
            shutil.rmtree(tmpdir, ignore_errors=True)
    return results


def _interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)  # children are killed in the finally below
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["files", "memory", "bigline", "noterm", "signals", "all"])
    p.add_argument("--files", type=int, default=20_000)
    p.add_argument("--rate", type=int, default=50_000)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--budget", default="256M")
    p.add_argument(
        "--only", choices=["watch", "tui"], default="", help="memory: run only this half"
    )
    a = p.parse_args()
    try:
        steps = ["noterm", "signals", "bigline", "files", "memory"] if a.step == "all" else [a.step]
        for step in steps:
            if step == "files":
                result: Any = step_files(a.files)
            elif step == "memory":
                result = step_memory(a.rate, a.seconds, a.budget, a.only)
            elif step == "bigline":
                result = step_bigline()
            elif step == "noterm":
                result = step_noterm()
            else:
                result = step_signals()
            print(json.dumps(result), flush=True)
    finally:
        _kill_all()


if __name__ == "__main__":
    main()
