"""Churn: `agenttui watch` and `tail -F` side by side while a log is rotated again and again.

Modes (one writer process; every line is one finished request with a unique number):

* ``delete``: the log is created, written for 1/``--per-second`` s, closed and deleted, again
  and again (``--per-second`` 100 at ``--rate`` 5,000 lines/s: 50 lines per file);
* ``copytruncate``: the writer appends with ``O_APPEND``; every ``--every`` seconds it copies
  the log to ``agent.log.1`` (the older copy renamed to ``agent.log.2`` first, as logrotate
  does) and truncates the log in place. The copy and the truncation happen between two writes
  of the same process, so every line written is on disk in one of the files: any loss is the
  reader's.

Both readers follow the same run: ``tail -n +1 -F agent.log`` and ``agenttui watch --jsonl``
on the same file (``--path file``) or on its directory (``--path dir``). Measured:

* per request (six lines: start, two tool calls, success; as the firehose writes them):
  lost (no line of it seen), incomplete (some lines not seen), doubled (a line read twice);
  ``watch`` by the event count of the trace as last printed, ``tail`` by the line numbers;
* descriptors of the ``watch`` process sampled every 100 ms: open, open on deleted files,
  and the longest time one deleted file stayed open.

Run: ``python bench/churn.py delete --seconds 20`` or
``python bench/churn.py copytruncate --path dir --seconds 30``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

LINES_PER_REQUEST = 6
_STEPS = (
    '"event":"request_start","query":"churn question"',
    '"event":"tool_call_start","tool":"search","call_id":"c1"',
    '"event":"tool_call_success","tool":"search","call_id":"c1","duration_ms":3.5',
    '"event":"tool_call_start","tool":"fetch","call_id":"c2"',
    '"event":"tool_call_success","tool":"fetch","call_id":"c2","duration_ms":7.5',
    '"event":"request_success","duration_ms":12.0',
)


def _line(n: int) -> bytes:
    """Line ``n``: request ``n // 6``, step ``n % 6`` (start, two tool calls, success)."""
    rid, step = divmod(n, LINES_PER_REQUEST)
    return (f'{{"level":"info",{_STEPS[step]},"request_id":"c{rid:09d}","n":{n}}}\n').encode()


