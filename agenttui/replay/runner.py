"""Replay a failure capture against a local agent and say whether it still fails.

Targets (``[replay]`` in ``agenttui.toml``; ``AGENTTUI_REPLAY_*`` environment variables and
command-line flags take precedence):

* ``command``: an argv (a list, or a string split with :mod:`shlex`; never a shell). The input
  ``{"query", "request_id", "context"}`` is sent as JSON on stdin; exit code 0 is success and
  stdout the answer. ``{scratch}`` in an argument becomes a fresh temporary directory.
* ``http``: a URL; ``{"query", "request_id"}`` is POSTed as JSON (no proxy, no redirect); a 2xx
  status is success.
* ``callable``: ``package.module:function``, called in a child process (``python -m
  agenttui.replay.child``), never in this process.

A run has a timeout (default 60 s) after which the child's whole process group is killed, the
environment overrides of ``[replay.env]`` and ``--env``, and optionally the ``capture`` profile,
which applies the capture's recorded context (its environment, ``TOOL_TIMEOUT`` and working
directory). Output is kept up to :data:`MAX_OUTPUT` bytes per stream, the rest counted.

The agent's own structlog JSON lines (stderr, or the ``log_file`` the config names) are folded
into a :class:`~agenttui.model.traces.TraceIndex`: the replay trace. The verdict compares error
signatures (:func:`agenttui.model.signature.signature`): ``fixed``, ``reproduced``, ``different
failure``, ``timeout``, ``agent crashed``.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import http.client
import json
import os
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from agenttui import config
from agenttui.ingest.records import ERROR_LEVELS, Kind, decode, format_traceback
from agenttui.model.signature import signature
from agenttui.model.traces import Span, TraceIndex
from agenttui.replay.captures import Capture

FIXED: Final = "fixed"
REPRODUCED: Final = "reproduced"
DIFFERENT: Final = "different failure"
TIMEOUT: Final = "timeout"
CRASHED: Final = "agent crashed"
CANCELLED: Final = "cancelled"
VERDICTS: Final = (FIXED, REPRODUCED, DIFFERENT, TIMEOUT, CRASHED)

DEFAULT_TIMEOUT: Final = 60.0
MAX_OUTPUT: Final = 1 << 20
"""Bytes kept of each output stream (stdout, stderr, log file); the rest is counted."""
KILL_GRACE_S: Final = 0.5
"""After SIGTERM to the process group, wait this long before SIGKILL."""
PROFILES: Final = ("none", "capture")
CHILD_MODULE: Final = "agenttui.replay.child"
CALLABLE_IMPORT_EXIT: Final = 3
"""Exit code of :mod:`agenttui.replay.child` when the callable cannot be imported."""

_CALLABLE_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_SECRET_NAME_RE = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROFILE_SKIP_ENV: Final = frozenset(
    {
        "PATH",
        "HOME",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "PWD",
        "SHELL",
        "USER",
        "LOGNAME",
        "TERM",
    }
)
"""Capture environment variables the ``capture`` profile leaves alone (they locate tools)."""
_TRACEBACK_HEAD: Final = "Traceback (most recent call last):"


class TargetError(Exception):
    """The replay target cannot be used; the message is one line naming the setting."""


# ------------------------------------------------------------------------------ settings


@dataclass(frozen=True, slots=True)
class Target:
    """Where a replay goes."""

    kind: str
    """``command``, ``http`` or ``callable``."""
    argv: tuple[str, ...] = ()
    url: str = ""
    callable: str = ""
    setting: str = "replay"
    """Where it was set (``replay.command``, ``--target-http``...), for error messages."""

    def describe(self) -> str:
        """One line for people."""
        if self.kind == "command":
            return "command: " + shlex.join(self.argv)
        if self.kind == "http":
            return f"http: POST {self.url}"
        return f"callable: {self.callable}"

    def as_dict(self) -> dict[str, Any]:
        """For history files and exported tests."""
        if self.kind == "command":
            return {"kind": "command", "argv": list(self.argv)}
        if self.kind == "http":
            return {"kind": "http", "url": self.url}
        return {"kind": "callable", "callable": self.callable}


def demo_target() -> Target:
    """The demo agent as a command target (its captures go to a scratch directory)."""
    return Target(
        "command",
        (sys.executable, "-m", "agenttui.demo.agent", "--stdin", "--captures-dir", "{scratch}"),
        setting="demo agent",
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a replay needs besides the capture."""

    target: Target
    timeout: float = DEFAULT_TIMEOUT
    env: Mapping[str, str] = field(default_factory=dict)
    """Overrides: ``[replay.env]`` then ``--env`` (the latter wins)."""
    profile: str = "none"
    cwd: str | None = None
    """Working directory of the target (default: ours; the profile may use the capture's)."""
    log_file: str | None = None
    """A file the agent logs to (read from its end before the run), else its stderr."""
    max_output: int = MAX_OUTPUT
    kill_grace: float = KILL_GRACE_S


