"""Triage core: the error signature, the failure classifier, the query language, error groups,
live statistics, cold starts and the incident note (no UI)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from agenttui.cli import main
from agenttui.commands import traces as traces_cmd
from agenttui.model.classify import CLASSES, RULES, classify
from agenttui.model.live import live_stats
from agenttui.model.query import QueryError, parse
from agenttui.model.signature import signature
from agenttui.model.traces import TraceIndex
from agenttui.model.triage import (
    classify_trace,
    cold_starts,
    error_groups,
    histogram,
    latest_time,
    newest_failure,
)
from agenttui.output import secrets
from agenttui.output.incident import incident_dict, incident_markdown, mask
from agenttui.session import Session
from tests.conftest import SAMPLE_LOGS

CAPTURES = sorted((SAMPLE_LOGS / "captures").glob("failed_*.json"))

# ------------------------------------------------------------------ signature


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/orders.csv'",
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/prices.csv'",
        ),
        (
            "TimeoutError: /v1/inventory did not answer within TOOL_TIMEOUT=0.05s",
            "TimeoutError: /legacy/erp/orders did not answer within TOOL_TIMEOUT=2s",
        ),
        (
            "agenttui.demo.agent.RateLimitError: 429 Too Many Requests (limit 2 req/s, burst 5)",
            "RateLimitError: 429 Too Many Requests (limit 1.5 req/s, burst 3)",
        ),
        (
            "OSError: request 123e4567-e89b-12d3-a456-426614174000 failed at 0x7f3a2b1c",
            "OSError: request 9f0e4567-aaaa-12d3-b456-426614174999 failed at 0x55aa00",
        ),
        (
            "ConnectionError: cannot reach 10.0.3.17:5432 for req-cbd28c852cb8",
            "ConnectionError: cannot reach 192.168.1.2:6543 for req-0a1b2c3d4e5f",
        ),
        (
            "RuntimeError: GET https://api.example.com/v1/x?id=3 failed after 3021ms",
            "RuntimeError: GET http://localhost:8080/health failed after 12ms",
        ),
        (
            "ConnectionError: Cannot connect to host db.internal:5432 ssl:default",
            "ConnectionError: Cannot connect to host cache-2.prod.example.com:6379 ssl:default",
        ),
        ("KeyError: 'user_id'", "KeyError: 'session'"),
        (
            "PermissionError: [Errno 13] Permission denied: '/tmp/a/b.md'",
            "PermissionError: [Errno 13] Permission denied: '/var/log/x.log'",
        ),
        ("ValueError: bad value 42 in C:\\Users\\x\\a.txt", "ValueError: bad value 7 in /home/y/b"),
    ],
)
def test_signature_equal_for_the_same_failure(a: str, b: str) -> None:
    assert signature(a) == signature(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The values that name the failure stay.
        ("FileNotFoundError: [Errno 2] No such file", "PermissionError: [Errno 13] No such file"),
        ("OSError: [Errno 2] x", "OSError: [Errno 13] x"),
        ("RuntimeError: HTTP 503 from http://a/", "RuntimeError: HTTP 404 from http://a/"),
        (
            "RuntimeError: missing environment variable SEARCH_API_KEY",
            "RuntimeError: missing environment variable OPENAI_API_KEY",
        ),
        # A quoted path and a quoted bare name (a relative file vs a program) stay apart.
        (
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/orders.csv'",
            "FileNotFoundError: [Errno 2] No such file or directory: 'rg-not-installed'",
        ),
    ],
)
def test_signature_keeps_what_names_the_failure(a: str, b: str) -> None:
    assert signature(a) != signature(b)


def test_signature_examples() -> None:
    assert (
        signature("FileNotFoundError: [Errno 2] No such file or directory: 'data/x.csv'")
        == "FileNotFoundError: [Errno 2] No such file or directory: '<path>'"
    )
    assert (
        signature("RateLimitError: 429 Too Many Requests: limit 2 req/s")
        == "RateLimitError: 429 Too Many Requests: limit <n> req/s"
    )
    assert signature("TimeoutError: /v1/inventory took 0.05s") == "TimeoutError: <path> took <n>"
    assert signature("MemoryError") == "MemoryError"
    assert signature("") == ""
    assert signature("   \n ") == ""
    tb = (
        'Traceback (most recent call last):\n  File "x.py", line 3, in f\n'
        "    g()\nmod.sub.ValueError: bad 12\n"
    )
    assert signature(tb) == "ValueError: bad <n>"
    # A quoted message inside a message keeps its words.
    sig = signature(
        "ConnectionError: Max retries (Caused by NewConnectionError('<obj at "
        "0x7f3a>: Failed to establish a new connection: [Errno 111] Connection "
        "refused'))"
    )
    assert "Connection refused" in sig and "0x7f3a" not in sig
    assert len(signature("E: " + "word " * 200)) <= 200


def test_signature_is_total_on_odd_input() -> None:
    for text in [
        "\x00\x1b[2J",
        "\U000f0001 12 \U000f0000",
        "'",
        '"',
        "::::",
        "0x",
        "a" * 5000,
        "Traceback (most recent call last):",
        "[Errno x]",
    ]:
        assert isinstance(signature(text), str)


# ------------------------------------------------------------------ classifier


def _capture(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


DEMO_CLASSES = {
    "web_search": "missing_env",
    "read_file": "wrong_path",
    "fetch_url": "wrong_host",
    "write_report": "permission",
    "run_grep": "missing_binary",
    "call_llm": "rate_limit",
    "slow_api": "timeout",
}


def test_every_demo_failure_kind_is_recognised_from_the_captures() -> None:
    assert len(CAPTURES) > 20
    seen = set()
    for path in CAPTURES:
        capture = _capture(path)
        tool = capture["failed_tool"]["tool"]
        expected = DEMO_CLASSES[tool]
        with_tb = classify(capture["error"], capture["traceback"])
        without_tb = classify(capture["error"])
        assert with_tb.cls.key == expected, (path.name, with_tb)
        assert without_tb.cls.key == expected, (path.name, without_tb)
        seen.add(tool)
    assert seen == set(DEMO_CLASSES)  # the sample has every failure kind of the demo agent


def test_every_demo_failure_kind_is_recognised_in_the_logs() -> None:
    session = Session([str(SAMPLE_LOGS)])
    session.scan()
    try:
        groups = error_groups(session.index)
        by_tool = {tool: g.cls.key for g in groups for tool in g.tools}
        assert by_tool == DEMO_CLASSES
    finally:
        session.close()


OS_ENV_TB = """Traceback (most recent call last):
  File "/srv/agent/tools.py", line 12, in search
    key = os.environ["SERPAPI_KEY"]
          ~~~~~~~~~~^^^^^^^^^^^^^^^
  File "<frozen os>", line 679, in __getitem__
