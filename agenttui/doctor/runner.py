"""The run: every check in its own thread, the whole run bounded by a deadline."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Final

from agenttui.doctor.access import (
    Who,
    check_path,
    check_script,
    check_user,
    current_user,
    user_by_name,
    user_of_process,
)
from agenttui.doctor.endpoint_watch import EndpointWatch, label_of
from agenttui.doctor.environment import check_binary, check_env
from agenttui.doctor.files import check_disk, check_open_files
from agenttui.doctor.hosts import Target, check_host, env_targets, parse_target
from agenttui.doctor.models import check_models
from agenttui.doctor.pressure import check_pressure
from agenttui.doctor.processes import ProcessWatcher
from agenttui.doctor.resources import CGROUP_ROOT, PROC_CGROUP, check_cpu, check_memory
from agenttui.doctor.results import Check, Checkup, Pressure, ProcInfo
from agenttui.doctor.settings import Settings
from agenttui.model.drift import Drift

RUN_SLACK: Final = 1.0
"""The whole run ends at most this long after the per-check timeout."""


@dataclass(slots=True)
class Context:
    """What a run looks at besides the settings."""

    log_dirs: list[str] = field(default_factory=list)
    cgroup_root: Path = CGROUP_ROOT
    proc_cgroup: Path | None = PROC_CGROUP
    environ: dict[str, str] | None = None
    cwd: Path | None = None
    log_pressure: Callable[[int], Pressure] | None = None
    """Reads the 429/timeout pressure of the last N minutes of the logs (None: not shown)."""
    log_models: Callable[[], list[Drift]] | None = None
    """Reads the model versions of the logs (None: not shown)."""
    endpoints: EndpointWatch | None = None
    """Remembers the health endpoints across runs (None: a fresh one for this run)."""
    poll_endpoints: bool = True
    """Poll the health endpoints in this run; False leaves them out (the TUI polls them on
    their own, faster clock, and adds their rows with :func:`with_endpoints`)."""


Job = tuple[str, Callable[[], Check | list[Check]]]


def _fixed(check: Check) -> Check:
    return check


def jobs(settings: Settings, ctx: Context, agent_pid: int | None = None) -> list[Job]:
    """The table of checks to run for these settings (``agent_pid``: paths checked as its user)."""
    env = dict(os.environ if ctx.environ is None else ctx.environ)
    out: list[Job] = []
    if settings.config_error:
        out.append(
            (
                "config",
                partial(
                    _fixed,
                    Check(
                        "config",
                        "fail",
                        settings.config_error,
                        "fix agenttui.toml ('agenttui doctor' names the setting)",
                    ),
                ),
            )
        )
    for name in settings.env:
        out.append(
            (
                f"env {name}",
                partial(check_env, name, allow_localhost=settings.allow_localhost, environ=env),
            )
        )
    for name in settings.binaries:
        out.append(
            (
                f"binary {name}",
                partial(check_binary, name, timeout=settings.timeout, path=env.get("PATH")),
            )
        )
    targets: list[Target] = []
    for text in settings.hosts:
        target = parse_target(text)
        if target is None:
            out.append(
                (
                    f"host {text}",
                    partial(
                        _fixed,
                        Check(
                            f"host {text}",
                            "fail",
                            "cannot read a host from it",
                            "write host:port or a URL in [doctor] hosts",
                        ),
                    ),
                )
            )
        else:
            targets.append(target)
    if settings.env_hosts:
        targets.extend(env_targets(env))
    seen: set[tuple[str, int | None]] = set()
    for target in targets:
        key = (target.host.lower(), target.port)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            (
                target.label,
                partial(
                    check_host,
                    target,
                    timeout=settings.timeout,
                    allow_localhost=settings.allow_localhost,
                ),
            )
        )
    me = current_user()
    agent_user: Who | None = None
    if settings.user:
        agent_user = user_by_name(settings.user)
        if agent_user is None:
            out.append(
                (
                    "user",
                    partial(
                        _fixed,
                        Check(
                            "user",
                            "fail",
                            f"user {settings.user!r} does not exist",
                            "fix [doctor] user",
                        ),
                    ),
                )
            )
    elif agent_pid is not None:
        agent_user = user_of_process(agent_pid)
    who = agent_user or me
    if not settings.user or agent_user is not None:
        out.append(("user", partial(check_user, me, agent_user)))
    for rule in settings.paths:
        out.append((f"path {rule.path}", partial(check_path, rule, who, ctx.cwd)))
    for script in settings.scripts:
        out.append((f"script {script}", partial(check_script, script, who, ctx.cwd)))
    out.append(("memory", partial(check_memory, settings, ctx.cgroup_root, ctx.proc_cgroup)))
    out.append(("cpu", partial(check_cpu, ctx.cgroup_root, ctx.proc_cgroup)))
    disk_paths = [*ctx.log_dirs, *settings.disk] or [str(ctx.cwd or Path.cwd())]
    out.append(("disk", partial(check_disk, disk_paths, settings.disk_warn_pct)))
    out.append(("open files", check_open_files))
    if settings.health_urls and ctx.poll_endpoints and ctx.endpoints is not None:
        watch = ctx.endpoints
        for url in settings.health_urls:
            out.append(
                (
                    f"health {label_of(url)}",
                    partial(_poll, watch, url, settings),
                )
            )
    return out


def _poll(watch: EndpointWatch, url: str, settings: Settings) -> list[Check]:
    timeout = min(settings.health_timeout, settings.timeout + RUN_SLACK / 2)
    probe = watch.poll(url, timeout, settings.memory_warn_pct, settings.memory_fail_pct)
    return probe.checks


def run(
    settings: Settings, ctx: Context | None = None, watcher: ProcessWatcher | None = None
) -> Checkup:
    """Run every check concurrently; the whole run ends within ``timeout`` + a second.

    A check still running at the deadline is reported as failed ("did not finish"); its
    daemon thread is left behind and never holds the process open.
    """
    ctx = ctx or Context()
    if settings.health_urls and ctx.endpoints is None:
        ctx.endpoints = EndpointWatch(settings.health_urls)
    started = time.monotonic()
    if watcher is None and (settings.agent_pid or settings.agent_name):
        watcher = ProcessWatcher(settings.agent_pid, settings.agent_name)
    processes: list[ProcInfo] = []
    if watcher is not None and watcher.active:
        processes = watcher.refresh()
    table = jobs(settings, ctx, processes[0].pid if processes else None)
    results: list[list[Check] | None] = [None] * len(table)

    def runner(i: int, name: str, fn: Callable[[], Check | list[Check]]) -> None:
        try:
            value = fn()
            results[i] = value if isinstance(value, list) else [value]
        except Exception as exc:  # a check must never take the run down
            results[i] = [
                Check(
                    name,
                    "fail",
                    f"check crashed: {type(exc).__name__}: {exc}",
                    "report this as an agenttui bug",
                )
            ]

    threads = []
    for i, (name, fn) in enumerate(table):
        thread = threading.Thread(
            target=runner, args=(i, name, fn), daemon=True, name=f"doctor-{i}"
        )
        thread.start()
        threads.append(thread)
    deadline = started + settings.timeout + RUN_SLACK
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    checks: list[Check] = []
    for (name, _fn), result in zip(table, results, strict=True):
        if result is None:
            checks.append(
                Check(
                    name,
                    "fail",
                    f"did not finish within {settings.timeout + RUN_SLACK:g}s",
                    "the system call hangs: check DNS, mounts (NFS) and the process table",
                )
            )
        else:
            checks.extend(result)
    if watcher is not None and watcher.active:
        checks.append(watcher.check(processes))
    p: Pressure | None = None
    if ctx.log_pressure is not None:
        p = ctx.log_pressure(settings.pressure_minutes)
        checks.append(check_pressure(p))
    if ctx.log_models is not None:
        checks.append(check_models(ctx.log_models()))
    watch = ctx.endpoints if ctx.poll_endpoints else None
    return Checkup(
        checks,
        processes,
        list(watcher.restarts) if watcher else [],
        p,
        time.monotonic() - started,
        time.time(),
        watch.latest(settings.health_urls) if watch is not None else [],
        watch.flips() if watch is not None else [],
        watch.dropped_flips if watch is not None else 0,
    )


def with_endpoints(checkup: Checkup, watch: EndpointWatch, urls: list[str]) -> Checkup:
    """``checkup`` with the newest rows, probes and flips of the health endpoints ``urls``.

    The TUI polls the endpoints more often than it runs the other checks; this gives the
    screens one view of both.
    """
    probes = watch.latest(urls)
    rows = [c for probe in probes for c in probe.checks]
    return replace(
        checkup,
        checks=[*checkup.checks, *rows],
        endpoints=probes,
        flips=watch.flips(),
        flips_dropped=watch.dropped_flips,
    )
