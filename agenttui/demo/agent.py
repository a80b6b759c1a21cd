"""A small, deterministic AI agent that logs exactly like a production agent.

There is no LLM here: a keyword planner turns the query into a list of tool calls,
and every tool really performs its operation. Failures are therefore *real*:
a missing environment variable, a relative path that does not exist in the current
working directory, a refused TCP connection on 127.0.0.1, a write into a read-only
directory, a missing binary, a process-wide rate limiter and a timeout enforced with
:mod:`concurrent.futures`.

Logs are structlog JSON lines (one event per line, flushed per line, thread safe)::

    request_start -> tool_call_start -> tool_call_success | tool_call_failed
                  -> ... -> request_success | request_failed

Every line of one request carries the same ``request_id`` (bound with
``structlog.contextvars``). When a request fails, a capture file
``failed_<unix-ms>.json`` with the query, the error, the traceback and the runtime
context is written so that the request can be replayed later with ``--stdin``.

Usage::

    python -m agenttui.demo.agent "read data/prices.csv and compute the average" \\
        --log-file agent.log --captures-dir captures
    python -m agenttui.demo.agent --stdin < captures/failed_1718000000000.json

Environment variables:
    SEARCH_API_KEY: API key of the (offline) web search tool; missing -> failure.
    TOOL_TIMEOUT: Timeout in seconds of the ``slow_api`` tool (default 2.0).
    GREP_BIN: Binary used by ``run_grep`` (default ``rg-not-installed``).
    AGENT_MODEL: Planner model name reported on ``request_start``.
    AGENT_WORKDIR: Directory holding ``reports/`` (read-only) and ``drafts/``.
    AGENT_TIME_SCALE: Multiplier applied to simulated latencies (default 1.0).
    LLM_RATE_LIMIT / LLM_BURST: Token bucket of ``call_llm`` (default 1/s, burst 3).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import http.client
import http.server
import logging
import operator
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import orjson
import structlog

__all__ = [
    "DEFAULT_MODEL",
    "DRIFT_MODEL",
    "PACKAGE_DATA",
    "TOOLS",
    "RateLimitError",
    "Result",
    "TokenBucket",
    "ToolCall",
    "build_context",
    "configure_logging",
    "interrupt_waits",
    "main",
    "new_request_id",
    "plan",
    "run_query",
    "shutdown",
    "write_capture",
]

DEFAULT_MODEL = "demo-planner-2024-06"
"""Planner model reported on ``request_start`` unless ``AGENT_MODEL`` says otherwise."""

DRIFT_MODEL = "demo-planner-2024-09"
"""Newer planner: adds an LLM self-check step to every plan (more 429s = model drift)."""

LLM_MODEL = "demo-llm-small"
"""Model name used by the ``call_llm`` tool."""

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
"""Data files shipped with the package (``read_file`` succeeds on these)."""

DEFAULT_TOOL_TIMEOUT = 2.0
DEFAULT_GREP_BIN = "rg-not-installed"
MAX_BLOCKING_WAIT = 3.0

# Paths that refuse writes even for root (kernfs attributes without a write op).
_ROOT_UNWRITABLE_CANDIDATES = ("/sys/kernel/notes", "/sys/kernel/uevent_seqnum")

_RELEVANT_ENV = (
    "SEARCH_API_KEY",
    "OPENAI_API_KEY",
    "TOOL_TIMEOUT",
    "GREP_BIN",
    "AGENT_MODEL",
    "AGENT_WORKDIR",
    "AGENT_TIME_SCALE",
    "LLM_RATE_LIMIT",
    "LLM_BURST",
    "PATH",
    "HOME",
    "LANG",
    "VIRTUAL_ENV",
)
_SECRET_NAME_RE = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)
_SECRET_VALUE_RE = re.compile(r"^(sk-|ghp_|gho_|xox[abp]-|AKIA|eyJ)|^[A-Za-z0-9+/_\-]{32,}={0,2}$")

_SHUTDOWN = threading.Event()
_STATE_LOCK = threading.Lock()
_log_file_handle: IO[bytes] | None = None


class RateLimitError(Exception):
    """Raised by ``call_llm`` when the shared token bucket is empty (HTTP 429)."""


@dataclass(frozen=True)
class ToolCall:
    """One step of a plan.

    Attributes:
        tool: Name of the tool (a key of :data:`TOOLS`).
        params: JSON-serialisable parameters passed to the tool.
    """

    tool: str
    params: dict[str, Any]


@dataclass
class Result:
    """Outcome of :func:`run_query`.

    Attributes:
        request_id: Request id bound to every log line of the request.
        query: The query text.
        ok: True when every tool call succeeded.
        answer: The answer text on success, else None.
        error: ``"ExcType: message"`` on failure, else None.
        duration_ms: Wall time of the request in milliseconds.
        model: Planner model name.
        tools: Names of the tools that were called, in order.
        failed_tool: Name of the tool that failed, if any.
        capture_path: Path of the capture file written on failure, if any.
    """

    request_id: str
    query: str
    ok: bool
    answer: str | None
    error: str | None
    duration_ms: float
    model: str
    tools: list[str] = field(default_factory=list)
    failed_tool: str | None = None
    capture_path: Path | None = None


@dataclass
class _ToolContext:
    """Per-call state handed to tools."""

    rng: random.Random
    model: str
    previous: str | None


# --------------------------------------------------------------------------- config


def _env_float(name: str, default: float) -> float:
    """Read a float environment variable, falling back to ``default`` if unset/invalid."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        return default


