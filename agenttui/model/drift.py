"""Model drift: the model version serving the requests changed (or several serve at once).

Models are grouped into families by their name without its version (``gpt-4o-2024-08-06`` and
``gpt-4o-2024-11-20`` are versions of ``gpt-4o``; ``claude-3-5-sonnet-20241022`` of
``claude-3-5-sonnet``). A family with two versions or more in the log is a drift: the newest
version (by its first call) is the new one. Per version, the LLM calls, their errors and when it
was first and last seen come from the index's per-model statistics (the whole log); the
requests that used it and how many of those failed come from the traces in memory. A request
whose calls name only the family (``gpt-4o``: they failed before any version answered, a 429)
counts for the version that was serving when it started.

A drift is *worse* when the requests on the new version fail more often than those on the
older ones (at least :data:`MIN_FAILED` of them, and by :data:`MIN_RISE` points): the failed
requests on the new version are then the ones :func:`drifted_requests` names, and their failure
class is model drift when no rule on their error text says better (see
:func:`agenttui.model.classify.classify`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from agenttui.model.traces import TraceIndex

_VERSION: Final = re.compile(
    r"(?:-\d{4}-\d{2}-\d{2}|-\d{4}-\d{2}|[-@]\d{8}|-\d{6}|[-@]\d{3,4}|-v\d+(?:\.\d+)*|:\d+"
    r"|[-:](?:latest|preview|exp))+$",
    re.IGNORECASE,
)
"""A version suffix: a date (also a year and a month), a build number (``-002``, ``@001``),
``-v1``, ``:0``, ``latest``, ``preview``; never a model generation (``gpt-4.1``,
``claude-opus-4-1`` keep their numbers)."""

MIN_FAILED: Final = 2
"""Failed requests on the new version before it is blamed."""
MIN_RISE: Final = 0.10
"""Rise of the failure rate (new version minus older ones) before it is blamed."""


def family(model: str) -> str:
    """The model's name without its version suffix (the name itself when it has none)."""
    base = _VERSION.sub("", model)
    return base or model


@dataclass(slots=True)
class Version:
    """One version of a model family."""

    name: str
    calls: int
    errors: int
    """Failed LLM calls."""
    first_seen: float | None
    last_seen: float | None
    requests: int = 0
    """Requests in memory that used it."""
    failed: int = 0
    """Of those, the requests that failed."""

    @property
    def failure_rate(self) -> float | None:
        """Failed requests / requests (None without requests in memory)."""
        return self.failed / self.requests if self.requests else None


@dataclass(slots=True)
class Drift:
    """A family served by several versions."""

    family: str
    versions: list[Version]
    """Oldest first (by first call)."""
    mixed: bool
    """An older version still answered after the new one appeared (served at the same time)."""
    worse: bool = False
    """The requests on the new version fail more often than on the older ones."""
    before_rate: float | None = None
    """Failure rate of the requests on the older versions (in memory)."""
    after_rate: float | None = None
    """Failure rate of the requests on the new version (in memory)."""
    failed_ids: list[str] = field(default_factory=list)
    """The failed requests on the new version (when worse)."""
    dropped: int = 0
    """Older traces no longer in memory: the failure rates are over the others."""

    @property
    def new(self) -> Version:
        """The newest version."""
        return self.versions[-1]

    @property
    def changed_at(self) -> float | None:
        """When the newest version answered first."""
        return self.new.first_seen

    def summary(self) -> str:
        """One line: the versions, when it changed, and the failure rates."""
        names = " -> ".join(v.name for v in self.versions)
        line = f"{self.family}: {len(self.versions)} versions ({names})"
        if self.mixed:
            line += ", served at the same time"
        if self.before_rate is not None and self.after_rate is not None:
            line += (
                f"; requests failing {100 * self.before_rate:.0f}% before, "
                f"{100 * self.after_rate:.0f}% on {self.new.name}"
            )
            if self.dropped:
                line += f" (over the traces in memory; {self.dropped:,} older ones dropped)"
        return line


