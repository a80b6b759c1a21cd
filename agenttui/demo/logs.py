"""The demo agent's logging: structlog JSON lines, one per event, and the ids that tie them
together (``request_id`` bound per request, ``call_id`` per tool call)."""

from __future__ import annotations

import contextlib
import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import structlog

from agenttui.demo.runtime import STATE_LOCK

_log_file_handle: IO[bytes] | None = None


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
    with STATE_LOCK:
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


def get_logger() -> Any:
    """Return a bound logger, configuring JSON-to-stderr logging if nobody did."""
    if not structlog.is_configured():
        configure_logging(None)
    return structlog.get_logger("agenttui.demo.agent")


def new_request_id() -> str:
    """Return a fresh request id of the form ``req-<12 hex>``."""
    return f"req-{uuid.uuid4().hex[:12]}"


def new_call_id() -> str:
    """Return a fresh tool call id, shaped like the OpenAI SDK's (``call_<12 hex>``)."""
    return f"call_{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def bound_request(request_id: str) -> Iterator[None]:
    """Bind ``request_id`` to the structlog context vars; clear them afterwards."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()


def flush() -> None:
    """Flush the log file (at shutdown)."""
    with STATE_LOCK:
        if _log_file_handle is not None:
            _log_file_handle.flush()
