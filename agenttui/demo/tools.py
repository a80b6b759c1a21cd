"""The demo agent's tools: each really performs its operation, so each failure is real (a
missing variable, a relative path, a refused connection, a read-only directory, a missing
binary, the shared rate limit, a timeout)."""

from __future__ import annotations

import ast
import concurrent.futures
import contextlib
import http.client
import http.server
import operator
import os
import random
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agenttui.demo.runtime import (
    DEFAULT_GREP_BIN,
    MAX_BLOCKING_WAIT,
    SHUTDOWN,
    STATE_LOCK,
    get_dead_port,
    get_fake_server_port,
    get_llm_bucket,
    get_slow_pool,
    time_scale,
    tool_timeout,
    workdir,
)

LLM_MODEL = "demo-llm-small"
"""Model name used by the ``call_llm`` tool."""

# Paths that refuse writes even for root (kernfs attributes without a write op).
_ROOT_UNWRITABLE_CANDIDATES = ("/sys/kernel/notes", "/sys/kernel/uevent_seqnum")

_root_target: tuple[str, str] | None = None


class RateLimitError(Exception):
    """Raised by ``call_llm`` when the shared token bucket is empty (HTTP 429)."""


@dataclass
class _ToolContext:
    """Per-call state handed to tools."""

    rng: random.Random
    model: str
    previous: str | None


def _latency(ctx: _ToolContext, low_ms: float, high_ms: float) -> None:
    """Sleep a seeded random latency (scaled by ``AGENT_TIME_SCALE``).

    Args:
        ctx: Tool context holding the seeded RNG.
        low_ms: Lower bound in milliseconds.
        high_ms: Upper bound in milliseconds.
    """
    seconds = ctx.rng.uniform(low_ms, high_ms) / 1000.0 * time_scale()
    if seconds > 0:
        SHUTDOWN.wait(seconds)


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
        return "127.0.0.1", get_fake_server_port(), path
    return "127.0.0.1", get_dead_port(), path


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
    conn = http.client.HTTPConnection(host, port, timeout=tool_timeout())
    try:
        conn.request("GET", path, headers={"Host": urlsplit(url).netloc or host})
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"HTTP {resp.status} {resp.reason} from {url}")
    return body


def _prepare_report_dirs() -> tuple[Path, Path]:
    """Create ``reports/`` (mode 0o500, not writable) and ``drafts/`` (writable).

    Returns:
        ``(reports_dir, drafts_dir)``.
    """
    base = workdir()
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
    with STATE_LOCK:
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
        cmd, capture_output=True, text=True, timeout=tool_timeout() * 5, check=False
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
    bucket = get_llm_bucket()
    if not bucket.try_acquire():
        raise RateLimitError(
            f"429 Too Many Requests: rate limit exceeded for model {model} "
            f"(limit {bucket.rate * time_scale():g} req/s, burst {bucket.capacity:g})"
        )
    _latency(ctx, 120, 300)
    prompt = str(params.get("prompt", ""))
    return f"[{model}] {prompt[:60]} -> answer #{ctx.rng.randint(1000, 9999)}"


def _blocking_wait(seconds: float) -> str:
    """Block like a slow legacy HTTP call (interrupted early on :func:`shutdown`)."""
    SHUTDOWN.wait(seconds)
    return f"waited {seconds:.3f}s"


def tool_slow_api(params: dict[str, Any], ctx: _ToolContext) -> str:
    """Call a slow legacy API, enforcing ``TOOL_TIMEOUT`` with ``Future.result``.

    Raises:
        TimeoutError: If the call takes longer than ``TOOL_TIMEOUT`` seconds.
    """
    timeout = tool_timeout()
    wait = min(MAX_BLOCKING_WAIT, ctx.rng.uniform(0.3, 1.5) * timeout)
    future = get_slow_pool().submit(_blocking_wait, wait)
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
