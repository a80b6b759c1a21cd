"""The same story told by every logging library that agenttui reads.

Two requests: ``req-ok-1`` calls ``web_search`` and succeeds; ``req-fail-2`` calls
``web_search`` (ok), then ``fetch_url``, which raises ``TimeoutError``, and the request fails.
Each function here logs it through one real library, the way an agent using it would.
The Node (pino, bunyan), journald and OpenTelemetry versions are recorded fixtures made by the
``tests/fixtures/make_*`` scripts, telling the same story.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ERROR = "TimeoutError: fetch_url timed out after 5s"

#: What ``agenttui traces --json`` must say about the story, whatever library logged it:
#: (request id, status, error, [(tool, status, error)...]).
EXPECTED = [
    ("req-ok-1", "ok", None, [("web_search", "ok", None)]),
    ("req-fail-2", "error", ERROR, [("web_search", "ok", None), ("fetch_url", "error", ERROR)]),
]


def fetch_url() -> None:
    """The failing tool."""
    raise TimeoutError("fetch_url timed out after 5s")


def tell(log: Callable[..., None], fail: Callable[..., None]) -> None:
    """Tell the story through ``log(event, **fields)`` and ``fail(event, **fields)`` (the
    latter is called inside the ``except`` block, for libraries that log the exception)."""
    log("request_start", request_id="req-ok-1", query="capital of France?")
    log("tool_call_start", request_id="req-ok-1", tool="web_search", call_id="call-1")
    time.sleep(0.002)
    log(
        "tool_call_success",
        request_id="req-ok-1",
        tool="web_search",
        call_id="call-1",
        duration_ms=2.1,
    )
    log("request_success", request_id="req-ok-1", duration_ms=4.0)
    log("request_start", request_id="req-fail-2", query="weather in Oslo")
    log("tool_call_start", request_id="req-fail-2", tool="web_search", call_id="call-2")
    log(
        "tool_call_success",
        request_id="req-fail-2",
        tool="web_search",
        call_id="call-2",
        duration_ms=1.5,
    )
    log("tool_call_start", request_id="req-fail-2", tool="fetch_url", call_id="call-3")
    try:
        fetch_url()
    except TimeoutError:
        fail("tool_call_failed", request_id="req-fail-2", tool="fetch_url", call_id="call-3")
        fail("request_failed", request_id="req-fail-2")


def structlog_story(
    path: Path, renderer: str = "json", *, msg_key: bool = False, epoch: bool = False
) -> None:
    """structlog with ``format_exc_info`` (string tracebacks), rendered as JSON, as
    ``KeyValueRenderer`` (``renderer="kv"``) or ``LogfmtRenderer`` (``"logfmt"``); ``msg_key``
    renames ``event`` to ``msg``; ``epoch`` uses ``TimeStamper(fmt=None)``."""
    import structlog

    processors: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt=None if epoch else "iso"),
        structlog.processors.format_exc_info,
    ]
    if msg_key:
        processors.append(structlog.processors.EventRenamer("msg"))
    if renderer == "kv":
        processors.append(structlog.processors.KeyValueRenderer(key_order=["event"]))
    elif renderer == "logfmt":
        processors.append(structlog.processors.LogfmtRenderer(key_order=["event"]))
    else:
        processors.append(structlog.processors.JSONRenderer())
    with path.open("w") as f:
        log = structlog.wrap_logger(structlog.PrintLogger(f), processors=processors)
        tell(log.info, lambda event, **kw: log.error(event, exc_info=True, **kw))


def json_logger_story(path: Path) -> None:
    """stdlib ``logging`` through python-json-logger, the ids passed as ``extra``."""
    from pythonjsonlogger.json import JsonFormatter

    logger = logging.getLogger(f"agent.pjl.{path}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    try:
        tell(
            lambda event, **kw: logger.info(event, extra=kw),
            lambda event, **kw: logger.error(event, exc_info=True, extra=kw),
        )
    finally:
        logger.removeHandler(handler)
        handler.close()


def loguru_story(path: Path) -> None:
    """loguru with ``serialize=True``, the request id bound into ``extra``."""
    from loguru import logger

    sink = logger.add(path, serialize=True, level="INFO", enqueue=False)
    try:

        def log(event: str, request_id: str, **kw: Any) -> None:
            logger.bind(request_id=request_id).info(event, **kw)

        def fail(event: str, request_id: str, **kw: Any) -> None:
            logger.bind(request_id=request_id).opt(exception=True).error(event, **kw)

        tell(log, fail)
    finally:
        logger.remove(sink)


# The container runtimes are not installed where the tests run (no Docker daemon, containerd or
# CRI-O): their log files are written here as their drivers write them, from the lines an
# agent printed. Docker (moby daemon/logger/jsonfilelog, 28.x): one JSON object per line,
# ``log`` with the line and its newline, ``stream``, ``time`` in RFC 3339 with nanoseconds; a
# line longer than 16 KB is split into entries of 16 KB, all but the last without the newline.
# CRI (containerd / CRI-O, kubelet's format): ``<RFC 3339 nano> <stream> <P|F> <text>``, a long
# line split into ``P`` parts of 16 KB ended by an ``F`` part.
SPLIT_BYTES = 16 * 1024


def _rfc3339_nano(ts: float) -> str:
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    return f"{whole}.{min(int((ts % 1) * 1e9), 999_999_999):09d}Z"


def _parts(line: str) -> list[str]:
    """The line cut every 16 KB (here at a character boundary: a runtime may cut inside a
    character, which Go's JSON encoder then writes as U+FFFD)."""
    data = line.encode()
    out = []
    start = 0
    while True:
        end = min(start + SPLIT_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        out.append(data[start:end].decode())
        if end >= len(data):
            return out
        start = end


def docker_json_file(lines: list[str], start: float, stream: str = "stdout") -> bytes:
    """What Docker's json-file driver writes for these lines printed by a container."""
    import json

    out = []
    for n, line in enumerate(lines):
        parts = _parts(line)
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            entry = {
                "log": part + ("\n" if last else ""),
                "stream": stream,
                "time": _rfc3339_nano(start + n * 0.001 + k * 1e-6),
            }
            out.append(json.dumps(entry, separators=(",", ":")))
    return ("\n".join(out) + "\n").encode()


def cri_log(lines: list[str], start: float, stream: str = "stdout") -> bytes:
    """What containerd / CRI-O write for these lines printed by a container."""
    out = []
    for n, line in enumerate(lines):
        parts = _parts(line)
        for k, part in enumerate(parts):
            tag = "F" if k == len(parts) - 1 else "P"
            out.append(f"{_rfc3339_nano(start + n * 0.001 + k * 1e-6)} {stream} {tag} {part}")
    return ("\n".join(out) + "\n").encode()
