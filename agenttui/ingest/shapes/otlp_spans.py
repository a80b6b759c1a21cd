"""OTLP spans as records.

* The request is the trace's root span (no parent): its start is ``request_start`` and its end
  ``request_success`` / ``request_failed`` with the root's duration and error, whatever the span
  (GenAI ``invoke_agent`` or an HTTP server span).
* ``execute_tool`` spans are tool calls, paired by their ``spanId`` (two overlapping calls of one
  tool keep their own times; ``gen_ai.tool.call.id`` is optional).
* Nested ``invoke_agent`` spans (handoffs, sub-agents) are steps of the same request: calls of
  ``agent <name>``, beside the tools in the waterfall.
* LLM spans (GenAI ``chat`` / ``text_completion`` / ``generate_content`` / ``embeddings``,
  OpenInference ``LLM`` / ``EMBEDDING``) are LLM calls (:mod:`.otlp_llm`). A chat span that is
  itself the root (an app calling the model directly) is the request and an LLM call: its
  records are ``request_start``, ``llm_call_start``, ``llm_call`` / ``llm_call_failed`` and
  ``request_success`` / ``request_failed``.
* Any other span is one event at its start, with its duration.

OpenInference's span kinds (``TOOL`` with ``tool.name``, ``AGENT`` with ``agent.name``) are read
as the GenAI operations they stand for.
"""

from __future__ import annotations

from typing import Any, Final

from agenttui.ingest.shapes.otlp_llm import llm_operation, llm_span_records, request_side
from agenttui.ingest.shapes.otlp_values import (
    attributes,
    dicts,
    error_summary,
    hex_id,
    nanos,
    request_id,
)

AGENT_STEP: Final = "agent "
"""Prefix of the tool name a nested ``invoke_agent`` span is shown as."""
_OPENINFERENCE: Final = {"TOOL": "execute_tool", "AGENT": "invoke_agent"}
"""OpenInference span kinds (``openinference.span.kind``) read as GenAI operations."""


def span_error(span: dict[str, Any], attrs: dict[str, Any]) -> str | None:
    """``Type: message`` of a failed span (status ERROR or ``error.type``), else None."""
    status: dict[str, Any] = span["status"] if isinstance(span.get("status"), dict) else {}
    failed = status.get("code") in (2, "STATUS_CODE_ERROR") or attrs.get("error.type")
    if not failed:
        return None
    etype = attrs.get("error.type")
    message = status.get("message")
    for ev in dicts(span.get("events")):
        if ev.get("name") == "exception":
            ea = attributes(ev.get("attributes"))
            etype = etype or ea.get("exception.type")
            message = message or ea.get("exception.message")
    return error_summary(etype, message) or "span failed"


def _stack(span: dict[str, Any]) -> str | None:
    for ev in dicts(span.get("events")):
        if ev.get("name") == "exception":
            stack = attributes(ev.get("attributes")).get("exception.stacktrace")
            if isinstance(stack, str) and stack.strip():
                return stack
    return None


