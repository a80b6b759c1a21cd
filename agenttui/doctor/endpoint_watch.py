"""The agent's health endpoints over time: rows with "since when", and flips to unhealthy.

An :class:`EndpointWatch` polls each URL (:func:`agenttui.doctor.endpoint_fetch.fetch`), reads
the answer (:mod:`agenttui.doctor.endpoint_read`) and remembers, per endpoint and per check,
the verdict and when it started. A check (or the endpoint as a whole) that goes from ok to
failing is a :class:`Flip`, kept for the timeline (the statistics and error groups screens).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Final
from urllib.parse import urlsplit

from agenttui.doctor.endpoint_fetch import Answer, display_url, fetch
from agenttui.doctor.endpoint_read import Item, Reading, Verdict, read
from agenttui.doctor.results import Check, Flip, Probe, Status, hms

MAX_FLIPS: Final = 200
"""Flips remembered (the oldest are dropped past it, and counted)."""
MAX_TRACKED: Final = 1000
"""(endpoint, check) pairs whose "since" is remembered; past it, those the endpoints no longer
report are forgotten (an endpoint that names its checks differently on every answer)."""
_STANDARD_PATHS: Final = ("", "/", "/health", "/healthz", "/health/")


def label_of(url: str) -> str:
    """``127.0.0.1:8000`` (with the path when it is not a usual health path)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return display_url(url)
    host = f"[{host}]" if ":" in host else host
    label = host + (f":{port}" if port else "")
    return label if parts.path in _STANDARD_PATHS else label + parts.path


_STATUS: Final[dict[Verdict, Status]] = {
    "ok": "ok",
    "warn": "warn",
    "fail": "fail",
    "unknown": "ok",
}


class EndpointWatch:
    """Polls health endpoints and remembers what each check said since when."""

    def __init__(self, urls: list[str] | None = None, max_flips: int = MAX_FLIPS) -> None:
        """Watch ``urls`` (when known: with a single one, its checks' rows are named
        ``health tools``, else ``health HOST:PORT tools``); keep at most ``max_flips`` flips."""
        self.single = urls is not None and len(urls) == 1
        self._lock = threading.Lock()
        self._since: dict[tuple[str, str], tuple[Verdict, str, float, str | None]] = {}
        """(url, check) -> (verdict, shown, since, what it was before or None)."""
        self._latest: dict[str, Probe] = {}
        self._flips: deque[Flip] = deque(maxlen=max_flips)
        self.dropped_flips = 0
        self.polls = 0

    def poll_all(
        self, urls: list[str], timeout: float, warn_pct: float = 85.0, fail_pct: float = 95.0
    ) -> list[Probe]:
        """Poll every URL at once (each within ``timeout``); probes in the order of ``urls``."""
        answers: list[Answer | None] = [None] * len(urls)

        def one(i: int, url: str) -> None:
            answers[i] = fetch(url, timeout)

        threads = [
            threading.Thread(target=one, args=(i, u), daemon=True, name="doctor-health")
            for i, u in enumerate(urls)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 0.5)
        probes = []
        for url, answer in zip(urls, answers, strict=True):
            got = answer or Answer(display_url(url), error=f"no answer within {timeout:g}s")
            probes.append(self.record(url, got, warn_pct, fail_pct))
        return probes

    def poll(
        self, url: str, timeout: float, warn_pct: float = 85.0, fail_pct: float = 95.0
    ) -> Probe:
        """Poll one URL (within ``timeout``) and record what it said."""
        return self.record(url, fetch(url, timeout), warn_pct, fail_pct)

    def record(
        self, url: str, answer: Answer, warn_pct: float = 85.0, fail_pct: float = 95.0
    ) -> Probe:
        """Interpret ``answer`` of ``url`` and remember it (thread safe)."""
        now = time.time()
        probe = interpret(url, answer, now, warn_pct, fail_pct)
        with self._lock:
            self.polls += 1
            probe.checks = self._rows(url, probe, now)
            self._latest[url] = probe
            if len(self._since) > MAX_TRACKED:
                current = {
                    (u, name)
                    for u, p in self._latest.items()
                    for name in ["", *(i.name for i in p.items)]
                }
                self._since = {k: v for k, v in self._since.items() if k in current}
        return probe

    def latest(self, urls: list[str] | None = None) -> list[Probe]:
        """The newest probe of each URL (of ``urls``, in their order, when given)."""
        with self._lock:
            if urls is None:
                return list(self._latest.values())
            return [self._latest[u] for u in urls if u in self._latest]

    def flips(self) -> list[Flip]:
        """Flips to unhealthy, oldest first."""
        with self._lock:
            return list(self._flips)

    def _rows(self, url: str, probe: Probe, now: float) -> list[Check]:
        rows = [self._row(url, "", probe.verdict, probe.word, probe, now)]
        for item in probe.items:
            rows.append(self._row(url, item.name, item.verdict, item.shown, probe, now, item))
        return rows

    def _row(
        self,
        url: str,
        name: str,
        verdict: Verdict,
        shown: str,
        probe: Probe,
        now: float,
        item: Item | None = None,
    ) -> Check:
        key = (url, name)
        before = self._since.get(key)
        if before is None or before[0] != verdict:
            was = None if before is None else before[1]
            self._since[key] = (verdict, shown, now, was)
            if before is not None and before[0] == "ok" and verdict == "fail":
                self._remember(Flip(now, probe.label, name, shown))
        _v, _shown, since, was = self._since[key]
        when = f"since {hms(since)} (was {was})" if was is not None else f"first seen {hms(since)}"
        detail: dict[str, object] = {"endpoint": probe.url, "since": since}
        if item is None:
            reason = f"{probe.reason}; {when}"
            detail["http_status"] = probe.http_status
            if probe.extras:
                reason += f"; {probe.extras}"
            return Check(f"health {probe.label}", _STATUS[verdict], reason, _fix(probe), detail)
        value = "not judged" if verdict == "unknown" else verdict
        reason = f"{shown} ({value}) {when}"
        if item.extra:
            reason += f"; {item.extra}"
        detail["value"] = shown
        fix = "" if verdict in ("ok", "unknown") else "the agent reports this dependency failing"
        row = f"health {name}" if self.single else f"health {probe.label} {name}"
        return Check(row, _STATUS[verdict], reason, fix, detail)

    def _remember(self, flip: Flip) -> None:
        if len(self._flips) == self._flips.maxlen:
            self.dropped_flips += 1
        self._flips.append(flip)


