"""Logging libraries as agents use them, beyond the seed's events: pino by its shape,
pino-http's request lines, a [mapping] laid over the detected shape (names and patterns),
messages carrying arguments, python-json-logger's renamed fields and tracebacks, naive times
and ``--tz``. Python libraries log in the test; Node ones are fixtures recorded by
``tests/fixtures/make_node_logs.js`` (pino 10.4, pino-http 11.0).
"""

from __future__ import annotations

import logging
import time
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
