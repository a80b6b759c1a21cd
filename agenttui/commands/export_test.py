"""``agenttui export-test CAPTURE [-o FILE]``: a pytest regression test from a capture."""

from __future__ import annotations

import argparse
import sys

from agenttui.commands.base import UsageError
from agenttui.commands.replay import DEMO_NOTE, add_target_arguments, check, options
from agenttui.replay import captures

DESCRIPTION = (
    "Write a pytest file that replays a capture through the target and asserts it does not fail."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``export-test`` arguments."""
    p.add_argument("capture", metavar="CAPTURE", help="a failed_*.json capture file")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write it (default ./test_replay_<request id>.py)",
    )
    add_target_arguments(p)


def run(opts: argparse.Namespace) -> int:
    """Write the test file; prints its path."""
    ropts = options(opts)
    check(ropts)
    paths = captures.collect([opts.capture])
    if len(paths) != 1:
        raise UsageError(f"{opts.capture}: give one capture file")
    cap = captures.load(paths[0])
    if not cap.replayable:
        raise UsageError(f"{cap.path}: nothing to replay ({cap.problem})")
    settings = ropts.settings(cap)
    if settings.target.setting == "demo agent" and ropts.default_target is None:
        print(f"agenttui: {DEMO_NOTE}", file=sys.stderr)
    from agenttui.replay import export as export_test

    path = opts.output or export_test.default_path(cap)
    try:
        export_test.write(cap, settings, path)
    except FileExistsError:
        raise UsageError(f"{path}: exists; choose another file with -o") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    print(path)
    return 0
