"""Command line: ``agenttui [PATH...]`` opens the TUI; sub-commands print plain data.

Kept thin: each sub-command is a module of :mod:`agenttui.commands` with ``DESCRIPTION``,
``add_arguments`` and ``run``. Bad usage or an unreadable path gives a one-line error on stderr
and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from agenttui import __version__
from agenttui.commands.base import Parser, UsageError, add_show_secrets, add_tz, apply_tz
from agenttui.config import ConfigError
from agenttui.ingest.sources import SourceError
from agenttui.model.query import QueryError

COMMANDS: dict[str, str] = {
    "traces": "agenttui.commands.traces",
    "stats": "agenttui.commands.stats",
    "watch": "agenttui.commands.watch",
    "doctor": "agenttui.commands.doctor",
    "replay": "agenttui.commands.replay",
    "export-test": "agenttui.commands.export_test",
    "report": "agenttui.commands.report",
    "formats": "agenttui.commands.formats",
}
"""Sub-command name -> its module (imported only when used: the TUI starts faster)."""
READS_LOGS = frozenset({"traces", "stats", "watch", "report", "formats"})
"""Sub-commands that read logs (and take ``--tz``)."""

_EPILOG = """\
commands (for scripts; see 'agenttui COMMAND --help'):
  traces PATH... [--json] [--filter QUERY]
                          a table of the traces, oldest first (--json: one object per line)
  stats PATH... [--json]  totals and per-tool calls, running, errors, latency percentiles
  watch PATH... --jsonl   follow the logs, print a JSON line each time a trace changes
  doctor [--json] [--health-url URL]
                          run the production checklist (env, binaries, hosts, memory,
                          the agent's own health endpoint...)
  replay CAPTURE_OR_DIR... [--json] [--jobs N]   replay failure captures against your agent
  export-test CAPTURE [-o FILE]                  write a pytest regression test from a capture
  report REQUEST_ID [PATH...] [--json]
                          incident note of one trace in Markdown (--json: the whole trace)
  formats PATH... [--json]
                          the log shape detected for each input, and why
Without PATH agenttui finds the logs ([logs] paths in agenttui.toml, $AGENTTUI_LOGS, ./logs,
./*.log, /var/log/<agent>/, container logs, journald) and asks when it finds several.
PATH can be '-' (standard input, e.g. 'kubectl logs -f deploy/agent | agenttui -') and
rotated logs compressed with gzip or bzip2 (read once); field names: [mapping] in agenttui.toml
"""


def _tui_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="agenttui",
        description="Debug AI agents live: tail structured JSON logs, group them into "
        "request traces, show each tool call's timing and error.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="log files, directories (new files inside are picked up) or globs",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="run the demo agent with live traffic in a temporary directory and open the TUI on it",
    )
    from agenttui.commands.replay import add_tui_arguments

    add_tui_arguments(p)
    add_tz(p)
    from agenttui.commands.doctor import add_health_url

    add_health_url(p)
    add_show_secrets(p)
    p.add_argument("--version", action="version", version=f"agenttui {__version__}")
    return p


def _errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "bad input": one line on stderr and exit code 2."""
    from agenttui.replay.history import HistoryError
    from agenttui.replay.runner import TargetError

    return (UsageError, SourceError, ConfigError, TargetError, HistoryError)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agenttui`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in COMMANDS:
            module: Any = importlib.import_module(COMMANDS[args[0]])
            p = Parser(prog=f"agenttui {args[0]}", description=module.DESCRIPTION)
            module.add_arguments(p)
            if args[0] in READS_LOGS:
                add_tz(p)
            opts = p.parse_args(args[1:])
            apply_tz(opts)
            code: int = module.run(opts)
            return code
        opts = _tui_parser().parse_args(args)
        apply_tz(opts)
        from agenttui.ui import launch

        if opts.demo:
            if opts.paths:
                raise UsageError("--demo takes no PATH")
            return launch.run_demo(_replay_options(opts, demo=True), health_urls=opts.health_url)
        replay = _replay_options(opts)
        if not opts.paths:
            return launch.run_found(
                opts.config,
                replay=replay,
                show_secrets=opts.show_secrets,
                health_urls=opts.health_url,
            )
        return launch.run_tui(
            opts.paths,
            replay=replay,
            show_secrets=opts.show_secrets,
            health_urls=opts.health_url,
        )
    except QueryError as exc:
        print(f"agenttui: error: bad --filter: {exc}", file=sys.stderr)
        return 2
    except _errors() as exc:
        print(f"agenttui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _replay_options(opts: argparse.Namespace, *, demo: bool = False) -> Any:
    """The TUI's capture/replay options (checked: a bad flag is a usage error)."""
    from agenttui.commands import replay as replay_cli

    options = replay_cli.options(opts, demo=demo)
    replay_cli.check(options)
    return options


if __name__ == "__main__":
    raise SystemExit(main())
