"""Command line: ``agenttui [PATH...]`` opens the TUI; sub-commands print plain data.

Kept thin: argument parsing and wiring only. Bad usage or an unreadable path gives a one-line
error on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agenttui import __version__
from agenttui.sources import SourceError

COMMANDS = ("traces", "stats", "watch")

_EPILOG = """\
commands (for scripts; see 'agenttui COMMAND --help'):
  traces PATH... --json   one JSON object per trace, ordered by start
  stats PATH... --json    totals and per-tool latency percentiles
  watch PATH... --jsonl   follow the logs, print a JSON line each time a trace changes
"""


class UsageError(Exception):
    """Bad command-line usage."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _tui_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="agenttui",
        description="Debug AI agents live: tail structured JSON logs, group them into "
        "request traces, show each tool call's timing and error.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="log files, directories (new files inside are picked up) or globs")
    p.add_argument("--demo", action="store_true",
                   help="run the demo agent with live traffic in a temporary directory and "
                   "open the TUI on it")
    p.add_argument("--version", action="version", version=f"agenttui {__version__}")
    return p


def _command_parser(name: str) -> argparse.ArgumentParser:
    p = _Parser(prog=f"agenttui {name}")
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
    if name == "watch":
        p.add_argument("--jsonl", action="store_true", required=True,
                       help="print one JSON line per trace change")
    else:
        p.add_argument("--json", action="store_true", required=True, help="print JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agenttui`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in COMMANDS:
            opts = _command_parser(args[0]).parse_args(args[1:])
            from agenttui import commands

            return commands.run(args[0], opts.paths)
        opts = _tui_parser().parse_args(args)
        if opts.demo:
            if opts.paths:
                raise UsageError("--demo takes no PATH")
            return _run_demo()
        if not opts.paths:
            raise UsageError("give at least one PATH (or --demo); see 'agenttui --help'")
        return _run_tui(opts.paths)
    except UsageError as exc:
        print(f"agenttui: error: {exc}", file=sys.stderr)
        return 2
    except SourceError as exc:
        print(f"agenttui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run_tui(paths: list[str], *, title: str | None = None) -> int:
    from agenttui.session import Session

    session = Session(paths)  # checks the paths before the screen switches
    from agenttui.ui.app import AgentTUI

    try:
        AgentTUI(session, title=title).run()
    finally:
        session.close()
    return 0


def _run_demo() -> int:
    import tempfile

    from agenttui.demo.traffic import start_traffic, stop_traffic

    with tempfile.TemporaryDirectory(prefix="agenttui-demo-") as tmp:
        from pathlib import Path

        proc = start_traffic(Path(tmp))
        try:
            return _run_tui([tmp], title="agenttui --demo")
        finally:
            stop_traffic(proc)


if __name__ == "__main__":
    raise SystemExit(main())