def _argv(value: Any, setting: str) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise TargetError(f"{setting}: cannot split the command: {exc}") from exc
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        raise TargetError(f"{setting}: must be a list of strings or a string")
    if not argv or not argv[0]:
        raise TargetError(f"{setting}: is empty")
    program = argv[0]
    if os.sep in program:
        if not (os.path.isfile(program) and os.access(program, os.X_OK)):
            raise TargetError(f"{setting}: {program!r} is not an executable file")
    elif shutil.which(program) is None:
        raise TargetError(f"{setting}: {program!r} not found on PATH")
    return tuple(argv)


def _url(value: Any, setting: str) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise TargetError(f"{setting}: must be an http:// or https:// URL")
    return value


def _callable(value: Any, setting: str) -> str:
    if not isinstance(value, str) or not _CALLABLE_RE.match(value):
        raise TargetError(f"{setting}: must look like package.module:function")
    return value


def make_target(kind: str, value: Any, setting: str) -> Target:
    """Check one target setting.

    Raises:
        TargetError: The value cannot be used (the message names ``setting``).
    """
    if kind == "command":
        return Target("command", argv=_argv(value, setting), setting=setting)
    if kind == "http":
        return Target("http", url=_url(value, setting), setting=setting)
    if kind == "callable":
        return Target("callable", callable=_callable(value, setting), setting=setting)
    raise TargetError(f"{setting}: unknown target kind {kind!r}")


def parse_env_pairs(pairs: Sequence[str], setting: str = "--env") -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict.

    Raises:
        TargetError: A pair without ``=`` or with a bad name.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not _ENV_NAME_RE.match(name):
            raise TargetError(f"{setting}: expected KEY=VALUE, got {pair[:60]!r}")
        out[name] = value
    return out


