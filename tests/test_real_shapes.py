"""What real agents write beyond the seed's events: each shape from the real library's output,
read into exact traces (ids, statuses, errors, durations, tools).

Python libraries log here, in the test; pino, pino-http, journald, the container runtimes and
OpenTelemetry are fixtures recorded by the ``tests/fixtures/make_*`` scripts (see each one).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui.cli import main
from agenttui.commands import formats
from agenttui.ingest.records import Kind
from agenttui.session import Session
from tests import shape_story
from tests.test_shapes import FIXTURES, story_of, traces_json

ERROR = shape_story.ERROR


def exact(traces: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(id, status, error, duration ms, [(tool, status, error, duration ms)...]) per trace."""
    return [
        (
            t["request_id"],
            t["status"],
            t["error"],
            t["duration_ms"],
            [(s["tool"], s["status"], s["error"], s["duration_ms"]) for s in t["tools"]],
        )
        for t in traces
    ]


def formats_of(*paths: Path, tz: str | None = None) -> list[dict[str, Any]]:
    """What ``agenttui formats --json`` prints."""
    out = io.BytesIO()
    assert formats.print_formats([str(p) for p in paths], as_json=True, out=out) == 0
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory of its own (for an ``agenttui.toml``), no ``AGENTTUI_TZ``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTTUI_TZ", "")  # restored (unset) after the test, even if --tz set it
    monkeypatch.delenv("AGENTTUI_TZ")
    yield tmp_path


# ------------------------------------------------------------------ pino, pino-http


def test_pino_with_iso_time_and_level_labels_is_pino() -> None:
    """``timestamp: isoTime`` and ``formatters.level`` labels; tool starts carry arguments."""
    [entry] = formats_of(FIXTURES / "pino_iso.log")
    assert entry["shape"] == "pino" and "level label" in entry["reason"]
    got = traces_json(FIXTURES / "pino_iso.log")
    assert exact(got) == [
        ("req-ok-1", "ok", None, 5.1, [("web_search", "ok", None, 3.2)]),
        (
            "req-fail-2",
            "error",
            ERROR,
            got[1]["duration_ms"],
            [("web_search", "ok", None, 1.5), ("fetch_url", "error", ERROR, 3.0)],
        ),
    ]
    # request_failed has no duration: first to last event, from the ISO times.
    assert got[1]["duration_ms"] == pytest.approx(3.0, abs=2.0)
    assert {s["source"] for t in got for s in t["tools"]} == {"node-host-1"}


def test_pino_http_request_lines_end_requests() -> None:
    """``request completed`` / ``request errored`` (res.statusCode, responseTime, err)."""
    lines = [orjson.loads(x) for x in (FIXTURES / "pino_http.log").read_bytes().splitlines()]
    took = {x["req"]["id"]: float(x["responseTime"]) for x in lines if "responseTime" in x}
    fetch = [x["time"] for x in lines if x.get("tool") == "fetch_url"]
    got = traces_json(FIXTURES / "pino_http.log")
    assert exact(got) == [
        ("req-ok-1", "ok", None, took["req-ok-1"], [("web_search", "ok", None, 2.0)]),
        (
            "req-fail-2",
            "error",
            ERROR,
            took["req-fail-2"],
            [("web_search", "ok", None, 2.0), ("fetch_url", "error", ERROR, fetch[1] - fetch[0])],
        ),
    ]
    session = Session([str(FIXTURES / "pino_http.log")], mapping={})
    session.scan()
    last = session.events(session.index.traces["req-fail-2"])[-1]
    assert last.record.kind == Kind.REQUEST_FAIL and last.record.message == "request errored"
    assert last.data is not None and last.data["res"]["statusCode"] == 500
    assert "TimeoutError" in str(last.exception)
    session.close()


# ------------------------------------------------------------------ [mapping] overlays

PINO_MAPPING = """
[mapping]
request_start = "agent.run.start"
request_end = "agent.run.done"
request_failed = "agent.run.failed"
tool_start = "Calling tool {tool}"
tool_success = "Tool {tool} done"
tool_failure = ["Tool {tool} failed"]
"""


