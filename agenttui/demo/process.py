"""The demo traffic as a child process: start it in its own process group, find its
``/health``, and stop the whole group (no process outlives the TUI that started it)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agenttui.demo import agent, health

__all__ = ["health_url", "start_traffic", "stop_traffic"]


def start_traffic(
    out_dir: Path,
    *,
    requests: int = 0,
    concurrency: int = 4,
    rate: float | None = None,
    seed: int | None = None,
    fast: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the traffic generator as a subprocess in its own process group.

    Its stdout is discarded; its stderr goes to ``out_dir / "traffic.stderr"``.

    Args:
        out_dir: Output directory (``agent.log`` and ``captures/`` appear there).
        requests: Number of requests (0 = until stopped).
        concurrency: Worker threads.
        rate: Max requests/second (None = generator default).
        seed: Seed of the query mix.
        fast: Use tiny latencies.
        env: Extra environment variables for the subprocess.

    Returns:
        The running process; stop it with :func:`stop_traffic`.
    """
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "agenttui.demo.traffic",
        "--out",
        str(out_dir),
        "--parent-pid",
        str(os.getpid()),
    ]
    cmd += ["--requests", str(requests), "--concurrency", str(concurrency)]
    if rate is not None:
        cmd += ["--rate", str(rate)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if fast:
        cmd.append("--fast")
    child_env = dict(os.environ)
    package_root = str(Path(agent.__file__).resolve().parents[2])
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, child_env.get("PYTHONPATH", "")) if p
    )
    child_env.update(env or {})
    with open(out_dir / "traffic.stderr", "ab") as err:
        return subprocess.Popen(
            cmd,
            cwd=out_dir,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def health_url(out_dir: Path, timeout: float = 3.0) -> str | None:
    """The demo agent's health endpoint, once it listens (None after ``timeout`` seconds).

    Only a ``http://127.0.0.1:PORT/health`` URL is accepted from the file.
    """
    path = out_dir / health.URL_FILE
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = path.read_text()[:100].strip()
            port = text.removeprefix("http://127.0.0.1:").removesuffix("/health")
            if port.isdigit() and 0 < int(port) < 65536:
                return f"http://127.0.0.1:{int(port)}/health"
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def stop_traffic(proc: subprocess.Popen[bytes], timeout: float = 2.0) -> None:
    """Stop a generator started by :func:`start_traffic` and its whole process group.

    Sends SIGTERM to the group, waits up to ``timeout`` seconds, then SIGKILLs it.

    Args:
        proc: The process returned by :func:`start_traffic`.
        timeout: Seconds to wait after SIGTERM before SIGKILL.
    """
    pgid = proc.pid  # start_new_session=True: the child leads its own group
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            proc.wait()
    # Sweep anything left in the group (the leader may have exited first).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
