"""Logs wrapped by what production boxes add: journald's native fields (python-systemd's
JournalHandler), Docker json-file and CRI container logs; and every recorded fixture read into
exactly the traces its library wrote.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui.ingest.records import Kind
from agenttui.session import Session
from tests import shape_story
from tests.shape_checks import ERROR, exact, formats_of
from tests.test_shapes import FIXTURES, story_of, traces_json

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
        return str(
            next(a["value"]["stringValue"] for a in span["attributes"] if a["key"] == "request_id")
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


@pytest.mark.parametrize("runtime", ["docker", "cri"])
def test_parallel_pieces_never_cut_a_split_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runtime: str
) -> None:
    """A big container log is indexed in pieces by several processes: a piece must not start
    inside a line the runtime split at 16 KB (its parts would be lost on both sides)."""
    import io

    from agenttui.commands.traces import print_traces
    from agenttui.model import bulk

    lines = []
    for n in range(60):
        rid = f"req-{n}"
        lines.append(orjson.dumps({"event": "request_start", "request_id": rid}).decode())
        lines.append(
            orjson.dumps(
                {
                    "event": "request_failed" if n % 3 == 0 else "request_success",
                    "request_id": rid,
                    "detail": "x" * (17_000 + 500 * n),  # two or three parts each
                    "level": "error" if n % 3 == 0 else "info",
                }
            ).decode()
        )
    make = shape_story.docker_json_file if runtime == "docker" else shape_story.cri_log
    path = tmp_path / "var/log/containers/agent_prod_main-0123456789ab.log"
    path.parent.mkdir(parents=True)
    path.write_bytes(make(lines, 1_764_000_000.0))

    def traces() -> bytes:
        out = io.BytesIO()
        assert print_traces([str(path)], out) == 0
        return out.getvalue()

    monkeypatch.setenv("AGENTTUI_WORKERS", "1")
    one = traces()
    assert one.count(b"\n") == 60  # every request, as JSON
    assert b"running" not in one
    monkeypatch.setenv("AGENTTUI_WORKERS", "2")
    monkeypatch.setattr(bulk, "PARALLEL_MIN_BYTES", 1)
    size = path.stat().st_size
    for piece in (size // 7, size // 13, size // 29):  # cuts land inside split lines
        monkeypatch.setattr(bulk, "PIECE_BYTES", piece)
        assert traces() == one