def test_mapping_of_event_names_overlays_pino(in_tmp: Path) -> None:
    """A mapping naming only events keeps pino's reqId, err and hostname; patterns read the
    tool from the message."""
    (in_tmp / "agenttui.toml").write_text(PINO_MAPPING)
    path = FIXTURES / "pino_mapped.log"
    [entry] = formats_of(path)
    assert entry["shape"] == "pino+mapping"
    assert "[mapping] in agenttui.toml applied" in entry["reason"]
    for name in ("agent.run.start", "Calling tool {tool}", "Tool {tool} failed"):
        assert repr(name) in entry["reason"]
    got = traces_json(path)
    assert exact(got) == [
        ("req-ok-1", "ok", None, 5.1, [("web_search", "ok", None, 3.2)]),
        (
            "req-fail-2",
            "error",
            ERROR,
            got[1]["duration_ms"],
            [
                ("web_search", "ok", None, 1.5),
                ("fetch_url", "error", ERROR, got[1]["tools"][1]["duration_ms"]),
            ],
        ),
    ]
    assert got[1]["tools"][1]["duration_ms"] >= 3.0
    assert {s["source"] for t in got for s in t["tools"]} == {"node-host-4"}
    session = Session([str(path)])
    session.scan()
    events = session.events(session.index.traces["req-ok-1"])
    assert [e.record.message for e in events] == [
        "agent.run.start",
        "Calling tool web_search",
        "Tool web_search done",
        "agent.run.done",
    ]
    session.close()


def test_mapping_of_event_names_overlays_structlog(in_tmp: Path) -> None:
    """The issue's example: event names only, on a structlog JSON log."""
    import structlog

    (in_tmp / "agenttui.toml").write_text(
        '[mapping]\nrequest_start = "agent.run.start"\nrequest_end = "agent.run.end"\n'
        'tool_start = "Calling tool"\ntool_success = "Tool returned"\n'
    )
    path = in_tmp / "agent.log"
    with path.open("w") as f:
        log = structlog.wrap_logger(
            structlog.PrintLogger(f),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.JSONRenderer(),
            ],
        )
        log.info("agent.run.start", request_id="r-1", query="hi")
        log.info("Calling tool", request_id="r-1", tool="search", call_id="c1")
        log.info("Tool returned", request_id="r-1", tool="search", call_id="c1", duration_ms=7.5)
        log.info("agent.run.end", request_id="r-1", duration_ms=9.0)
    [entry] = formats_of(path)
    assert entry["shape"] == "structlog+mapping"
    assert "'Calling tool'" in entry["reason"] and "'agent.run.end'" in entry["reason"]
    assert exact(traces_json(path)) == [("r-1", "ok", None, 9.0, [("search", "ok", None, 7.5)])]


def test_mapping_that_matches_nothing_says_so(in_tmp: Path) -> None:
    (in_tmp / "agenttui.toml").write_text('[mapping]\ntool_start = "never.logged"\n')
    [entry] = formats_of(FIXTURES / "pino.log")
    assert entry["shape"] == "pino+mapping"
    assert "none of its names in the first lines" in entry["reason"]
    assert story_of(traces_json(FIXTURES / "pino.log")) == shape_story.EXPECTED


