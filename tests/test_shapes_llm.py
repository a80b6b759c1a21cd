"""LLM calls in OpenTelemetry data: GenAI ``chat`` / ``embeddings`` spans, OpenInference LLM
spans and the GenAI log events beside them. Fixtures recorded by
``tests/fixtures/make_openai_chat.py`` from the real ``openai`` client (3.57.0) instrumented by
opentelemetry-instrumentation-openai-v2 2.4b0 (with opentelemetry-util-genai 0.4b0 and 1.1b0)
and openinference-instrumentation-openai 0.1.66, talking to a fake server on 127.0.0.1.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from agenttui.ingest.records import LLM_KINDS, Kind, Record
from agenttui.ingest.shapes.otlp import expand
from agenttui.ingest.shapes.otlp_spans import span_records
from agenttui.ingest.shapes.otlp_values import error_summary, error_type
from agenttui.session import Session
from tests.shape_checks import exact, formats_of
from tests.test_shapes import FIXTURES, traces_json

CHAT = FIXTURES / "otlp_openai_chat.json"
EVENTS = FIXTURES / "otlp_openai_events.json"
LATEST = FIXTURES / "otlp_openai_latest.json"
UNTRACED = FIXTURES / "otlp_openai_untraced.json"
OPENINFERENCE = FIXTURES / "otlp_openai_openinference.json"

OLD = "gpt-4o-2024-08-06"
NEW = "gpt-4o-2024-11-20"
RATE_LIMIT = (
    "RateLimitError: Error code: 429 - Rate limit reached for gpt-4o on tokens per min (TPM):"
    " Limit 30000, Used 29800, Requested 420."
)
SERVER_ERROR = (
    "InternalServerError: Error code: 500 - The server had an error while processing your request."
)


def records(path: Path) -> list[tuple[dict[str, Any], Record]]:
    """Every record of an OTLP file, in file order (each batch in time order)."""
    out: list[tuple[dict[str, Any], Record]] = []
    with path.open("rb") as f:
        for line in f:
            for obj, rec in expand(line.rstrip(b"\n")):
                assert obj is not None
                out.append((obj, rec))
    return out


def by_request(path: Path) -> dict[str | None, list[tuple[Any, ...]]]:
    """Per request: (kind, model, tokens, finish, duration ms, error) of its records."""
    out: dict[str | None, list[tuple[Any, ...]]] = {}
    for _, rec in records(path):
        out.setdefault(rec.request_id, []).append(
            (rec.kind.name, rec.model, rec.tokens, rec.finish, rec.duration_ms, rec.error)
        )
    return out


def trace(n: int, seed: int = 1) -> str:
    """The trace id the fixture script's sequential ids give."""
    return f"4f7e1a11{seed:016x}{n:08x}"


# The requests of otlp_openai_chat.json: an agent run with two chat calls around a tool call;
# an HTTP request whose embeddings call succeeds and chat call is rate limited (429); a call cut
# at max_tokens (finish ``length``); a plain call whose chat span is the root; then the new
# model version: an ok run, a 429, a 500, and a plain call that is rate limited.
CHAT_EXPECTED: dict[str | None, list[tuple[Any, ...]]] = {
    trace(1): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_OK", OLD, 334, "tool_calls", 812.0, None),
        ("TOOL_START", None, None, None, None, None),
        ("TOOL_OK", None, None, None, 45.0, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_OK", OLD, 490, "stop", 640.0, None),
        ("REQUEST_OK", None, None, None, 1504.0, None),
    ],
    trace(6): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "text-embedding-3-small", None, None, None, None),
        ("LLM_OK", "text-embedding-3-small", 9, None, 35.0, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_FAIL", "gpt-4o", None, None, 120.0, RATE_LIMIT),
        ("REQUEST_FAIL", None, None, None, 157.0, RATE_LIMIT),
    ],
    trace(0xA): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_OK", OLD, 606, "length", 1500.0, None),
        ("REQUEST_OK", None, None, None, 1505.0, None),
    ],
    trace(0xD): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_OK", OLD, 102, "stop", 500.0, None),
        ("REQUEST_OK", None, None, None, 500.0, None),
    ],
    trace(0xF): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_OK", NEW, 125, "stop", 700.0, None),
        ("REQUEST_OK", None, None, None, 705.0, None),
    ],
    trace(0x12): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_FAIL", "gpt-4o", None, None, 95.0, RATE_LIMIT),
        ("REQUEST_FAIL", None, None, None, 97.0, RATE_LIMIT),
    ],
    trace(0x15): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_FAIL", "gpt-4o", None, None, 2400.0, SERVER_ERROR),
        ("REQUEST_FAIL", None, None, None, 2402.0, SERVER_ERROR),
    ],
    trace(0x18): [
        ("REQUEST_START", None, None, None, None, None),
        ("LLM_START", "gpt-4o", None, None, None, None),
        ("LLM_FAIL", "gpt-4o", None, None, 88.0, RATE_LIMIT),
        ("REQUEST_FAIL", None, None, None, 88.0, RATE_LIMIT),
    ],
}