def _time_scale() -> float:
    """Multiplier applied to simulated latencies (``AGENT_TIME_SCALE``)."""
    return max(0.0, _env_float("AGENT_TIME_SCALE", 1.0))


def _tool_timeout() -> float:
    """Timeout in seconds of slow tools (``TOOL_TIMEOUT``)."""
    return max(0.001, _env_float("TOOL_TIMEOUT", DEFAULT_TOOL_TIMEOUT))


def _latency(ctx: _ToolContext, low_ms: float, high_ms: float) -> None:
    """Sleep a seeded random latency (scaled by ``AGENT_TIME_SCALE``).

    Args:
        ctx: Tool context holding the seeded RNG.
        low_ms: Lower bound in milliseconds.
        high_ms: Upper bound in milliseconds.
    """
    seconds = ctx.rng.uniform(low_ms, high_ms) / 1000.0 * _time_scale()
    if seconds > 0:
        _SHUTDOWN.wait(seconds)


def configure_logging(log_file: Path | None = None) -> None:
    """Configure structlog to emit production-style JSON lines.

    The processors are ``merge_contextvars``, ``add_log_level``, an ISO/UTC
    ``TimeStamper``, ``dict_tracebacks`` and a ``JSONRenderer`` using orjson. Lines are
    written with a ``BytesLogger`` (one write + flush per line under a per-file lock),
    so several threads can log concurrently. Never uses the rich dev console renderer.

    Args:
        log_file: File to append to; stderr when None.
    """
    global _log_file_handle
    with _STATE_LOCK:
        stream: IO[bytes]
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            stream = open(log_file, "ab")  # noqa: SIM115 - lives until shutdown()
        else:
            stream = sys.stderr.buffer
        old, _log_file_handle = _log_file_handle, stream if log_file is not None else None
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.dict_tracebacks,
                structlog.processors.JSONRenderer(serializer=orjson.dumps),
            ],
            logger_factory=structlog.BytesLoggerFactory(stream),
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            context_class=dict,
            cache_logger_on_first_use=False,
        )
        if old is not None:
            old.close()


def _logger() -> Any:
    """Return a bound logger, configuring JSON-to-stderr logging if nobody did."""
    if not structlog.is_configured():
        configure_logging(None)
    return structlog.get_logger("agenttui.demo.agent")


def new_request_id() -> str:
    """Return a fresh request id of the form ``req-<12 hex>``."""
    return f"req-{uuid.uuid4().hex[:12]}"


def _new_call_id() -> str:
    """Return a fresh tool call id, shaped like the OpenAI SDK's (``call_<12 hex>``)."""
    return f"call_{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------- shared state


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


_llm_bucket: TokenBucket | None = None
_slow_pool: concurrent.futures.ThreadPoolExecutor | None = None
_fake_server: http.server.ThreadingHTTPServer | None = None
_dead_port: int | None = None
_root_target: tuple[str, str] | None = None