def test_mapping_pattern_placeholder_must_be_a_field(in_tmp: Path, capsys: Any) -> None:
    (in_tmp / "agenttui.toml").write_text('[mapping]\ntool_start = "Calling {nope}"\n')
    (in_tmp / "a.log").write_text("{}\n")
    assert main(["formats", "a.log"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "{nope}" in err


# ------------------------------------------------------------------ messages with arguments


def test_loguru_messages_carrying_arguments(tmp_path: Path) -> None:
    """``logger.info("tool_call_start {tool}", tool=...)``: the first word is the event."""
    from loguru import logger

    path = tmp_path / "loguru.log"
    sink = logger.add(path, serialize=True, level="INFO", enqueue=False)
    try:
        log = logger.bind(request_id="r-9")
        log.info("request_start for {query}", query="capital of France?")
        log.info("tool_call_start {tool}", tool="web_search", call_id="c-1")
        log.info(
            "tool_call_success {tool} in {duration_ms}ms",
            tool="web_search",
            call_id="c-1",
            duration_ms=4.5,
        )
        log.info("request_success in {duration_ms}ms", duration_ms=6.0)
    finally:
        logger.remove(sink)
    got = traces_json(path)
    assert exact(got) == [("r-9", "ok", None, 6.0, [("web_search", "ok", None, 4.5)])]
    assert got[0]["query"] == "capital of France?"


def test_structlog_messages_carrying_arguments(tmp_path: Path) -> None:
    import structlog

    path = tmp_path / "a.log"
    with path.open("w") as f:
        log = structlog.wrap_logger(
            structlog.PrintLogger(f),
            processors=[
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.JSONRenderer(),
            ],
        )
        log.info("request_start", request_id="r-1")
        log.info("tool_call_start web_search", request_id="r-1", tool="web_search")
        log.info(
            "tool_call_failed web_search: timed out",
            request_id="r-1",
            tool="web_search",
            error="TimeoutError: timed out",
        )
        log.info("request_failed", request_id="r-1")
    got = traces_json(path)
    assert story_of(got) == [
        (
            "r-1",
            "error",
            "TimeoutError: timed out",
            [("web_search", "error", "TimeoutError: timed out")],
        )
    ]


# ------------------------------------------------------------------ python-json-logger


def _pjl_story(path: Path, offset_h: int) -> tuple[float, float]:
    """python-json-logger with ``rename_fields`` (``asctime`` -> ``time``, ``levelname`` ->
    ``severity``), tracebacks through ``exc_info=True``, ``asctime`` written in a zone
    ``offset_h`` hours east of UTC (a writer whose local time that is). Returns the wall
    clock before and after."""
    from pythonjsonlogger.json import JsonFormatter

    logger = logging.getLogger(f"agent.pjl.renamed.{path}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path)
    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "severity"},
    )
    formatter.converter = lambda secs: time.gmtime((secs or 0) + offset_h * 3600)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    before = time.time()
    try:
        shape_story.tell(
            lambda event, **kw: logger.info(event, extra=kw),
            lambda event, **kw: logger.error(event, exc_info=True, extra=kw),
        )
    finally:
        logger.removeHandler(handler)
        handler.close()
    return before, time.time()


def test_python_json_logger_renamed_fields_keep_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "pjl.log"
    _pjl_story(path, 0)
    assert "exc_info" in path.read_text()
    got = traces_json(path)
    assert story_of(got) == shape_story.EXPECTED  # not "request_failed" as the error
    session = Session([str(path)], mapping={})
    session.scan()
    failed = [e for e in session.events(session.index.traces["req-fail-2"]) if e.record.is_error]
    assert len(failed) == 2
    assert all("Traceback (most recent call last)" in str(e.exception) for e in failed)
    session.close()


def test_naive_asctime_read_in_the_zone_given(in_tmp: Path) -> None:
    path = in_tmp / "pjl.log"
    before, after = _pjl_story(path, 5)
    [entry] = formats_of(path)
    assert "times without a zone (time)" in entry["reason"] and "--tz" in entry["reason"]
    start = traces_json(path)[0]["start"]
    assert start is not None
    # Without a zone the times are read as UTC: five hours late.
    from datetime import datetime

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    assert epoch(start) == pytest.approx(before + 5 * 3600, abs=2)
    (in_tmp / "agenttui.toml").write_text('[mapping]\ntz = "+05:00"\n')
    [entry] = formats_of(path)
    assert "read in +05:00" in entry["reason"]
    got = traces_json(path)
    assert before - 1 <= epoch(got[0]["start"]) <= after + 1
    assert story_of(got) == shape_story.EXPECTED


def test_tz_flag_over_the_config(in_tmp: Path, capsys: Any) -> None:
    path = in_tmp / "pjl.log"
    before, after = _pjl_story(path, -3)
    (in_tmp / "agenttui.toml").write_text('[mapping]\ntz = "+05:00"\n')
    assert main(["traces", str(path), "--json", "--tz=-03:00"]) == 0
    first = orjson.loads(capsys.readouterr().out.splitlines()[0])
    from datetime import datetime

    start = datetime.fromisoformat(first["start"].replace("Z", "+00:00")).timestamp()
    assert before - 1 <= start <= after + 1
    assert main(["traces", str(path), "--json", "--tz", "Mars/Olympus"]) == 2
    assert "--tz: unknown time zone" in capsys.readouterr().err


# ------------------------------------------------------------------ journald


def _journal_ms(entry: dict[str, Any]) -> float:
    return int(entry["_SOURCE_REALTIME_TIMESTAMP"]) / 1000.0


def test_journald_native_fields_of_journal_handler() -> None:
    """python-systemd's JournalHandler: MESSAGE is "event\\nTraceback...", EXCEPTION_TEXT,
    CODE_FUNC, upper-case extras."""
    path = FIXTURES / "journald_native.log"
    [entry] = formats_of(path)
    assert entry["shape"] == "journald" and "CODE_FUNC" in entry["reason"]
    raw = [orjson.loads(x) for x in path.read_bytes().splitlines()]
    fetch = [_journal_ms(e) for e in raw if e.get("TOOL") == "fetch_url"]
    fail = [_journal_ms(e) for e in raw if e.get("REQUEST_ID") == "req-fail-2"]
    got = traces_json(path)
    assert exact(got) == [
        ("req-ok-1", "ok", None, 4.0, [("web_search", "ok", None, 2.1)]),
        (
            "req-fail-2",
            "error",
            ERROR,
            pytest.approx(fail[-1] - fail[0], abs=0.002),
            [
                ("web_search", "ok", None, 1.5),
                ("fetch_url", "error", ERROR, pytest.approx(fetch[1] - fetch[0], abs=0.002)),
            ],
        ),
    ]
    session = Session([str(path)], mapping={})
    session.scan()
    events = session.events(session.index.traces["req-fail-2"])
    failed = next(e for e in events if e.record.kind == Kind.TOOL_FAIL)
    assert failed.record.message == "tool_call_failed"
    assert failed.data is not None and failed.data["func"] == "<lambda>"
    assert str(failed.exception).startswith("Traceback (most recent call last):")
    assert failed.source == "vm"
    session.close()


def test_journald_message_with_traceback_but_no_exception_text(tmp_path: Path) -> None:
    entry = orjson.loads((FIXTURES / "journald_native.log").read_bytes().splitlines()[8])
    assert entry["MESSAGE"].startswith("tool_call_failed\nTraceback")
    del entry["EXCEPTION_TEXT"]
    path = tmp_path / "j.log"
    path.write_bytes(orjson.dumps(entry) + b"\n")
    [trace] = traces_json(path)
    assert trace["tools"][0]["error"] == ERROR and trace["tools"][0]["status"] == "error"


# ------------------------------------------------------------------ container logs

DOCKER_ID = "3f4e5d6c7b8a" + "0" * 52


def _container_story(tmp_path: Path, make: Any, path: Path) -> list[str]:
    """The structlog story plus a request whose failure line is 40 KB (split by the runtime)."""
    story = tmp_path / "story.log"
    shape_story.structlog_story(story)
    lines = story.read_text().splitlines()
    big = {
        "event": "request_failed",
        "request_id": "req-big-3",
        "error": "ValueError: answer too long",
        "detail": "x" * 40_000,
        "level": "error",
        "timestamp": "2026-11-26T08:00:01.000000Z",
    }
    lines.append(
        orjson.dumps(
            {
                **big,
                "event": "request_start",
                "level": "info",
                "detail": "",
                "error": None,
                "timestamp": "2026-11-26T08:00:00.000000Z",
            }
        ).decode()
    )
    lines.append(orjson.dumps(big).decode())
    lines.append("plain text from the container")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make(lines, time.time()))
    return lines


