"""LLM calls in OTLP: GenAI and OpenInference spans, and the GenAI log events around them.

Spans
    A span whose ``gen_ai.operation.name`` is ``chat`` / ``text_completion`` /
    ``generate_content`` / ``embeddings`` (OpenInference: ``openinference.span.kind`` ``LLM`` or
    ``EMBEDDING``) is one LLM call: ``llm_call_start`` at its start (with the model asked for),
    ``llm_call`` / ``llm_call_failed`` at its end with its duration, ``call_id`` (the span id),
    ``model`` (the one that answered, ``gen_ai.response.model`` / ``llm.model_name``, else the one
    asked for, ``gen_ai.request.model`` / ``llm.invocation_parameters``, else the span name's
    second word), ``tokens`` (input plus output: ``gen_ai.usage.*``, ``llm.token_count.*``),
    ``finish_reason`` and the error of a failed span. Only the end carries the usage, so a call's
    tokens count once.

Log events (what opentelemetry-instrumentation-openai-v2 writes beside its spans)
    On the semantic conventions 1.30 path: ``gen_ai.{system,user,assistant,tool}.message`` at
    the call's start and ``gen_ai.choice`` per choice at its end, none with a model or usage;
    on the latest conventions: one ``gen_ai.client.inference.operation.details`` per call with
    the same model, usage and finish reasons as its span. An event emitted inside a span
    (it carries the span's id) describes that span, which is the call: the event stays an
    event of the trace, its usage kept under ``gen_ai.usage`` so that the call's tokens are
    counted once when both the spans and the logs are read. An event outside any span (tracing
    off: no span id) with a model is the call itself: ``llm_call`` / ``llm_call_failed`` at the
    event's time, without a duration. Read alone, a logs file written with tracing on gives
    the calls' events but no calls: the spans hold them.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from agenttui.ingest.shapes.otlp_values import attributes, dicts, error_type, hex_id

LLM_OPERATIONS: Final = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
"""GenAI operations (``gen_ai.operation.name``) that are one call of a model."""
OPENINFERENCE_LLM: Final = {"LLM": "chat", "EMBEDDING": "embeddings"}
"""OpenInference span kinds that are one call of a model, as the GenAI operation."""

_ANSWERED: Final = ("gen_ai.response.model", "llm.model_name", "embedding.model_name")
_ASKED: Final = ("gen_ai.request.model",)
_RESPONSE_PREFIXES: Final = (
    "gen_ai.response.",
    "gen_ai.usage.",
    "llm.token_count.",
    "llm.output_messages.",
    "llm.finish_reason",
    "llm.model_name",
    "output.",
)
"""Attributes known only when the call ended (left out of its start and of the request's)."""
_PARAMETERS_LIMIT: Final = 64 << 10
"""Longest ``llm.invocation_parameters`` text looked into for the model asked for."""


def llm_operation(attrs: dict[str, Any]) -> str | None:
    """The GenAI operation of a span that is one call of a model, else None."""
    op = attrs.get("gen_ai.operation.name")
    if isinstance(op, str):
        return op if op in LLM_OPERATIONS else None
    kind = attrs.get("openinference.span.kind")
    return OPENINFERENCE_LLM.get(kind) if isinstance(kind, str) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def asked_model(attrs: dict[str, Any], name: str) -> str | None:
    """The model a call asked for: ``gen_ai.request.model``, OpenInference's
    ``llm.invocation_parameters`` (JSON), else the span name's second word (``chat gpt-4o``)."""
    for key in _ASKED:
        found = _text(attrs.get(key))
        if found is not None:
            return found
    params = attrs.get("llm.invocation_parameters")
    if isinstance(params, str) and len(params) <= _PARAMETERS_LIMIT:
        try:
            decoded = orjson.loads(params)
        except orjson.JSONDecodeError:
            decoded = None
        if isinstance(decoded, dict) and _text(decoded.get("model")) is not None:
            return str(decoded["model"])
    words = name.split()
    return words[1] if len(words) >= 2 and words[0] in LLM_OPERATIONS else None


def answered_model(attrs: dict[str, Any]) -> str | None:
    """The model that answered (``gen_ai.response.model``, ``llm.model_name``), else None."""
    for key in _ANSWERED:
        found = _text(attrs.get(key))
        if found is not None:
            return found
    return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def tokens(attrs: dict[str, Any]) -> int | None:
    """Input plus output tokens of a call (GenAI ``gen_ai.usage.*``, OpenInference
    ``llm.token_count.*``), else None."""
    total = _count(attrs.get("llm.token_count.total"))
    if total is not None:
        return total
    parts = [
        _count(attrs.get(key))
        for key in (
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "llm.token_count.prompt",
            "llm.token_count.completion",
        )
    ]
    found = [p for p in parts if p is not None]
    return sum(found) if found else None


def finish_reason(attrs: dict[str, Any]) -> str | None:
    """Why the model stopped (``gen_ai.response.finish_reasons`` joined, ``llm.finish_reason``)."""
    reasons = attrs.get("gen_ai.response.finish_reasons")
    if isinstance(reasons, list):
        reasons = ",".join(str(r) for r in reasons[:8] if isinstance(r, str | int))
    for value in (reasons, attrs.get("llm.finish_reason")):
        if isinstance(value, str) and value:
            return value
    return None


def request_side(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what is known only when the call ended (usage, response, output)."""
    return {k: v for k, v in record.items() if not k.startswith(_RESPONSE_PREFIXES)}


def llm_span_records(
    base: dict[str, Any],
    attrs: dict[str, Any],
    name: str,
    times: tuple[float | None, float | None, float | None],
    error: str | None,
    stack: str | None,
) -> list[dict[str, Any]]:
    """``llm_call_start`` and ``llm_call`` / ``llm_call_failed`` of one LLM span: ``base`` is the
    span's record fields, ``times`` its (start, end, duration ms)."""
    start, end, took = times
    asked = asked_model(attrs, name)
    first = request_side(base)
    first.update(event="llm_call_start", timestamp=start, level="info")
    if "span_id" in base:
        first["call_id"] = base["span_id"]
    if asked is not None:
        first["model"] = asked
    last = dict(base)
    last.update(
        event="llm_call_failed" if error else "llm_call",
        timestamp=end,
        duration_ms=took,
        level="error" if error else "info",
    )
    if "span_id" in base:
        last["call_id"] = base["span_id"]
    model = answered_model(attrs) or asked
    if model is not None:
        last["model"] = model
    last.update(_outcome(attrs))
    if error:
        last["error"] = error
        if stack:
            last["exception"] = stack
    return [first, last]


def _outcome(attrs: dict[str, Any]) -> dict[str, Any]:
    """The ``tokens`` and ``finish_reason`` fields of a call's end record, where known."""
    out: dict[str, Any] = {}
    used = tokens(attrs)
    if used is not None:
        out["tokens"] = used
    finish = finish_reason(attrs)
    if finish is not None:
        out["finish_reason"] = finish
    return out


def genai_event(record: dict[str, Any], attrs: dict[str, Any], bound: bool) -> None:
    """Read a GenAI log event (``gen_ai.*``) in place (see the module's docstring): ``bound``
    when it was emitted inside a span."""
    model = answered_model(attrs) or asked_model(attrs, "")
    if bound or model is None:  # the span is the call: its usage is not counted again
        usage = {
            k.removeprefix("gen_ai.usage."): record.pop(k)
            for k in [k for k in record if k.startswith("gen_ai.usage.")]
        }
        if usage:
            record["gen_ai.usage"] = usage
        return
    failed = attrs.get("error.type") is not None
    record["event"] = "llm_call_failed" if failed else "llm_call"
    record["model"] = model
    record.update(_outcome(attrs))
    if failed:
        record.setdefault("error", error_type(attrs["error.type"]))
        record["level"] = "error"


def describe(batches: list[Any]) -> str:
    """What decoded OTLP export batches hold of LLM calls, for ``formats``: ``""`` when nothing,
    else ``"; LLM calls: OTLP GenAI chat spans; GenAI events of calls their spans give (...)"``."""
    spans: dict[str, None] = {}
    bound: dict[str, None] = {}
    alone: dict[str, None] = {}
    for batch in batches:
        if not isinstance(batch, dict):
            continue
        for res in dicts(batch.get("resourceSpans")):
            for scope in dicts(res.get("scopeSpans")):
                for span in dicts(scope.get("spans")):
                    attrs = attributes(span.get("attributes"))
                    op = llm_operation(attrs)
                    if op is None:
                        continue
                    if "gen_ai.operation.name" in attrs:
                        spans[f"OTLP GenAI {op} spans"] = None
                    else:
                        spans[f"OpenInference {attrs['openinference.span.kind']} spans"] = None
        for res in dicts(batch.get("resourceLogs")):
            for scope in dicts(res.get("scopeLogs")):
                for rec in dicts(scope.get("logRecords")):
                    name = rec.get("eventName")
                    if isinstance(name, str) and name.startswith("gen_ai."):
                        (bound if hex_id(rec.get("spanId")) else alone)[name[:60]] = None
    parts = []
    if spans:
        parts.append("LLM calls: " + ", ".join(spans))
    if alone:
        parts.append(f"LLM calls: GenAI events outside spans ({', '.join(list(alone)[:4])})")
    if bound:
        parts.append(f"GenAI events of calls their spans give ({', '.join(list(bound)[:4])})")
    return "".join(f"; {p}" for p in parts)
