"""An agent's LLM calls, logged through structlog (JSON), with a model version change.

The agent asks for ``gpt-4o``; the provider answers with a dated version. Requests 1-8 are
answered by ``gpt-4o-2024-08-06``: each plans with one LLM call (finish reason
``tool_calls``), calls ``web_search``, and answers with a second LLM call (``stop``); request 4
is rate limited (its second LLM call fails with a 429, the request fails). From request 9 on,
``gpt-4o-2024-11-20`` answers: requests 9-16 run the same way, and 10, 12, 14 and 16 fail on a
``KeyError`` reading the plan (no text rule knows it: the model changed). The first
calls log their usage the OpenAI way (``usage`` with ``prompt_tokens`` / ``completion_tokens``),
the second ones a plain ``tokens`` count. Times are explicit: one request every 10 s from
:data:`T0`, so the expected figures are exact.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

OLD = "gpt-4o-2024-08-06"
NEW = "gpt-4o-2024-11-20"
T0 = 1_796_119_200.0  # 2026-12-01T10:00:00Z
RATE_LIMITED = "RateLimitError: Error code: 429 - Rate limit reached for gpt-4o"
BAD_PLAN = "KeyError: 'steps'"
FAILED_ON_NEW = ("req-10", "req-12", "req-14", "req-16")
PLAN_TOKENS = 1200 + 80
ANSWER_TOKENS = 300


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write(path: Path, requests: int = 16) -> None:
    """Write the story to ``path`` with structlog's JSON renderer."""
    import structlog

    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
    )
    for n in range(1, requests + 1):
        rid = f"req-{n}"
        model = OLD if n <= 8 else NEW
        t = T0 + 10.0 * (n - 1)
        log = logger.bind(request_id=rid)

        def at(
            offset_ms: float,
            event: str,
            level: str = "info",
            log: Any = log,
            t: float = t,
            **kw: Any,
        ) -> None:
            getattr(log, level)(event, timestamp=_iso(t + offset_ms / 1000.0), **kw)

        at(0, "request_start", query=f"question {n}", model="gpt-4o")
        at(1, "llm_call_start", model="gpt-4o")
        at(
            801,
            "llm_call_end",
            model=model,
            usage={"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280},
            finish_reason="tool_calls",
        )
        at(802, "tool_call_start", tool="web_search", call_id=f"c{n}")
        at(902, "tool_call_success", tool="web_search", call_id=f"c{n}", duration_ms=100.0)
        if n == 4:
            at(903, "llm_call_failed", "error", model="gpt-4o", error=RATE_LIMITED)
            at(904, "request_failed", "error", error=RATE_LIMITED, duration_ms=904.0)
            continue
        if rid in FAILED_ON_NEW:
            at(1403, "llm_call", model=model, tokens=ANSWER_TOKENS, duration_ms=500.0)
            at(1404, "request_failed", "error", error=BAD_PLAN, duration_ms=1404.0)
            continue
        at(
            1403,
            "llm_call",
            model=model,
            tokens=ANSWER_TOKENS,
            duration_ms=500.0,
            finish_reason="stop",
        )
        at(1404, "request_success", duration_ms=1404.0)
    path.write_text(out.getvalue())