def write_delete(path: str, rate: int, per_second: int, seconds: float) -> int:
    """Create, write, close and delete ``path`` ``per_second`` times a second."""
    per_file = max(1, rate // per_second)
    writes = 5
    n = 0
    start = time.monotonic()
    cycle = 0
    while time.monotonic() - start < seconds:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for w in range(writes):
            k = per_file // writes + (1 if w < per_file % writes else 0)
            os.write(fd, b"".join(_line(i) for i in range(n, n + k)))
            n += k
            time.sleep(1 / per_second / writes / 2)
        os.close(fd)
        os.unlink(path)
        cycle += 1
        delay = start + cycle / per_second - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return n


def write_copytruncate(path: str, rate: int, every: float, seconds: float) -> int:
    """Append ``rate`` lines/s; copy and truncate every ``every`` s (between two writes)."""
    d = os.path.dirname(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    batch = max(1, rate // 200)
    n = 0
    start = time.monotonic()
    next_rotate = start + every
    k = 0
    while time.monotonic() - start < seconds:
        os.write(fd, b"".join(_line(i) for i in range(n, n + batch)))
        n += batch
        k += 1
        now = time.monotonic()
        if now >= next_rotate:
            next_rotate += every
            one, two = os.path.join(d, "agent.log.1"), os.path.join(d, "agent.log.2")
            if os.path.exists(one):
                os.replace(one, two)
            shutil.copyfile(path, one)
            os.truncate(path, 0)
        delay = start + k / 200 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    os.close(fd)
    return n


class FdSampler(threading.Thread):
    """Samples the descriptors of a process every 100 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.max_open = 0
        self.max_deleted = 0
        self.deleted_first_seen: dict[tuple[str, str], float] = {}
        self.max_deleted_age = 0.0

    def run(self) -> None:
        fd_dir = f"/proc/{self.pid}/fd"
        while not self.stop.wait(0.1):
            try:
                names = os.listdir(fd_dir)
            except OSError:
                return
            now = time.monotonic()
            deleted = set()
            for name in names:
                try:
                    target = os.readlink(os.path.join(fd_dir, name))
                except OSError:
                    continue
                if target.endswith(" (deleted)") and "agenttui-stdin" not in target:
                    try:  # descriptor numbers, paths and inode numbers are all reused at once
                        st = os.stat(os.path.join(fd_dir, name))
                    except OSError:
                        continue
                    deleted.add((name, f"{st.st_ino}/{st.st_ctime_ns}"))
            self.max_open = max(self.max_open, len(names))
            self.max_deleted = max(self.max_deleted, len(deleted))
            for key in deleted:
                first = self.deleted_first_seen.setdefault(key, now)
                self.max_deleted_age = max(self.max_deleted_age, now - first)
            for key in list(self.deleted_first_seen):
                if key not in deleted:
                    del self.deleted_first_seen[key]


def _collect(stream: Any, counts: dict[int, int], parse: Any) -> None:
    for raw in stream:
        n = parse(raw)
        if n is not None:
            counts[n] = counts.get(n, 0) + 1


def _tail_number(raw: bytes) -> int | None:
    try:
        return int(raw.rsplit(b'"n":', 1)[1].split(b"}")[0])
    except (IndexError, ValueError):
        return None


def _watch_collector(events: dict[int, int]) -> Any:
    def parse(raw: bytes) -> int | None:
        try:
            obj = json.loads(raw)
        except ValueError:
            return None
        rid = obj.get("request_id", "")
        if not rid.startswith("c"):
            return None
        n = int(rid[1:])
        # The trace as last printed: its event count says whether lines were lost or doubled.
        events[n] = int(obj.get("events", 0))
        return None

    return parse


def _verdicts(events: dict[int, int], requests: int) -> dict[str, int]:
    """Requests lost (no line seen), incomplete (some lines), doubled (a line read twice)."""
    seen = [events.get(r, 0) for r in range(requests)]
    return {
        "lost": sum(1 for e in seen if e == 0),
        "incomplete": sum(1 for e in seen if 0 < e < LINES_PER_REQUEST),
        "doubled": sum(1 for e in seen if e > LINES_PER_REQUEST),
    }


def _tail_events(counts: dict[int, int]) -> dict[int, int]:
    per: dict[int, int] = {}
    for n, k in counts.items():
        per[n // LINES_PER_REQUEST] = per.get(n // LINES_PER_REQUEST, 0) + k
    return per


def run(mode: str, path_kind: str, rate: int, seconds: float, **kw: Any) -> dict[str, Any]:
    """One run; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="agenttui-churn-") as tmp:
        log = os.path.join(tmp, "agent.log")
        Path(log).touch()
        target = tmp if path_kind == "dir" else log
        watch = subprocess.Popen(
            [sys.executable, "-m", "agenttui", "watch", "--jsonl", target, *kw.get("extra", [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        tail = subprocess.Popen(
            ["tail", "-n", "+1", "-F", log], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        watch_events: dict[int, int] = {}
        tail_counts: dict[int, int] = {}
        threads = [
            threading.Thread(
                target=_collect,
                args=(watch.stdout, {}, _watch_collector(watch_events)),
                daemon=True,
            ),
            threading.Thread(
                target=_collect, args=(tail.stdout, tail_counts, _tail_number), daemon=True
            ),
        ]
        for t in threads:
            t.start()
        sampler = FdSampler(watch.pid)
        sampler.start()
        time.sleep(1.5)  # both are following
        args = [sys.executable, __file__, "--writer", mode, log, str(rate), str(seconds)]
        args.append(str(kw.get("per_second", 100) if mode == "delete" else kw.get("every", 0.2)))
        t0 = time.monotonic()
        written = int(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
        write_s = time.monotonic() - t0
        time.sleep(3.0)  # let both catch up
        sampler.stop.set()
        for proc in (watch, tail):
            proc.send_signal(signal.SIGINT if proc is watch else signal.SIGTERM)
        for proc in (watch, tail):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for t in threads:
            t.join(5)
        err = (watch.stderr.read() if watch.stderr else b"").decode(errors="replace")
        requests = written // LINES_PER_REQUEST
        watch_v = _verdicts(watch_events, requests)
        tail_v = _verdicts(_tail_events(tail_counts), requests)
        out: dict[str, Any] = {
            "mode": mode,
            "path": path_kind,
            "rate": rate,
            "seconds": seconds,
            "write_s": round(write_s, 1),
            "lines_written": written,
            "requests": requests,
            **{f"watch_{k}": v for k, v in watch_v.items()},
            **{f"tail_{k}": v for k, v in tail_v.items()},
            "tail_lines_lost": len(set(range(written)) - set(tail_counts)),
            "tail_lines_doubled": sum(1 for v in tail_counts.values() if v > 1),
            "watch_max_fds": sampler.max_open,
            "watch_max_deleted_open": sampler.max_deleted,
            "watch_max_deleted_age_s": round(sampler.max_deleted_age, 2),
            "watch_stderr": err.strip().splitlines()[-3:],
        }
        for who in ("watch", "tail"):
            out[f"{who}_lost_pct"] = round(100 * out[f"{who}_lost"] / max(1, requests), 3)
        if mode == "delete":
            out["per_second"] = kw.get("per_second", 100)
        else:
            out["every_s"] = kw.get("every", 0.2)
        return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        mode, path, rate, seconds, extra = sys.argv[2:7]
        if mode == "delete":
            print(write_delete(path, int(rate), int(extra), float(seconds)))
        else:
            print(write_copytruncate(path, int(rate), float(extra), float(seconds)))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["delete", "copytruncate"])
    p.add_argument("--path", choices=["file", "dir"], default="file")
    p.add_argument("--rate", type=int, default=None, help="lines/s (5000 delete, 20000 copy)")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--per-second", type=int, default=100, help="delete mode: files per second")
    p.add_argument("--every", type=float, default=0.2, help="copytruncate mode: period (s)")
    a = p.parse_args()
    rate = a.rate or (5000 if a.mode == "delete" else 20000)
    print(json.dumps(run(a.mode, a.path, rate, a.seconds, per_second=a.per_second, every=a.every)))


if __name__ == "__main__":
    main()