def _get_llm_bucket() -> TokenBucket:
    """Return the process-wide LLM token bucket (created from env on first use)."""
    global _llm_bucket
    with _STATE_LOCK:
        if _llm_bucket is None:
            scale = _time_scale() or 1e-3
            rate = max(0.01, _env_float("LLM_RATE_LIMIT", 1.0)) / scale
            _llm_bucket = TokenBucket(rate=rate, capacity=max(1.0, _env_float("LLM_BURST", 3.0)))
        return _llm_bucket


def _get_slow_pool() -> concurrent.futures.ThreadPoolExecutor:
    """Return the worker pool used to run the blocking ``slow_api`` calls."""
    global _slow_pool
    with _STATE_LOCK:
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


def _get_fake_server_port() -> int:
    """Start (once) the in-process fake service on 127.0.0.1 and return its port."""
    global _fake_server
    with _STATE_LOCK:
        if _fake_server is None:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
            server.daemon_threads = True
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            thread.start()
            _fake_server = server
        return int(_fake_server.server_address[1])


def _get_dead_port() -> int:
    """Return a 127.0.0.1 port nobody listens on (bound to port 0, then closed)."""
    global _dead_port
    with _STATE_LOCK:
        if _dead_port is None:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                _dead_port = int(sock.getsockname()[1])
        return _dead_port


def interrupt_waits() -> None:
    """Make every simulated latency and blocking wait return immediately (for shutdown)."""
    _SHUTDOWN.set()


def shutdown() -> None:
    """Stop background helpers: cut simulated waits short, stop the fake server.

    Call once at process exit; after it, simulated latencies return immediately.
    """
    global _fake_server, _log_file_handle
    _SHUTDOWN.set()
    with _STATE_LOCK:
        if _slow_pool is not None:
            _slow_pool.shutdown(wait=False, cancel_futures=True)
        if _fake_server is not None:
            _fake_server.shutdown()
            _fake_server.server_close()
            _fake_server = None
        if _log_file_handle is not None:
            _log_file_handle.flush()


# --------------------------------------------------------------------------- tools


_HEALTHY_HOSTS = frozenset({"status.internal", "catalog.internal", "docs.internal"})


def _resolve_service(url: str) -> tuple[str, int, str]:
    """Resolve an internal service URL through the in-process service registry.

    Healthy hosts map to the in-process fake server; every other host (including
    ``localhost:8080``) maps to a local port nobody listens on, i.e. a service that
    is down. Only 127.0.0.1 is ever returned.

    Args:
        url: URL found in the query.

    Returns:
        ``(ip, port, path)`` to connect to.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if (parts.hostname or "") in _HEALTHY_HOSTS:
        return "127.0.0.1", _get_fake_server_port(), path
    return "127.0.0.1", _get_dead_port(), path


def tool_web_search(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Search the web (offline fake) using ``SEARCH_API_KEY``.

    Raises:
        RuntimeError: If ``SEARCH_API_KEY`` is not set.
    """
    # os.environ.get, not os.environ[...]: a KeyError raised inside os.environ would put
    # the repr of the whole environment into the traceback locals (dict_tracebacks).
    api_key = os.environ.get("SEARCH_API_KEY")
    if not api_key:
        raise RuntimeError("missing environment variable SEARCH_API_KEY")
    _latency(ctx, 80, 300)
    topic = str(params.get("query", ""))
    hits = [f"{i + 1}. {topic} - result {ctx.rng.randint(100, 999)}" for i in range(3)]
    return f"(key ...{api_key[-2:]}) " + "; ".join(hits)