def test_openai_v2_chat_spans_are_llm_calls_of_their_request() -> None:
    """Each chat / embeddings span: ``llm_call_start`` with the model asked for, then
    ``llm_call`` / ``llm_call_failed`` with the dated version that answered, tokens (input plus
    output), the finish reason, the span's exact duration and its error (the 429, the 500)."""
    assert by_request(CHAT) == CHAT_EXPECTED


def test_llm_records_carry_event_names_call_ids_and_span_fields() -> None:
    got = [(obj, rec) for obj, rec in records(CHAT) if rec.kind in LLM_KINDS]
    assert Counter(obj["event"] for obj, _ in got) == {
        "llm_call_start": 10,
        "llm_call": 6,
        "llm_call_failed": 4,
    }
    for obj, _ in got:  # the span id pairs a call's start and end
        assert obj["call_id"] == obj["span_id"]
    starts = {obj["call_id"] for obj, rec in got if rec.kind is Kind.LLM_START}
    ends = [obj["call_id"] for obj, rec in got if rec.kind is not Kind.LLM_START]
    assert sorted(ends) == sorted(starts)
    first_end = next(obj for obj, rec in got if rec.kind is Kind.LLM_OK)
    assert first_end["span"] == "chat gpt-4o"
    assert first_end["gen_ai.usage.input_tokens"] == 310
    assert first_end["gen_ai.usage.output_tokens"] == 24
    assert first_end["finish_reason"] == "tool_calls"
    assert first_end["host"] == "agent-a" and first_end["service"] == "support-bot"


def test_usage_is_counted_once_per_call() -> None:
    """Only a call's end carries its usage: not its start, nor the request records of a root
    chat span (the tokens of a trace add up to its calls' usage)."""
    tokens = Counter[str]()
    for _, rec in records(CHAT):
        if rec.tokens is not None:
            assert rec.kind is Kind.LLM_OK
            tokens[rec.request_id or ""] += rec.tokens
    assert tokens == {
        trace(1): 310 + 24 + 402 + 88,
        trace(6): 9,
        trace(0xA): 350 + 256,
        trace(0xD): 90 + 12,
        trace(0xF): 95 + 30,
    }
    for obj, rec in records(CHAT):
        if rec.kind in (Kind.REQUEST_START, Kind.REQUEST_OK, Kind.REQUEST_FAIL):
            assert rec.model is None and rec.finish is None
            assert not [
                k
                for k in obj
                if k.startswith(("gen_ai.usage.", "gen_ai.response.", "gen_ai.request.model"))
            ]


def test_model_drift_shows_in_the_answering_versions() -> None:
    """The same ``gpt-4o`` asked all along, answered by a new version from the fifth request on;
    three of the four calls after it fail."""
    calls = [(rec.ts, rec.model, rec.kind) for _, rec in records(CHAT) if rec.kind in LLM_KINDS]
    answered = [
        m
        for _, m, k in sorted(calls, key=lambda c: c[0] or 0.0)
        if k is Kind.LLM_OK and m != "text-embedding-3-small"
    ]
    assert answered == [OLD, OLD, OLD, OLD, NEW]
    asked = {m for _, m, k in calls if k is Kind.LLM_START} - {"text-embedding-3-small"}
    assert asked == {"gpt-4o"}
    after = [
        k
        for ts, _, k in sorted(calls, key=lambda c: c[0] or 0.0)
        if ts is not None and k is not Kind.LLM_START
    ][-4:]
    assert after == [Kind.LLM_OK, Kind.LLM_FAIL, Kind.LLM_FAIL, Kind.LLM_FAIL]


