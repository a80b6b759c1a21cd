"""cgroups: the container's memory limit and CPU quota beside the host's."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import psutil  # type: ignore[import-untyped]

from agenttui.doctor.results import Check
from agenttui.doctor.settings import Settings
from agenttui.doctor.units import size

CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
PROC_CGROUP: Final = Path("/proc/self/cgroup")
UNLIMITED: Final = 1 << 60
"""cgroup v1 reports "no limit" as a huge number (9223372036854771712)."""


def read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return None


def _stat_file(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (read_text(path) or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _cgroup_dirs(root: Path, controller: str | None, proc_cgroup: Path | None) -> list[Path]:
    """Candidate directories of our cgroup: the one /proc names, then the mount root."""
    base = root if controller is None else root / controller
    found: list[Path] = []
    text = read_text(proc_cgroup) if proc_cgroup is not None else None
    for line in (text or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        wanted = (controller is None and controllers == "") or (
            controller is not None and controller in controllers.split(",")
        )
        if wanted and rel.strip("/"):
            found.append(base / rel.strip("/"))
    found.append(base)
    return [d for d in found if d.is_dir()]


@dataclass(slots=True)
class Memory:
    """Memory limit and use: the container's (cgroup) and the host's."""

    version: int | None
    """cgroup version (1 or 2), None when no cgroup memory controller was found."""
    limit: int | None
    """Bytes, None when unlimited."""
    usage: int | None
    working_set: int | None
    """Usage minus inactive page cache (what the OOM killer looks at)."""
    host_total: int
    host_used_pct: float


def read_memory(root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP) -> Memory:
    """Read memory from cgroup v2, else v1, beside psutil's host view."""
    vm = psutil.virtual_memory()
    host_total, host_pct = int(vm.total), float(vm.percent)
    for d in _cgroup_dirs(root, None, proc_cgroup):
        if (d / "memory.max").is_file() or (d / "memory.current").is_file():
            text = read_text(d / "memory.max")
            limit = None if text in (None, "max") else _int(text)
            usage = _int(read_text(d / "memory.current"))
            inactive = _stat_file(d / "memory.stat").get("inactive_file", 0)
            ws = None if usage is None else max(0, usage - inactive)
            return Memory(2, limit, usage, ws, host_total, host_pct)
    for d in _cgroup_dirs(root, "memory", proc_cgroup):
        if (d / "memory.limit_in_bytes").is_file():
            limit = _int(read_text(d / "memory.limit_in_bytes"))
            stats = _stat_file(d / "memory.stat")
            hier = stats.get("hierarchical_memory_limit")
            if hier is not None and (limit is None or hier < limit):
                limit = hier
            if limit is not None and limit >= UNLIMITED:
                limit = None
            usage = _int(read_text(d / "memory.usage_in_bytes"))
            inactive = stats.get("total_inactive_file", stats.get("inactive_file", 0))
            ws = None if usage is None else max(0, usage - inactive)
            return Memory(1, limit, usage, ws, host_total, host_pct)
    return Memory(None, None, None, None, host_total, host_pct)


def check_memory(
    settings: Settings, root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP
) -> Check:
    """The container's memory limit beside the host's, with a warning near the limit."""
    m = read_memory(root, proc_cgroup)
    detail: dict[str, Any] = asdict(m)
    host = f"host {size(m.host_total)} {m.host_used_pct:.0f}% used"
    if m.limit is None or m.limit > m.host_total:
        used = m.host_used_pct
        where = (
            "no container limit" if m.version is None else f"cgroup v{m.version}: no memory limit"
        )
        reason = f"{where}; {host}"
        fix_at = "free memory on the host or give the agent a bigger machine"
    else:
        used = 100.0 * (m.working_set or 0) / m.limit if m.limit else 0.0
        detail["used_pct"] = round(used, 1)
        reason = (
            f"cgroup v{m.version} limit {size(m.limit)}, in use {size(m.working_set)} "
            f"({used:.0f}%); {host}"
        )
        fix_at = "raise the container's memory limit, or find what grows (agent RSS, caches)"
    if used >= settings.memory_fail_pct:
        return Check("memory", "fail", reason + " (the OOM killer is near)", fix_at, detail)
    if used >= settings.memory_warn_pct:
        return Check("memory", "warn", reason, fix_at, detail)
    return Check("memory", "ok", reason, "", detail)


def read_cpu_quota(
    root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP
) -> tuple[int | None, float | None, dict[str, int]]:
    """(cgroup version, quota in CPUs or None when unlimited, cpu.stat)."""
    for d in _cgroup_dirs(root, None, proc_cgroup):
        text = read_text(d / "cpu.max")
        if text is not None:
            parts = text.split()
            quota: float | None = None
            if (
                len(parts) == 2
                and parts[0] != "max"
                and parts[1].isdigit()
                and parts[0].isdigit()
                and int(parts[1])
            ):
                quota = int(parts[0]) / int(parts[1])
            return 2, quota, _stat_file(d / "cpu.stat")
    for controller in ("cpu,cpuacct", "cpu"):
        for d in _cgroup_dirs(root, controller, proc_cgroup):
            q = _int(read_text(d / "cpu.cfs_quota_us"))
            p = _int(read_text(d / "cpu.cfs_period_us"))
            if q is not None:
                quota = q / p if q > 0 and p else None
                return 1, quota, _stat_file(d / "cpu.stat")
    return None, None, {}


def check_cpu(root: Path = CGROUP_ROOT, proc_cgroup: Path | None = PROC_CGROUP) -> Check:
    """CPU quota (cgroup) against the host's CPUs; a warning when throttled often."""
    version, quota, stats = read_cpu_quota(root, proc_cgroup)
    cpus = os.cpu_count() or 1
    detail: dict[str, Any] = {"cgroup": version, "quota_cpus": quota, "host_cpus": cpus}
    if quota is None:
        return Check("cpu", "ok", f"no CPU quota; {cpus} CPUs on the host", "", detail)
    reason = f"cgroup v{version} quota {quota:.2g} CPUs of {cpus} on the host"
    periods, throttled = stats.get("nr_periods", 0), stats.get("nr_throttled", 0)
    if periods:
        pct = 100.0 * throttled / periods
        detail["throttled_pct"] = round(pct, 1)
        reason += f", throttled in {pct:.0f}% of periods"
        if pct >= 20:
            return Check(
                "cpu",
                "warn",
                reason,
                "raise the CPU quota (or lower concurrency): throttling shows up as timeouts",
                detail,
            )
    if quota < 1:
        return Check(
            "cpu",
            "warn",
            reason,
            "less than one CPU: slow responses and timeouts under load; raise the quota",
            detail,
        )
    return Check("cpu", "ok", reason, "", detail)
