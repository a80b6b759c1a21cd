"""OpenTelemetry: root spans, sub-agent steps, tool calls paired by span id, ids in any
encoding, log records with event names and exceptions, metrics skipped and counted, Collector
filelog bodies, pretty-printed files. Fixtures from the OpenTelemetry Python SDK 1.45.2 recorded
by ``tests/fixtures/make_otlp.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui.cli import main
from agenttui.ingest.records import Kind
from agenttui.session import Session
from tests import shape_story
from tests.shape_checks import ERROR, exact, formats_of
from tests.test_shapes import FIXTURES, story_of, traces_json

# ------------------------------------------------------------------ OpenTelemetry

GENAI_TRACE = "2126f002b49f68d4d921d2782dc82fb4"


def _genai_expected(trace_id: str = GENAI_TRACE) -> list[tuple[Any, ...]]:
    timeout = "TimeoutError: web_search timed out after 5s"
    return [
        (
            trace_id,
            "error",
            "PlannerError: no plan after the handoff",
            100.0,
            [
                ("agent researcher", "ok", None, 60.0),
                ("web_search", "ok", None, 40.0),
                ("web_search", "error", timeout, 15.0),
            ],
        )
    ]


def test_otel_root_span_is_the_request_and_sub_agents_are_steps() -> None:
    """A planner failing around a sub-agent that succeeds is an error trace with the root's
    duration; overlapping calls of one tool keep their own times (paired by spanId)."""
    got = traces_json(FIXTURES / "otlp_genai.json")
    assert exact(got) == _genai_expected()
    assert got[0]["query"] == "plan a trip to Oslo"
    assert [t["start"][-7:] for t in got[0]["tools"]] == ["20.010Z", "20.020Z", "20.025Z"]


def test_otel_ids_in_base64_and_upper_case_hex_are_the_same_trace(tmp_path: Path) -> None:
    assert exact(traces_json(FIXTURES / "otlp_base64.json")) == _genai_expected()
    upper = tmp_path / "upper.json"
    text = (FIXTURES / "otlp_genai.json").read_text()
    for key in ("traceId", "spanId", "parentSpanId"):
        text = text.replace(f'"{key}":"', f'"{key}":"\0')
    parts = text.split("\0")
    upper.write_text(
        parts[0]
        + "".join(
            p[:32].upper() + p[32:] if p[16:17] != '"' else p[:16].upper() + p[16:]
            for p in parts[1:]
        )
    )
    assert GENAI_TRACE.upper() in upper.read_text()
    assert exact(traces_json(upper)) == _genai_expected()


def test_otel_non_genai_trace_takes_its_root_span() -> None:
    path = FIXTURES / "otlp_http.json"
    got = traces_json(path)
    assert [(t["status"], t["error"], t["duration_ms"], t["tools"]) for t in got] == [
        ("error", "KeyError: 'answer'", 50.0, []),
        ("ok", None, 2.0, []),
    ]
    session = Session([str(path)], mapping={})
    session.scan()
    events = session.events(session.index.traces[got[0]["request_id"]])
    assert [e.record.message for e in events] == [
        "request_start",
        "SELECT answers",
        "request_failed",
    ]
    assert {e.source for e in events} == {"otlp_http.json"}  # no host.name: never the instance id
    assert "KeyError" in str(events[-1].exception)
    session.close()


def test_otel_log_records_with_event_names_and_exception_attributes() -> None:
    path = FIXTURES / "otlp_events.json"
    got = traces_json(path)
    assert exact(got) == [
        ("req-ok-1", "ok", None, 4.0, [("web_search", "ok", None, 2.0)]),
        (
            "req-fail-2",
            "error",
            ERROR,  # request_failed carries no error: its failed tool's
            9.0,
            [("web_search", "ok", None, 1.0), ("fetch_url", "error", ERROR, 5.0)],
        ),
    ]
    assert {s["source"] for t in got for s in t["tools"]} == {"agent-c"}
    session = Session([str(path)], mapping={})
    session.scan()
    failed = [
        e
        for e in session.events(session.index.traces["req-fail-2"])
        if e.record.kind == Kind.TOOL_FAIL
    ]
    assert failed[0].record.message == "tool_call_failed"
    assert str(failed[0].exception).startswith("Traceback (most recent call last):")
    assert session.index.lines == 10  # the metrics batch gives no event
    session.close()
    [entry] = formats_of(path)
    assert "1 metrics or profiles batch(es) skipped" in entry["reason"]


@pytest.mark.parametrize("lib", ["pino", "loguru", "pjl", "structlog"])
def test_collector_filelog_bodies_are_read_with_their_own_shape(lib: str) -> None:
    path = FIXTURES / f"otlp_filelog_{lib}.json"
    got = traces_json(path)
    assert story_of(got) == shape_story.EXPECTED
    batch = orjson.loads(path.read_bytes())
    records = batch["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    read_at = int(records[0]["observedTimeUnixNano"]) / 1e9
    from datetime import datetime

    start = datetime.fromisoformat(got[0]["start"].replace("Z", "+00:00")).timestamp()
    assert read_at - start > 55  # the line's own time, not the Collector's read time
    if lib == "pino":
        assert exact(got) == exact(traces_json(FIXTURES / "pino.log"))


def test_formats_says_which_files_it_could_not_read(tmp_path: Path, capsys: Any) -> None:
    # Named like a log but not structured: read as plain text, and said so. (A binary file
    # would not be read at all: formats lists it as skipped, see tests/test_discover.py.)
    (tmp_path / "binary.log").write_bytes(b"\x01\x02 not a log\n")
    shutil_copy = (FIXTURES / "pino.log").read_bytes()
    (tmp_path / "pino.log").write_bytes(shutil_copy)
    assert main(["formats", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        f"could not read {tmp_path}/binary.log: no line is JSON or key=value"
        " (read as plain text lines)"
    )
    assert sum(line.startswith("could not read") for line in out) == 1
    [entry] = [e for e in formats_of(tmp_path / "binary.log")]
    assert "unread" in entry


def test_pretty_printed_otlp_files_are_read(tmp_path: Path) -> None:
    path = FIXTURES / "otlp_pretty.json"
    [entry] = formats_of(path)
    assert entry["shape"] == "otlp-pretty"
    got = traces_json(path)
    assert exact(got) == _genai_expected()
    assert {s["source"] for s in got[0]["tools"]} == {"agent-a"}
    # Several documents in one file, the second arriving while the file is followed.
    both = tmp_path / "two.json"
    http = orjson.loads((FIXTURES / "otlp_http.json").read_bytes())
    both.write_text(path.read_text())
    session = Session([str(both)], mapping={})
    session.scan()
    assert len(session.index.traces) == 1
    with both.open("a") as f:
        f.write(orjson.dumps(http, option=orjson.OPT_INDENT_2).decode() + "\n")
    session.poll()
    assert len(session.index.traces) == 3
    rid = next(t for t in session.index.traces if t != GENAI_TRACE)
    trace = session.index.traces[rid]
    events = session.events(trace)
    assert events[-1].record.kind in (Kind.REQUEST_FAIL, Kind.REQUEST_OK)
    assert all(e.data is not None for e in events)
    session.close()


def test_mapping_over_pretty_printed_otlp(in_tmp: Path) -> None:
    (in_tmp / "agenttui.toml").write_text('[mapping]\ntool_start = "never.logged"\n')
    [entry] = formats_of(FIXTURES / "otlp_pretty.json")
    assert entry["shape"] == "otlp-pretty+mapping"
    assert exact(traces_json(FIXTURES / "otlp_pretty.json")) == _genai_expected()


@pytest.mark.parametrize("instrumentation", ["openinference", "genai"])
def test_openai_agents_runs_through_both_instrumentations(instrumentation: str) -> None:
    """openai-agents 0.24 traced by OpenInference 2.6 or by the GenAI-conventions
    instrumentation: a run whose sub-agent raised is an error trace although the SDK leaves
    the run's root span unset; handoffs and sub-agents are steps, tools keep their errors."""
    path = FIXTURES / f"otlp_agents_{instrumentation}.json"
    spans: list[dict[str, Any]] = []
    for raw in path.read_bytes().splitlines():
        for res in orjson.loads(raw)["resourceSpans"]:
            for scope in res["scopeSpans"]:
                spans.extend(scope["spans"])
    roots = [s for s in spans if not s.get("parentSpanId")]
    assert [r["status"].get("code") for r in roots] == [1, 1]  # both runs "ok" at the root

    def took(span: dict[str, Any]) -> float:
        return (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / 1e6

    def named(trace_id: str, name: str) -> float:
        return took(next(s for s in spans if s["traceId"] == trace_id and s["name"] == name))

    timeout = "fetch_url timed out after 5s"
    agent = f"Error in agent run: {{'error': 'Error running tool fetch_url: {timeout}'}}"
    tool = f"Error running tool: {{'tool_name': 'fetch_url', 'error': '{timeout}'}}"
    prefix = "" if instrumentation == "openinference" else "invoke_agent "
    call = "" if instrumentation == "openinference" else "execute_tool "
    handoff = [("handoff to researcher", "ok", None)] if instrumentation == "openinference" else []
    got = traces_json(path)
    assert [t["request_id"] for t in got] == [r["traceId"] for r in roots]
    assert [(t["status"], t["error"]) for t in got] == [("ok", None), ("error", agent)]
    assert [t["duration_ms"] for t in got] == pytest.approx([took(r) for r in roots], abs=0.001)
    ok, failed = got
    assert [(s["tool"], s["status"], s["error"]) for s in ok["tools"]] == [
        ("agent triage", "ok", None),
        *handoff,
        ("agent researcher", "ok", None),
        ("web_search", "ok", None),
    ]
    assert [(s["tool"], s["status"], s["error"]) for s in failed["tools"]] == [
        ("agent triage", "ok", None),
        *handoff,
        ("agent researcher", "error", agent),
        ("web_search", "ok", None),
        ("fetch_url", "error", tool),
    ]
    tid = roots[1]["traceId"]
    assert [s["duration_ms"] for s in failed["tools"] if s["tool"] != "handoff to researcher"] == (
        pytest.approx(
            [
                named(tid, f"{prefix}triage"),
                named(tid, f"{prefix}researcher"),
                named(tid, f"{call}web_search"),
                named(tid, f"{call}fetch_url"),
            ],
            abs=0.001,
        )
    )