def test_chat_spans_give_traces_with_root_status_errors_and_durations() -> None:
    """End to end through the session: one trace per request (the trace id), the root's status,
    error and duration; a plain chat span as root is a request of its own."""
    got = traces_json(CHAT)
    assert exact(got) == [
        (trace(1), "ok", None, 1504.0, [("lookup_order", "ok", None, 45.0)]),
        (trace(6), "error", RATE_LIMIT, 157.0, []),
        (trace(0xA), "ok", None, 1505.0, []),
        (trace(0xD), "ok", None, 500.0, []),
        (trace(0xF), "ok", None, 705.0, []),
        (trace(0x12), "error", RATE_LIMIT, 97.0, []),
        (trace(0x15), "error", SERVER_ERROR, 2402.0, []),
        (trace(0x18), "error", RATE_LIMIT, 88.0, []),
    ]
    assert [t["events"] for t in got] == [8, 6, 4, 4, 4, 4, 4, 4]
    assert got[3]["start"] == "2026-12-01T04:40:15.000Z"


def test_legacy_events_are_details_of_their_spans_calls() -> None:
    """``gen_ai.*.message`` and ``gen_ai.choice`` events carry their chat span's ids and no
    model or usage: events of the trace, never calls. Read with the spans, they join the same
    traces without changing a status or adding a call."""
    got = records(EVENTS)
    assert {rec.kind for _, rec in got} == {Kind.OTHER}
    assert Counter(rec.message for _, rec in got) == {
        "gen_ai.system.message": 9,
        "gen_ai.user.message": 9,
        "gen_ai.choice": 5,
        "gen_ai.assistant.message": 1,
        "gen_ai.tool.message": 1,
    }
    assert {rec.request_id for _, rec in got} == set(CHAT_EXPECTED)
    choices = [obj for obj, rec in got if rec.message == "gen_ai.choice"]
    assert [c["finish_reason"] for c in choices] == ["tool_calls", "stop", "length", "stop", "stop"]
    assert choices[0]["message"]["tool_calls"][0]["function"]["name"] == "lookup_order"
    spans = traces_json(CHAT)
    both = traces_json(CHAT, EVENTS)
    assert exact(both) == exact(spans)
    more = {t["request_id"]: t["events"] for t in both}
    alone = Counter(rec.request_id for _, rec in got)
    assert more == {t["request_id"]: t["events"] + alone[t["request_id"]] for t in spans}


def test_latest_conventions_details_events_do_not_count_calls_twice() -> None:
    """With the latest conventions each call has a span and a
    ``gen_ai.client.inference.operation.details`` event with the same model and usage (one
    file): the span is the call, the event an event of the trace naming the model, its usage
    kept under ``gen_ai.usage``."""
    got = records(LATEST)
    calls = [rec for _, rec in got if rec.kind in (Kind.LLM_OK, Kind.LLM_FAIL)]
    assert [(r.model, r.tokens, r.finish, r.duration_ms, r.error) for r in calls] == [
        (OLD, 334, "tool_calls", 812.0, None),
        (OLD, 490, "stop", 640.0, None),
        ("gpt-4o", None, None, 95.0, RATE_LIMIT),
        (NEW, 346, "length", 500.0, None),
    ]
    assert sum(rec.tokens or 0 for _, rec in got) == 334 + 490 + 346
    details = [(obj, rec) for obj, rec in got if rec.message and rec.message.startswith("gen_ai.")]
    assert [(r.kind, r.model, r.tokens) for _, r in details] == [
        (Kind.OTHER, OLD, None),
        (Kind.OTHER, OLD, None),
        (Kind.OTHER, "gpt-4o", None),
        (Kind.OTHER, NEW, None),
    ]
    assert details[0][0]["gen_ai.usage"] == {"input_tokens": 310, "output_tokens": 24}
    assert details[2][0]["error"] == "RateLimitError"  # the class util-genai wrote, named
    assert {obj["span_id"] for obj, _ in details} == {
        obj["call_id"] for obj, rec in got if rec.kind in (Kind.LLM_OK, Kind.LLM_FAIL)
    }
    assert exact(traces_json(LATEST)) == [
        (trace(1, 2), "ok", None, 1504.0, [("lookup_order", "ok", None, 45.0)]),
        (trace(6, 2), "error", RATE_LIMIT, 97.0, []),
        (trace(9, 2), "ok", None, 500.0, []),
    ]


