"""More sources: standard input, compressed rotated logs, several sources merged, and a fleet
gathered by an OpenTelemetry Collector into rotated files."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui.commands import formats
from agenttui.commands import stats as stats_cmd
from agenttui.ingest import spool
from agenttui.session import Session
from tests import shape_story
from tests.test_shapes import FIXTURES, story_of, traces_json

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pipe_spool() -> Iterator[int]:
    """A pipe standing in for standard input: yields its write end."""
    spool.reset_for_tests()
    r, w = os.pipe()
    spool.stdin_spool(r)
    try:
        yield w
    finally:
        with contextlib.suppress(OSError):
            os.close(w)
        spool.reset_for_tests()


def test_stdin_is_spooled_privately_and_read_live(pipe_spool: int, tmp_path: Path) -> None:
    story = tmp_path / "s.log"
    shape_story.structlog_story(story)
    lines = story.read_bytes().splitlines(keepends=True)
    os.write(pipe_spool, b"".join(lines[:4]))
    session = Session(["-"], mapping={})
    copy = spool.stdin_spool()
    assert stat.S_IMODE(os.stat(copy.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(copy.dir).st_mode) == 0o700
    deadline = time.monotonic() + 5
    while os.path.getsize(copy.path) < sum(map(len, lines[:4])) and time.monotonic() < deadline:
        time.sleep(0.01)
    session.scan()
    assert session.index.traces["req-ok-1"].status == "ok"
    assert session.table.files[0].name == "stdin"
    stop = threading.Event()
    seen: list[int] = []
    follower = threading.Thread(target=session.follow, args=(seen.append, stop))
    follower.start()
    try:
        os.write(pipe_spool, b"".join(lines[4:]))
        deadline = time.monotonic() + 5
        while "req-fail-2" not in session.index.traces or (
            session.index.traces["req-fail-2"].status != "error"
        ):
            assert time.monotonic() < deadline, "the piped lines never arrived"
            time.sleep(0.02)
    finally:
        stop.set()
        follower.join(5)
    os.close(pipe_spool)
    assert copy.wait(5)
    session.close()
    spool.reset_for_tests()
    assert not os.path.exists(copy.dir)


def test_stdin_cli_reads_the_whole_pipe(tmp_path: Path) -> None:
    story = tmp_path / "s.log"
    shape_story.loguru_story(story)
    for args in (["traces", "-", "--json"], ["formats", "-"]):
        proc = subprocess.run(
            [sys.executable, "-m", "agenttui", *args],
            input=story.read_bytes(),
            capture_output=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
        if args[0] == "traces":
            traces = [orjson.loads(line) for line in proc.stdout.splitlines()]
            assert story_of(traces) == shape_story.EXPECTED
            assert {s["source"] for t in traces for s in t["tools"]} == {"stdin"}
        else:
            assert proc.stdout.split()[:2] == [b"stdin", b"loguru"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith("agenttui-")]


def test_dash_twice_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from agenttui.cli import main

    assert main(["traces", "-", "-", "--json"]) == 2
    assert "only once" in capsys.readouterr().err


# ------------------------------------------------------------------ compressed rotated files


def _story_lines(tmp_path: Path) -> list[bytes]:
    path = tmp_path / "story.log"
    shape_story.structlog_story(path)
    return path.read_bytes().splitlines(keepends=True)


def test_gzip_and_bzip2_rotated_files_are_read_once(tmp_path: Path) -> None:
    lines = _story_lines(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    with gzip.open(logs / "agent.log.2.gz", "wb") as f:
        f.write(b"".join(lines[:4]))  # the older request
    (logs / "agent.log.1.bz2").write_bytes(bz2.compress(b"".join(lines[4:7])))
    (logs / "agent.log").write_bytes(b"".join(lines[7:]))
    got = traces_json(logs)
    assert story_of(got) == shape_story.EXPECTED
    out = io.BytesIO()
    formats.print_formats([str(logs)], out=out)
    text = out.getvalue().decode()
    assert "agent.log.2.gz" in text and "compressed: read once, not tailed" in text
    session = Session([str(logs)], mapping={})
    session.scan()
    assert session.poll() == 0  # compressed files are not tailed, nor read again
    assert session.poll() == 0
    assert session.index.lines == len(lines)
    session.close()


def test_compressing_a_rotated_file_does_not_read_it_twice(tmp_path: Path) -> None:
    lines = _story_lines(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "agent.log").write_bytes(b"".join(lines[:6]))
    session = Session([str(logs)], mapping={})
    session.scan()
    # logrotate: rename, new file, compress the renamed one (and delete it).
    os.rename(logs / "agent.log", logs / "agent.log.1")
    (logs / "agent.log").write_bytes(b"".join(lines[6:]))
    session.poll()
    with gzip.open(logs / "agent.log.1.gz", "wb") as f:
        f.write((logs / "agent.log.1").read_bytes())
    os.unlink(logs / "agent.log.1")
    session.poll()
    session.poll()
    assert session.index.lines == len(lines)
    assert session.index.traces["req-fail-2"].status == "error"
    session.close()


def test_bad_compressed_files_are_one_line_problems(tmp_path: Path) -> None:
    lines = _story_lines(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "junk.log.gz").write_bytes(b"this is not gzip at all\n")
    whole = gzip.compress(b"".join(lines))
    (logs / "cut.log.1.gz").write_bytes(whole[: len(whole) * 2 // 3])
    session = Session([str(logs)], mapping={})
    session.scan()
    problems = session.problems
    assert any("junk.log.gz: not a readable gzip file" in p for p in problems)
    assert any("cut.log.1.gz: compressed file ends early" in p for p in problems)
    assert all("\n" not in p for p in problems)
    assert session.index.lines > 0  # what the cut file holds is read
    session.close()


# ------------------------------------------------------------------ several sources


def test_sources_are_merged_by_time_and_labelled(tmp_path: Path) -> None:
    """One request whose tool runs on another host: the events interleave by time and each
    says where it ran, in the events and in ``traces --json``."""

    def line(**kw: Any) -> bytes:
        return orjson.dumps(kw) + b"\n"

    a = tmp_path / "gateway.log"
    b = tmp_path / "worker.log"
    a.write_bytes(
        line(event="request_start", request_id="r1", timestamp=1.0)
        + line(event="request_success", request_id="r1", timestamp=4.0)
    )
    b.write_bytes(
        line(event="tool_call_start", request_id="r1", tool="t", timestamp=2.0)
        + line(event="tool_call_success", request_id="r1", tool="t", timestamp=3.0)
    )
    session = Session([str(b), str(a)], mapping={})
    session.scan()
    events = session.events(session.index.traces["r1"])
    assert [e.record.ts for e in events] == [1.0, 2.0, 3.0, 4.0]
    assert [e.source for e in events] == ["gateway.log", "worker.log", "worker.log", "gateway.log"]
    assert session.has_sources()
    session.close()
    [trace] = traces_json(a, b)
    assert trace["status"] == "ok" and trace["tools"][0]["source"] == "worker.log"


# ------------------------------------------------------------------ fleets (Collector files)


def test_a_collector_box_with_rotated_exporter_files(tmp_path: Path) -> None:
    """The README's "Many hosts" set-up: the Collector's file exporters write OTLP JSON with
    rotation (lumberjack names: ``traces-<time>.json`` for backups, ``.gz`` when compressed by
    logrotate); agenttui reads the directory and each step says which host it ran on."""
    out = tmp_path / "otel"
    out.mkdir()
    spans = (FIXTURES / "otlp_traces.json").read_bytes().splitlines(keepends=True)
    (out / "traces-2026-11-26T08-00-00.000.json").write_bytes(spans[0])  # rotated backup
    with gzip.open(out / "traces-2026-11-26T07-00-00.000.json.gz", "wb") as f:
        f.write(spans[1])
    (out / "traces.json").write_bytes(b"".join(spans[2:]))
    got = traces_json(out)
    assert story_of(got) == shape_story.EXPECTED
    failed = got[1]
    assert [(s["tool"], s["source"]) for s in failed["tools"]] == [
        ("web_search", "tools-b"),
        ("fetch_url", "tools-b"),
    ]
    assert failed["events"] == 6
    session = Session([str(out)], mapping={})
    session.scan()
    sources = {e.source for e in session.events(session.index.traces["req-fail-2"])}
    assert sources == {"agent-a", "tools-b"}
    session.close()


def test_readme_documents_many_hosts() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Many hosts", 1)[1].split("\n## ", 1)[0]
    for needed in ("filelog", "otlp", "file/", "rotation", "agenttui /var/lib/otelcol"):
        assert needed in section, needed


def test_commands_run_on_a_fixture_and_watch_sees_otlp_appends(tmp_path: Path) -> None:
    path = tmp_path / "traces.json"
    lines = (FIXTURES / "otlp_traces.json").read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0])
    session = Session([str(path)], mapping={})
    session.scan()
    assert set(session.index.traces) == {"req-ok-1"}
    with path.open("ab") as f:
        f.write(b"".join(lines[1:]))
    session.poll()
    assert session.index.traces["req-fail-2"].status == "error"
    assert stats_cmd.print_stats([str(path)], io.BytesIO()) == 0
    session.close()


def test_collector_filelog_lines_read_like_the_agent_wrote_them(tmp_path: Path) -> None:
    """A host's Collector tails the agent's structlog file (``filelog`` receiver with a
    ``json_parser`` operator): the line stays the body and its fields become attributes
    (shape from the receiver's documentation; no Collector binary runs here)."""
    story = tmp_path / "story.log"
    shape_story.structlog_story(story)
    records = []
    for i, raw in enumerate(story.read_bytes().splitlines()):
        fields = orjson.loads(raw)
        attrs = [{"key": "log.file.name", "value": {"stringValue": "agent.log"}}]
        attrs += [
            {"key": k, "value": {"stringValue": str(v)}}
            for k, v in fields.items()
            if isinstance(v, str)
        ]
        records.append(
            {
                "observedTimeUnixNano": str(1_800_000_000_000_000_000 + i),
                "body": {"stringValue": raw.decode()},
                "attributes": attrs,
            }
        )
    batch = {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [{"key": "host.name", "value": {"stringValue": "agent-c"}}]
                },
                "scopeLogs": [{"scope": {}, "logRecords": records}],
            }
        ]
    }
    path = tmp_path / "logs.json"
    path.write_bytes(orjson.dumps(batch) + b"\n")
    got = traces_json(path)
    assert story_of(got) == shape_story.EXPECTED
    assert {s["source"] for t in got for s in t["tools"]} == {"agent-c"}
