"""What the demo agent's tools share in one process: settings read from the environment,
the LLM token bucket, the worker pool of slow calls, the in-process fake of the internal
services, and the event that cuts every simulated wait short at shutdown."""

from __future__ import annotations

import concurrent.futures
import http.client
import http.server
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

DEFAULT_TOOL_TIMEOUT = 2.0
DEFAULT_GREP_BIN = "rg-not-installed"
MAX_BLOCKING_WAIT = 3.0

SHUTDOWN = threading.Event()
STATE_LOCK = threading.Lock()


def env_float(name: str, default: float) -> float:
    """Read a float environment variable, falling back to ``default`` if unset/invalid."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        return default


def time_scale() -> float:
    """Multiplier applied to simulated latencies (``AGENT_TIME_SCALE``)."""
    return max(0.0, env_float("AGENT_TIME_SCALE", 1.0))


def tool_timeout() -> float:
    """Timeout in seconds of slow tools (``TOOL_TIMEOUT``)."""
    return max(0.001, env_float("TOOL_TIMEOUT", DEFAULT_TOOL_TIMEOUT))


class TokenBucket:
    """A thread-safe token bucket shared by all concurrent requests of the process.

    Args:
        rate: Tokens added per second.
        capacity: Maximum number of tokens (burst size).
        clock: Monotonic clock, injectable for tests.
    """

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._last = clock()
        self._lock = threading.Lock()

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` from the bucket.

        Args:
            tokens: Number of tokens to take.

        Returns:
            True if the tokens were available (and taken), False if the bucket is empty.
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= tokens:
                self._tokens -= tokens
                return True
            return False

    def available(self) -> float:
        """Tokens in the bucket now (nothing is taken)."""
        with self._lock:
            elapsed = self._clock() - self._last
            return min(self.capacity, self._tokens + elapsed * self.rate)


_llm_bucket: TokenBucket | None = None
_slow_pool: concurrent.futures.ThreadPoolExecutor | None = None
_fake_server: http.server.ThreadingHTTPServer | None = None
_dead_port: int | None = None


def get_llm_bucket() -> TokenBucket:
    """Return the process-wide LLM token bucket (created from env on first use)."""
    global _llm_bucket
    with STATE_LOCK:
        if _llm_bucket is None:
            scale = time_scale() or 1e-3
            rate = max(0.01, env_float("LLM_RATE_LIMIT", 1.0)) / scale
            _llm_bucket = TokenBucket(rate=rate, capacity=max(1.0, env_float("LLM_BURST", 3.0)))
        return _llm_bucket


def llm_tokens_available() -> float:
    """Tokens in the process-wide LLM bucket now (for the health endpoint)."""
    return get_llm_bucket().available()


def get_slow_pool() -> concurrent.futures.ThreadPoolExecutor:
    """Return the worker pool used to run the blocking ``slow_api`` calls."""
    global _slow_pool
    with STATE_LOCK:
        if _slow_pool is None:
            _slow_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=8, thread_name_prefix="slow-api"
            )
        return _slow_pool


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    """In-process fake of the healthy internal services."""

    def do_GET(self) -> None:
        """Answer every GET with a small JSON document."""
        body = orjson.dumps(
            {"status": "ok", "path": self.path, "host": self.headers.get("Host"), "items": 3}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""


def get_fake_server_port() -> int:
    """Start (once) the in-process fake service on 127.0.0.1 and return its port."""
    global _fake_server
    with STATE_LOCK:
        if _fake_server is None:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
            server.daemon_threads = True
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            thread.start()
            _fake_server = server
        return int(_fake_server.server_address[1])


def get_dead_port() -> int:
    """Return a 127.0.0.1 port nobody listens on (bound to port 0, then closed)."""
    global _dead_port
    with STATE_LOCK:
        if _dead_port is None:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                _dead_port = int(sock.getsockname()[1])
        return _dead_port


def interrupt_waits() -> None:
    """Make every simulated latency and blocking wait return immediately (for shutdown)."""
    SHUTDOWN.set()


def shutdown() -> None:
    """Stop background helpers: cut simulated waits short, stop the fake server.

    Call once at process exit (:func:`agenttui.demo.agent.shutdown` also flushes the log);
    after it, simulated latencies return immediately.
    """
    global _fake_server
    SHUTDOWN.set()
    with STATE_LOCK:
        if _slow_pool is not None:
            _slow_pool.shutdown(wait=False, cancel_futures=True)
        if _fake_server is not None:
            _fake_server.shutdown()
            _fake_server.server_close()
            _fake_server = None


def workdir() -> Path:
    """Directory holding ``reports/`` (read-only) and ``drafts/`` (writable)."""
    raw = os.environ.get("AGENT_WORKDIR")
    if raw:
        return Path(raw)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"agenttui-demo-{uid}"