def test_details_events_outside_spans_are_the_calls() -> None:
    """Tracing off: the details events carry no span, so each is an LLM call at its time."""
    got = records(UNTRACED)
    assert [
        (obj["event"], r.kind, r.model, r.tokens, r.finish, r.duration_ms, r.error, r.request_id)
        for obj, r in got
    ] == [
        ("llm_call", Kind.LLM_OK, OLD, 334, "tool_calls", None, None, None),
        ("llm_call", Kind.LLM_OK, OLD, 490, "stop", None, None, None),
        ("llm_call_failed", Kind.LLM_FAIL, "gpt-4o", None, None, None, "RateLimitError", None),
        ("llm_call", Kind.LLM_OK, NEW, 346, "length", None, None, None),
    ]
    assert [round(r.ts - 1_796_100_000, 3) for _, r in got if r.ts] == [0.814, 1.501, 5.097, 10.5]
    assert got[0][0]["gen_ai.usage.input_tokens"] == 310
    assert traces_json(UNTRACED) == []  # no trace id, no request: calls of no trace


def test_openinference_llm_spans_are_llm_calls() -> None:
    """OpenInference ``ChatCompletion`` spans (kind LLM): ``llm.model_name``,
    ``llm.token_count.*``, ``llm.finish_reason``; the failed one names only the model asked for
    (in ``llm.invocation_parameters``) and its error comes from the span's status."""
    assert by_request(OPENINFERENCE) == {
        trace(1, 3): CHAT_EXPECTED[trace(1)],
        trace(6, 3): [
            ("REQUEST_START", None, None, None, None, None),
            ("LLM_START", "gpt-4o", None, None, None, None),
            ("LLM_FAIL", "gpt-4o", None, None, 95.0, RATE_LIMIT),
            ("REQUEST_FAIL", None, None, None, 97.0, RATE_LIMIT),
        ],
        trace(9, 3): [
            ("REQUEST_START", None, None, None, None, None),
            ("LLM_START", "gpt-4o", None, None, None, None),
            ("LLM_OK", NEW, 346, "length", 500.0, None),
            ("REQUEST_OK", None, None, None, 500.0, None),
        ],
    }
    assert exact(traces_json(OPENINFERENCE)) == [
        (trace(1, 3), "ok", None, 1504.0, [("lookup_order", "ok", None, 45.0)]),
        (trace(6, 3), "error", RATE_LIMIT, 97.0, []),
        (trace(9, 3), "ok", None, 500.0, []),
    ]


def test_session_events_of_a_rate_limited_request() -> None:
    session = Session([str(CHAT), str(EVENTS)], mapping={})
    try:
        session.scan()
        events = session.events(session.index.traces[trace(6)])
        assert [e.record.message for e in events] == [
            "request_start",
            "llm_call_start",
            "llm_call",
            "llm_call_start",
            "gen_ai.system.message",  # the chat call's prompt events, at its start
            "gen_ai.user.message",
            "llm_call_failed",
            "request_failed",
        ]
        assert events[-1].record.error == RATE_LIMIT
        assert "openai.RateLimitError" in str(events[-1].exception)  # the root's exception event
    finally:
        session.close()


def test_formats_names_the_llm_calls_it_read() -> None:
    reasons = {
        Path(e["path"]).name: e["reason"]
        for e in formats_of(CHAT, EVENTS, LATEST, UNTRACED, OPENINFERENCE)
    }
    assert reasons == {
        CHAT.name: "OTLP JSON export batch: resourceSpans; LLM calls: OTLP GenAI chat spans,"
        " OTLP GenAI embeddings spans",
        EVENTS.name: "OTLP JSON export batch: resourceLogs; GenAI events of calls their spans"
        " give (gen_ai.system.message, gen_ai.user.message, gen_ai.choice,"
        " gen_ai.assistant.message)",
        LATEST.name: "OTLP JSON export batch: resourceLogs; LLM calls: OTLP GenAI chat spans;"
        " GenAI events of calls their spans give (gen_ai.client.inference.operation.details)",
        UNTRACED.name: "OTLP JSON export batch: resourceLogs; LLM calls: GenAI events outside"
        " spans (gen_ai.client.inference.operation.details)",
        OPENINFERENCE.name: "OTLP JSON export batch: resourceSpans; LLM calls: OpenInference"
        " LLM spans",
    }
    [plain] = formats_of(FIXTURES / "otlp_genai.json")
    assert plain["reason"] == "OTLP JSON export batch: resourceSpans"


# ------------------------------------------------------------------ spans written by hand