@pytest.mark.parametrize(
    ("runtime", "where", "container"),
    [
        ("docker", f"var/lib/docker/containers/{DOCKER_ID}/{DOCKER_ID}-json.log", DOCKER_ID[:12]),
        ("cri", "var/log/pods/prod_agent-7d9f_0a1b/agent/0.log", "agent-7d9f/agent"),
        (
            "cri",
            "var/log/containers/agent-7d9f_prod_agent-" + "ab" * 32 + ".log",
            "agent-7d9f/agent",
        ),
    ],
)
def test_container_logs_are_unwrapped(
    tmp_path: Path, runtime: str, where: str, container: str
) -> None:
    path = tmp_path / where
    make = shape_story.docker_json_file if runtime == "docker" else shape_story.cri_log
    _container_story(tmp_path, make, path)
    parts = path.read_bytes().count(b"\n")
    assert parts == 10 + 2 + 1 + 2  # the 40 KB line is in three parts
    [entry] = formats_of(path)
    assert entry["shape"] == f"{runtime}/structlog"
    assert container in entry["reason"] and "structlog JSON: event" in entry["reason"]
    got = traces_json(path)
    big = [t for t in got if t["request_id"] == "req-big-3"]
    assert story_of([t for t in got if t not in big]) == shape_story.EXPECTED
    assert exact(big) == [("req-big-3", "error", "ValueError: answer too long", 1000.0, [])]
    assert {s["source"] for t in got for s in t["tools"]} == {container}
    session = Session([str(path)], mapping={})
    session.scan()
    events = session.events(session.index.traces["req-big-3"])
    assert [e.record.kind for e in events] == [Kind.REQUEST_START, Kind.REQUEST_FAIL]
    assert events[1].data is not None and events[1].data["detail"] == "x" * 40_000
    assert events[1].source == container
    assert session.index.unparsed_lines == 1  # the plain text line
    session.close()


