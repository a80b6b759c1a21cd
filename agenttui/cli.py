"""Command line: ``agenttui [PATH...]`` opens the TUI; sub-commands print plain data.

Kept thin: argument parsing and wiring only. Bad usage or an unreadable path gives a one-line
error on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from agenttui import __version__
from agenttui.config import ConfigError
from agenttui.ingest.sources import SourceError
from agenttui.model.query import QueryError

COMMANDS = ("traces", "stats", "watch", "doctor", "report", "formats")

_EPILOG = """\
commands (for scripts; see 'agenttui COMMAND --help'):
  traces PATH... --json [--filter QUERY]
                          one JSON object per trace, ordered by start (QUERY: see README)
  stats PATH... --json    totals and per-tool latency percentiles
  watch PATH... --jsonl   follow the logs, print a JSON line each time a trace changes
  doctor [--json]         run the production checklist (env, binaries, hosts, memory...)
  replay CAPTURE_OR_DIR... [--json] [--jobs N]   replay failure captures against your agent
  export-test CAPTURE [-o FILE]                  write a pytest regression test from a capture
  report REQUEST_ID [PATH...] [--json]
                          incident note of one trace in Markdown (--json: the whole trace)
  formats PATH... [--json]
                          the log shape detected for each input, and why
PATH can be '-' (standard input, e.g. 'kubectl logs -f deploy/agent | agenttui -') and
rotated logs compressed with gzip or bzip2 (read once); field names: [mapping] in agenttui.toml
"""


_SHOW_SECRETS_HELP = (
    "show secret-looking values (API keys, tokens, passwords) as they are; masked by default"
)


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
    p.add_argument("--show-secrets", action="store_true", help=_SHOW_SECRETS_HELP)
    p.add_argument("--version", action="version", version=f"agenttui {__version__}")
    return p


def _command_parser(name: str) -> argparse.ArgumentParser:
    p = _Parser(prog=f"agenttui {name}")
    if name == "doctor":
        from agenttui.doctor import checks as doctor

        doctor.add_arguments(p)
        return p
    if name == "formats":
        p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
        p.add_argument("--json", action="store_true", help="one JSON object per input")
        return p
    if name == "report":
        p.add_argument("request_id", metavar="REQUEST_ID", help="the request id (or a prefix)")
        p.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            default=["."],
            help="log files, directories or globs (default: .)",
        )
        p.add_argument("--json", action="store_true", help="the whole trace as JSON")
        return p
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files, directories or globs")
    p.add_argument("--show-secrets", action="store_true", help=_SHOW_SECRETS_HELP)
    if name == "traces":
        p.add_argument(
            "--filter",
            metavar="QUERY",
            default=None,
            help='only matching traces, e.g. "status:error tool:web_search dur>5s"',
        )
    if name == "watch":
        p.add_argument(
            "--jsonl",
            action="store_true",
            required=True,
            help="print one JSON line per trace change",
        )
    else:
        p.add_argument("--json", action="store_true", required=True, help="print JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agenttui`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in ("replay", "export-test"):
            from agenttui.commands import replay as replay_cli

            return replay_cli.main(args[0], args[1:])
        if args and args[0] in COMMANDS:
            opts = _command_parser(args[0]).parse_args(args[1:])
            if args[0] == "doctor":
                from agenttui.doctor import checks as doctor

                return doctor.command(opts)
            if args[0] == "formats":
                from agenttui.commands import formats

                return formats.run(opts.paths, as_json=opts.json)
            from agenttui.commands import headless as commands

            if args[0] == "report":
                try:
                    return commands.report(opts.request_id, opts.paths, as_json=opts.json)
                except commands.ReportError as exc:
                    raise UsageError(str(exc)) from exc
            return commands.run(
                args[0],
                opts.paths,
                query=getattr(opts, "filter", None),
                show_secrets=opts.show_secrets,
            )
        opts = _tui_parser().parse_args(args)
        if opts.demo:
            if opts.paths:
                raise UsageError("--demo takes no PATH")
            return _run_demo(_replay_options(opts, demo=True))
        replay = _replay_options(opts)
        if not opts.paths:
            return _run_found(opts.config, replay=replay, show_secrets=opts.show_secrets)
        return _run_tui(opts.paths, replay=replay, show_secrets=opts.show_secrets)
    except QueryError as exc:
        print(f"agenttui: error: bad --filter: {exc}", file=sys.stderr)
        return 2
    except (UsageError, SourceError, ConfigError) as exc:
        print(f"agenttui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _replay_options(opts: argparse.Namespace, *, demo: bool = False) -> Any:
    """The TUI's capture/replay options (checked: a bad flag is a usage error)."""
    from agenttui.commands import replay as replay_cli
    from agenttui.replay.runner import TargetError

    try:
        options = replay_cli.options(opts, demo=demo)
        replay_cli.check(options)
    except TargetError as exc:
        raise UsageError(str(exc)) from exc
    return options


def _run_tui(
    paths: list[str], *, title: str | None = None, replay: Any = None, show_secrets: bool = False
) -> int:
    from agenttui.session import Session

    session = Session(paths)  # checks the paths before the screen switches
    from agenttui.ui.app import AgentTUI

    try:
        from agenttui.doctor.checks import settings_for_tui

        AgentTUI(
            session,
            title=title,
            doctor=settings_for_tui(),
            replay=replay,
            show_secrets=show_secrets,
        ).run()
    finally:
        session.close()
    return 0


def _run_found(config_file: str | None, *, replay: Any = None, show_secrets: bool = False) -> int:
    """No PATH: find the logs (ingest.discover), pick when there are several, then the TUI."""
    import tempfile

    from agenttui.ingest.discover import discover, journal_snapshot

    def look() -> Any:
        return discover(config_file=config_file)

    from agenttui.ui.first_contact import choose
    from agenttui.ui.screens.picker_screen import open_paths

    found = look()
    paths = open_paths(found) or choose(found, look)
    if not paths:
        return 0
    with tempfile.TemporaryDirectory(prefix="agenttui-journal-") as tmp:
        if "journald" in paths:  # a snapshot of the last hour (journald is not tailed)
            paths = [journal_snapshot(tmp) if p == "journald" else p for p in paths]
        return _run_tui(paths, replay=replay, show_secrets=show_secrets)


def _run_demo(replay: Any = None) -> int:
    import tempfile

    from agenttui.demo.traffic import start_traffic, stop_traffic

    with tempfile.TemporaryDirectory(prefix="agenttui-demo-") as tmp:
        from pathlib import Path

        proc = start_traffic(Path(tmp))
        try:
            return _run_tui([tmp], title="agenttui --demo", replay=replay)
        finally:
            stop_traffic(proc)


if __name__ == "__main__":
    raise SystemExit(main())
