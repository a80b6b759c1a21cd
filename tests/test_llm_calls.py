"""LLM calls and model versions: records, traces, statistics, queries, drift, doctor.

The log is written by structlog (:mod:`tests.llm_story`): two model versions, a 429, and
failures that start with the new version.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agenttui.doctor.models import check_models
from agenttui.ingest.fast_structlog import decode_one
from agenttui.ingest.records import Kind, decode_record
from agenttui.model.classify import classify
from agenttui.model.drift import drifted_requests, family, model_drift
from agenttui.model.query import parse
from agenttui.model.traces import TraceIndex, pack_loc
from agenttui.model.triage import error_groups
from agenttui.session import Session
from tests import llm_story
from tests.conftest import parallel_pieces
from tests.llm_story import ANSWER_TOKENS, BAD_PLAN, FAILED_ON_NEW, NEW, OLD, PLAN_TOKENS


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "agent.log"
    llm_story.write(path)
    return path


@pytest.fixture
def index(story: Path) -> Iterator[TraceIndex]:
    session = Session([str(story)])
    session.scan()
    with session.read() as ix:
        yield ix
    session.close()


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "agenttui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


# ------------------------------------------------------------------ records


@pytest.mark.parametrize(
    ("line", "kind", "model", "tokens", "finish"),
    [
        (
            {
                "event": "llm_call",
                "model": "m-1",
                "usage": {"prompt_tokens": 3, "completion_tokens": 4},
            },
            Kind.LLM_OK,
            "m-1",
            7,
            None,
        ),
        (
            {
                "event": "llm_call_end",
                "model": "m",
                "usage": {"input_tokens": 10, "output_tokens": 2},
                "stop_reason": "end_turn",
            },
            Kind.LLM_OK,
            "m",
            12,
            "end_turn",
        ),
        ({"event": "llm_call_end", "model": "m", "error": "boom"}, Kind.LLM_FAIL, "m", None, None),
        ({"event": "answered", "model": "m", "tokens": 5}, Kind.LLM_OK, "m", 5, None),
        ({"event": "answered", "model": "m"}, Kind.OTHER, "m", None, None),
        (
            {"event": "request_success", "usage": {"total_tokens": 99}},
            Kind.REQUEST_OK,
            None,
            99,
            None,
        ),
        (
            {
                "event": "llm_call",
                "gen_ai.response.model": "g-2",
                "gen_ai.usage.input_tokens": 1,
                "gen_ai.usage.output_tokens": 2,
                "finish_reasons": ["stop", "length"],
            },
            Kind.LLM_OK,
            "g-2",
            3,
            "stop,length",
        ),
        ({"event": "llm_call", "model": "m", "tokens": -3}, Kind.LLM_OK, "m", None, None),
        ({"event": "llm_call", "model": "m", "tokens": True}, Kind.LLM_OK, "m", None, None),
        ({"event": "tool_call_start", "total": 5, "input": 3}, Kind.TOOL_START, None, None, None),
    ],
)
def test_record_fields(
    line: dict[str, object], kind: Kind, model: str | None, tokens: int | None, finish: str | None
) -> None:
    raw = orjson.dumps(line)
    rec = decode_record(raw)
    assert (rec.kind, rec.model, rec.tokens, rec.finish) == (kind, model, tokens, finish)
    assert decode_one(raw) == rec  # the typed fast path agrees


@given(
    st.dictionaries(
        st.sampled_from(
            ["event", "model", "usage", "tokens", "total_tokens", "prompt_tokens", "finish_reason"]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**70), 2**70),
            st.floats(allow_nan=False),
            st.text(max_size=8),
            st.dictionaries(st.text(max_size=14), st.integers(-5, 2**40), max_size=3),
            st.lists(st.text(max_size=5), max_size=3),
        ),
    )
)
def test_fast_and_generic_paths_agree_on_llm_fields(obj: dict[str, object]) -> None:
    try:
        raw = orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return
    assert decode_one(raw) == decode_record(raw)


# ------------------------------------------------------------------ traces


def test_traces_carry_llm_calls_models_and_tokens(index: TraceIndex) -> None:
    ok = index.traces["req-1"]
    assert (ok.status, ok.tool_calls, ok.llm_calls, ok.tool_errors) == ("ok", 1, 2, 0)
    assert ok.total_tokens == PLAN_TOKENS + ANSWER_TOKENS
    # "gpt-4o" asked for, the dated version answered: one model.
    assert index.trace_models(ok) == [OLD]
    spans = index.spans(ok)
    assert [(s.kind, s.tool, s.status, s.duration_ms, s.tokens) for s in spans] == [
        ("llm", OLD, "ok", pytest.approx(800.0), PLAN_TOKENS),
        ("tool", "web_search", "ok", 100.0, None),
        ("llm", OLD, "ok", 500.0, ANSWER_TOKENS),
    ]
    limited = index.traces["req-4"]
    assert limited.status == "error"
    assert limited.tool_errors == 0  # an LLM call failed, not a tool
    assert index.error_text(limited) == llm_story.RATE_LIMITED
    assert [(s.kind, s.tool, s.status) for s in index.spans(limited)][-1] == (
        "llm",
        "gpt-4o",
        "error",
    )
    assert index.trace_models(index.traces["req-9"]) == [NEW]


def test_frozen_and_live_traces_agree(index: TraceIndex) -> None:
    trace = index.traces["req-2"]
    assert isinstance(trace.data, bytes)
    frozen = index.spans(trace), trace.total_tokens, trace.llm_calls, trace.tool_calls
    trace.thaw()
    assert (index.spans(trace), trace.total_tokens, trace.llm_calls, trace.tool_calls) == frozen


def test_model_and_tool_statistics_stay_apart(index: TraceIndex) -> None:
    assert list(index.tool_stats()) == ["web_search"]
    assert index.tool_stats()["web_search"].calls == 16
    models = index.model_stats()
    assert set(models) == {OLD, NEW, "gpt-4o"}
    old, new = models[OLD], models[NEW]
    assert (old.calls, old.errors, old.tokens) == (15, 0, 8 * PLAN_TOKENS + 7 * ANSWER_TOKENS)
    assert (new.calls, new.errors, new.tokens) == (16, 0, 8 * (PLAN_TOKENS + ANSWER_TOKENS))
    assert new.p50_ms == pytest.approx(650.0)
    assert new.max_ms == pytest.approx(800.0)
    assert models["gpt-4o"].errors == 1  # the 429: no version answered it
    assert old.first_seen == pytest.approx(llm_story.T0 + 0.001)
    assert new.first_seen == pytest.approx(llm_story.T0 + 80.001)


def test_statistics_survive_dropping_traces(index: TraceIndex) -> None:
    before = index.model_stats()
    index.drop_oldest(2)
    assert index.model_stats() == before


def test_a_start_and_an_end_pair_across_the_request_and_response_models() -> None:
    ix = TraceIndex()
    lines = [
        {"event": "llm_call_start", "request_id": "r", "model": "gpt-4o", "ts": 10.0},
        {"event": "tool_call_start", "request_id": "r", "tool": "t", "ts": 10.5},
        {"event": "llm_call_end", "request_id": "r", "model": "gpt-4o-2024-08-06", "ts": 11.0},
        {"event": "tool_call_success", "request_id": "r", "ts": 12.0},
    ]
    for i, line in enumerate(lines):
        ix.add(decode_record(orjson.dumps(line)), pack_loc(0, i))
    spans = ix.spans(ix.traces["r"])
    # The LLM end closes the LLM call, never the tool call opened in between, and the
    # tool's end (naming no tool) closes the tool call, never the LLM call.
    assert [(s.kind, s.tool, s.duration_ms) for s in spans] == [
        ("llm", "gpt-4o-2024-08-06", 1000.0),
        ("tool", "t", 1500.0),
    ]
    assert ix.model_stats()["gpt-4o-2024-08-06"].calls == 1
    assert "gpt-4o" not in ix.model_stats()


# ------------------------------------------------------------------ query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model:2024-11-20", [f"req-{n}" for n in range(9, 17)]),
        ("model:gpt-4o-2024-08-*", [f"req-{n}" for n in range(1, 9)]),
        ("status:error model:2024-11", list(FAILED_ON_NEW)),
        ("tokens<1500", ["req-4"]),
        ("tokens>=1.5k", [f"req-{n}" for n in range(1, 17) if n != 4]),
        ("-model:gpt-4o", []),
    ],
)
def test_query_model_and_tokens(index: TraceIndex, text: str, expected: list[str]) -> None:
    query = parse(text)
    found = [t.request_id for t in index.ordered() if query(index, t)]
    assert found == expected


# ------------------------------------------------------------------ drift


def test_family_strips_versions_not_generations() -> None:
    assert family("gpt-4o-2024-08-06") == "gpt-4o"
    assert family("claude-3-5-sonnet-20241022") == "claude-3-5-sonnet"
    assert family("gemini-1.5-pro-002") == "gemini-1.5-pro"
    assert family("anthropic.claude-3-5-sonnet-20240620-v1:0") == "anthropic.claude-3-5-sonnet"
    assert family("gpt-4.1") == "gpt-4.1"
    assert family("claude-opus-4-1") == "claude-opus-4-1"
    assert family("demo-planner-2024-09") == "demo-planner"


def test_drift_is_found_and_blamed_on_the_new_version(index: TraceIndex) -> None:
    (drift,) = model_drift(index)
    assert drift.family == "gpt-4o"
    assert [v.name for v in drift.versions] == [OLD, NEW]
    assert not drift.mixed
    assert drift.worse
    assert (drift.before_rate, drift.after_rate) == (1 / 8, 4 / 8)
    assert sorted(drift.failed_ids) == sorted(FAILED_ON_NEW)
    drifted = drifted_requests(index)
    assert set(drifted) == set(FAILED_ON_NEW)
    assert NEW in drifted["req-10"]


def test_failure_class_and_error_groups(index: TraceIndex) -> None:
    assert classify(BAD_PLAN).cls.key == "unknown"
    groups = {g.example: g for g in error_groups(index, drift=drifted_requests(index))}
    assert groups[BAD_PLAN].cls.key == "model_drift"
    assert groups[llm_story.RATE_LIMITED].cls.key == "rate_limit"  # a text rule wins
    found = [t.request_id for t in index.ordered() if parse("class:model_drift")(index, t)]
    assert found == list(FAILED_ON_NEW)


def test_doctor_finding(index: TraceIndex) -> None:
    check = check_models(model_drift(index))
    assert check.status == "fail"
    assert OLD in check.reason and NEW in check.reason
    assert "12% before, 50% on" in check.reason
    assert check_models([]).status == "ok"


def test_versions_served_together_are_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    lines = []
    for n in range(10):
        model = OLD if n % 2 else NEW
        lines.append(
            {
                "event": "llm_call",
                "request_id": f"r{n}",
                "model": model,
                "tokens": 5,
                "timestamp": llm_story.T0 + n,
            }
        )
        lines.append(
            {"event": "request_success", "request_id": f"r{n}", "timestamp": llm_story.T0 + n + 0.5}
        )
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    session = Session([str(path)])
    session.scan()
    with session.read() as ix:
        (drift,) = model_drift(ix)
        check = check_models([drift])
    session.close()
    assert drift.mixed and not drift.worse
    assert check.status == "warn"
    assert "served at the same time" in check.reason


# ------------------------------------------------------------------ commands


def test_traces_json_models_tokens_llm_calls(story: Path) -> None:
    rows = [json.loads(line) for line in _run("traces", str(story), "--json").splitlines()]
    by_id = {row["request_id"]: row for row in rows}
    first = by_id["req-1"]
    assert first["models"] == [OLD]
    assert first["tokens"] == PLAN_TOKENS + ANSWER_TOKENS
    assert first["tool_calls"] == 1
    assert [t["tool"] for t in first["tools"]] == ["web_search"]
    assert [(c["model"], c["status"], c["tokens"]) for c in first["llm_calls"]] == [
        (OLD, "ok", PLAN_TOKENS),
        (OLD, "ok", ANSWER_TOKENS),
    ]
    assert by_id["req-4"]["llm_calls"][-1]["error"] == llm_story.RATE_LIMITED


def test_stats_json_per_model(story: Path) -> None:
    stats = json.loads(_run("stats", str(story), "--json"))
    new = stats["models"][NEW]
    assert (new["calls"], new["errors"], new["tokens"]) == (
        16,
        0,
        8 * (PLAN_TOKENS + ANSWER_TOKENS),
    )
    assert (new["p50_ms"], new["p99_ms"]) == (650.0, 800.0)
    assert new["first_seen"] == "2026-12-01T10:01:20.001Z"
    assert list(stats["tools"]) == ["web_search"]


def test_doctor_names_the_drift(story: Path) -> None:
    out = json.loads(_run("doctor", str(story), "--json"))
    (row,) = [c for c in out["checks"] if c["name"] == "model versions"]
    assert row["status"] == "fail"
    assert row["detail"]["families"][0]["versions"] == [OLD, NEW]


def test_one_and_two_workers_agree_on_llm_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenttui.commands.stats import print_stats
    from agenttui.commands.traces import print_traces

    log = tmp_path / "agent.log"
    llm_story.write(log, requests=300)

    def outputs() -> tuple[bytes, bytes]:
        stats, traces = io.BytesIO(), io.BytesIO()
        assert print_stats([str(log)], stats) == 0
        assert print_traces([str(log)], traces) == 0
        return stats.getvalue(), traces.getvalue()

    monkeypatch.setenv("AGENTTUI_WORKERS", "1")
    one = outputs()
    started = parallel_pieces(monkeypatch, log)  # requests cut in two
    assert outputs() == one
    assert started and min(started) >= 2  # children really indexed pieces of the file
    assert json.loads(one[0])["models"][NEW]["calls"] == 2 * (300 - 8)


def test_drift_rates_say_when_older_traces_left_memory(index: TraceIndex) -> None:
    index.drop_oldest(14)  # keeps req-3 .. req-16: two old-version requests
    (drift,) = model_drift(index)
    assert drift.before_rate is not None
    assert "2 older ones dropped" in drift.summary()


def test_incident_note_lists_llm_calls(story: Path) -> None:
    note = _run("report", "req-4", str(story))
    assert f"- LLM calls: 2, failed: 1, models: {OLD}, gpt-4o, tokens: 1,280" in note
    assert "- failing LLM call: **gpt-4o**" in note
    assert "## LLM calls" in note
    assert f"- {OLD}: ok, 800 ms, 1,280 tokens" in note


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes"


def test_overlapping_llm_calls_pair_by_call_id() -> None:
    ix = TraceIndex()
    lines = [
        {"event": "llm_call_start", "request_id": "r", "model": "m", "call_id": "a", "ts": 10.0},
        {"event": "llm_call_start", "request_id": "r", "model": "m", "call_id": "b", "ts": 10.01},
        {"event": "llm_call_end", "request_id": "r", "model": "m", "call_id": "b", "ts": 10.05},
        {"event": "llm_call_end", "request_id": "r", "model": "m", "call_id": "a", "ts": 10.1},
    ]
    for i, line in enumerate(lines):
        ix.add(decode_record(orjson.dumps(line)), pack_loc(0, i))
    spans = ix.spans(ix.traces["r"])
    assert [round(s.duration_ms or 0) for s in spans] == [100, 40]


def test_requests_that_only_name_the_alias_count_for_the_serving_version(tmp_path: Path) -> None:
    # Calls that failed before any version answered (429, 500) name only "gpt-4o".
    session = Session([str(FIXTURES / "otlp_openai_chat.json")])
    session.scan()
    with session.read() as ix:
        (drift,) = model_drift(ix)
    session.close()
    assert [v.name for v in drift.versions] == [OLD, NEW]
    assert [(v.requests, v.failed) for v in drift.versions] == [(4, 1), (4, 3)]
    assert drift.worse


def test_llm_calls_without_a_request_id_count_per_model() -> None:
    # GenAI details events written with tracing off: calls of no request.
    session = Session([str(FIXTURES / "otlp_openai_untraced.json")])
    session.scan()
    with session.read() as ix:
        stats = ix.model_stats()
        traces = len(ix)
    session.close()
    assert traces == 0
    assert sum(s.calls for s in stats.values()) == 4
    assert all(s.tokens > 0 for s in stats.values() if s.errors < s.calls)
