"""Log shapes: the same story logged by each real library gives the same traces.

Python libraries (structlog in four set-ups, python-json-logger, loguru) log the story here,
in the test; pino, bunyan, journald and OTLP JSON are fixtures recorded by
``tests/fixtures/make_*`` from the real libraries and tools (see each script).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui.cli import main
from agenttui.commands import formats
from agenttui.commands import traces as traces_cmd
from agenttui.ingest import shapes
from agenttui.ingest.records import Kind
from agenttui.session import Session
from tests import shape_story

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes"


def traces_json(*paths: Path | str) -> list[dict[str, Any]]:
    """What ``agenttui traces PATH... --json`` prints."""
    out = io.BytesIO()
    assert traces_cmd.print_traces([str(p) for p in paths], out) == 0
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def story_of(traces: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The parts of ``traces --json`` that must not depend on the library."""
    return [
        (
            t["request_id"],
            t["status"],
            t["error"],
            [(s["tool"], s["status"], s["error"]) for s in t["tools"]],
        )
        for t in traces
    ]


def shape_of(path: Path) -> str:
    session = Session([str(path)], mapping={})
    try:
        entries = formats.describe(session)
    finally:
        session.close()
    assert len(entries) == 1
    return str(entries[0]["shape"])


def _fixture(name: str) -> Callable[[Path], None]:
    def copy(path: Path) -> None:
        shutil.copyfile(FIXTURES / name, path)

    return copy


CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "structlog-json": ("structlog", shape_story.structlog_story),
    "structlog-msg-epoch": (
        "json",
        lambda p: shape_story.structlog_story(p, msg_key=True, epoch=True),
    ),
    "structlog-keyvalue": ("logfmt", lambda p: shape_story.structlog_story(p, "kv")),
    "structlog-logfmt": ("logfmt", lambda p: shape_story.structlog_story(p, "logfmt")),
    "python-json-logger": ("python-json-logger", shape_story.json_logger_story),
    "loguru": ("loguru", shape_story.loguru_story),
    "pino": ("pino", _fixture("pino.log")),
    "pino-isotime-labels": ("pino", _fixture("pino_iso.log")),
    "pino-http": ("pino", _fixture("pino_http.log")),
    "bunyan": ("bunyan", _fixture("bunyan.log")),
    "journald": ("journald", _fixture("journald.log")),
    "journald-json-message": ("journald", _fixture("journald_json.log")),
    "journald-native-handler": ("journald", _fixture("journald_native.log")),
    "otlp-traces": ("otlp", _fixture("otlp_traces.json")),
    "otlp-logs": ("otlp", _fixture("otlp_logs.json")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_library_gives_the_structlog_traces(case: str, tmp_path: Path) -> None:
    """Done means: each shape, produced by its real library, gives the same traces."""
    baseline = tmp_path / "structlog.log"
    shape_story.structlog_story(baseline)
    expected = story_of(traces_json(baseline))
    assert expected == shape_story.EXPECTED

    shape, make = CASES[case]
    path = tmp_path / f"{case}.log"
    make(path)
    assert shape_of(path) == shape
    got = traces_json(path)
    assert story_of(got) == expected
    assert [t["query"] for t in got] == ["capital of France?", "weather in Oslo"]
    assert all(t["start"] is not None for t in got)


def test_structlog_shapes_keep_tracebacks_and_epoch_times(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    shape_story.structlog_story(path, msg_key=True, epoch=True)
    session = Session([str(path)], mapping={})
    session.scan()
    trace = session.index.traces["req-fail-2"]
    failed = next(e for e in session.events(trace) if e.record.kind == Kind.TOOL_FAIL)
    assert isinstance(failed.data, dict) and "Traceback" in failed.data["exception"]
    assert isinstance(failed.data["timestamp"], float)
    session.close()


def test_loguru_events_show_their_fields_flat(tmp_path: Path) -> None:
    path = tmp_path / "loguru.log"
    shape_story.loguru_story(path)
    session = Session([str(path)], mapping={})
    session.scan()
    events = session.events(session.index.traces["req-fail-2"])
    failed = next(e for e in events if e.record.kind == Kind.TOOL_FAIL)
    assert failed.data is not None and failed.data["tool"] == "fetch_url"
    assert "Traceback" in failed.exception
    assert failed.record.level == "error"
    session.close()


def test_hosts_are_the_sources_of_tool_spans() -> None:
    by_file = {
        "pino.log": "node-host-1",
        "bunyan.log": "node-host-2",
        "journald.log": "vm",
        "otlp_traces.json": "tools-b",
    }
    for name, host in by_file.items():
        traces = traces_json(FIXTURES / name)
        sources = {s["source"] for t in traces for s in t["tools"]}
        assert sources == {host}, name


def test_otlp_spans_become_records_and_read_back_by_location() -> None:
    session = Session([str(FIXTURES / "otlp_traces.json")], mapping={})
    session.scan()
    trace = session.index.traces["req-fail-2"]
    events = session.events(trace)
    kinds = [e.record.kind for e in events]
    assert kinds == [
        Kind.REQUEST_START,
        Kind.TOOL_START,
        Kind.TOOL_OK,
        Kind.TOOL_START,
        Kind.TOOL_FAIL,
        Kind.REQUEST_FAIL,
    ]
    assert [e.source for e in events] == [
        "agent-a",
        "tools-b",
        "tools-b",
        "tools-b",
        "tools-b",
        "agent-a",
    ]
    assert len({e.loc for e in events}) == 6  # several records per line, each its own place
    failed = events[4]
    assert failed.data is not None
    assert failed.data["gen_ai.tool.call.id"] == "call-3"
    assert failed.data["request_id"] == "req-fail-2" and failed.data["host"] == "tools-b"
    assert events[0].data is not None and events[0].data["gen_ai.conversation.id"] == "conv-77"
    assert failed.record.duration_ms is not None and failed.record.duration_ms > 0
    # The parallel-merge path re-reads records by location the same way.
    rebuilt = [rec.kind for _loc, rec in session.rebuild(trace.locs)]
    assert sorted(rebuilt) == sorted(kinds) and rebuilt[:2] == [Kind.TOOL_START, Kind.TOOL_OK]
    session.close()


def test_otlp_without_request_id_uses_the_trace_id(tmp_path: Path) -> None:
    text = (FIXTURES / "otlp_traces.json").read_text()
    text = text.replace(
        '{"key":"request_id","value":{"stringValue":"req-ok-1"}}',
        '{"key":"other","value":{"stringValue":"x"}}',
    )
    path = tmp_path / "t.json"
    path.write_text(text)
    ids = [t["request_id"] for t in traces_json(path)]
    assert "req-ok-1" not in ids and "req-fail-2" in ids
    assert any(len(rid) == 32 and all(c in "0123456789abcdef" for c in rid) for rid in ids)


def test_detection_reasons_name_the_deciding_keys() -> None:
    verdict = shapes.detect([b"", b"not json at all", b'{"level":30,"time":1,"msg":"x"}'])
    assert verdict.shape.name == "pino" and "numeric level" in verdict.reason
    assert not shapes.detect([b"plain text", b"more text"]).decided
    assert not shapes.detect([]).decided
    assert shapes.detect([b"a=1 b=2", b"c=3 d='x y'"]).shape.name == "logfmt"
    assert shapes.detect([b'{"message": "m", "levelname": "INFO"}']).shape.name == (
        "python-json-logger"
    )
    assert shapes.detect([b'{"foo": 1}']).shape.name == "json"


def test_logfmt_values() -> None:
    parsed = shapes.parse_logfmt(
        """event='tool_call_failed' n=3 f=1.5 ok=true none=None q="a \\"b\\"" e='x\\ny'"""
    )
    assert parsed == {
        "event": "tool_call_failed",
        "n": 3,
        "f": 1.5,
        "ok": True,
        "none": None,
        "q": 'a "b"',
        "e": "x\ny",
    }
    assert shapes.parse_logfmt("just words here") is None
    assert shapes.parse_logfmt("a=1") is None  # one pair is not enough to call it logfmt


def test_undecided_file_is_told_once_json_arrives(write_log: Callable[..., Path]) -> None:
    path = write_log(b"starting up\n")
    session = Session([str(path)], mapping={})
    session.scan()
    assert session.table.files[0].shape is None
    with path.open("ab") as f:
        f.write(
            orjson.dumps(
                {
                    "record": {
                        "level": {"name": "INFO"},
                        "time": {"timestamp": 1.0},
                        "message": "request_start",
                        "extra": {"request_id": "r1"},
                    },
                    "text": "x",
                }
            )
            + b"\n"
        )
    session.poll()
    shape = session.table.files[0].shape
    assert shape is not None and shape.name == "loguru"
    assert "r1" in session.index.traces
    session.close()


# ------------------------------------------------------------------ mapping

MAPPED = [
    {"evt": "begin", "ctx": {"rid": "m-1"}, "when": "2026-11-26T08:00:00Z", "q": "hello"},
    {"evt": "fn_call", "ctx": {"rid": "m-1"}, "fn": "lookup", "when": "2026-11-26T08:00:01Z"},
    {
        "evt": "fn_bad",
        "ctx": {"rid": "m-1"},
        "fn": "lookup",
        "oops": "KeyError: 'x'",
        "when": "2026-11-26T08:00:02Z",
        "sev": "ERROR",
    },
    {
        "evt": "finish_bad",
        "ctx": {"rid": "m-1"},
        "oops": "KeyError: 'x'",
        "when": "2026-11-26T08:00:03Z",
    },
]
MAPPING_TOML = """
[mapping]
message = "evt"
level = "sev"
time = "when"
request_id = "ctx.rid"
tool = "fn"
error = "oops"
query = "q"
request_start = "begin"
request_failed = ["finish_bad"]
tool_start = ["fn_call"]
tool_failure = ["fn_bad"]
"""


def test_mapping_config_reads_other_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "custom.log"
    log.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in MAPPED))
    (tmp_path / "agenttui.toml").write_text(MAPPING_TOML)
    monkeypatch.chdir(tmp_path)
    [trace] = traces_json(log)
    assert (trace["request_id"], trace["status"], trace["error"], trace["query"]) == (
        "m-1",
        "error",
        "KeyError: 'x'",
        "hello",
    )
    assert [(s["tool"], s["status"]) for s in trace["tools"]] == [("lookup", "error")]
    out = io.BytesIO()
    assert formats.print_formats([str(log)], out=out) == 0
    assert b"mapping" in out.getvalue() and b"[mapping] in agenttui.toml" in out.getvalue()
    session = Session([str(log)])
    session.scan()
    events = session.events(session.index.traces["m-1"])
    assert [e.record.message for e in events] == ["begin", "fn_call", "fn_bad", "finish_bad"]
    session.close()


