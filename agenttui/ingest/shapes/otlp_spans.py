"""OTLP spans as records.

* The request is the trace's root span (no parent): its start is ``request_start`` and its end
  ``request_success`` / ``request_failed`` with the root's duration and error, whatever the span
  (GenAI ``invoke_agent`` or an HTTP server span).
* ``execute_tool`` spans are tool calls, paired by their ``spanId`` (two overlapping calls of one
  tool keep their own times; ``gen_ai.tool.call.id`` is optional).
* Nested ``invoke_agent`` spans (handoffs, sub-agents) are steps of the same request: calls of
  ``agent <name>``, beside the tools in the waterfall.
* Any other span is one event at its start, with its duration.
"""

from __future__ import annotations

from typing import Any, Final

from agenttui.ingest.shapes.otlp_values import attributes, dicts, hex_id, nanos, request_id

AGENT_STEP: Final = "agent "
"""Prefix of the tool name a nested ``invoke_agent`` span is shown as."""


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
    if etype and message:
        return f"{etype}: {message}" if not str(message).startswith(f"{etype}:") else message
    return str(message or etype or "span failed")


def _stack(span: dict[str, Any]) -> str | None:
    for ev in dicts(span.get("events")):
        if ev.get("name") == "exception":
            stack = attributes(ev.get("attributes")).get("exception.stacktrace")
            if isinstance(stack, str) and stack.strip():
                return stack
    return None


def span_records(span: dict[str, Any], res: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of one span (see the module's docstring)."""
    attrs = attributes(span.get("attributes"))
    name: str = span["name"] if isinstance(span.get("name"), str) else ""
    op = attrs.get("gen_ai.operation.name") or name.split(" ", 1)[0]
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
    took = (end - start) * 1000.0 if start is not None and end is not None else None
    level = "error" if error else "info"
    if parent is None:  # the root: the request
        kinds = ("request_start", "request_failed" if error else "request_success")
        query = attrs.get("query") or attrs.get("gen_ai.prompt")
        if query is not None:
            base["query"] = query
    elif op in ("execute_tool", "invoke_agent"):
        if op == "execute_tool":
            tool = attrs.get("gen_ai.tool.name") or (name.split(" ", 1)[1] if " " in name else name)
        else:
            agent = attrs.get("gen_ai.agent.name") or (name.split(" ", 1)[1] if " " in name else "")
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