def tool_read_file(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Read a text file; relative paths are resolved against the current directory.

    Raises:
        FileNotFoundError: If the path does not exist from the current directory.
    """
    _latency(ctx, 5, 30)
    with open(str(params["path"]), encoding="utf-8") as fh:
        return fh.read()


_BIN_OPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _safe_eval(node: ast.AST) -> float:
    """Evaluate a tiny arithmetic AST (numbers, + - * /, unary minus)."""
    if isinstance(node, ast.Expression):
        return _safe_eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_safe_eval(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN_OPS:
        return _BIN_OPS[type(node.op)](_safe_eval(node.left), _safe_eval(node.right))
    raise ValueError(f"unsupported expression element: {type(node).__name__}")


def tool_calculator(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Evaluate an arithmetic expression or aggregate a CSV column of the previous step."""
    _latency(ctx, 5, 40)
    if "expression" in params:
        value = _safe_eval(ast.parse(str(params["expression"]), mode="eval"))
        return f"{value:g}"
    column = str(params.get("column", "price"))
    lines = [ln for ln in (ctx.previous or "").splitlines() if ln.strip()]
    header = lines[0].split(",") if lines else []
    idx = header.index(column) if column in header else -1
    values = [float(ln.split(",")[idx]) for ln in lines[1:]] if idx >= 0 else []
    if not values:
        return "no values"
    op = params.get("op", "average")
    result = sum(values) if op == "sum" else sum(values) / len(values)
    return f"{op} of {column} over {len(values)} rows = {result:.2f}"


def tool_summarize(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Extractive summary: the first words of the previous output (or of ``text``)."""
    _latency(ctx, 20, 300)
    text = str(params.get("text") or ctx.previous or "")
    words = text.split()
    limit = int(params.get("max_words", 25))
    return " ".join(words[:limit]) + (" ..." if len(words) > limit else "")


def tool_fetch_url(params: dict[str, Any], ctx: _ToolContext) -> str:
    """GET an internal URL over a real TCP connection to 127.0.0.1.

    Raises:
        ConnectionRefusedError: If the service is down (nobody listens on the port).
        RuntimeError: On an HTTP error status.
    """
    url = str(params["url"])
    host, port, path = _resolve_service(url)
    if host != "127.0.0.1":  # defensive: the demo never leaves the machine
        raise ValueError(f"refusing to connect to {host}")
    _latency(ctx, 5, 40)
    conn = http.client.HTTPConnection(host, port, timeout=_tool_timeout())
    try:
        conn.request("GET", path, headers={"Host": urlsplit(url).netloc or host})
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"HTTP {resp.status} {resp.reason} from {url}")
    return body


def _workdir() -> Path:
    """Directory holding ``reports/`` (read-only) and ``drafts/`` (writable)."""
    raw = os.environ.get("AGENT_WORKDIR")
    if raw:
        return Path(raw)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"agenttui-demo-{uid}"


def _prepare_report_dirs() -> tuple[Path, Path]:
    """Create ``reports/`` (mode 0o500, not writable) and ``drafts/`` (writable).

    Returns:
        ``(reports_dir, drafts_dir)``.
    """
    base = _workdir()
    reports, drafts = base / "reports", base / "drafts"
    drafts.mkdir(parents=True, exist_ok=True)
    reports.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        reports.chmod(0o500)
    return reports, drafts


def _dac_overridden(directory: Path) -> bool:
    """Tell whether this process can write into a 0o500 directory (root / DAC override)."""
    probe = directory / f".probe-{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    os.close(fd)
    with contextlib.suppress(OSError):
        probe.unlink()
    return True


def _root_unwritable_target() -> tuple[str, str]:
    """Find something that refuses writes even for root.

    Read-only kernfs attributes (``/sys/kernel/notes``...) have no write operation,
    so opening them for writing fails with EACCES even with CAP_DAC_OVERRIDE. The probe
    only opens (O_WRONLY, no O_CREAT/O_TRUNC) and closes immediately if it unexpectedly
    succeeds, so nothing is ever written.

    Returns:
        ``("symlink", path)`` to link the report path to, or ``("directory", "")`` when
        no such path exists (then the report path is made a directory: IsADirectoryError).
    """
    global _root_target
    with _STATE_LOCK:
        if _root_target is None:
            _root_target = ("directory", "")
            for candidate in _ROOT_UNWRITABLE_CANDIDATES:
                try:
                    fd = os.open(candidate, os.O_WRONLY)
                except PermissionError:
                    _root_target = ("symlink", candidate)
                    break
                except OSError:
                    continue
                os.close(fd)
        return _root_target


def tool_write_report(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Write a markdown report to ``params["path"]``.

    The ``reports/`` directory is mode 0o500, so the write fails with PermissionError.
    Root ignores directory permissions; in that case the report path is pointed at a
    kernfs attribute that refuses writes even for root (still a PermissionError), or,
    if none exists, made a directory (IsADirectoryError).

    Raises:
        PermissionError: If the target directory is not writable.
    """
    path = Path(str(params["path"]))
    reports, _drafts = _prepare_report_dirs()
    if path.parent == reports and _dac_overridden(reports) and not path.is_symlink():
        kind, target = _root_unwritable_target()
        with contextlib.suppress(FileExistsError):
            if kind == "symlink":
                path.symlink_to(target)
            else:
                path.mkdir()
    _latency(ctx, 5, 30)
    body = f"# {params.get('title', 'Report')}\n\n{ctx.previous or 'No data.'}\n"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(body)
    return f"wrote {len(body)} bytes to {path}"


def tool_run_grep(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Run ripgrep (``GREP_BIN``, default ``rg-not-installed``) over a directory.

    Raises:
        FileNotFoundError: If the grep binary is not installed.
        RuntimeError: If grep exits with an error status.
    """
    grep_bin = os.environ.get("GREP_BIN", DEFAULT_GREP_BIN)
    cmd = [grep_bin, "-n", "--max-count", "5", "--", str(params["pattern"]), str(params["path"])]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=_tool_timeout() * 5, check=False
    )
    if proc.returncode > 1:
        raise RuntimeError(f"{grep_bin} exited {proc.returncode}: {proc.stderr.strip()[:200]}")
    return proc.stdout[:2000]


def tool_call_llm(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Call the (fake) LLM API, subject to the process-wide token bucket.

    Raises:
        RateLimitError: If the shared token bucket is empty (429).
    """
    model = str(params.get("model", LLM_MODEL))
    _latency(ctx, 5, 20)
    bucket = _get_llm_bucket()
    if not bucket.try_acquire():
        raise RateLimitError(
            f"429 Too Many Requests: rate limit exceeded for model {model} "
            f"(limit {bucket.rate * _time_scale():g} req/s, burst {bucket.capacity:g})"
        )
    _latency(ctx, 120, 300)
    prompt = str(params.get("prompt", ""))
    return f"[{model}] {prompt[:60]} -> answer #{ctx.rng.randint(1000, 9999)}"


def _blocking_wait(seconds: float) -> str:
    """Block like a slow legacy HTTP call (interrupted early on :func:`shutdown`)."""
    _SHUTDOWN.wait(seconds)
    return f"waited {seconds:.3f}s"


def tool_slow_api(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Call a slow legacy API, enforcing ``TOOL_TIMEOUT`` with ``Future.result``.

    Raises:
        TimeoutError: If the call takes longer than ``TOOL_TIMEOUT`` seconds.
    """
    timeout = _tool_timeout()
    wait = min(MAX_BLOCKING_WAIT, ctx.rng.uniform(0.3, 1.5) * timeout)
    future = _get_slow_pool().submit(_blocking_wait, wait)
    try:
        payload = future.result(timeout=timeout)
    except concurrent.futures.TimeoutError as exc:
        future.cancel()
        raise TimeoutError(
            f"{params.get('endpoint', '/')} did not answer within TOOL_TIMEOUT={timeout:g}s"
        ) from exc
    return f"{params.get('endpoint', '/')}: {payload}"


ToolFn = Callable[[dict[str, Any], _ToolContext], str]

TOOLS: dict[str, ToolFn] = {
    "web_search": tool_web_search,
    "read_file": tool_read_file,
    "fetch_url": tool_fetch_url,
    "write_report": tool_write_report,
    "run_grep": tool_run_grep,
    "call_llm": tool_call_llm,
    "slow_api": tool_slow_api,
    "calculator": tool_calculator,
    "summarize": tool_summarize,
}
"""Registry of tools by name."""


# ------------------------------------------------------------------------- planner

_URL_RE = re.compile(r"https?://[^\s,;]+")
_PATH_RE = re.compile(
    r"\b(?:read|load|open|parse)\s+(?:the\s+file\s+)?([\w./-]+\.(?:csv|txt|json))"
)
_EXPR_RE = re.compile(r"(?:compute|calculate|what is)\s+([\d.]+(?:\s*[-+*/]\s*[\d.()]+)+)")
_COMPARE_RE = re.compile(r"compare\s+(\d+)")
_QUOTED_RE = re.compile(r"[\"']([^\"']+)[\"']")


def _slug(text: str) -> str:
    """Make a short file-name slug from free text."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40] or "report"


def _after(query_lower: str, marker: str) -> str:
    """Return the text following ``marker`` (stripped), or the whole query."""
    idx = query_lower.find(marker)
    return query_lower[idx + len(marker) :].strip(" .?!") if idx >= 0 else query_lower


def plan(query: str, model: str = DEFAULT_MODEL) -> list[ToolCall]:
    """Turn a query into tool calls with a deterministic keyword planner.

    Args:
        query: The user query.
        model: Planner model; :data:`DRIFT_MODEL` appends an LLM self-check step.

    Returns:
        The ordered list of tool calls (never empty).
    """
    q = query.lower()
    calls: list[ToolCall] = []
    if "search the web" in q or "look up" in q or "latest" in q:
        topic = _after(q, "for") if " for " in q else _after(q, "latest")
        calls.append(ToolCall("web_search", {"query": topic, "top_k": 3}))
    path_match = _PATH_RE.search(query)
    if path_match:
        calls.append(ToolCall("read_file", {"path": path_match.group(1)}))
    elif "bundled" in q or "price list" in q:
        calls.append(ToolCall("read_file", {"path": str(PACKAGE_DATA / "prices.csv")}))
    elif "release notes" in q:
        calls.append(ToolCall("read_file", {"path": str(PACKAGE_DATA / "release_notes.txt")}))
    for url in _URL_RE.findall(query):
        calls.append(ToolCall("fetch_url", {"url": url.rstrip(".)"), "method": "GET"}))
    if "grep" in q:
        quoted = _QUOTED_RE.search(query)
        pattern = quoted.group(1) if quoted else _after(q, "for").split()[0]
        calls.append(ToolCall("run_grep", {"pattern": pattern, "path": "."}))
    if any(word in q for word in ("inventory", "legacy", "erp")):
        endpoint = "/v1/inventory" if "inventory" in q else "/legacy/erp/orders"
        calls.append(ToolCall("slow_api", {"endpoint": endpoint, "method": "GET"}))
    reads_file = any(c.tool == "read_file" for c in calls)
    if reads_file and any(word in q for word in ("average", "mean", "total", "sum")):
        op = "sum" if ("total" in q or "sum" in q) else "average"
        calls.append(ToolCall("calculator", {"op": op, "column": "price"}))
    expr = _EXPR_RE.search(q)
    if expr:
        calls.append(ToolCall("calculator", {"expression": expr.group(1).strip()}))
    compare = _COMPARE_RE.search(q)
    if compare:
        for i in range(min(int(compare.group(1)), 8)):
            prompt = f"option {i + 1} of: {query}"
            calls.append(ToolCall("call_llm", {"model": LLM_MODEL, "prompt": prompt}))
    elif any(w in q for w in ("llm", "ask the model", "classify", "translate", "sentiment")):
        calls.append(ToolCall("call_llm", {"model": LLM_MODEL, "prompt": query}))
    if "summar" in q or "tl;dr" in q:
        calls.append(ToolCall("summarize", {"max_words": 25}))
    if "report" in q:
        title = _after(q, "report on") if "report on" in q else _after(q, "report")
        directory = _workdir() / ("drafts" if "draft" in q else "reports")
        path = directory / f"{_slug(title)}.md"
        calls.append(ToolCall("write_report", {"title": title, "path": str(path)}))
    if not calls:
        calls.append(ToolCall("summarize", {"text": query, "max_words": 12}))
    if model == DRIFT_MODEL:
        calls.append(ToolCall("call_llm", {"model": LLM_MODEL, "prompt": "self-check answer"}))
    return calls


# ------------------------------------------------------------------------ requests


def _format_error(exc: BaseException) -> str:
    """Format an exception as ``"ExcType: message"``."""
    return f"{type(exc).__name__}: {exc}"


def _mask(name: str, value: str | None) -> str | None:
    """Mask secret-looking environment values as ``"***"``."""
    if value is None or value == "":
        return value
    if _SECRET_NAME_RE.search(name) or _SECRET_VALUE_RE.search(value):
        return "***"
    return value


def build_context(model: str) -> dict[str, Any]:
    """Collect the runtime context stored in capture files.

    Args:
        model: Planner model name.

    Returns:
        cwd, relevant environment variables (secrets masked, unset ones as None),
        TOOL_TIMEOUT, model, hostname, pid and Python version.
    """
    env = {name: _mask(name, os.environ.get(name)) for name in _RELEVANT_ENV}
    return {
        "cwd": os.getcwd(),
        "env": env,
        "TOOL_TIMEOUT": _tool_timeout(),
        "model": model,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "python_version": platform.python_version(),
        "platform": platform.platform(),
    }


def write_capture(captures_dir: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as ``failed_<unix-ms>.json`` without ever overwriting a file.

    The file appears atomically (written to a temp file, then hard-linked to its final
    name, which fails if the name exists). On a collision ``-2``, ``-3``... is appended.

    Args:
        captures_dir: Directory to write into (created if needed).
        payload: JSON-serialisable capture content.

    Returns:
        The path of the capture file.
    """
    captures_dir.mkdir(parents=True, exist_ok=True)
    # The marker by which agenttui replays this capture against the demo agent when no
    # target is configured (text in a traceback never chooses a target).
    payload = {"written_by": "agenttui.demo.agent", **payload}
    data = orjson.dumps(payload, option=orjson.OPT_INDENT_2, default=str)
    stamp = int(time.time() * 1000)
    fd, tmp_name = tempfile.mkstemp(prefix=".capture-", suffix=".tmp", dir=captures_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        for n in range(1, 10_000):
            name = f"failed_{stamp}.json" if n == 1 else f"failed_{stamp}-{n}.json"
            target = captures_dir / name
            try:
                os.link(tmp_name, target)
            except FileExistsError:
                continue
            except OSError:  # filesystem without hard links: exclusive create instead
                try:
                    with open(target, "xb") as out:
                        out.write(data)
                except FileExistsError:
                    continue
            return target
        raise FileExistsError(f"no free capture name for stamp {stamp}")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)


@contextlib.contextmanager
def _bound_request(request_id: str) -> Iterator[None]:
    """Bind ``request_id`` to the structlog context vars; clear them afterwards."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()


def _ms(start: float) -> float:
    """Milliseconds elapsed since ``start`` (a ``perf_counter`` value)."""
    return round((time.perf_counter() - start) * 1000.0, 1)


def run_query(
    query: str,
    *,
    request_id: str | None = None,
    captures_dir: Path | None = None,
    model: str | None = None,
    seed: int | None = None,
    replay_context: dict[str, Any] | None = None,
) -> Result:
    """Plan and execute one query, logging every step as JSON lines.

    Args:
        query: The user query.
        request_id: Request id to reuse (e.g. when replaying a capture); new if None.
        captures_dir: Where to write ``failed_*.json`` on failure; no capture if None.
        model: Planner model; defaults to ``AGENT_MODEL`` or :data:`DEFAULT_MODEL`.
        seed: Seed of the simulated latencies; derived from the request id if None.
        replay_context: Context of the capture being replayed; when given,
            ``request_start`` carries ``replay=True``.

    Returns:
        The :class:`Result` of the request. Tool exceptions never propagate.
    """
    log = _logger()
    request_id = request_id or new_request_id()
    model = model or os.environ.get("AGENT_MODEL") or DEFAULT_MODEL
    rng = random.Random(seed if seed is not None else request_id)
    start = time.perf_counter()
    tools: list[str] = []
    with _bound_request(request_id):
        extra: dict[str, Any] = {"replay": True} if replay_context is not None else {}
        log.info("request_start", query=query, model=model, **extra)
        previous: str | None = None
        outputs: list[str] = []
        current: ToolCall | None = None
        call_id = ""
        try:
            for current in plan(query, model):
                call_id = _new_call_id()
                tools.append(current.tool)
                log.info(
                    "tool_call_start", tool=current.tool, call_id=call_id, params=current.params
                )
                t0 = time.perf_counter()
                try:
                    ctx = _ToolContext(rng=rng, model=model, previous=previous)
                    previous = TOOLS[current.tool](current.params, ctx)
                except Exception as exc:
                    log.error(
                        "tool_call_failed",
                        tool=current.tool,
                        call_id=call_id,
                        error=_format_error(exc),
                        duration_ms=_ms(t0),
                        exc_info=True,
                    )
                    raise
                log.info(
                    "tool_call_success",
                    tool=current.tool,
                    call_id=call_id,
                    result_size=len(previous),
                    duration_ms=_ms(t0),
                )
                outputs.append(previous)
        except Exception as exc:
            error = _format_error(exc)
            capture_path: Path | None = None
            if captures_dir is not None:
                payload = {
                    "request_id": request_id,
                    "query": query,
                    "error": error,
                    "traceback": "".join(traceback.format_exception(exc)),
                    "context": build_context(model),
                    "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "failed_tool": {
                        "tool": current.tool if current else None,
                        "call_id": call_id,
                        "params": current.params if current else None,
                    },
                }
                if replay_context is not None:
                    payload["replayed_context"] = replay_context
                capture_path = write_capture(captures_dir, payload)
            fields: dict[str, Any] = {"error": error, "duration_ms": _ms(start)}
            if capture_path is not None:
                fields["capture"] = capture_path.name
            log.error("request_failed", **fields)
            return Result(
                request_id=request_id,
                query=query,
                ok=False,
                answer=None,
                error=error,
                duration_ms=fields["duration_ms"],
                model=model,
                tools=tools,
                failed_tool=current.tool if current else None,
                capture_path=capture_path,
            )
        answer = outputs[-1] if outputs else ""
        duration = _ms(start)
        log.info("request_success", duration_ms=duration, answer_size=len(answer))
    return Result(
        request_id=request_id,
        query=query,
        ok=True,
        answer=answer,
        error=None,
        duration_ms=duration,
        model=model,
        tools=tools,
    )


# ----------------------------------------------------------------------------- CLI


class _UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


def _read_stdin_request() -> tuple[str, str | None, dict[str, Any] | None]:
    """Parse ``{"query": ..., "request_id": ..., "context": ...}`` from stdin.

    Returns:
        ``(query, request_id, context)``.

    Raises:
        _UsageError: If stdin is not such a JSON object.
    """
    raw = sys.stdin.buffer.read()
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _UsageError(f"--stdin expects one JSON object: {exc}") from exc
    if not isinstance(obj, dict):
        raise _UsageError("--stdin expects one JSON object")
    query = obj.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _UsageError('--stdin object needs a non-empty string "query"')
    request_id = obj.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not request_id):
        raise _UsageError('"request_id" must be a non-empty string')
    context = obj.get("context")
    if context is not None and not isinstance(context, dict):
        raise _UsageError('"context" must be an object')
    return query, request_id, context


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m agenttui.demo.agent",
        description="Run one query through the demo agent (JSON logs, capture on failure).",
    )
    parser.add_argument("query", nargs="?", help="query text (or use --stdin)")
    parser.add_argument("--stdin", action="store_true", help="read a JSON request from stdin")
    parser.add_argument("--log-file", type=Path, help="append JSON logs here (default stderr)")
    parser.add_argument(
        "--captures-dir",
        type=Path,
        help="where failed_*.json go (default: captures/ next to --log-file, else ./captures)",
    )
    parser.add_argument("--model", help=f"planner model (default {DEFAULT_MODEL})")
    parser.add_argument("--seed", type=int, help="seed of the simulated latencies")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        0 on success, 1 if the request failed, 2 for bad usage.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        if args.stdin and args.query:
            raise _UsageError("give either a query or --stdin, not both")
        if args.stdin:
            query, request_id, context = _read_stdin_request()
        elif args.query and args.query.strip():
            query, request_id, context = args.query, None, None
        else:
            raise _UsageError("a query (or --stdin) is required")
    except _UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    captures_dir = args.captures_dir
    if captures_dir is None:
        captures_dir = (args.log_file.parent if args.log_file else Path.cwd()) / "captures"
    configure_logging(args.log_file)
    try:
        result = run_query(
            query,
            request_id=request_id,
            captures_dir=captures_dir,
            model=args.model,
            seed=args.seed,
            replay_context=(context or {}) if args.stdin else None,
        )
    finally:
        shutdown()
    if result.ok:
        print(result.answer)
        return 0
    print(f"error: {result.error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