def test_bad_mapping_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "agenttui.toml").write_text('[mapping]\nmesage = "evt"\n')
    (tmp_path / "a.log").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["traces", "a.log", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'mesage'" in err
    (tmp_path / "agenttui.toml").write_text("[mapping]\ntool_start = 3\n")
    assert main(["formats", "a.log"]) == 2
    assert "tool_start must be" in capsys.readouterr().err


def test_formats_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats", str(FIXTURES)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if line.startswith("could not read")]
    assert len(lines) == len(list(FIXTURES.iterdir()))
    by_name = {line.split()[0].rsplit("/", 1)[-1]: line for line in lines}
    assert (
        "journald" in by_name["journald_json.log"] and "holds JSON" in by_name["journald_json.log"]
    )
    assert " otlp " in by_name["otlp_logs.json"]
    assert main(["formats", "--json", str(FIXTURES / "bunyan.log")]) == 0
    obj = orjson.loads(capsys.readouterr().out)
    assert obj["shape"] == "bunyan" and "v=0" in obj["reason"]


def test_hostile_lines_in_a_shaped_file_never_raise(tmp_path: Path) -> None:
    lines = [
        b'{"resourceSpans": 5}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [7, {}]}]}]}',
        b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"kvlistValue": 3}}]}]}]}',
        b"not json",
        b"[1, 2]",
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 5,'
        b' "status": "x", "attributes": [{"key": "gen_ai.operation.name", "value": '
        b'{"stringValue": "execute_tool"}}]}]}]}]}',
    ]
    for name in ("otlp", "loguru", "pino", "journald", "python-json-logger", "logfmt"):
        shape = shapes.get(name)
        extra = [
            b'{"record": 3, "text": 1}',
            b'{"MESSAGE": [255, 0], "PRIORITY": 9}',
            b'{"err": {"name": 1}, "level": "x"}',
            b'a="unterminated b=2',
        ]
        for line in [*lines, *extra]:
            if shape.expand is not None:
                assert shape.expand(line)
            shape.decode(line)
            shape.decode_record(line)