def test_container_inner_lines_of_another_shape(tmp_path: Path) -> None:
    """A pino container under CRI: the inner lines keep pino's ids, errors and times."""
    lines = (FIXTURES / "pino.log").read_text().splitlines()
    path = tmp_path / "var/log/pods/prod_web-1_9z/web/0.log"
    path.parent.mkdir(parents=True)
    path.write_bytes(shape_story.cri_log(lines, time.time()))
    [entry] = formats_of(path)
    assert entry["shape"] == "cri/pino"
    assert exact(traces_json(path)) == exact(traces_json(FIXTURES / "pino.log"))


def test_composite_shapes_are_rebuilt_from_their_names() -> None:
    """A child process indexing part of a file rebuilds the reader from name and settings."""
    from agenttui.ingest import shapes

    line = shape_story.docker_json_file(['{"event": "request_start", "request_id": "r"}'], 0.0)
    verdict = shapes.detect(line.splitlines(), {"tool_start": "go"}, "/x/c/a-json.log")
    shape = verdict.shape
    assert shape.name == "docker/structlog+mapping"
    again = shapes.get(shape.name, shape.mapping)
    assert again.name == shape.name and again.host_key == "container"
    assert again.records(line.strip()) == shape.records(line.strip())
    assert again.records(line.strip())[0].request_id == "r"


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
    (tmp_path / "binary.log").write_bytes(b"\x00\x01\x02 not a log\n")
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


# ------------------------------------------------------------------ exact traces of every fixture


