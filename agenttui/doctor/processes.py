"""The agent processes: found by pid or name, restarts noticed across refreshes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from agenttui.doctor.results import Check, ProcInfo, Restart
from agenttui.doctor.settings import compile_pattern
from agenttui.doctor.units import age, size
from agenttui.output.sanitize import clean


class ProcessWatcher:
    """Finds the agent processes and notices restarts (a new pid) across refreshes."""

    def __init__(self, pid: int | None = None, pattern: str | None = None) -> None:
        """Watch the process ``pid``, or those whose name or command line match ``pattern``.

        Raises:
            config.ConfigError: ``pattern`` is not a valid regular expression.
        """
        self.pid = pid
        self.pattern = None if pattern is None else compile_pattern(pattern, "agent name")
        self.restarts: list[Restart] = []
        self._known: dict[int, float] = {}
        """pid -> create time of the processes seen last time."""
        self._procs: dict[int, Any] = {}
        self._cmdline: list[str] | None = None
        """The first process's command line (to find it again after a restart)."""
        self._lock = threading.Lock()
        self.refreshes = 0

    @property
    def active(self) -> bool:
        """Whether there is anything to watch."""
        return self.pid is not None or self.pattern is not None

    def _matches(self) -> list[Any]:
        if self.pattern is None:
            alive = [pid for pid, created in self._known.items() if _same(pid, created)]
            if alive:
                return [psutil.Process(pid) for pid in alive]
            if self._cmdline is None:  # never seen: the pid given
                assert self.pid is not None
                return [psutil.Process(self.pid)] if psutil.pid_exists(self.pid) else []
        me = os.getpid()
        found = []
        for proc in psutil.process_iter(["pid", "name", "cmdline"]):
            info = proc.info
            if info["pid"] == me:
                continue
            cmd = info.get("cmdline") or []
            if self.pattern is not None:
                if self.pattern.search(info.get("name") or "") or self.pattern.search(
                    " ".join(cmd)
                ):
                    found.append(proc)
            elif cmd == self._cmdline:
                found.append(proc)
        return found

    def refresh(self) -> list[ProcInfo]:
        """Look at the processes now; new pids after the first refresh are restarts."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> list[ProcInfo]:
        try:
            found = self._matches()
        except psutil.Error:
            found = []
        now = time.time()
        current: dict[int, float] = {}
        infos: list[ProcInfo] = []
        for proc in found:
            try:
                created = float(proc.create_time())
                cached = self._procs.get(proc.pid)
                if cached is None or self._known.get(proc.pid) != created:
                    cached = self._procs[proc.pid] = proc
                    cached.cpu_percent(None)
                    cpu = _average_cpu(proc, _uptime(proc.pid, created, now))
                else:
                    cpu = float(cached.cpu_percent(None))
                infos.append(_proc_info(cached, cpu, _uptime(proc.pid, created, now)))
                current[proc.pid] = created
                if self._cmdline is None and self.pid is not None:
                    self._cmdline = list(proc.cmdline())
            except psutil.Error:
                continue
        if self.refreshes and self._known:
            gone = [pid for pid, created in self._known.items() if current.get(pid) != created]
            for pid, created in current.items():
                if self._known.get(pid) != created:
                    old = gone.pop(0) if gone else None
                    self.restarts.append(Restart(now, old, pid))
        if current or not self._known:
            self._known = current
        for pid in list(self._procs):
            if pid not in current:
                del self._procs[pid]
        self.refreshes += 1
        return infos

    def check(self, infos: list[ProcInfo], since: float | None = None) -> Check:
        """The agent check: found, and restarted or not."""
        what = (
            f"pid {self.pid}" if self.pattern is None else f"name matching {self.pattern.pattern!r}"
        )
        if not infos:
            return Check(
                "agent",
                "fail",
                f"no process with {what} is running",
                "start the agent, or fix --agent-pid / --agent-name",
                {"watching": what},
            )
        restarts = [r for r in self.restarts if since is None or r.at >= since]
        first = infos[0]
        reason = (
            f"{len(infos)} process{'es' if len(infos) > 1 else ''}; pid {first.pid} up "
            f"{age(first.uptime_s)}, RSS {size(first.rss)}"
        )
        detail: dict[str, Any] = {
            "watching": what,
            "pids": [i.pid for i in infos],
            "restarts": len(restarts),
        }
        if restarts:
            last = restarts[-1]
            old = f"{last.old_pid} -> " if last.old_pid else ""
            return Check(
                "agent",
                "warn",
                f"{reason}; restarted {len(restarts)}x (pid {old}{last.new_pid})",
                "look at the agent's last log lines and the "
                "kernel log (OOM kills: dmesg | grep -i oom)",
                detail,
            )
        for info in infos:
            if info.fd_limit and info.open_files >= 0.8 * info.fd_limit:
                return Check(
                    "agent",
                    "warn",
                    f"{reason}; pid {info.pid} has {info.open_files} of {info.fd_limit} files open",
                    "raise its open files limit or look for a descriptor leak",
                    detail,
                )
        return Check("agent", "ok", reason, "", detail)


def _same(pid: int, created: float) -> bool:
    """Whether ``pid`` is still the process created at ``created`` (not a reused pid)."""
    try:
        return bool(float(psutil.Process(pid).create_time()) == created)
    except psutil.Error:
        return False


def _uptime(pid: int, created: float, now: float) -> float:
    """Seconds since the process started (from /proc like ps; psutil's clock can lag)."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat_line.rsplit(")", 1)[1].split()[19])
        since_boot = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, since_boot - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return max(0.0, now - created)


def _average_cpu(proc: Any, uptime: float) -> float:
    try:
        times = proc.cpu_times()
        return 100.0 * (times.user + times.system) / uptime if uptime > 0 else 0.0
    except psutil.Error:
        return 0.0


def _proc_info(proc: Any, cpu: float, uptime: float) -> ProcInfo:
    with proc.oneshot():
        try:
            fds = int(proc.num_fds())
        except (psutil.Error, AttributeError):
            fds = -1
        try:
            limit = int(proc.rlimit(psutil.RLIMIT_NOFILE)[0])
        except (psutil.Error, AttributeError, OSError):
            limit = None
        try:
            children = len(proc.children(recursive=True))
        except psutil.Error:
            children = 0
        try:
            user = str(proc.username())
        except (psutil.Error, KeyError):
            user = "?"
        return ProcInfo(
            pid=int(proc.pid),
            name=clean(str(proc.name())),
            user=clean(user),
            rss=int(proc.memory_info().rss),
            cpu_pct=round(cpu, 1),
            threads=int(proc.num_threads()),
            open_files=fds,
            fd_limit=limit if limit and limit > 0 else None,
            uptime_s=uptime,
            children=children,
            status=str(proc.status()),
        )
