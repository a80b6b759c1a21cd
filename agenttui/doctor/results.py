"""What a doctor run finds: one :class:`Check` per row, the agent processes, the log
pressure and the health endpoints' probes and flips, gathered in a :class:`Checkup`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from agenttui.doctor.endpoint_read import Item, Verdict
from agenttui.output.sanitize import clean

Status = Literal["ok", "warn", "fail"]
STATUSES: Final = ("fail", "warn", "ok")
"""Worst first."""


@dataclass(slots=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    reason: str
    """One line: what was found."""
    fix: str = ""
    """One line: what to do about it (empty when ok)."""
    detail: dict[str, Any] = field(default_factory=dict)
    """Figures behind the reason (JSON-friendly)."""

    def __post_init__(self) -> None:
        self.reason = _line(self.reason)
        self.fix = _line(self.fix)
        self.name = _line(self.name)


def _line(text: str) -> str:
    """One clean line (control characters made visible)."""
    return clean(" ".join(str(text).split()))


@dataclass(slots=True)
class ProcInfo:
    """One agent process as seen by the :class:`ProcessWatcher`."""

    pid: int
    name: str
    user: str
    rss: int
    cpu_pct: float
    threads: int
    open_files: int
    fd_limit: int | None
    uptime_s: float
    children: int
    status: str


@dataclass(slots=True)
class Restart:
    """A restart noticed between two refreshes: a new pid for the same agent."""

    at: float
    old_pid: int | None
    new_pid: int


@dataclass(slots=True)
class Pressure:
    """429s and timeouts per minute over the last minutes of the logs."""

    minutes: int
    end: float | None
    """Epoch seconds the window ends at (the newest log time seen), None without logs."""
    rate_limited: list[int]
    """Count per minute, oldest first (``minutes`` entries)."""
    timeouts: list[int]

    @property
    def total_rate_limited(self) -> int:
        """429s in the window."""
        return sum(self.rate_limited)

    @property
    def total_timeouts(self) -> int:
        """Timeouts in the window."""
        return sum(self.timeouts)


@dataclass(slots=True)
class Flip:
    """A check that went from ok to failing."""

    at: float
    """Epoch seconds of the poll that saw it failing."""
    endpoint: str
    """The endpoint's label (``127.0.0.1:8000``)."""
    check: str
    """The check's name, or ``""`` for the endpoint as a whole."""
    now: str
    """What it says now (``false``, ``unreachable: connection refused``)."""

    def what(self, several: bool = False) -> str:
        """``tools`` / ``the health endpoint`` (with the endpoint when there are several)."""
        name = self.check or "the health endpoint"
        return f"{name} ({self.endpoint})" if several or not self.check else name

    def describe(self, several: bool = False) -> str:
        """``tools went unhealthy at 08:31:50``."""
        return f"{self.what(several)} went unhealthy at {hms(self.at)}"


@dataclass(slots=True)
class Probe:
    """One poll of one endpoint, interpreted."""

    url: str
    """Without credentials."""
    label: str
    at: float
    verdict: Verdict
    word: str
    """``healthy``, ``unhealthy``, ``degraded``, ``unreachable``, ``HTTP 503``, ``not JSON``."""
    reason: str
    """One line: the status, the HTTP code and time, or why there is no answer."""
    http_status: int | None = None
    elapsed_ms: float = 0.0
    items: list[Item] = field(default_factory=list)
    extras: str = ""
    checks: list[Check] = field(default_factory=list)
    """The doctor rows: the endpoint, then one per check in the answer."""

    @property
    def reachable(self) -> bool:
        """Whether an HTTP answer came."""
        return self.http_status is not None


def hms(ts: float) -> str:
    """``08:31:50`` (UTC, like every time agenttui shows)."""
    return time.strftime("%H:%M:%S", time.gmtime(ts))


@dataclass(slots=True)
class Checkup:
    """Everything one doctor run found."""

    checks: list[Check]
    processes: list[ProcInfo] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    pressure: Pressure | None = None
    elapsed_s: float = 0.0
    finished_at: float = 0.0
    endpoints: list[Probe] = field(default_factory=list)
    """The newest poll of each health endpoint (their rows are among ``checks``)."""
    flips: list[Flip] = field(default_factory=list)
    """Health checks that went from ok to failing, oldest first."""
    flips_dropped: int = 0
    """Older flips forgotten (past the watch's budget)."""

    def counts(self) -> dict[str, int]:
        """Checks by status."""
        out = dict.fromkeys(STATUSES, 0)
        for check in self.checks:
            out[check.status] += 1
        return out

    @property
    def failed(self) -> bool:
        """Whether any check failed."""
        return any(c.status == "fail" for c in self.checks)

    def summary(self) -> str:
        """One word or three: ``ok``, ``2 fail 1 warn``."""
        counts = self.counts()
        parts = [f"{counts[s]} {s}" for s in ("fail", "warn") if counts[s]]
        return " ".join(parts) or "ok"

    def ordered(self) -> list[Check]:
        """Checks worst first (stable within a status)."""
        return sorted(self.checks, key=lambda c: STATUSES.index(c.status))