def _timeout(value: Any, setting: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise TargetError(f"{setting}: must be a number of seconds") from None
    if not 0 < seconds < 1e7:
        raise TargetError(f"{setting}: must be a positive number of seconds")
    return seconds


def load_settings(
    config_path: str | None = None,
    *,
    target_command: str | None = None,
    target_http: str | None = None,
    target_callable: str | None = None,
    env_pairs: Sequence[str] = (),
    timeout: float | str | None = None,
    profile: str | None = None,
    default_target: Target | None = None,
) -> Settings:
    """Settings from the config file, ``AGENTTUI_REPLAY_*`` variables and flags (in rising
    precedence).

    Args:
        config_path: ``--config`` (else ``./agenttui.toml`` when present).
        target_command: ``--target-command`` (split with shlex).
        target_http: ``--target-http``.
        target_callable: ``--target-callable``.
        env_pairs: ``--env KEY=VALUE`` flags.
        timeout: ``--timeout`` seconds.
        profile: ``--profile`` (``none`` or ``capture``).
        default_target: Used when nothing names a target (the demo agent for ``--demo``).

    Raises:
        TargetError: A setting cannot be used, or no target is set and there is no default.
        config.ConfigError: The config file cannot be read.
    """
    table = config.section(config.load(config_path), "replay")
    known = {"command", "http", "callable", "timeout", "env", "profile", "log_file", "cwd"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise TargetError(
            f"replay.{unknown[0]}: unknown setting (known: {', '.join(sorted(known))})"
        )

    flags = [
        (k, v, f"--target-{k}")
        for k, v in (
            ("command", target_command),
            ("http", target_http),
            ("callable", target_callable),
        )
        if v is not None
    ]
    envs = [
        (k, v, f"AGENTTUI_REPLAY_{k.upper()}")
        for k in ("command", "http", "callable")
        if (v := config.env_override(f"replay_{k}")) is not None
    ]
    files = [(k, table[k], f"replay.{k}") for k in ("command", "http", "callable") if k in table]
    target: Target | None = None
    for level in (flags, envs, files):
        if len(level) > 1:
            raise TargetError(
                f"{level[1][2]}: give only one replay target ({level[0][2]} is set too)"
            )
        if level:
            kind, value, setting = level[0]
            target = make_target(kind, value, setting)
            break
    if target is None:
        if default_target is None:
            raise TargetError(
                "replay: no target: set command, http or callable in [replay] of "
                "agenttui.toml, or use --target-command/--target-http/"
                "--target-callable"
            )
        target = default_target

    seconds = DEFAULT_TIMEOUT
    if timeout is not None:
        seconds = _timeout(timeout, "--timeout")
    elif (raw := config.env_override("replay_timeout")) is not None:
        seconds = _timeout(raw, "AGENTTUI_REPLAY_TIMEOUT")
    elif "timeout" in table:
        seconds = _timeout(table["timeout"], "replay.timeout")

    env: dict[str, str] = {}
    file_env = table.get("env", {})
    if not isinstance(file_env, dict):
        raise TargetError('replay.env: must be a table of NAME = "value"')
    for name, value in file_env.items():
        if not _ENV_NAME_RE.match(name):
            raise TargetError(f"replay.env.{name}: not a valid variable name")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TargetError(f"replay.env.{name}: must be a string")
        env[name] = str(value)
    env.update(parse_env_pairs(env_pairs))

    chosen_profile = profile or config.env_override("replay_profile") or table.get("profile")
    chosen_profile = chosen_profile if chosen_profile is not None else "none"
    if chosen_profile not in PROFILES:
        setting = (
            "--profile"
            if profile
            else "AGENTTUI_REPLAY_PROFILE"
            if config.env_override("replay_profile")
            else "replay.profile"
        )
        raise TargetError(f"{setting}: must be one of {', '.join(PROFILES)}")

    log_file = config.env_override("replay_log_file") or table.get("log_file")
    if log_file is not None and not isinstance(log_file, str):
        raise TargetError("replay.log_file: must be a path")
    cwd = table.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not os.path.isdir(cwd)):
        raise TargetError("replay.cwd: must be an existing directory")
    return Settings(
        target=target,
        timeout=seconds,
        env=env,
        profile=str(chosen_profile),
        cwd=cwd,
        log_file=log_file,
    )


def is_demo_capture(capture: Capture) -> bool:
    """Whether the capture was written by the bundled demo agent (its traceback says so)."""
    return bool(capture.traceback) and "agenttui/demo/agent.py" in (capture.traceback or "")


def masked(env: Mapping[str, str]) -> dict[str, str]:
    """Environment overrides with secret-looking values hidden (for history and display)."""
    return {k: ("***" if _SECRET_NAME_RE.search(k) and v else v) for k, v in env.items()}


# ------------------------------------------------------------------------------ results


@dataclass(slots=True)
class ReplayTrace:
    """The replay's own logs, grouped: the trace that matches the capture best."""

    request_id: str | None = None
    status: str = "none"
    total_ms: float | None = None
    spans: list[Span] = field(default_factory=list)
    error: str | None = None
    exception: Any = None
    """The failing event's ``exception`` field (string or structlog ``dict_tracebacks``)."""
    events: int = 0
    lines: int = 0
    unparsed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For history files."""
        return {
            "request_id": self.request_id,
            "status": self.status,
            "duration_ms": self.total_ms,
            "events": self.events,
            "lines": self.lines,
            "error": self.error,
            "tools": [
                {"tool": s.tool, "status": s.status, "duration_ms": s.duration_ms, "error": s.error}
                for s in self.spans
            ],
        }


@dataclass(slots=True)
class Result:
    """The outcome of one replay."""

    capture: str
    request_id: str | None
    verdict: str
    started: float
    duration_ms: float
    target: str
    settings: dict[str, Any]
    error: str | None = None
    """The replay's error (None when it succeeded)."""
    traceback: str = ""
    original_error: str | None = None
    original_signature: str = ""
    signature: str = ""
    exit_code: int | None = None
    signal: str | None = None
    http_status: int | None = None
    answer: str = ""
    stdout: str = ""
    stdout_dropped: int = 0
    stderr: str = ""
    stderr_dropped: int = 0
    trace: ReplayTrace = field(default_factory=ReplayTrace)
    diff: str = ""
    note: str = ""

    def summary(self) -> dict[str, Any]:
        """The ``replay --json`` object."""
        return {
            "capture": self.capture,
            "request_id": self.request_id,
            "verdict": self.verdict,
            "duration_ms": round(self.duration_ms, 1),
            "error": self.error,
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, for the history file."""
        return {
            **self.summary(),
            "started": self.started,
            "target": self.target,
            "settings": self.settings,
            "traceback": self.traceback,
            "original_error": self.original_error,
            "original_signature": self.original_signature,
            "signature": self.signature,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "http_status": self.http_status,
            "answer": self.answer,
            "stdout": self.stdout,
            "stdout_dropped": self.stdout_dropped,
            "stderr": self.stderr,
            "stderr_dropped": self.stderr_dropped,
            "trace": self.trace.as_dict(),
            "diff": self.diff,
            "note": self.note,
        }


Progress = Callable[[str], None]


# ------------------------------------------------------------------------------ logs


class LogCollector:
    """Folds the replay's log lines into a trace index as they arrive (bounded)."""

    def __init__(self, limit: int, progress: Progress | None) -> None:
        """Keep at most ``limit`` bytes of lines; report tool calls to ``progress``."""
        self.index = TraceIndex()
        self.index.freeze_finished = False
        self.limit = limit
        self.kept = 0
        self.dropped = 0
        self.text: list[str] = []
        """Lines that are not JSON (a crash's traceback, prints)."""
        self.last_error: tuple[str | None, dict[str, Any]] | None = None
        """(request id, event) of the last error-level event with an error or exception."""
        self.failures: dict[str, dict[str, Any]] = {}
        """Request id -> its last failing event."""
        self._partial = b""
        self._progress = progress
        self._n = 0

    def feed(self, data: bytes) -> None:
        """Take a chunk of the stream."""
        if self.kept >= self.limit:  # full: only count (a flood must stay cheap)
            self.dropped += len(data)
            return
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            self._line(line)
        if len(self._partial) > self.limit:
            self._line(self._partial)
            self._partial = b""

    def close(self) -> None:
        """The stream ended: take the last line without newline."""
        if self._partial:
            self._line(self._partial)
            self._partial = b""

    def _line(self, line: bytes) -> None:
        size = len(line) + 1
        if self.kept + size > self.limit:
            self.dropped += size
            return
        self.kept += size
        line = line.removesuffix(b"\r")
        obj, rec = decode(line)
        self._n += 1
        self.index.add(rec, self._n)
        if obj is None:
            self.text.append(line.decode("utf-8", errors="backslashreplace"))
            return
        if rec.level in ERROR_LEVELS and (rec.error or obj.get("exception")):
            self.last_error = (rec.request_id, obj)
            rid = rec.request_id
            if rid is not None and (obj.get("exception") or rid not in self.failures):
                self.failures[rid] = obj
        if self._progress is not None and rec.kind in (
            Kind.TOOL_START,
            Kind.TOOL_OK,
            Kind.TOOL_FAIL,
            Kind.REQUEST_OK,
            Kind.REQUEST_FAIL,
        ):
            msg = rec.message or ""
            if rec.tool:
                msg += f" {rec.tool}"
            if rec.duration_ms is not None:
                msg += f" ({rec.duration_ms:g} ms)"
            if rec.error:
                msg += f": {rec.error}"
            self._progress(msg[:300])

    def trace(self, capture: Capture) -> ReplayTrace:
        """The trace of the replayed request: the capture's request id, else its query, else
        the one with the most events."""
        index = self.index
        out = ReplayTrace(lines=index.lines, unparsed=index.unparsed_lines)
        traces = index.traces
        chosen = traces.get(capture.request_id or "")
        if chosen is None:
            same_query = [t for t in traces.values() if capture.query and t.query == capture.query]
            pool = same_query or list(traces.values())
            if pool:
                chosen = max(pool, key=lambda t: t.events)
        if chosen is None:
            return out
        out.request_id = chosen.request_id
        out.status = chosen.status
        out.total_ms = chosen.total_ms
        out.spans = index.spans(chosen)
        out.error = index.error_text(chosen)
        out.events = chosen.events
        failing = self.failures.get(chosen.request_id)
        if failing is not None:
            out.exception = failing.get("exception")
        return out


# ------------------------------------------------------------------------------ tracebacks


def format_exception(exception: Any) -> str:
    """A Python-style traceback from structlog ``dict_tracebacks`` output, or a string as is."""
    text = format_traceback(exception)
    return text + "\n" if text else ""


def last_traceback(text: str) -> str:
    """The last ``Traceback (most recent call last):`` block of a text, or ``""``."""
    at = text.rfind(_TRACEBACK_HEAD)
    if at < 0:
        return ""
    lines = text[at:].splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        out.append(line)
        if line and not line.startswith((" ", "\t")):
            break  # the "Type: message" line ends the block
    return "\n".join(out) + "\n"


def _error_of_traceback(tb: str) -> str | None:
    lines = [ln for ln in tb.splitlines() if ln.strip()]
    return lines[-1].strip() if len(lines) > 1 else None


def _strip_frames(tb: str) -> list[str]:
    """Traceback lines without source lines and caret markers (structlog's frames have none,
    so only the ``File`` lines and the error lines are compared)."""
    return [ln.rstrip() for ln in tb.splitlines() if ln.strip() and not ln.startswith("    ")]


def error_diff(
    original_error: str | None, original_tb: str | None, new_error: str | None, new_tb: str
) -> str:
    """Unified diff of the capture's error and traceback against the replay's."""
    before = [f"error: {original_error or '(none)'}", *_strip_frames(original_tb or "")]
    after = [f"error: {new_error or '(none: it succeeded)'}", *_strip_frames(new_tb)]
    return "\n".join(
        difflib.unified_diff(before, after, "original (capture)", "replay", lineterm="", n=2)
    )


# ------------------------------------------------------------------------------ processes


@dataclass(slots=True)
class _Run:
    exit_code: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    stdout: bytes = b""
    stdout_dropped: int = 0
    stderr: bytes = b""
    stderr_dropped: int = 0


def _nonblocking(fd: int) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def run_process(
    argv: Sequence[str],
    stdin: bytes,
    *,
    env: Mapping[str, str],
    cwd: str | None,
    timeout: float,
    limit: int,
    on_stderr: Callable[[bytes], None] | None = None,
    stop: threading.Event | None = None,
    grace: float = KILL_GRACE_S,
    on_start: Callable[[int], None] | None = None,
) -> _Run:
    """Run ``argv`` in its own process group with ``stdin``, keeping ``limit`` bytes of each
    output stream; on timeout (or ``stop``) SIGTERM then SIGKILL the whole group. When the
    child exits, whatever it left in its group is killed too.
    """
    run = _Run()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
    )
    pgid = proc.pid
    if on_start is not None:
        on_start(proc.pid)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out_buf = bytearray()
    err_buf = bytearray()
    sel = selectors.DefaultSelector()
    pending = memoryview(stdin)
    try:
        for f in (proc.stdin, proc.stdout, proc.stderr):
            _nonblocking(f.fileno())
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(proc.stderr, selectors.EVENT_READ, "err")
        if pending:
            sel.register(proc.stdin, selectors.EVENT_WRITE, "in")
        else:
            proc.stdin.close()
        deadline = time.monotonic() + timeout
        exited_at: float | None = None
        while sel.get_map():
            now = time.monotonic()
            if stop is not None and stop.is_set() and not run.cancelled:
                run.cancelled = True
                _terminate(proc, pgid, grace)
            if now >= deadline and not run.timed_out and exited_at is None:
                run.timed_out = True
                _terminate(proc, pgid, grace)
            if exited_at is None and proc.poll() is not None:
                exited_at = now
                _killpg(pgid, signal.SIGKILL)  # leftovers of the group hold the pipes
            if exited_at is not None and now - exited_at > 2.0:
                break  # something outside the group holds the pipes: stop reading
            for key, _mask in sel.select(0.05):
                if key.data == "in":
                    try:
                        written = os.write(key.fd, pending[:65536])
                        pending = pending[written:]
                    except BlockingIOError:
                        continue
                    except (BrokenPipeError, OSError):
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(key.fileobj)
                        with contextlib.suppress(OSError):
                            proc.stdin.close()
                    continue
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = out_buf if key.data == "out" else err_buf
                room = limit - len(buf)
                if room > 0:
                    buf += chunk[:room]
                dropped = max(0, len(chunk) - max(room, 0))
                if key.data == "out":
                    run.stdout_dropped += dropped
                else:
                    run.stderr_dropped += dropped
                    if on_stderr is not None:
                        on_stderr(chunk)
        if proc.poll() is None:
            _terminate(proc, pgid, grace)
        run.exit_code = proc.wait()
    finally:
        sel.close()
        _killpg(pgid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                f.close()
    run.stdout = bytes(out_buf)
    run.stderr = bytes(err_buf)
    return run


def _terminate(proc: subprocess.Popen[bytes], pgid: int, grace: float) -> None:
    """SIGTERM the group, SIGKILL it after ``grace`` seconds if anything is left."""
    _killpg(pgid, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if proc.poll() is not None and not _group_alive(pgid):
            return
        time.sleep(0.02)
    _killpg(pgid, signal.SIGKILL)


# ------------------------------------------------------------------------------ replay


def child_env(
    capture: Capture, settings: Settings
) -> tuple[dict[str, str], str | None, dict[str, Any]]:
    """The environment and working directory of a replay, and what was applied (to record).

    Precedence: our environment < the ``capture`` profile < ``[replay.env]``/``--env``.
    """
    env = dict(os.environ)
    cwd = settings.cwd
    applied: dict[str, Any] = {}
    if settings.profile == "capture":
        ctx = capture.context or {}
        profile_env: dict[str, str | None] = {}
        recorded = ctx.get("env")
        if isinstance(recorded, dict):
            for name, value in recorded.items():
                if not isinstance(name, str) or not _ENV_NAME_RE.match(name):
                    continue
                if name in _PROFILE_SKIP_ENV or value == "***":
                    continue  # masked secrets stay as they are here
                if value is None:
                    profile_env[name] = None
                elif isinstance(value, str | int | float) and not isinstance(value, bool):
                    profile_env[name] = str(value)
        tool_timeout = ctx.get("TOOL_TIMEOUT")
        if isinstance(tool_timeout, int | float) and not isinstance(tool_timeout, bool):
            profile_env["TOOL_TIMEOUT"] = f"{tool_timeout:g}"
        for name, value in profile_env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value.replace("\0", "")
        applied["profile_env"] = masked(
            {k: "(unset)" if v is None else v for k, v in profile_env.items()}
        )
        recorded_cwd = ctx.get("cwd")
        if cwd is None and isinstance(recorded_cwd, str) and "\0" not in recorded_cwd:
            if os.path.isdir(recorded_cwd):
                cwd = recorded_cwd
                applied["profile_cwd"] = recorded_cwd
            else:
                applied["profile_cwd_missing"] = recorded_cwd
    env.update({k: v.replace("\0", "") for k, v in settings.env.items()})
    return env, cwd, applied


def _input_bytes(capture: Capture) -> bytes:
    # ensure_ascii: lone surrogates and NUL characters travel as \u escapes.
    return json.dumps(capture.input(), ensure_ascii=True, default=str).encode()


def replay(
    capture: Capture,
    settings: Settings,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Result:
    """Replay one capture against the target and judge the outcome.

    Raises:
        TargetError: The target cannot be used at all (a callable that cannot be imported).
        ValueError: The capture has no query to replay.
    """
    if not capture.replayable:
        raise ValueError(f"{capture.name}: nothing to replay ({capture.problem or 'no query'})")
    say: Progress = progress or (lambda _msg: None)
    env, cwd, applied = child_env(capture, settings)
    target = settings.target
    recorded_settings: dict[str, Any] = {
        "target": target.as_dict(),
        "timeout": settings.timeout,
        "profile": settings.profile,
        "env": masked(settings.env),
        "cwd": cwd or os.getcwd(),
        **applied,
    }
    collector = LogCollector(settings.max_output, progress)
    log_start = _log_size(settings.log_file)
    started = time.time()
    t0 = time.monotonic()
    result = Result(
        capture=capture.path,
        request_id=capture.request_id,
        verdict=CRASHED,
        started=started,
        duration_ms=0.0,
        target=target.describe(),
        settings=recorded_settings,
        original_error=capture.error,
    )
    say(f"replaying {capture.name} with {target.describe()}")
    if target.kind == "http":
        _replay_http(capture, settings, result, say, stop)
    else:
        _replay_process(capture, settings, env, cwd, result, collector, say, stop)
    result.duration_ms = (time.monotonic() - t0) * 1000.0
    if settings.log_file:
        collector.feed(_read_log(settings.log_file, log_start, settings.max_output))
    collector.close()
    result.trace = collector.trace(capture)
    _judge(capture, result, collector)
    say(f"verdict: {result.verdict}" + (f" ({result.error})" if result.error else ""))
    return result


def _replay_process(
    capture: Capture,
    settings: Settings,
    env: dict[str, str],
    cwd: str | None,
    result: Result,
    collector: LogCollector,
    say: Progress,
    stop: threading.Event | None,
) -> None:
    target = settings.target
    with tempfile.TemporaryDirectory(prefix="agenttui-replay-") as scratch:
        if target.kind == "command":
            argv = [a.replace("{scratch}", scratch) for a in target.argv]
        else:
            argv = [sys.executable, "-m", CHILD_MODULE, target.callable]
            env = dict(env)
            here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), here) if p)
        feed = None if settings.log_file else collector.feed
        try:
            run = run_process(
                argv,
                _input_bytes(capture),
                env=env,
                cwd=cwd,
                timeout=settings.timeout,
                limit=settings.max_output,
                on_stderr=feed,
                stop=stop,
                grace=settings.kill_grace,
                on_start=lambda pid: say(f"started pid {pid}"),
            )
        except OSError as exc:
            raise TargetError(
                f"{target.setting}: cannot start {argv[0]!r}: {exc.strerror or exc}"
            ) from exc
    result.exit_code = run.exit_code
    result.stdout = run.stdout.decode("utf-8", errors="backslashreplace")
    result.stdout_dropped = run.stdout_dropped
    result.stderr = run.stderr.decode("utf-8", errors="backslashreplace")
    result.stderr_dropped = run.stderr_dropped
    if run.cancelled:
        result.verdict = CANCELLED
    elif run.timed_out:
        result.verdict = TIMEOUT
        result.error = f"no answer within {settings.timeout:g} s (process group killed)"
    elif run.exit_code is not None and run.exit_code < 0:
        result.signal = _signal_name(-run.exit_code)
        result.verdict = CRASHED
        result.error = f"killed by {result.signal}"
    elif target.kind == "callable" and run.exit_code == CALLABLE_IMPORT_EXIT:
        line = (result.stderr.strip().splitlines() or ["cannot import"])[-1]
        raise TargetError(f"{target.setting}: {line[:300]}")
    elif run.exit_code == 0:
        result.verdict = FIXED
        result.answer = result.stdout
    elif run.exit_code is not None and run.exit_code >= 128:
        result.signal = _signal_name(run.exit_code - 128)
        result.verdict = CRASHED
        result.error = f"exit code {run.exit_code} ({result.signal})"
    else:
        result.verdict = DIFFERENT  # judged against the signature below
    say(f"exit code {run.exit_code}" + (" (timed out)" if run.timed_out else ""))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _replay_http(
    capture: Capture,
    settings: Settings,
    result: Result,
    say: Progress,
    stop: threading.Event | None,
) -> None:
    url = settings.target.url
    body = json.dumps(
        {"query": capture.query, "request_id": capture.request_id}, ensure_ascii=True
    ).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "agenttui-replay"},
    )
    deadline = time.monotonic() + settings.timeout
    say(f"POST {url}")
    status: int | None = None
    reason = ""
    data = bytearray()
    dropped = 0
    try:
        try:
            response = opener.open(request, timeout=settings.timeout)
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            status = int(response.status or response.getcode() or 0)
            reason = str(response.reason or "")
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("read deadline")
                if stop is not None and stop.is_set():
                    result.verdict = CANCELLED
                    return
                chunk = response.read(65536)
                if not chunk:
                    break
                room = settings.max_output - len(data)
                if room > 0:
                    data += chunk[:room]
                dropped += max(0, len(chunk) - max(room, 0))
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        reason_exc = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason_exc, TimeoutError) or "timed out" in str(reason_exc):
            result.verdict = TIMEOUT
            result.error = f"no answer within {settings.timeout:g} s"
        elif status is None:
            result.verdict = CRASHED
            result.error = f"cannot reach {url}: {reason_exc}"
        else:
            result.verdict = CRASHED
            result.error = f"connection broken while reading the answer: {reason_exc}"
        return
    result.http_status = status
    text = bytes(data).decode("utf-8", errors="backslashreplace")
    result.stdout = text
    result.stdout_dropped = dropped
    say(f"HTTP {status} {reason}")
    if 200 <= status < 300:
        result.verdict = FIXED
        result.answer = text
        return
    result.verdict = DIFFERENT
    error: str | None = None
    with contextlib.suppress(ValueError):
        obj = json.loads(text)
        if isinstance(obj, dict):
            found = obj.get("error") or obj.get("detail") or obj.get("message")
            if isinstance(found, str):
                error = found
            tb = obj.get("traceback")
            if isinstance(tb, str):
                result.traceback = tb
    if error is None:
        first = text.strip().splitlines()[0][:300] if text.strip() else ""
        error = f"HTTP {status} {reason}" + (f": {first}" if first else "")
    result.error = error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Only the configured URL is ever requested."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _log_size(path: str | None) -> int:
    if not path:
        return 0
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _read_log(path: str, start: int, limit: int) -> bytes:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(start if size >= start else 0)
            return f.read(limit)
    except OSError:
        return b""