def _iso_ms(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000.0


def _story_events(name: str) -> list[tuple[str, str, str | None, float, float | None]]:
    """(request id, event, tool, time ms, duration ms) of each line, read from the fixture
    without agenttui: what the library wrote."""
    out = []
    for raw in (FIXTURES / name).read_bytes().splitlines():
        obj = orjson.loads(raw)
        if name.startswith("pino"):
            rid, event, when = obj["reqId"], obj["msg"], float(obj["time"])
        elif name.startswith("bunyan"):
            rid, event, when = obj["reqId"], obj["msg"], _iso_ms(obj["time"])
        elif name == "journald_json.log":
            obj = orjson.loads(obj["MESSAGE"])
            rid, event, when = obj["request_id"], obj["event"], _iso_ms(obj["timestamp"])
        else:  # native journal fields
            when = int(obj["_SOURCE_REALTIME_TIMESTAMP"]) / 1000.0
            rid, event = obj["REQUEST_ID"], obj["MESSAGE"].split("\n")[0]
            obj = {k.lower(): v for k, v in obj.items()}
        took = obj.get("duration_ms")
        out.append((rid, event, obj.get("tool"), when, None if took is None else float(took)))
    return out


def _expected_from(name: str) -> list[tuple[Any, ...]]:
    events = _story_events(name)
    traces = []
    for rid in dict.fromkeys(e[0] for e in events):
        mine = [e for e in events if e[0] == rid]
        end = mine[-1]
        failed = end[1] == "request_failed"
        duration = end[4] if end[4] is not None else end[3] - mine[0][3]
        tools = []
        for i, (_r, event, tool, when, took) in enumerate(mine):
            if event in ("tool_call_success", "tool_call_failed"):
                start = next(
                    e for e in reversed(mine[:i]) if e[1] == "tool_call_start" and e[2] == tool
                )
                bad = event == "tool_call_failed"
                tools.append(
                    (
                        tool,
                        "error" if bad else "ok",
                        ERROR if bad else None,
                        took if took is not None else when - start[3],
                    )
                )
        traces.append(
            (rid, "error" if failed else "ok", ERROR if failed else None, duration, tools)
        )
    return traces


@pytest.mark.parametrize(
    "name", ["pino.log", "bunyan.log", "journald.log", "journald_json.log", "journald_native.log"]
)
def test_fixture_traces_are_exactly_what_the_library_wrote(name: str) -> None:
    got = exact(traces_json(FIXTURES / name))
    want = _expected_from(name)

    def words(traces: list[tuple[Any, ...]]) -> list[Any]:
        return [(*t[:3], [s[:3] for s in t[4]]) for t in traces]

    def numbers(traces: list[tuple[Any, ...]]) -> list[float]:
        return [x for t in traces for x in (t[3], *(s[3] for s in t[4]))]

    assert words(got) == words(want)
    assert numbers(got) == pytest.approx(numbers(want), abs=0.002)


def test_otlp_fixture_traces_are_exactly_the_spans() -> None:
    spans = []
    for raw in (FIXTURES / "otlp_traces.json").read_bytes().splitlines():
        for res in orjson.loads(raw)["resourceSpans"]:
            for scope in res["scopeSpans"]:
                spans.extend(scope["spans"])

    def took(span: dict[str, Any]) -> float:
        return (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / 1e6

    def rid(span: dict[str, Any]) -> str:
        return next(
            a["value"]["stringValue"] for a in span["attributes"] if a["key"] == "request_id"
        )

    got = traces_json(FIXTURES / "otlp_traces.json")
    for trace in got:
        mine = [s for s in spans if rid(s) == trace["request_id"]]
        root = next(s for s in mine if not s.get("parentSpanId"))
        assert trace["duration_ms"] == pytest.approx(took(root), abs=0.001)
        tools = sorted(
            (s for s in mine if s is not root), key=lambda s: int(s["startTimeUnixNano"])
        )
        assert [t["duration_ms"] for t in trace["tools"]] == pytest.approx(
            [took(s) for s in tools], abs=0.001
        )
    assert story_of(got) == shape_story.EXPECTED


def test_a_preview_cut_inside_a_split_line_does_not_spoil_the_full_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big files are first previewed from their tail; a joining shape starts the full read
    with no parts left over from the preview."""
    from agenttui import session as session_module

    monkeypatch.setattr(session_module, "PREVIEW_MIN_BYTES", 1000)
    monkeypatch.setattr(session_module, "PREVIEW_BYTES", 200)
    path = tmp_path / "var/lib/docker/containers" / DOCKER_ID / f"{DOCKER_ID}-json.log"
    _container_story(tmp_path, shape_story.docker_json_file, path)
    with path.open("ab") as f:  # a split line whose end is not written yet
        f.write(b'{"log":"{\\"event\\": \\"request_st","stream":"stdout",')
        f.write(b'"time":"2026-11-26T08:00:00Z"}\n')
    session = Session([str(path)], mapping={})
    session.scan()
    assert sorted(session.index.traces) == ["req-big-3", "req-fail-2", "req-ok-1"]
    assert session.index.unparsed_lines == 1
    got = [t for t in traces_json(path) if t["request_id"] != "req-big-3"]
    assert story_of(got) == shape_story.EXPECTED
    session.close()


def test_pino_without_base_fields_is_pino() -> None:
    """``base: null`` drops pid and hostname; ``isoTime`` writes ISO times: still pino."""
    from agenttui.ingest import shapes

    line = (
        b'{"level":50,"time":"2026-12-01T18:01:26.976Z","reqId":"r-1",'
        b'"err":{"type":"E","message":"m"},"msg":"request_failed"}'
    )
    verdict = shapes.detect([line])
    assert verdict.shape.name == "pino"
    [rec] = verdict.shape.records(line)
    assert (rec.request_id, rec.error, rec.level) == ("r-1", "E: m", "error")
    assert shapes.detect([b'{"level":"info","time":1,"msg":"x"}']).shape.name == "json"


def test_mapping_over_pretty_printed_otlp(in_tmp: Path) -> None:
    (in_tmp / "agenttui.toml").write_text('[mapping]\ntool_start = "never.logged"\n')
    [entry] = formats_of(FIXTURES / "otlp_pretty.json")
    assert entry["shape"] == "otlp-pretty+mapping"
    assert exact(traces_json(FIXTURES / "otlp_pretty.json")) == _genai_expected()
