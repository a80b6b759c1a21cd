"""Command line: ``agenttui [PATH...]`` opens the TUI; sub-commands print plain data.

Kept thin: argument parsing and wiring only. Bad usage or an unreadable path gives a one-line
error on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from agenttui import __version__, shutdown
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
    p.add_argument(
        "--max-memory",
        metavar="SIZE",
        default=None,
        help="memory budget of the whole process tree (default 256M; also max_memory in "
        "[limits] of agenttui.toml): past it the oldest finished traces leave memory "
        "(they stay in the files and in the counts)",
    )
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
        p.add_argument(
            "--max-memory",
            metavar="SIZE",
            default=None,
            help="memory budget (default 256M; also [limits] in agenttui.toml): past it the "
            "oldest finished traces are forgotten (a late event starts them anew)",
        )
    else:
        p.add_argument("--json", action="store_true", required=True, help="print JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agenttui`` console script.

    SIGTERM, SIGHUP and SIGINT end it cleanly: the terminal restored (the TUI exits from its
    event loop), every child ended and every temporary file removed (:mod:`agenttui.shutdown`);
    the exit code is then 128 + the signal number.
    """
    try:
        with shutdown.signals_end_cleanly():
            try:
                code = _main(argv)
            finally:
                shutdown.run_all()
            signum = shutdown.received()  # a signal that a library turned into a return
            return code if signum is None else 128 + signum
    except shutdown.Terminated as exc:
        return 128 + exc.signum


def _main(argv: Sequence[str] | None = None) -> int:
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
                max_memory=memory_budget(opts.max_memory) if args[0] == "watch" else None,
            )
        opts = _tui_parser().parse_args(args)
        if opts.demo:
            if opts.paths:
                raise UsageError("--demo takes no PATH")
            _need_terminal([])
            return _run_demo(_replay_options(opts, demo=True), max_memory=opts.max_memory)
        if not opts.paths:
            raise UsageError("give at least one PATH (or --demo); see 'agenttui --help'")
        _need_terminal(opts.paths)
        return _run_tui(
            opts.paths,
            replay=_replay_options(opts),
            show_secrets=opts.show_secrets,
            max_memory=opts.max_memory,
        )
    except QueryError as exc:
        print(f"agenttui: error: bad --filter: {exc}", file=sys.stderr)
        return 2
    except (UsageError, SourceError, ConfigError) as exc:
        print(f"agenttui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


NO_TERMINAL = (
    "no terminal: the TUI needs one on standard input and output; for scripts use "
    "'agenttui traces PATH --json' or 'agenttui watch PATH --jsonl', and to pipe logs in "
    "run 'COMMAND | agenttui -' from a terminal"
)


def _need_terminal(paths: list[str]) -> None:
    """Refuse to start the TUI without a terminal (cron, a wrapper, ``ssh`` without ``-t``).

    Standard input may be a pipe when it is a source (``kubectl logs -f x | agenttui -``):
    keys are then read from ``/dev/tty``, which must open.
    """
    if not _isatty(sys.stdout):
        raise UsageError(NO_TERMINAL)
    if _isatty(sys.stdin):
        return
    if "-" in paths:
        try:
            os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC))
        except OSError:
            raise UsageError(NO_TERMINAL) from None
        return
    raise UsageError(NO_TERMINAL)


def _isatty(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (OSError, ValueError):
        return False


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
    paths: list[str],
    *,
    title: str | None = None,
    replay: Any = None,
    show_secrets: bool = False,
    max_memory: str | None = None,
) -> int:
    from agenttui.session import Session

    session = Session(paths)  # checks the paths before the screen switches
    session.set_memory_budget(memory_budget(max_memory))
    shutdown.register(session.close)
    from agenttui.ui.app import AgentTUI

    try:
        from agenttui.doctor.checks import settings_for_tui

        app = AgentTUI(
            session,
            title=title,
            doctor=settings_for_tui(),
            replay=replay,
            show_secrets=show_secrets,
        )
        shutdown.save_terminal()
        with shutdown.deliver_to(app.end_on_signal):
            app.run()
    finally:
        session.close()
    return app.return_code or 0


def memory_budget(flag: str | None) -> int:
    """Bytes of the memory budget: ``--max-memory``, else ``max_memory`` in ``[limits]`` of
    agenttui.toml, else 256 MB. Sizes read like ``512M``, ``1G``, ``300MB`` or bytes."""
    from agenttui import config

    text: Any = flag
    origin = "--max-memory"
    if text is None:
        text = config.section(config.load(), "limits").get("max_memory")
        origin = f"max_memory in [limits] of {config.FILE_NAME}"
    if text is None:
        return DEFAULT_MAX_MEMORY
    size = parse_size(text)
    if size is None or size < MIN_MAX_MEMORY:
        raise UsageError(f"{origin}: {text!r} is not a size of at least 64M (e.g. 256M, 1G)")
    return size


DEFAULT_MAX_MEMORY = 256 << 20
MIN_MAX_MEMORY = 64 << 20


def parse_size(value: object) -> int | None:
    """``512M``, ``1G``, ``300MB``, ``1.5g`` or a number of bytes; None when not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    factor = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    try:
        size = float(number)
    except ValueError:
        return None
    return int(size * factor) if size > 0 else None


def _run_demo(replay: Any = None, max_memory: str | None = None) -> int:
    import tempfile

    from agenttui.demo.traffic import start_traffic, stop_traffic

    with (
        tempfile.TemporaryDirectory(prefix="agenttui-demo-") as tmp,
        tempfile.TemporaryDirectory(prefix="agenttui-demo-work-") as work,
    ):
        from pathlib import Path

        # The demo agent's scratch files go to a directory removed with the demo's.
        proc = start_traffic(Path(tmp), env={"AGENT_WORKDIR": work})
        hook = shutdown.register(lambda: stop_traffic(proc))
        try:
            return _run_tui([tmp], title="agenttui --demo", replay=replay, max_memory=max_memory)
        finally:
            shutdown.unregister(hook)
            stop_traffic(proc)


if __name__ == "__main__":
    raise SystemExit(main())