def interpret(
    url: str, answer: Answer, at: float, warn_pct: float = 85.0, fail_pct: float = 95.0
) -> Probe:
    """A probe from an answer (no rows yet: :meth:`EndpointWatch.record` adds them)."""
    label = label_of(url)
    shown_url = display_url(url)
    ms = answer.elapsed_ms
    if answer.error is not None:
        word = "unreachable" if answer.status is None else f"HTTP {answer.status}"
        return Probe(
            shown_url, label, at, "fail", word, f"{word}: {answer.error}", answer.status, ms
        )
    code = f"HTTP {answer.status} {answer.reason}".strip()
    reading: Reading | None = None
    problem = ""
    try:
        reading = read(answer.body, warn_pct, fail_pct)
    except ValueError as exc:
        problem = str(exc)
    items = reading.items if reading is not None else []
    extras = reading.extras if reading is not None else ""
    status = answer.status or 0
    if not 200 <= status < 300:
        said = f", says {reading.overall_shown}" if reading and reading.overall_shown else ""
        return Probe(
            shown_url,
            label,
            at,
            "fail",
            f"HTTP {status}",
            f"{code}{said} ({ms:.0f} ms)",
            status,
            ms,
            items,
            extras,
        )
    if reading is None:
        return Probe(
            shown_url,
            label,
            at,
            "fail",
            "not JSON",
            f"{code} but the answer is {problem}",
            status,
            ms,
        )
    verdict = reading.overall
    if verdict == "unknown":
        verdicts = {i.verdict for i in items}
        verdict = "fail" if "fail" in verdicts else "warn" if "warn" in verdicts else "ok"
        if not items:
            verdict = "warn"
    word = {"ok": "healthy", "warn": "degraded", "fail": "unhealthy"}.get(verdict, "unknown")
    said = reading.overall_shown or "no overall status field"
    reason = f"{word}: says {said} ({code}, {ms:.0f} ms)"
    if reading.dropped:
        reason += f"; {reading.dropped} more checks not shown"
    return Probe(shown_url, label, at, verdict, word, reason, status, ms, items, extras)


def _fix(probe: Probe) -> str:
    if probe.verdict == "ok":
        return ""
    if probe.word == "unreachable":
        return (
            "is the agent running and listening there? check [doctor] health_url "
            "(or --health-url / AGENTTUI_HEALTH_URL)"
        )
    if probe.word == "not JSON":
        return "point health_url at the agent's JSON health endpoint"
    return "look at the failing checks of this endpoint and the agent's last log lines"