def model_drift(index: TraceIndex) -> list[Drift]:
    """Every model family served by more than one version in the log, the worst first."""
    stats = index.model_stats()
    families: dict[str, list[Version]] = {}
    for name, s in stats.items():
        families.setdefault(family(name), []).append(
            Version(name, s.calls, s.errors, s.first_seen, s.last_seen)
        )
    several: dict[str, list[Version]] = {}
    for fam, vs in families.items():
        # The bare name ("gpt-4o", as asked for) is an alias of the dated versions, not one.
        dated = [v for v in vs if v.name != fam] or vs
        if len(dated) > 1:
            several[fam] = sorted(
                dated, key=lambda v: (v.first_seen is None, v.first_seen or 0.0, v.name)
            )
    if not several:
        return []
    version_of = {v.name: v for vs in several.values() for v in vs}
    names = index.models.names
    failed_on: dict[str, list[str]] = {}
    for trace in index.traces.values():
        rows = trace.llm_rows()
        if not rows:
            continue
        failed = trace.status == "error"
        served: set[str] = set()
        aliases: set[str] = set()
        for used in {names[row[0]] for row in rows}:
            if used in version_of:
                served.add(used)
            elif used in several:
                aliases.add(used)
        for fam in aliases:
            # Only the name asked for (calls that failed before any version answered): the
            # version that was serving when the request started.
            if any(version_of[name] in several[fam] for name in served):
                continue
            active = _active(several[fam], trace.start)
            if active is not None:
                served.add(active.name)
        for name in served:
            version = version_of[name]
            version.requests += 1
            if failed:
                version.failed += 1
                failed_on.setdefault(name, []).append(trace.request_id)
    out = []
    for fam, versions in several.items():
        new = versions[-1]
        older = versions[:-1]
        mixed = any(
            v.last_seen is not None and new.first_seen is not None and v.last_seen > new.first_seen
            for v in older
        )
        drift = Drift(fam, versions, mixed, dropped=index.dropped)
        before_requests = sum(v.requests for v in older)
        if before_requests and new.requests:
            drift.before_rate = sum(v.failed for v in older) / before_requests
            drift.after_rate = new.failed / new.requests
            drift.worse = (
                new.failed >= MIN_FAILED and drift.after_rate - drift.before_rate >= MIN_RISE
            )
            if drift.worse:
                drift.failed_ids = failed_on.get(new.name, [])
        out.append(drift)
    out.sort(key=lambda d: (not d.worse, d.family))
    return out


def _active(versions: list[Version], start: float) -> Version | None:
    """The newest version that had answered by ``start`` (NaN: unknown, None)."""
    if start != start:
        return None
    active = None
    for version in versions:  # oldest first
        if version.first_seen is not None and version.first_seen <= start:
            active = version
    return active or versions[0]


def drifted_requests(index: TraceIndex) -> dict[str, str]:
    """Failed requests that ran on a new model version failing more than the older ones:
    request id -> the evidence (one line)."""
    out: dict[str, str] = {}
    for drift in model_drift(index):
        if not drift.worse:
            continue
        before = drift.before_rate or 0.0
        after = drift.after_rate or 0.0
        evidence = (
            f"failed on {drift.new.name}, new since {_clock(drift.changed_at)}: requests fail "
            f"{100 * after:.0f}% on it against {100 * before:.0f}% on "
            f"{', '.join(v.name for v in drift.versions[:-1])}"
        )
        for rid in drift.failed_ids:
            out.setdefault(rid, evidence)
    return out


def _clock(ts: float | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` UTC, or ``an unknown time``."""
    if ts is None:
        return "an unknown time"
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "an unknown time"


__all__ = [
    "MIN_FAILED",
    "MIN_RISE",
    "Drift",
    "Version",
    "drifted_requests",
    "family",
    "model_drift",
]
