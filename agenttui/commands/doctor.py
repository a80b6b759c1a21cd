"""``agenttui doctor [PATH...] [--json]``: the production checklist, run once."""

from __future__ import annotations

import argparse

from agenttui.doctor import checks

DESCRIPTION = (
    "Run the production checklist once: environment, binaries, hosts, paths, memory, CPU, "
    "disk, open files, the agent process."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``doctor`` arguments."""
    checks.add_arguments(p)


def run(opts: argparse.Namespace) -> int:
    """0 when nothing fails, 1 when a check fails, 2 for bad usage."""
    return checks.command(opts)
