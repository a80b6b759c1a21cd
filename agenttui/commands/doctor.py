"""``agenttui doctor [PATH...]``: run the production checklist once and print it.

Exit 0 when nothing fails, 1 when a check fails (a health endpoint that says unhealthy or
cannot be reached included), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import IO

from agenttui import config
from agenttui.commands.base import output
from agenttui.doctor.output import as_json, format_table
from agenttui.doctor.pressure import pressure
from agenttui.doctor.results import Pressure
from agenttui.doctor.runner import Context
from agenttui.doctor.runner import run as run_checks
from agenttui.doctor.settings import apply_health_urls, compile_pattern, load_settings
from agenttui.ingest import sources
from agenttui.model.drift import Drift, model_drift
from agenttui.session import Session

DESCRIPTION = (
    "Run the production checklist once: environment, binaries, hosts, paths, memory, CPU, "
    "disk, open files, the agent process, the agent's own health endpoint."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``doctor`` arguments."""
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="the agent's logs: 429/timeout pressure and disk space where they live",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--config", metavar="FILE", help="config file (default ./agenttui.toml)")
    p.add_argument("--agent-pid", type=int, metavar="N", help="the agent's process id")
    p.add_argument(
        "--agent-name",
        metavar="PATTERN",
        help="regular expression matched against process names and command lines",
    )
    add_health_url(p)


def add_health_url(p: argparse.ArgumentParser) -> None:
    """``--health-url URL`` (repeatable), for ``doctor`` and the TUI."""
    p.add_argument(
        "--health-url",
        action="append",
        metavar="URL",
        help="the agent's health endpoint (GET, JSON); repeat it for several workers "
        "(default: [doctor] health_url, AGENTTUI_HEALTH_URL)",
    )


def run(opts: argparse.Namespace, out: IO[bytes] | None = None) -> int:
    """Run the checks once; 0 when nothing fails, 1 when a check fails.

    Raises:
        agenttui.config.ConfigError: The config or a flag is wrong (exit 2 in the caller).
        agenttui.ingest.sources.SourceError: A PATH cannot be read (exit 2 in the caller).
    """
    settings = load_settings(opts.config)
    if opts.agent_pid is not None:
        if opts.agent_pid <= 0:
            raise config.ConfigError("--agent-pid must be a positive process id")
        settings.agent_pid = opts.agent_pid
        settings.agent_name = None
    if opts.agent_name is not None:
        compile_pattern(opts.agent_name, "--agent-name")
        settings.agent_name = opts.agent_name
        settings.agent_pid = None
    apply_health_urls(settings, opts.health_url)
    ctx = Context()
    session = None
    if opts.paths:
        session = Session(opts.paths)
        session.index.track_changes = False
        session.scan()
        reader = session

        def log_pressure(minutes: int) -> Pressure:
            with reader.read() as index:
                return pressure(index.traces.values(), index.errors, minutes)

        def log_models() -> list[Drift]:
            with reader.read() as index:
                return model_drift(index)

        ctx.log_pressure = log_pressure
        ctx.log_models = log_models
        ctx.log_dirs = sources.watch_roots(session.specs)
    try:
        checkup = run_checks(settings, ctx)
    finally:
        if session is not None:
            session.close()
    with output(out) as stream:
        if opts.json:
            stream.write(json.dumps(as_json(checkup), ensure_ascii=False).encode() + b"\n")
        else:
            tty = out is None and sys.stdout.isatty()
            width = shutil.get_terminal_size((100, 24)).columns if tty else 200
            stream.write(format_table(checkup, max(60, width)).encode())
    return 1 if checkup.failed else 0