def _span(name: str, attrs: dict[str, Any], parent: str | None = "00000000000000aa") -> Any:
    span: dict[str, Any] = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "00f067aa0ba902b7",
        "name": name,
        "startTimeUnixNano": "1796100000000000000",
        "endTimeUnixNano": "1796100000250000000",
        "attributes": [{"key": k, "value": v} for k, v in attrs.items()],
    }
    if parent is not None:
        span["parentSpanId"] = parent
    return span


def test_model_from_the_span_name_when_no_attribute_names_it() -> None:
    op = {"stringValue": "text_completion"}
    got = span_records(_span("text_completion llama3", {"gen_ai.operation.name": op}), {})
    assert [(d["event"], d.get("model"), d.get("duration_ms")) for d in got] == [
        ("llm_call_start", "llama3", None),
        ("llm_call", "llama3", 250.0),
    ]
    other = span_records(_span("chat", {"gen_ai.operation.name": {"stringValue": "chat"}}), {})
    assert "model" not in other[1]


def test_error_type_names_a_class_written_as_its_repr() -> None:
    assert error_type("<class 'openai.RateLimitError'>") == "RateLimitError"
    assert error_type("TimeoutError") == "TimeoutError"
    assert error_summary("openai.RateLimitError", "RateLimitError: slow down") == (
        "RateLimitError: slow down"
    )
    assert error_summary("<class 'openai.APIError'>", "boom") == "APIError: boom"
    assert error_summary(None, "boom") == "boom"
    assert error_summary(None, None) is None


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
)


@settings(max_examples=200, deadline=None)
@given(
    op=st.sampled_from(["chat", "embeddings", "text_completion", "generate_content"]),
    values=st.dictionaries(
        st.sampled_from(
            [
                "gen_ai.request.model",
                "gen_ai.response.model",
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.output_tokens",
                "gen_ai.response.finish_reasons",
                "error.type",
                "llm.token_count.total",
                "llm.invocation_parameters",
            ]
        ),
        _VALUES,
    ),
    root=st.booleans(),
)
def test_any_llm_span_gives_sane_records(op: str, values: dict[str, Any], root: bool) -> None:
    def wrap(v: Any) -> dict[str, Any]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, list):
            return {"arrayValue": {"values": [{"stringValue": s} for s in v]}}
        return {"stringValue": v} if isinstance(v, str) else {}

    attrs = {"gen_ai.operation.name": {"stringValue": op}}
    attrs.update((k, wrap(v)) for k, v in values.items())
    line = (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":['
        + orjson.dumps(_span(f"{op} m", attrs, None if root else "00000000000000aa"))
        + b"]}]}]}"
    )
    got = [rec for _, rec in expand(line)]
    kinds = [rec.kind for rec in got]
    calls = [k for k in kinds if k in (Kind.LLM_OK, Kind.LLM_FAIL)]
    assert len(calls) == 1 and kinds.count(Kind.LLM_START) == 1
    assert (Kind.REQUEST_START in kinds) is root
    for rec in got:
        assert rec.tokens is None or (rec.kind in (Kind.LLM_OK, Kind.LLM_FAIL) and rec.tokens >= 0)
        assert rec.model is None or isinstance(rec.model, str)


def test_trace_tokens_and_models_count_each_call_once() -> None:
    """Through the index: spans alone, spans with their 1.30 events, and spans with their
    details events in one file give each trace the same tokens and models (no call counted
    twice); the answering version names the model, the asked alias only a call that failed."""
    want = [
        (["gpt-4o-2024-08-06"], 824, 2),
        (["text-embedding-3-small", "gpt-4o"], 9, 2),
        (["gpt-4o-2024-08-06"], 606, 1),
        (["gpt-4o-2024-08-06"], 102, 1),
        (["gpt-4o-2024-11-20"], 125, 1),
        (["gpt-4o"], None, 1),
        (["gpt-4o"], None, 1),
        (["gpt-4o"], None, 1),
    ]
    for paths in ((CHAT,), (CHAT, EVENTS)):
        got = traces_json(*paths)
        assert [(t["models"], t["tokens"], len(t["llm_calls"])) for t in got] == want
    latest = traces_json(LATEST)
    assert [(t["models"], t["tokens"], len(t["llm_calls"])) for t in latest] == [
        (["gpt-4o-2024-08-06"], 824, 2),
        (["gpt-4o"], None, 1),
        (["gpt-4o-2024-11-20"], 346, 1),
    ]
