"""A checkup as plain text for a terminal, or as JSON-friendly data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Final

from agenttui.doctor.results import Checkup, Probe, Status
from agenttui.doctor.units import age, size
from agenttui.output.sanitize import shorten

MARKS: Final = {"ok": "✓", "warn": "!", "fail": "✗"}


def format_table(report: Checkup, width: int = 100) -> str:
    """The report as plain text for a terminal (worst first, a fix under each problem)."""
    checks = report.ordered()
    name_w = min(28, max((len(c.name) for c in checks), default=5))
    lines = []
    for c in checks:
        lines.append(
            shorten(f"{MARKS[c.status]} {c.status:<4}  {c.name:<{name_w}}  {c.reason}", width)
        )
        if c.fix and c.status != "ok":
            lines.append(shorten(f"{'':<{name_w + 9}}fix: {c.fix}", width))
    if report.processes:
        lines.append("")
        lines.append("agent processes:")
        for pi in report.processes:
            fds = f"{pi.open_files}/{pi.fd_limit or '?'}"
            lines.append(
                shorten(
                    f"  pid {pi.pid:<7} {pi.name:<16} {pi.user:<10} "
                    f"RSS {size(pi.rss):>8}  CPU {pi.cpu_pct:5.1f}%  "
                    f"threads {pi.threads:<3} files {fds:<10} "
                    f"up {age(pi.uptime_s)}  children {pi.children}",
                    width,
                )
            )
    p = report.pressure
    if p is not None and p.end is not None:
        lines.append("")
        lines.append(f"per minute, last {p.minutes} min of logs (oldest first):")
        lines.append("  429s      " + " ".join(f"{n:>3}" for n in p.rate_limited))
        lines.append("  timeouts  " + " ".join(f"{n:>3}" for n in p.timeouts))
    if report.endpoints:
        word, _worst = endpoint_summary(report.endpoints)
        lines.append("")
        lines.append(f"health endpoints: {word}")
        for probe in report.endpoints:
            lines.append(shorten(f"  {probe.label}  {probe.reason}", width))
        several = len(report.endpoints) > 1
        for flip in report.flips[-5:]:
            lines.append(shorten(f"  {flip.describe(several)} ({flip.now})", width))
    counts = report.counts()
    lines.append("")
    lines.append(
        f"{len(checks)} checks: {counts['fail']} fail, {counts['warn']} warn, "
        f"{counts['ok']} ok ({report.elapsed_s:.1f}s)"
    )
    return "\n".join(lines) + "\n"


def endpoint_summary(probes: list[Probe]) -> tuple[str, Status]:
    """The endpoints' overall status in a word and its severity: ``healthy``, ``unreachable``,
    ``2/3 healthy``."""
    worst: Status = "ok"
    for probe in probes:
        status: Status = (
            "fail" if probe.verdict == "fail" else "warn" if probe.verdict == "warn" else "ok"
        )
        if status == "fail" or (status == "warn" and worst == "ok"):
            worst = status
    if len(probes) == 1:
        return probes[0].word, worst
    healthy = sum(1 for p in probes if p.verdict == "ok")
    return f"{healthy}/{len(probes)} healthy", worst


def as_json(report: Checkup) -> dict[str, Any]:
    """The checkup as JSON-friendly data (``agenttui doctor --json``)."""
    p = report.pressure
    return {
        "ok": not report.failed,
        "summary": report.summary(),
        "counts": report.counts(),
        "checks": [asdict(c) for c in report.checks],
        "processes": [asdict(pi) for pi in report.processes],
        "restarts": [asdict(r) for r in report.restarts],
        "pressure": None
        if p is None
        else {
            "minutes": p.minutes,
            "end": p.end,
            "rate_limited_per_minute": p.rate_limited,
            "timeouts_per_minute": p.timeouts,
            "rate_limited": p.total_rate_limited,
            "timeouts": p.total_timeouts,
        },
        "health": [
            {
                "url": probe.url,
                "status": probe.word,
                "healthy": probe.verdict == "ok",
                "reachable": probe.reachable,
                "http_status": probe.http_status,
                "elapsed_ms": round(probe.elapsed_ms, 1),
                "reason": probe.reason,
                "checks": [
                    {"name": i.name, "verdict": i.verdict, "value": i.shown, "extra": i.extra}
                    for i in probe.items
                ],
                "extras": probe.extras,
            }
            for probe in report.endpoints
        ],
        "health_flips": [asdict(f) for f in report.flips],
        "elapsed_s": round(report.elapsed_s, 3),
    }