def _took(span: dict[str, Any]) -> float | None:
    """A span's duration in milliseconds, from its integer nanoseconds (exact)."""
    try:
        start = int(span.get("startTimeUnixNano"))  # type: ignore[arg-type]
        end = int(span.get("endTimeUnixNano"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return (end - start) / 1e6 if start > 0 and end > 0 else None


def span_records(span: dict[str, Any], res: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of one span (see the module's docstring)."""
    attrs = attributes(span.get("attributes"))
    name: str = span["name"] if isinstance(span.get("name"), str) else ""
    kind = attrs.get("openinference.span.kind")
    op = attrs.get("gen_ai.operation.name") or _OPENINFERENCE.get(
        kind if isinstance(kind, str) else "", name.split(" ", 1)[0]
    )
    start = nanos(span.get("startTimeUnixNano"))
    end = nanos(span.get("endTimeUnixNano"))
    trace_id = hex_id(span.get("traceId"))
    span_id = hex_id(span.get("spanId"))
    parent = hex_id(span.get("parentSpanId"))
    base: dict[str, Any] = dict(res)
    base.update((k, v) for k, v in attrs.items() if k != "request_id")
    base["span"] = name
    rid = request_id(attrs, trace_id)
    if rid is not None:
        base["request_id"] = rid
    if trace_id is not None:
        base["trace_id_otel"] = trace_id
    if span_id is not None:
        base["span_id"] = span_id
    if parent is not None:
        base["parent_span_id"] = parent
    error = span_error(span, attrs)
    stack = _stack(span) if error else None
    took = _took(span)
    level = "error" if error else "info"
    llm = llm_operation(attrs)
    if llm is not None:
        calls = llm_span_records(base, attrs, name, (start, end, took), error, stack)
        if parent is not None:
            return calls
        # the root: the request is the call (a plain app calling the model)
        request = {k: v for k, v in request_side(base).items() if k != "gen_ai.request.model"}
        opened = {**request, "event": "request_start", "timestamp": start, "level": "info"}
        closed = {**request, "event": "request_failed" if error else "request_success"}
        closed.update(timestamp=end, duration_ms=took, level=level)
        if error:
            closed["error"] = error
            if stack:
                closed["exception"] = stack
        return [opened, *calls, closed]
    if parent is None:  # the root: the request
        kinds = ("request_start", "request_failed" if error else "request_success")
        query = attrs.get("query") or attrs.get("gen_ai.prompt")
        if query is not None:
            base["query"] = query
    elif op in ("execute_tool", "invoke_agent"):
        if op == "execute_tool":
            tool = attrs.get("gen_ai.tool.name") or attrs.get("tool.name")
            if tool is None:
                tool = name.split(" ", 1)[1] if name.startswith("execute_tool ") else name
        else:
            agent = attrs.get("gen_ai.agent.name") or attrs.get("agent.name")
            if agent is None:
                agent = name.split(" ", 1)[1] if name.startswith("invoke_agent ") else name
            tool = AGENT_STEP + str(agent or "?")
        base["tool"] = tool
        base["call_id"] = span_id or attrs.get("gen_ai.tool.call.id")
        kinds = ("tool_call_start", "tool_call_failed" if error else "tool_call_success")
    else:
        one = {**base, "event": name or "span", "timestamp": start, "level": level}
        one["duration_ms"] = took
        if error:
            one["error"] = error
            if stack:
                one["exception"] = stack
        return [one]
    first = {**base, "event": kinds[0], "timestamp": start, "level": "info"}
    last = {**base, "event": kinds[1], "timestamp": end, "duration_ms": took, "level": level}
    if error:
        last["error"] = error
        if stack:
            last["exception"] = stack
    return [first, last]


def failed_steps_fail_their_root(records: list[dict[str, Any]]) -> None:
    """A root span that ended without an error around an agent step that failed (the OpenAI
    Agents SDK's instrumentations leave the run's root span unset when the run raised) ends
    its request as failed, with the step's error. Within one export batch."""
    failed: dict[str, dict[str, Any]] = {}
    for rec in records:
        tool = rec.get("tool")
        if (
            rec.get("event") == "tool_call_failed"
            and isinstance(tool, str)
            and tool.startswith(AGENT_STEP)
            and rec.get("trace_id_otel") is not None
        ):
            failed.setdefault(rec["trace_id_otel"], rec)
    if not failed:
        return
    for rec in records:
        trace_id = rec.get("trace_id_otel")
        step = failed.get(trace_id) if isinstance(trace_id, str) else None
        if step is not None and rec.get("event") == "request_success":
            rec["event"] = "request_failed"
            rec["level"] = "error"
            rec["error"] = step.get("error") or f"{step['tool']} failed"
            rec["failed_step"] = step["tool"]