def _judge(capture: Capture, result: Result, collector: LogCollector) -> None:
    """Settle the error, traceback, signatures, verdict and diff of a finished run."""
    trace = result.trace
    failed = result.verdict == DIFFERENT  # a failure still to compare
    if failed and result.error is None:
        result.error = _find_error(result, collector)
    if failed and not result.traceback:
        result.traceback = format_exception(trace.exception) or last_traceback(result.stderr)
        if not result.traceback and collector.last_error is not None:
            result.traceback = format_exception(collector.last_error[1].get("exception"))
    if result.verdict in (TIMEOUT, CRASHED) and not result.traceback:
        result.traceback = last_traceback(result.stderr)
    result.original_signature = signature(capture.error or "")
    if result.error:
        result.signature = signature(result.error)
    if failed:
        same = bool(result.original_signature) and result.signature == result.original_signature
        result.verdict = REPRODUCED if same else DIFFERENT
    if result.verdict != CANCELLED:
        result.diff = error_diff(
            capture.error,
            capture.traceback,
            result.error if result.verdict != FIXED else None,
            result.traceback,
        )


def _find_error(result: Result, collector: LogCollector) -> str:
    if result.trace.error:
        return result.trace.error
    if collector.last_error is not None:
        obj = collector.last_error[1]
        err = obj.get("error")
        if isinstance(err, str) and err:
            return err
        found = _error_of_traceback(format_exception(obj.get("exception")))
        if found:
            return found
    tb_error = _error_of_traceback(last_traceback(result.stderr))
    if tb_error:
        return tb_error
    for line in reversed(result.stderr.splitlines() or collector.text):
        if line.strip():
            return line.strip()[:500].removeprefix("error: ")
    return f"exit code {result.exit_code}"


__all__ = [
    "CANCELLED",
    "CRASHED",
    "DIFFERENT",
    "FIXED",
    "REPRODUCED",
    "TIMEOUT",
    "VERDICTS",
    "LogCollector",
    "ReplayTrace",
    "Result",
    "Settings",
    "Target",
    "TargetError",
    "demo_target",
    "error_diff",
    "format_exception",
    "is_demo_capture",
    "load_settings",
    "make_target",
    "replay",
    "run_process",
]
