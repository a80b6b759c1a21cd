"""Process control of replays: nothing a replay starts outlives it, or agenttui.

Each replayed agent runs in its own process group, with :data:`MARKER_VAR` set to a value
unique to the run in its environment. Descendants inherit the variable, so they are found with
psutil even after ``setsid`` (a new session leaves the group, not the environment). At the end
of each replay, on cancel and from :func:`kill_all` (quit, SIGTERM, SIGHUP, SIGINT), the group
and every marked process are killed and the run's scratch directories removed.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import psutil  # type: ignore[import-untyped]

from agenttui.replay.settings import KILL_GRACE_S

MARKER_VAR = "AGENTTUI_REPLAY_RUN"
"""Environment variable that marks every process of one replay."""
PIPE_LINGER_S = 2.0
"""After the agent exits and its processes are killed, stop reading pipes held this long."""


@dataclass(slots=True)
class Run:
    """What a replayed process did."""

    exit_code: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    stdout: bytes = b""
    stdout_dropped: int = 0
    stderr: bytes = b""
    stderr_dropped: int = 0


@dataclass(slots=True)
class _Live:
    marker: str
    started: float
    pgids: set[int] = field(default_factory=set)
    scratch: list[str] = field(default_factory=list)
    killed: bool = False
    """Set by :func:`kill_all`: the run ends as cancelled, not as a crash."""


_LOCK = threading.Lock()
_LIVE: dict[str, _Live] = {}


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def marked(marker: str, since: float = 0.0) -> list[psutil.Process]:
    """Live processes whose environment holds ``MARKER_VAR=marker`` (created after ``since``,
    epoch seconds), zombies excluded."""
    out: list[psutil.Process] = []
    me = os.getpid()
    for proc in psutil.process_iter(["create_time", "status"]):
        try:
            info = proc.info
            if proc.pid == me or info.get("status") == psutil.STATUS_ZOMBIE:
                continue
            if (info.get("create_time") or 0.0) < since - 1.0:
                continue
            if proc.environ().get(MARKER_VAR) == marker:
                out.append(proc)
        except (psutil.Error, OSError):
            continue
    return out


def _alive(live: _Live) -> bool:
    for pgid in live.pgids:
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            continue
    return bool(marked(live.marker, live.started))


def _kill(live: _Live, grace: float) -> None:
    """SIGTERM the group and the marked processes, SIGKILL what is left after ``grace``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if sig == signal.SIGKILL and grace > 0:
            end = time.monotonic() + grace
            while time.monotonic() < end and _alive(live):
                time.sleep(0.02)
        if sig == signal.SIGTERM and grace <= 0:
            continue
        for pgid in live.pgids:
            _killpg(pgid, sig)
        for proc in marked(live.marker, live.started):
            with contextlib.suppress(psutil.Error, OSError):
                proc.send_signal(sig)


@contextlib.contextmanager
def tracked(grace: float = KILL_GRACE_S) -> Iterator[tuple[str, Callable[[], str]]]:
    """One replay's processes and scratch directories: yields its marker and a function that
    makes a scratch directory; on exit everything marked is killed and the directories removed.
    """
    live = _Live(marker=f"{os.getpid()}-{uuid.uuid4().hex}", started=time.time())
    with _LOCK:
        _LIVE[live.marker] = live

    def scratch() -> str:
        path = tempfile.mkdtemp(prefix="agenttui-replay-")
        with _LOCK:
            live.scratch.append(path)
        return path

    try:
        yield live.marker, scratch
    finally:
        _finish(live, grace)


def _finish(live: _Live, grace: float) -> None:
    _kill(live, grace)
    for path in live.scratch:
        shutil.rmtree(path, ignore_errors=True)
    with _LOCK:
        _LIVE.pop(live.marker, None)


def kill_all() -> int:
    """Kill every replay's processes now (SIGKILL) and remove their scratch directories.

    A plain callable, safe from a signal handler's thread and the app's shutdown path.

    Returns:
        How many replays were running.
    """
    with _LOCK:
        lives = list(_LIVE.values())
    for live in lives:
        live.killed = True
        _kill(live, 0.0)
        for path in live.scratch:
            shutil.rmtree(path, ignore_errors=True)
    return len(lives)


def running() -> int:
    """How many replays are running."""
    with _LOCK:
        return len(_LIVE)


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_process(
    argv: Sequence[str],
    stdin: bytes,
    *,
    env: Mapping[str, str],
    cwd: str | None,
    timeout: float,
    limit: int,
    marker: str,
    on_stderr: Callable[[bytes], None] | None = None,
    stop: threading.Event | None = None,
    grace: float = KILL_GRACE_S,
    on_start: Callable[[int], None] | None = None,
) -> Run:
    """Run ``argv`` in its own process group, marked with ``marker``, with ``stdin``, keeping
    ``limit`` bytes of each output stream; on timeout (or ``stop``) SIGTERM then SIGKILL the
    group and every marked process. When the child exits, whatever it left is killed too.
    """
    run = Run()
    child_env = {**env, MARKER_VAR: marker}
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env,
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
    )
    with _LOCK:
        live = _LIVE.get(marker)
        if live is not None:
            live.pgids.add(proc.pid)
    live = live or _Live(marker, time.time(), {proc.pid})
    if on_start is not None:
        on_start(proc.pid)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out_buf = bytearray()
    err_buf = bytearray()
    sel = selectors.DefaultSelector()
    pending = memoryview(stdin)
    try:
        for f in (proc.stdin, proc.stdout, proc.stderr):
            os.set_blocking(f.fileno(), False)
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
            if (live.killed or (stop is not None and stop.is_set())) and not run.cancelled:
                run.cancelled = True
                _kill(live, 0.0)
            if now >= deadline and not run.timed_out and exited_at is None:
                run.timed_out = True
                _kill(live, grace)
            if exited_at is None and proc.poll() is not None:
                exited_at = now
                _kill(live, 0.0)  # leftovers (even after setsid) hold the pipes
            if exited_at is not None and now - exited_at > PIPE_LINGER_S:
                break  # something unmarked holds the pipes: stop reading
            if run.cancelled and exited_at is not None:
                break
            for key, _events in sel.select(0.05):
                if key.data == "in":
                    try:
                        written = os.write(key.fd, pending[:65536])
                        pending = pending[written:]
                    except BlockingIOError:
                        continue
                    except OSError:
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
            _kill(live, grace)
        try:
            run.exit_code = proc.wait(timeout=max(grace, 0.1) + 1.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            run.exit_code = proc.wait()
    finally:
        sel.close()
        _kill(live, 0.0)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                f.close()
    run.cancelled = run.cancelled or live.killed
    run.stdout = bytes(out_buf)
    run.stderr = bytes(err_buf)
    return run


__all__ = [
    "MARKER_VAR",
    "Run",
    "kill_all",
    "marked",
    "run_process",
    "running",
    "signal_name",
    "tracked",
]
