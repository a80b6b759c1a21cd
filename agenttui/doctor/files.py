"""Disk space and inodes where the logs live; open file descriptors."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agenttui.doctor.resources import read_text
from agenttui.doctor.results import Check
from agenttui.doctor.units import size


def check_disk(paths: Iterable[str], warn_pct: float = 90.0) -> list[Check]:
    """Free space and inodes where the logs and captures live (one check per filesystem)."""
    out: list[Check] = []
    seen: set[int] = set()
    for text in paths:
        path = Path(text)
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            st = os.statvfs(path)
            dev = path.stat().st_dev
        except OSError as exc:
            out.append(
                Check(
                    f"disk {text}", "warn", f"cannot read: {exc.strerror or exc}", "check the path"
                )
            )
            continue
        if dev in seen:
            continue
        seen.add(dev)
        total = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used_pct = 100.0 * (total - free) / total if total else 0.0
        inodes_pct = (100.0 * (st.f_files - st.f_favail) / st.f_files) if st.f_files else 0.0
        detail = {
            "path": str(path),
            "total": total,
            "free": free,
            "used_pct": round(used_pct, 1),
            "inodes_used_pct": round(inodes_pct, 1),
        }
        reason = f"{size(free)} free of {size(total)} ({used_pct:.0f}% used)"
        label = f"disk {text}"
        fix = "free space (old logs, captures, caches) or grow the volume"
        if used_pct >= 98 or inodes_pct >= 98:
            out.append(
                Check(
                    label,
                    "fail",
                    reason + (f", inodes {inodes_pct:.0f}% used" if inodes_pct >= 98 else ""),
                    fix,
                    detail,
                )
            )
        elif used_pct >= warn_pct or inodes_pct >= warn_pct:
            out.append(
                Check(label, "warn", reason + f", inodes {inodes_pct:.0f}% used", fix, detail)
            )
        else:
            out.append(Check(label, "ok", reason, "", detail))
    return out


def check_open_files() -> Check:
    """Open files against the ulimit (this shell's limit, and the system-wide table)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    detail: dict[str, Any] = {"soft": soft, "hard": hard}
    shown = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    reason = f"ulimit -n {shown} (hard {'unlimited' if hard == resource.RLIM_INFINITY else hard})"
    nr = read_text(Path("/proc/sys/fs/file-nr"))
    if nr:
        parts = nr.split()
        if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit() and int(parts[2]):
            used, maximum = int(parts[0]), int(parts[2])
            detail["system_open"], detail["system_max"] = used, maximum
            reason += f"; system {used:,} of {maximum:,} open"
            if used >= 0.95 * maximum:
                return Check(
                    "open files",
                    "fail",
                    reason,
                    "raise fs.file-max or find the process leaking descriptors",
                    detail,
                )
    if soft != resource.RLIM_INFINITY and soft < 1024:
        return Check(
            "open files",
            "warn",
            reason,
            "raise it (ulimit -n 65536, LimitNOFILE= "
            "in the service unit): each connection is a file",
            detail,
        )
    return Check("open files", "ok", reason, "", detail)