KeyError: 'SERPAPI_KEY'
"""

SUBPROCESS_TB = """Traceback (most recent call last):
  File "/srv/agent/tools.py", line 40, in render
    subprocess.run(["wkhtmltopdf", src, dst], check=True)
  File "/usr/lib/python3.11/subprocess.py", line 548, in run
    with Popen(*popenargs, **kwargs) as process:
  File "/usr/lib/python3.11/subprocess.py", line 1901, in _execute_child
    raise child_exception_type(errno_num, err_msg, err_filename)
FileNotFoundError: [Errno 2] No such file or directory: 'wkhtmltopdf'
"""

PARSE_TB = """Traceback (most recent call last):
  File "/srv/agent/planner.py", line 88, in parse_plan
    return json.loads(completion.choices[0].message.content)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
"""

CASES: list[tuple[str, str | None, str]] = [
    # missing environment variable
    ("KeyError: 'SERPAPI_KEY'", OS_ENV_TB, "missing_env"),
    ("KeyError: 'OPENAI_API_KEY'", None, "missing_env"),
    (
        "openai.OpenAIError: The api_key client option must be set either by passing api_key to "
        "the client or by setting the OPENAI_API_KEY environment variable",
        None,
        "missing_env",
    ),
    ("ValueError: DATABASE_URL is not set", None, "missing_env"),
    ("RuntimeError: missing environment variable SEARCH_API_KEY", None, "missing_env"),
    # wrong relative path / working directory
    (
        "FileNotFoundError: [Errno 2] No such file or directory: 'prompts/system.txt'",
        None,
        "wrong_path",
    ),
    ("FileNotFoundError: [Errno 2] No such file or directory: 'config.yaml'", None, "wrong_path"),
    ("OSError: [Errno 2] No such file or directory: './models/tokenizer.json'", None, "wrong_path"),
    (
        "FileNotFoundError: [Errno 2] No such file or directory: "
        "'/Users/alice/dev/agent/data/faq.md'",
        None,
        "wrong_path",
    ),
    # localhost or wrong host
    (
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8000): "
        "Max retries exceeded with url: /v1/chat (Caused by NewConnectionError('<urllib3."
        "connection.HTTPConnection object at 0x7f2>: Failed to establish a new connection: "
        "[Errno 111] Connection refused'))",
        None,
        "wrong_host",
    ),
    ("socket.gaierror: [Errno -2] Name or service not known", None, "wrong_host"),
    (
        "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection "
        "refused.",
        None,
        "wrong_host",
    ),
    ("httpx.ConnectError: [Errno -3] Temporary failure in name resolution", None, "wrong_host"),
    ("Error: connect ECONNREFUSED 127.0.0.1:5432", None, "wrong_host"),
    # permission denied
    (
        "PermissionError: [Errno 13] Permission denied: '/var/log/agent/agent.log'",
        None,
        "permission",
    ),
    ("OSError: [Errno 30] Read-only file system: '/app/cache/index.bin'", None, "permission"),
    ("Error: EACCES: permission denied, open '/data/out.json'", None, "permission"),
    # missing binary
    (
        "FileNotFoundError: [Errno 2] No such file or directory: 'wkhtmltopdf'",
        SUBPROCESS_TB,
        "missing_binary",
    ),
    (
        "subprocess.CalledProcessError: Command 'git log -1' returned non-zero exit status 127.",
        None,
        "missing_binary",
    ),
    ("RuntimeError: /bin/sh: 1: ffmpeg: not found", None, "missing_binary"),
    ("bash: rg: command not found", None, "missing_binary"),
    ('exec: "chromium": executable file not found in $PATH', None, "missing_binary"),
    # rate limit
    (
        "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for "
        "gpt-4o on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000.'}}",
        None,
        "rate_limit",
    ),
    (
        "google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded for aiplatform",
        None,
        "rate_limit",
    ),
    (
        "HTTPError: 429 Client Error: Too Many Requests for url: https://api.x.com/v1",
        None,
        "rate_limit",
    ),
    # timeout
    ("httpx.ReadTimeout: timed out", None, "timeout"),
    ("openai.APITimeoutError: Request timed out.", None, "timeout"),
    (
        "grpc._channel._InactiveRpcError: StatusCode.DEADLINE_EXCEEDED: Deadline Exceeded",
        None,
        "timeout",
    ),
    ("asyncio.exceptions.TimeoutError", None, "timeout"),
    # memory limit
    ("MemoryError", None, "memory"),
    ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", None, "memory"),
    ("RuntimeError: worker exited with code 137", None, "memory"),
    ("ProcessError: child was terminated by SIGKILL (Killed)", None, "memory"),
    # concurrency
    ("RuntimeError: dictionary changed size during iteration", None, "concurrency"),
    ("sqlite3.OperationalError: database is locked", None, "concurrency"),
    (
        "RuntimeError: Task <Task pending> got Future <Future pending> attached to a different "
        "loop",
        None,
        "concurrency",
    ),
    ("psycopg2.errors.DeadlockDetected: deadlock detected", None, "concurrency"),
    (
        "pymysql.err.OperationalError: (1205, 'Lock wait timeout exceeded; try restarting "
        "transaction')",
        None,
        "concurrency",
    ),
    # model output drift
    (
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        PARSE_TB,
        "model_drift",
    ),
    (
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for ToolCall\n"
        "arguments\n  Field required [type=missing]",
        None,
        "model_drift",
    ),
    (
        "ValueError: could not parse the model output: unexpected format 'Sure! Here is'",
        None,
        "model_drift",
    ),
    (
        "langchain_core.exceptions.OutputParserException: Could not parse LLM output",
        None,
        "model_drift",
    ),
    # unknown
    ("ZeroDivisionError: division by zero", None, "unknown"),
    ("ValueError: unsupported expression element: Call", None, "unknown"),
    ("TypeError: 'NoneType' object is not subscriptable", None, "unknown"),
    ("", None, "unknown"),
]


@pytest.mark.parametrize(
    ("error", "traceback", "expected"), CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)]
)
def test_classifier_rules(error: str, traceback: str | None, expected: str) -> None:
    found = classify(error, traceback)
    assert found.cls.key == expected, found.evidence
    assert found.evidence


def test_every_class_is_tested_and_documented() -> None:
    tested = {c[2] for c in CASES} | set(DEMO_CLASSES.values()) | {"cold_start"}
    assert tested == set(CLASSES)
    for cls in CLASSES.values():
        assert len(cls.explanation) > 80 and len(cls.fix) > 80
        assert "\n" not in cls.title
    assert {rule.cls for rule in RULES} <= set(CLASSES)


def test_cold_start_flag() -> None:
    assert classify("TimeoutError: x did not answer", cold_start=True).cls.key == "cold_start"
    assert classify("ZeroDivisionError: x", cold_start=True).cls.key == "cold_start"
    assert classify("PermissionError: x", cold_start=True).cls.key == "permission"


# ------------------------------------------------------------------ index helpers


def _index(lines: list[dict[str, Any]]) -> TraceIndex:
    from agenttui.ingest.records import normalise

    index = TraceIndex()
    for i, line in enumerate(lines):
        index.add(normalise(line), i)
    return index


def _request(
    rid: str, start: float, ms: float, *, tool: str = "t", error: str | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"event": "request_start", "request_id": rid, "timestamp": start, "query": f"q {rid}"},
        {"event": "tool_call_start", "request_id": rid, "tool": tool, "timestamp": start},
    ]
    end = start + ms / 1000
    if error is None:
        out += [
            {
                "event": "tool_call_success",
                "request_id": rid,
                "tool": tool,
                "duration_ms": ms,
                "timestamp": end,
            },
            {"event": "request_success", "request_id": rid, "duration_ms": ms, "timestamp": end},
        ]
    else:
        out += [
            {
                "event": "tool_call_failed",
                "request_id": rid,
                "tool": tool,
                "error": error,
                "duration_ms": ms,
                "level": "error",
                "timestamp": end,
            },
            {
                "event": "request_failed",
                "request_id": rid,
                "error": error,
                "duration_ms": ms,
                "level": "error",
                "timestamp": end,
            },
        ]
    return out


T0 = 1_800_000_000.0


def test_error_groups_count_order_and_sparkline() -> None:
    lines: list[dict[str, Any]] = []
    # An old, frequent group (an hour ago) and a recent, smaller one.
    for i in range(5):
        lines += _request(
            f"old-{i}",
            T0 + i,
            10,
            tool="read_file",
            error=f"FileNotFoundError: [Errno 2] No such file or directory: 'data/f{i}.csv'",
        )
    for i in range(3):
        lines += _request(
            f"new-{i}",
            T0 + 3600 + i * 60,
            10,
            tool="call_llm",
            error=f"RateLimitError: 429 Too Many Requests (limit {i} req/s)",
        )
    lines += _request("ok-1", T0 + 3600 + 200, 10)
    index = _index(lines)
    groups = error_groups(index)
    assert [g.cls.key for g in groups] == ["rate_limit", "wrong_path"]
    rate, path = groups
    assert (rate.count, rate.recent, path.count, path.recent) == (3, 3, 5, 0)
    assert rate.tools == {"call_llm": 3}
    assert rate.first_seen == pytest.approx(T0 + 3600 + 0.01)
    assert rate.last_seen == pytest.approx(T0 + 3600 + 120.01)
    assert rate.request_ids == ["new-0", "new-1", "new-2"]
    assert rate.newest_request_id == "new-2"
    assert rate.histogram(T0 + 3600, T0 + 3600 + 180, 3) == [1, 1, 1]
    assert path.example.endswith("'data/f0.csv'")
    # With "now" far later, nothing is recent: most frequent first.
    later = error_groups(index, now=T0 + 10 * 3600)
    assert [g.cls.key for g in later] == ["wrong_path", "rate_limit"]
    newest = newest_failure(index)
    assert newest is not None and newest.request_id == "new-2"
    assert latest_time(index) == pytest.approx(T0 + 3600 + 200.01)


def test_histogram_edges() -> None:
    assert histogram([], 0, 10, 5) == [0] * 5
    assert histogram([0.0, 10.0, 11.0], 0, 10, 2) == [1, 1]
    assert histogram([5.0, 5.0], 5, 5, 3) == [0, 0, 2]


def test_cold_start_found_over_timing() -> None:
    lines: list[dict[str, Any]] = _request("first", T0, 8000, error="TimeoutError: slow start")
    for i in range(10):
        lines += _request(f"warm-{i}", T0 + 10 + i, 200)
    # After an idle hour: a second start, not slow this time.
    for i in range(8):
        lines += _request(f"later-{i}", T0 + 4000 + i, 200)
    index = _index(lines)
    found = cold_starts(index)
    assert set(found) == {"first"}
    assert found["first"][0] == 8000 and found["first"][1] == pytest.approx(200)
    trace = index.traces["first"]
    result = classify_trace(index, trace, cold=set(found))
    assert result is not None and result.cls.key == "cold_start"
    groups = error_groups(index, cold=set(found))
    assert groups[0].cls.key == "cold_start"
    assert classify_trace(index, index.traces["warm-1"]) is None


def test_live_stats_window_and_percentiles() -> None:
    lines: list[dict[str, Any]] = []
    for i in range(10):
        lines += _request(
            f"r{i}",
            T0 + i,
            100 * (i + 1),
            tool="search",
            error="TimeoutError: x" if i == 9 else None,
        )
    index = _index(lines)
    stats = live_stats(index, buckets=10)
    assert stats.requests == 10 and stats.failed == 1
    (tool,) = stats.tools
    assert (tool.tool, tool.calls, tool.errors) == ("search", 10, 1)
    assert tool.p50_ms == pytest.approx(550)
    assert sum(tool.calls_series) == 10 and sum(tool.errors_series) == 1
    assert [s.request_id for s in stats.slowest[:2]] == ["r9", "r8"]
    # 4 events per request, spread over the window.
    assert sum(stats.events_per_s) * stats.bucket_s == pytest.approx(40)
    assert sum(stats.errors_per_s) * stats.bucket_s == pytest.approx(2)
    # A window that excludes the older requests.
    short = live_stats(index, window_s=3.5)
    assert short.requests == 3
    empty = live_stats(TraceIndex(), buckets=4)
    assert empty.tools == [] and empty.events_per_s == [0.0] * 4


# ------------------------------------------------------------------ query language


@pytest.fixture(scope="module")
def sample() -> Any:
    session = Session([str(SAMPLE_LOGS)])
    session.scan()
    yield session
    session.close()


def _count(session: Session, text: str) -> int:
    query = parse(text)
    index = session.index
    return sum(1 for t in index.traces.values() if query(index, t))


def _expected(session: Session, cond: Callable[[Any], bool]) -> int:
    from agenttui.output.views import trace_dict

    index = session.index
    return sum(1 for t in index.traces.values() if cond(trace_dict(index, t)))


def test_query_fields_on_the_sample(sample: Session) -> None:
    n = len(sample.index)
    assert _count(sample, "") == n
    assert _count(sample, "status:error") == _expected(sample, lambda d: d["status"] == "error")
    assert _count(sample, "STATUS:OK") == _expected(sample, lambda d: d["status"] == "ok")
    assert _count(sample, "-status:ok") == n - _count(sample, "status:ok")
    assert _count(sample, "tool:web_search") == _expected(
        sample, lambda d: any(t["tool"] == "web_search" for t in d["tools"])
    )
    assert _count(sample, "tool:web*") == _count(sample, "tool:web_search")
    assert _count(sample, "dur>40ms") == _expected(
        sample, lambda d: d["duration_ms"] is not None and d["duration_ms"] > 40
    )
    assert _count(sample, "dur<=0.001s") == _expected(
        sample, lambda d: d["duration_ms"] is not None and d["duration_ms"] <= 1
    )
    assert _count(sample, "dur>40") == _count(sample, "dur>40ms")  # bare number: ms
    assert _count(sample, '"connection refused"') == _expected(
        sample, lambda d: "connection refused" in (d["error"] or "").lower()
    )
    assert _count(sample, "class:timeout") == _count(sample, "tool:slow_api status:error")
    assert _count(sample, "class:rate-limit") == _count(sample, "class:rate_limit") > 0
    assert _count(sample, "level:warning") == _count(sample, "level:error")
    assert _count(sample, "level:info") == n
    rid = next(iter(sample.index.traces))
    assert _count(sample, f"id:{rid[-6:].upper()}") == 1
    assert _count(sample, "since:1000d") == n
    assert 0 < _count(sample, "since:1s") < n
    assert _count(sample, "status:error -tool:call_llm -class:timeout") == _expected(
        sample,
        lambda d: (
            d["status"] == "error"
            and all(t["tool"] not in ("call_llm", "slow_api") for t in d["tools"])
        ),
    )
    # Consecutive bare words are one phrase, as the old plain search.
    assert _count(sample, "rate limit exceeded") == _count(sample, '"rate limit exceeded"')
    assert _count(sample, "limit rate") == 0


def test_query_level_warning_uses_the_warning_flag() -> None:
    index = _index(
        [
            {"event": "request_start", "request_id": "a", "timestamp": T0},
            {"event": "retrying", "level": "warning", "request_id": "a", "timestamp": T0 + 1},
            {"event": "request_success", "request_id": "a", "timestamp": T0 + 2},
            {"event": "request_start", "request_id": "b", "timestamp": T0},
            {"event": "request_success", "request_id": "b", "timestamp": T0 + 2},
        ]
    )
    q = parse("level:warn")
    assert [t.request_id for t in index.traces.values() if q(index, t)] == ["a"]
    assert not parse("level:error")(index, index.traces["a"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"abc', 'unclosed quote at column 1: add a closing "'),
        ('status:error "x', 'unclosed quote at column 14: add a closing "'),
        ("-", '"-" at column 1 must be followed by a term, e.g. -status:ok'),
        ('""', "empty quotes at column 1: put the text to find inside"),
        ("dur>", '"dur>" at column 1 needs a value after ">", e.g. dur>5s'),
        ("dur=", '"dur=" at column 1 needs a value, e.g. dur>5s'),
        ("dur>5x", 'unknown unit "x" in "dur>5x" at column 1 (use ms, s, m, h)'),
        (
            "dur<abc",
            'duration "abc" in "dur<abc" at column 1 is not a number with a unit, e.g. 5s or 200ms',
        ),
        ("since:15", 'time "15" in "since:15" at column 7 needs a unit (s, m, h, d)'),
        (
            "since:soon",
            'time "soon" in "since:soon" at column 7 is not a number with a unit, e.g. 15m or 2h',
        ),
        ("since:5y", 'unknown unit "y" in "since:5y" at column 7 (use s, m, h, d)'),
        (
            "a dur",
            '"dur" at column 3 needs a comparison: dur>5s or dur<200ms '
            '(quote it to search the text "dur")',
        ),
        ("dur:5s", '"dur:5s" at column 1: durations compare with > or <, e.g. dur>5s or dur<200ms'),
        (
            "foo:bar",
            'unknown field "foo" at column 1 (fields: status, tool, model, dur, tokens, level, '
            "since, id, class; put text with a colon in quotes)",
        ),
        ("status:", '"status:" at column 1 needs a value, e.g. status:error'),
        ("tool:", '"tool:" at column 1 needs a value, e.g. tool:web_search'),
        ("  status:bad", 'status "bad" at column 10 is not one of error, ok, running'),
        ("level:loud", 'level "loud" at column 7 is not one of debug, info, warning, error'),
        (
            "class:nope",
            'class "nope" at column 7 is not one of missing_env, wrong_path, wrong_host, '
            "permission, missing_binary, rate_limit, memory, concurrency, model_drift, "
            "timeout, cold_start, unknown",
        ),
        ("-status:bad", 'status "bad" at column 9 is not one of error, ok, running'),
    ],
)
def test_query_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_query_text_that_looks_like_fields() -> None:
    # URLs, quoted colons and "Type: message" text are text, not fields.
    for text in ['"status:bad"', "http://x/y", '"dur"', "RateLimitError: 429", '-"foo:bar"', "a-b"]:
        assert not parse(text).empty


# ------------------------------------------------------------------ CLI and incident note


def test_traces_filter_cli(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.BytesIO()
    assert (
        traces_cmd.print_traces([str(SAMPLE_LOGS)], out, query="status:error tool:read_file") == 0
    )
    rows = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert rows and all(r["status"] == "error" for r in rows)
    assert all(any(t["tool"] == "read_file" for t in r["tools"]) for r in rows)
    assert main(["traces", str(SAMPLE_LOGS), "--json", "--filter", "status:eror"]) == 2
    err = capsys.readouterr().err
    assert err == (
        'agenttui: error: bad --filter: status "eror" at column 8 is not one of '
        "error, ok, running\n"
    )


def test_report_markdown_and_json(sample: Session, capsys: pytest.CaptureFixture[str]) -> None:
    trace = newest_failure(sample.index)
    assert trace is not None
    md = incident_markdown(sample, trace)
    for part in (
        "# Incident: request " + trace.request_id,
        "## Failure class: rate limit",
        "**Fix:**",
        "## Timeline",
        "| request_start |",
        "## Traceback",
        "Traceback (most recent call last):",
        "RateLimitError: 429",
        "## Replay verdicts",
        "failing tool: **call_llm**",
    ):
        assert part in md, part
    data = incident_dict(sample, trace, replay=lambda rid: [{"verdict": "fixed", "id": rid}])
    assert data["failure_class"]["class"] == "rate_limit"
    assert len(data["full_events"]) == trace.events == data["events"]
    assert data["replay"] == [{"verdict": "fixed", "id": trace.request_id}]
    assert main(["report", trace.request_id[:10], str(SAMPLE_LOGS)]) == 0
    assert "## Failure class" in capsys.readouterr().out
    assert main(["report", trace.request_id, str(SAMPLE_LOGS), "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["request_id"] == trace.request_id
    assert main(["report", "req-", str(SAMPLE_LOGS)]) == 2
    assert "give more of it" in capsys.readouterr().err
    assert main(["report", "nope", str(SAMPLE_LOGS)]) == 2
    assert capsys.readouterr().err.startswith("agenttui: error: no trace with request id 'nope'")


def test_report_masks_secrets_and_control_characters(write_log: Callable[..., Path]) -> None:
    path = write_log(
        {
            "event": "request_start",
            "request_id": "r1",
            "query": "x\x1b[2J",
            "timestamp": T0,
            "api_key": "sk-live-abcdefghijklmnop",
        },
        {"event": "tool_call_start", "request_id": "r1", "tool": "t", "timestamp": T0},
        {
            "event": "tool_call_failed",
            "request_id": "r1",
            "tool": "t",
            "timestamp": T0 + 1,
            "level": "error",
            "error": "AuthError: bad key OPENAI_API_KEY=sk-abcdefghijklmnop12",
            "exception": "Traceback (most recent call last):\nAuthError: Bearer abcdefghijkl",
        },
        {"event": "request_failed", "request_id": "r1", "timestamp": T0 + 1, "error": "x"},
    )
    session = Session([str(path)])
    session.scan()
    try:
        trace = session.index.traces["r1"]
        md = incident_markdown(session, trace)
        data = incident_dict(session, trace)
    finally:
        session.close()
    assert "sk-" not in md and "abcdefghijkl" not in md and "\x1b" not in md
    assert "\\x1b[2J" in md
    assert data["full_events"][0]["api_key"] == secrets.MASK
    assert "sk-" not in orjson.dumps(data).decode()
    assert mask({"max_tokens": 100, "session_token": "abc"}) == {
        "max_tokens": 100,
        "session_token": secrets.MASK,
    }
