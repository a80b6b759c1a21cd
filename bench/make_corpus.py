#!/usr/bin/env python3
"""Generate a large, realistic structlog JSON-lines corpus of an AI agent service.

The corpus imitates what an agent configured like this writes::

    structlog.configure(processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.dict_tracebacks,
        structlog.processors.JSONRenderer(),
    ])

with ``request_id`` bound through ``structlog.contextvars``. Requests overlap (50-200 in flight),
their events are interleaved, timestamps increase over one simulated day, ~10% of requests fail
with a ``tool_call_failed`` line that carries a real ``dict_tracebacks`` rendering (frames and
locals), ~1% of lines are not JSON (uvicorn access lines, plain-text tracebacks, torn writes),
and a sample of failures is written as ``captures/failed_<ts>.json``.

Fast path, and why it is faithful:

* Ordinary events are rendered with ``json.dumps`` of a dict whose keys are in the exact order
  structlog builds them (call kwargs, ``event``, then ``request_id`` from merge_contextvars'
  ``setdefault``, ``level``, ``timestamp``): that is byte-for-byte what ``JSONRenderer`` emits.
  Timestamps use the same ``isoformat().replace("+00:00", "Z")`` shape as ``TimeStamper``.
* Failures come from a pool of ~200 variants, each rendered ONCE by a real structlog logger around
  a real exception raised through nested functions of a small simulated agent (compiled under
  ``/srv/agent/...`` file names so frames do not depend on where this script lives). The
  ``exception`` JSON is kept as a template with placeholder request/call ids of the same length
  and patched per failure.
* ``--verify-every N`` re-renders every Nth JSON line (and the first failures) through the real
  structlog logger with a frozen clock and aborts on any byte difference.

Usage::

    python bench/make_corpus.py --out bench/corpus            # ~2M lines, ~500 MB
    python bench/make_corpus.py --out /tmp/c --lines 20000    # small, for tests
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import linecache
import logging
import math
import os
import random
import sys
import time
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import structlog

DEFAULT_LINES = 2_000_000
#: Start of the simulated day (UTC).
BASE_EPOCH = int(_dt.datetime(2025, 3, 14, tzinfo=_dt.UTC).timestamp())
DAY_US = 86_400 * 1_000_000

FAIL_RATE = 0.10
NONJSON_RATE = 0.01
POOL_SIZE = 200
#: Captures written for a full-size (2M line) corpus; scaled with --lines.
CAPTURES_FULL = 500
#: tool calls per request and their weights (mean ~4)
TOOL_COUNTS = (3, 4, 5, 6)
TOOL_WEIGHTS = (0.40, 0.30, 0.20, 0.10)
PARALLEL_RATE = 0.2

#: Placeholders patched into pooled tracebacks; same length and alphabet as the real ids.
RID_PLACEHOLDER = "ffffffff-ffff-4fff-bfff-ffffffffffff"
CALL_PLACEHOLDER = "call_" + "f" * 24

PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.dict_tracebacks,
    structlog.processors.JSONRenderer(),
]


def make_logger() -> Any:
    """A real structlog logger with the agent's processor chain that returns its rendered line.

    ``ReturnLogger`` hands back exactly the string that ``WriteLogger`` would write (minus the
    trailing newline), so the real logger's output can be compared with the fast path. Built
    with ``wrap_logger`` so that structlog's global configuration is left alone.
    """
    return structlog.wrap_logger(
        structlog.ReturnLogger(),
        processors=PROCESSORS,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )


# --------------------------------------------------------------------------------------------
# Timestamps


class _FrozenDatetime:
    """Stands in for the ``datetime`` class inside structlog.processors while rendering."""

    value: _dt.datetime = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:
        return cls.value


@contextlib.contextmanager
def frozen_clock(epoch_us: int) -> Iterator[None]:
    """Make structlog's TimeStamper see ``epoch_us`` (microseconds since the epoch, UTC)."""
    import structlog.processors as sp

    _FrozenDatetime.value = _dt.datetime.fromtimestamp(epoch_us // 1_000_000, _dt.UTC).replace(
        microsecond=epoch_us % 1_000_000
    )
    # TimeStamper's now() reads the module global ``datetime`` of structlog.processors.
    saved = sp.__dict__["datetime"]
    sp.__dict__["datetime"] = types.SimpleNamespace(datetime=_FrozenDatetime, timezone=_dt.timezone)
    try:
        yield
    finally:
        sp.__dict__["datetime"] = saved


class IsoClock:
    """Formats epoch microseconds exactly like ``TimeStamper(fmt="iso", utc=True)``."""

    def __init__(self) -> None:
        self._sec = -1
        self._prefix = ""

    def __call__(self, epoch_us: int) -> str:
        sec, micro = divmod(epoch_us, 1_000_000)
        if sec != self._sec:
            self._sec = sec
            self._prefix = _dt.datetime.fromtimestamp(sec, _dt.UTC).isoformat()[:19]
        # datetime.isoformat() leaves the fraction out when microsecond == 0.
        return f"{self._prefix}.{micro:06d}Z" if micro else self._prefix + "Z"


# --------------------------------------------------------------------------------------------
# The simulated agent whose exceptions fill the tracebacks. Compiled under fake /srv paths.

_AGENT_SRC = """\
import traceback
from dataclasses import dataclass


@dataclass
class ToolRunner:
    service: str
    registry: object
    max_attempts: int = 1

    def call_tool(self, request_id, tool, params, call_id):
        try:
            return self.registry.dispatch(request_id, tool, params, call_id)
        except Exception as exc:
            line = _LOG.exception(
                "tool_call_failed",
                tool=tool,
                call_id=call_id,
                error=f"{type(exc).__name__}: {exc}",
                duration_ms=_SIM["duration_ms"],
            )
            _SIM["line"] = line
            _SIM["text"] = "".join(traceback.format_exception(exc))
            return None
"""

_REGISTRY_SRC = '''\
from dataclasses import dataclass


class ToolExecutionError(RuntimeError):
    """A tool failed; the cause is chained."""


@dataclass
class ToolRegistry:
    name: str
    timeout_s: float = 30.0
    retries: int = 0

    def dispatch(self, request_id, tool, params, call_id):
        attempt = 1
        budget_s = self.timeout_s * (self.retries + 1)
        try:
            return impl.execute(request_id, tool, params, call_id, self.timeout_s)
        except Exception as exc:
            if impl.PLAN["wrap"]:
                raise ToolExecutionError(
                    f"{tool} failed on attempt {attempt}/{self.retries + 1}"
                ) from exc
            raise
'''

_IMPL_SRC = """\
PLAN = {}


def _fail(level):
    if PLAN["depth"] == level:
        raise PLAN["make"]()


def _rows(tag):
    return [
        {f"{tag}_{j}": f"{tag}-value-{i:03d}-{j:02d}-" + "x" * PLAN["pad"]
         for j in range(PLAN["width"])}
        for i in range(PLAN["nrows"])
    ]


def execute(request_id, tool, params, call_id, timeout_s):
    spec = {"name": tool, "version": "1.4.2", "timeout_s": timeout_s, "idempotent": True}
    _fail(1)
    return prepare(request_id, tool, dict(params), spec)


def prepare(request_id, tool, payload, spec):
    headers = {
        "X-Request-ID": request_id,
        "Authorization": "Bearer sk-****************",
        "Content-Type": "application/json",
        "User-Agent": "agent-svc/2.8.1",
    }
    route = f"/v1/tools/{tool}/invoke"
    _fail(2)
    return http.CLIENT.post(route, headers, payload)
"""

_HTTP_SRC = '''\
from dataclasses import dataclass


class HTTPStatusError(Exception):
    """Non-2xx response from an upstream."""


class RateLimitError(Exception):
    """Upstream said 429."""


@dataclass
class HttpClient:
    base_url: str
    pool_size: int = 20
    verify_tls: bool = True

    def post(self, route, headers, payload):
        url = self.base_url + route
        attempt = 0
        _fail(3)
        return self.send("POST", url, headers, payload, attempt)

    def send(self, method, url, headers, payload, attempt):
        conn_key = ("tool-gateway.internal", 8443, self.verify_tls)
        pending = _rows("req")
        _fail(4)
        return self.read_response(method, url, pending)

    def read_response(self, method, url, pending):
        status = PLAN["status"]
        raw_headers = {"content-type": "application/json", "x-upstream": "tools-7f9c"}
        chunks = [b"{" + b"x" * PLAN["pad"] + b"}" for _ in range(PLAN["nrows"])]
        _fail(5)
        return decode.parse_body(status, raw_headers, b"".join(chunks))
'''

_DECODE_SRC = """\
def parse_body(status, headers, body):
    text = body.decode("utf-8", "replace")
    size = len(body)
    _fail(6)
    return normalize(status, text, _rows("doc"))


def normalize(status, text, documents):
    seen = {}
    for n, doc in enumerate(documents):
        seen[f"doc-{n}"] = len(doc)
    records = _rows("rec")
    _fail(7)
    return validate(records, seen)


def validate(records, seen):
    schema = {"type": "object", "required": ["id", "score", "snippet"], "strict": True}
    errors = [f"records[{i}]: missing 'score'" for i in range(len(records))]
    _fail(8)
    return records
"""

FAKE_ROOT = "/srv/agent/app"


def _compile_module(name: str, filename: str, src: str, env: dict[str, Any]) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__file__ = filename
    mod.__dict__.update(env)
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec", dont_inherit=True), mod.__dict__)
    return mod


@dataclass
class SimAgent:
    runner: Any
    impl: types.ModuleType
    http: types.ModuleType
    registry: types.ModuleType
    sim: dict[str, Any]


def build_sim_agent() -> SimAgent:
    """Compile the simulated agent modules (once)."""
    sim: dict[str, Any] = {"duration_ms": 0.0}
    impl = _compile_module("app.tools.impl", f"{FAKE_ROOT}/tools/impl.py", _IMPL_SRC, {})
    decode = _compile_module(
        "app.clients.decode",
        f"{FAKE_ROOT}/clients/decode.py",
        _DECODE_SRC,
        {"_fail": impl._fail, "_rows": impl._rows},
    )
    http = _compile_module(
        "app.clients.http",
        f"{FAKE_ROOT}/clients/http.py",
        _HTTP_SRC,
        {"_fail": impl._fail, "_rows": impl._rows, "PLAN": impl.PLAN, "decode": decode},
    )
    http.__dict__["CLIENT"] = http.HttpClient(base_url="https://tool-gateway.internal:8443")
    impl.__dict__["http"] = http
    registry = _compile_module(
        "app.tools.registry", f"{FAKE_ROOT}/tools/registry.py", _REGISTRY_SRC, {"impl": impl}
    )
    agent = _compile_module(
        "app.agent",
        f"{FAKE_ROOT}/agent.py",
        _AGENT_SRC,
        {"_LOG": make_logger(), "_SIM": sim},
    )
    runner = agent.ToolRunner(
        service="agent-svc",
        registry=registry.ToolRegistry(name="default", timeout_s=30.0, retries=0),
    )
    return SimAgent(runner=runner, impl=impl, http=http, registry=registry, sim=sim)


# --------------------------------------------------------------------------------------------
# Vocabulary

TOOLS = (
    "web_search",
    "fetch_url",
    "sql_query",
    "vector_search",
    "read_file",
    "python_exec",
    "get_weather",
    "calendar_lookup",
    "send_email",
    "calculator",
)
CITIES = (
    "Paris",
    "Berlin",
    "São Paulo",
    "Tokyo",
    "Lagos",
    "Zürich",
    "Austin",
    "Mumbai",
    "Toronto",
    "Kraków",
    "Sydney",
    "Reykjavík",
)
TOPICS = (
    "quarterly revenue",
    "kubernetes upgrades",
    "GDPR fines",
    "the Q3 roadmap",
    "vector databases",
    "rust async runtimes",
    "EU AI Act",
    "supply chain delays",
    "customer churn",
    "latency regressions",
    "the onboarding flow",
    "pricing tiers",
)
QUERY_TEMPLATES = (
    "What's the weather in {city} tomorrow?",
    "Summarize the latest news about {topic}",
    "Compare our {topic} numbers with last year and draft a short memo",
    "Find the top 5 customers in {city} by revenue",
    "Email the team a summary of {topic}",
    "Plot weekly signups for {city} over the last 90 days",
    "Which tickets mention {topic}? Group them by severity",
    "Book a meeting about {topic} next Tuesday afternoon",
    "Explain why {topic} matters for the {city} office",
    "Translate the {topic} FAQ into German and French",
    "How many orders shipped from {city} last week?",
    "Write a SQL query that finds duplicate accounts in {city}",
)
TABLES = ("orders", "customers", "events", "invoices", "tickets", "signups")


def _params(rng: random.Random, tool: str) -> dict[str, Any]:
    city = rng.choice(CITIES)
    topic = rng.choice(TOPICS)
    if tool == "web_search":
        return {"query": f"{topic} {city}", "max_results": rng.choice((5, 10, 20))}
    if tool == "fetch_url":
        return {
            "url": f"https://news.example.com/{topic.replace(' ', '-')}/{rng.randrange(10**6)}",
            "timeout_s": 10,
        }
    if tool == "sql_query":
        table = rng.choice(TABLES)
        return {
            "sql": f"SELECT id, total FROM {table} WHERE city = '{city}' "
            f"LIMIT {rng.randrange(10, 500)}",
            "database": "analytics",
        }
    if tool == "vector_search":
        return {"collection": "kb_articles", "query": topic, "top_k": rng.choice((3, 5, 8))}
    if tool == "read_file":
        return {"path": f"/data/reports/{topic.replace(' ', '_')}_{rng.randrange(2019, 2026)}.md"}
    if tool == "python_exec":
        return {"code": f"df = load('{city.lower()}.csv')\nprint(df.tail({rng.randrange(4, 20)}))"}
    if tool == "get_weather":
        return {"city": city, "units": rng.choice(("metric", "imperial"))}
    if tool == "calendar_lookup":
        return {
            "user_id": f"u_{rng.randrange(10**5):05d}",
            "date": f"2025-03-{rng.randrange(14, 29)}",
        }
    if tool == "send_email":
        return {"to": [f"team-{city.lower()}@example.com"], "subject": f"Re: {topic}"}
    return {"expression": f"({rng.randrange(1, 999)} * {rng.randrange(1, 99)}) / 7"}


# --------------------------------------------------------------------------------------------
# Failure variants

ErrorFactory = Callable[[random.Random], Callable[[], Exception]]


def _error_factories(http: types.ModuleType) -> list[ErrorFactory]:
    def timeout(rng: random.Random) -> Callable[[], Exception]:
        secs = rng.choice((10.0, 30.0, 60.0))
        return lambda: TimeoutError(f"upstream did not answer within {secs}s")

    def refused(rng: random.Random) -> Callable[[], Exception]:
        port = rng.choice((8443, 5432, 6379, 9200))
        return lambda: ConnectionRefusedError(111, f"Connection refused (tool-gateway:{port})")

    def key(rng: random.Random) -> Callable[[], Exception]:
        name = rng.choice(("results", "items", "data", "choices", "rows"))
        return lambda: KeyError(name)

    def value(rng: random.Random) -> Callable[[], Exception]:
        tok = rng.choice(("N/A", "null", "", "12,5", "NaN%"))
        return lambda: ValueError(f"could not convert string to float: {tok!r}")

    def jsondec(rng: random.Random) -> Callable[[], Exception]:
        pos = rng.randrange(1, 5000)
        return lambda: json.JSONDecodeError("Expecting ',' delimiter", "{" * 8, min(pos, 7))

    def status(rng: random.Random) -> Callable[[], Exception]:
        code, text = rng.choice(
            (
                (500, "Internal Server Error"),
                (502, "Bad Gateway"),
                (503, "Service Unavailable"),
                (504, "Gateway Timeout"),
            )
        )
        return lambda: http.HTTPStatusError(
            f"Server error '{code} {text}' for url 'https://tool-gateway.internal:8443/v1/tools'"
        )

    def ratelimit(rng: random.Random) -> Callable[[], Exception]:
        after = rng.randrange(2, 60)
        return lambda: http.RateLimitError(f"429 Too Many Requests: retry after {after}s")

    def perm(rng: random.Random) -> Callable[[], Exception]:
        return lambda: PermissionError(13, "Permission denied", "/data/reports/secret.md")

    return [timeout, refused, key, value, jsondec, status, ratelimit, perm]


@dataclass
class Variant:
    index: int
    tool: str
    params: dict[str, Any]
    plan: dict[str, Any]
    error: str = ""
    exc_json: str = ""
    text: str = ""


def _size_plan(rng: random.Random) -> dict[str, Any]:
    # Log-uniform-ish spread of traceback sizes: a few KB to ~20 KB.
    scale = rng.random() ** 2.2
    return {
        "depth": rng.randint(2, 8) if scale < 0.5 else rng.randint(5, 8),
        "nrows": 1 + int(scale * 9),
        "width": 1 + int(scale * 6),
        "pad": rng.randrange(4, 40),
        "wrap": rng.random() < 0.4,
        "status": rng.choice((200, 500, 502, 503)),
    }


def raise_and_log(
    agent: SimAgent,
    variant: Variant,
    request_id: str,
    call_id: str,
    epoch_us: int,
    duration_ms: float,
) -> tuple[str, str]:
    """Really raise the variant's exception inside the simulated agent and log it with structlog.

    Returns:
        (the rendered JSON line, the plain-text traceback)
    """
    agent.impl.PLAN.clear()
    agent.impl.PLAN.update(variant.plan)
    agent.sim["duration_ms"] = duration_ms
    with frozen_clock(epoch_us), structlog.contextvars.bound_contextvars(request_id=request_id):
        agent.runner.call_tool(request_id, variant.tool, variant.params, call_id)
    return agent.sim["line"], agent.sim["text"]


_EXC_SEP = ', "exception": '


def build_pool(agent: SimAgent, rng: random.Random, size: int = POOL_SIZE) -> list[Variant]:
    factories = _error_factories(agent.http)
    pool: list[Variant] = []
    for i in range(size):
        tool = TOOLS[i % len(TOOLS)]
        plan = _size_plan(rng)
        plan["make"] = rng.choice(factories)(rng)
        v = Variant(index=i, tool=tool, params=_params(rng, tool), plan=plan)
        line, text = raise_and_log(agent, v, RID_PLACEHOLDER, CALL_PLACEHOLDER, 0, 0.0)
        cut = line.rindex(_EXC_SEP)
        v.exc_json = line[cut + len(_EXC_SEP) : -1]
        v.error = json.loads(line[:cut] + "}")["error"]
        v.text = text
        pool.append(v)
    return pool


# --------------------------------------------------------------------------------------------
# Generation


@dataclass
class Call:
    tool: str
    params: dict[str, Any]
    call_id: str
    variant: Variant | None = None
    start_us: int = 0


@dataclass
class Request:
    rid: str
    query: str
    calls: list[Call]
    steps: list[tuple[int, int]]
    failed: bool
    pos: int = 0
    start_us: int = 0


@dataclass
class FailureSample:
    """What the generator did for one failure, so a test can re-render it for real."""

    line_no: int
    variant: int
    request_id: str
    call_id: str
    epoch_us: int
    duration_ms: float


@dataclass
class Stats:
    lines: int = 0
    json_lines: int = 0
    nonjson_lines: int = 0
    bytes: int = 0
    requests: int = 0
    failures: int = 0
    captures: int = 0
    verified: int = 0
    seconds: float = 0.0
    failure_samples: list[FailureSample] = field(default_factory=list)


K_REQ_START, K_TOOL_START, K_TOOL_OK, K_TOOL_FAIL, K_REQ_OK, K_REQ_FAIL = range(6)


class CorpusGenerator:
    def __init__(
        self,
        out: Path,
        lines: int = DEFAULT_LINES,
        seed: int = 7,
        verify_every: int = 50_000,
        keep_samples: int = 20,
    ) -> None:
        self.out = out
        self.target_lines = max(100, lines)
        self.rng = random.Random(seed)
        self.verify_every = verify_every
        self.keep_samples = keep_samples
        self.agent = build_sim_agent()
        self.pool = build_pool(self.agent, random.Random(seed + 1))
        self.log = make_logger()
        self.iso = IsoClock()
        self.stats = Stats()
        self._rid_rng = random.Random(seed + 2)

    # ---- ids and plans

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rid_rng.getrandbits(128), version=4))

    def _call_id(self) -> str:
        return f"call_{self._rid_rng.getrandbits(96):024x}"

    def _new_request(self) -> Request:
        rng = self.rng
        n = rng.choices(TOOL_COUNTS, TOOL_WEIGHTS)[0]
        failed = rng.random() < FAIL_RATE
        m = rng.randint(1, n) if failed else n
        calls = []
        for _ in range(m):
            tool = rng.choice(TOOLS)
            calls.append(Call(tool, _params(rng, tool), self._call_id()))
        if failed:
            v = self.pool[rng.randrange(len(self.pool))]
            calls[-1] = Call(v.tool, v.params, calls[-1].call_id, v)
        steps: list[tuple[int, int]] = [(K_REQ_START, 0)]
        par = rng.randrange(m - 1) if m >= 2 and rng.random() < PARALLEL_RATE else -1
        i = 0
        while i < m:
            if i == par:
                a, b = (i, i + 1) if rng.random() < 0.5 else (i + 1, i)
                steps += [
                    (K_TOOL_START, i),
                    (K_TOOL_START, i + 1),
                    (self._end(calls, a), a),
                    (self._end(calls, b), b),
                ]
                i += 2
            else:
                steps += [(K_TOOL_START, i), (self._end(calls, i), i)]
                i += 1
        steps.append((K_REQ_FAIL if failed else K_REQ_OK, 0))
        tpl = rng.choice(QUERY_TEMPLATES)
        query = tpl.format(city=rng.choice(CITIES), topic=rng.choice(TOPICS))
        return Request(self._uuid(), query, calls, steps, failed)

    @staticmethod
    def _end(calls: list[Call], i: int) -> int:
        return K_TOOL_FAIL if calls[i].variant is not None else K_TOOL_OK

    # ---- rendering

    def verify(self, d: dict[str, Any], line: str, epoch_us: int) -> None:
        """Render ``d`` through the real structlog chain and compare with the fast line."""
        kwargs = {
            k: v for k, v in d.items() if k not in ("event", "request_id", "level", "timestamp")
        }
        with (
            frozen_clock(epoch_us),
            structlog.contextvars.bound_contextvars(request_id=d["request_id"]),
        ):
            real = getattr(self.log, d["level"])(d["event"], **kwargs)
        if real != line:
            raise AssertionError(f"fast path differs from structlog:\n{line}\n{real}")
        self.stats.verified += 1

    def _nonjson_block(self, last_json: str) -> list[str]:
        rng = self.rng
        r = rng.random()
        if r < 0.55:
            ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            path, code = rng.choice(
                (
                    ("POST /v1/agent/run HTTP/1.1", "200 OK"),
                    ("POST /v1/agent/run HTTP/1.1", "500 Internal Server Error"),
                    ("GET /healthz HTTP/1.1", "200 OK"),
                    ("GET /metrics HTTP/1.1", "200 OK"),
                )
            )
            return [f'INFO:     {ip}:{rng.randrange(30000, 65000)} - "{path}" {code}']
        if r < 0.80 and last_json:
            # a torn write: a strict prefix of a JSON object is never valid JSON
            return [last_json[: rng.randrange(1, min(len(last_json) - 1, 400))]]
        v = self.pool[rng.randrange(len(self.pool))]
        block = [ln for ln in v.text.splitlines() if ln.strip()]
        return ["ERROR:    Exception in ASGI application", *block]

    def generate(self) -> Stats:
        t0 = time.perf_counter()
        out = self.out
        (out / "captures").mkdir(parents=True, exist_ok=True)
        rng = self.rng
        target = self.target_lines
        json_target = int(target * (1 - NONJSON_RATE))
        # ~43 ms between lines: the full corpus spans one simulated day, a small one less
        mean_gap = DAY_US / DEFAULT_LINES
        exp = rng.expovariate
        rand = rng.random
        randrange = rng.randrange
        dumps = json.dumps
        iso = self.iso
        stats = self.stats
        expected_failures = json_target / 9.5 * FAIL_RATE
        capture_target = max(3, round(CAPTURES_FULL * target / DEFAULT_LINES))
        capture_p = min(1.0, 1.5 * capture_target / max(1.0, expected_failures))
        verify_every = self.verify_every

        active: list[Request] = []
        planned = 0
        now = BASE_EPOCH * 1_000_000
        buf: list[str] = []
        buf_bytes = 0
        written = 0
        lines = 0
        nonjson = 0
        last_json = ""
        conc = 100
        f = open(out / "agent.log", "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        try:
            while True:
                if lines % 1000 == 0:
                    # in-flight requests follow a daily curve between ~50 and ~200
                    phase = (now / 1_000_000 - BASE_EPOCH) / 86_400
                    conc = int(125 - 75 * math.cos(2 * math.pi * phase)) + randrange(-5, 6)
                while len(active) < conc and planned < json_target:
                    req = self._new_request()
                    planned += len(req.steps)
                    active.append(req)
                    stats.requests += 1
                if not active:
                    break
                if nonjson < NONJSON_RATE * lines:
                    block = self._nonjson_block(last_json)
                    for ln in block:
                        buf.append(ln)
                        buf.append("\n")
                        buf_bytes += len(ln) + 1
                    lines += len(block)
                    nonjson += len(block)
                    continue
                idx = randrange(len(active))
                req = active[idx]
                kind, ci = req.steps[req.pos]
                req.pos += 1
                now += 1 + int(exp(1.0) * mean_gap)
                ts = iso(now)
                rid = req.rid
                d: dict[str, Any]
                if kind == K_TOOL_START:
                    c = req.calls[ci]
                    c.start_us = now
                    d = {
                        "tool": c.tool,
                        "params": c.params,
                        "call_id": c.call_id,
                        "event": "tool_call_start",
                        "request_id": rid,
                        "level": "info",
                        "timestamp": ts,
                    }
                    line = dumps(d)
                elif kind == K_TOOL_OK:
                    c = req.calls[ci]
                    d = {
                        "tool": c.tool,
                        "call_id": c.call_id,
                        "result_size": int(exp(1.0) * 3000) + randrange(2, 200),
                        "duration_ms": round((now - c.start_us) / 1000, 3),
                        "event": "tool_call_success",
                        "request_id": rid,
                        "level": "info",
                        "timestamp": ts,
                    }
                    line = dumps(d)
                elif kind == K_REQ_START:
                    req.start_us = now
                    d = {
                        "query": req.query,
                        "event": "request_start",
                        "request_id": rid,
                        "level": "info",
                        "timestamp": ts,
                    }
                    line = dumps(d)
                elif kind == K_REQ_OK:
                    d = {
                        "duration_ms": round((now - req.start_us) / 1000, 3),
                        "event": "request_success",
                        "request_id": rid,
                        "level": "info",
                        "timestamp": ts,
                    }
                    line = dumps(d)
                elif kind == K_REQ_FAIL:
                    v = req.calls[-1].variant
                    assert v is not None
                    d = {
                        "error": v.error,
                        "duration_ms": round((now - req.start_us) / 1000, 3),
                        "event": "request_failed",
                        "request_id": rid,
                        "level": "error",
                        "timestamp": ts,
                    }
                    line = dumps(d)
                else:  # K_TOOL_FAIL
                    c = req.calls[ci]
                    v = c.variant
                    assert v is not None
                    dur = round((now - c.start_us) / 1000, 3)
                    d = {
                        "tool": c.tool,
                        "call_id": c.call_id,
                        "error": v.error,
                        "duration_ms": dur,
                        "event": "tool_call_failed",
                        "request_id": rid,
                        "level": "error",
                        "timestamp": ts,
                    }
                    exc = v.exc_json.replace(RID_PLACEHOLDER, rid).replace(
                        CALL_PLACEHOLDER, c.call_id
                    )
                    line = dumps(d)[:-1] + _EXC_SEP + exc + "}"
                    stats.failures += 1
                    if stats.failures <= 5 or (verify_every and stats.failures % 500 == 0):
                        real, _ = raise_and_log(self.agent, v, rid, c.call_id, now, dur)
                        if real != line:
                            raise AssertionError(f"failure fast path differs:\n{line}\n{real}")
                        stats.verified += 1
                    if len(stats.failure_samples) < self.keep_samples:
                        stats.failure_samples.append(
                            FailureSample(lines + 1, v.index, rid, c.call_id, now, dur)
                        )
                    if stats.captures < capture_target and rand() < capture_p:
                        self._capture(req, c, v, ts, dur)
                lines += 1
                if verify_every and (lines - 1) % verify_every == 0 and kind != K_TOOL_FAIL:
                    self.verify(d, line, now)
                last_json = line
                buf.append(line)
                buf.append("\n")
                buf_bytes += len(line) + 1
                if req.pos == len(req.steps):
                    active[idx] = active[-1]
                    active.pop()
                if buf_bytes > 1 << 22:
                    f.write("".join(buf))
                    written += buf_bytes
                    buf.clear()
                    buf_bytes = 0
            f.write("".join(buf))
            written += buf_bytes
        finally:
            f.close()
        stats.lines = lines
        stats.nonjson_lines = nonjson
        stats.json_lines = lines - nonjson
        stats.bytes = (out / "agent.log").stat().st_size
        stats.seconds = time.perf_counter() - t0
        return stats

    def _capture(self, req: Request, c: Call, v: Variant, ts: str, dur: float) -> None:
        stamp = ts.replace("-", "").replace(":", "")  # 20250314T092653.589793Z
        path = self.out / "captures" / f"failed_{stamp}.json"
        if path.exists():
            return
        body = {
            "request_id": req.rid,
            "query": req.query,
            "error": v.error,
            "traceback": v.text,
            "context": {
                "timestamp": ts,
                "tool": c.tool,
                "call_id": c.call_id,
                "params": c.params,
                "duration_ms": dur,
                "tools_called": [x.tool for x in req.calls],
                "service": "agent-svc",
                "model": "gpt-4o-2024-08-06",
            },
        }
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.stats.captures += 1


def generate(
    out: Path, lines: int = DEFAULT_LINES, seed: int = 7, verify_every: int = 50_000
) -> Stats:
    """Generate ``out/agent.log`` and ``out/captures/``; return what was written."""
    out.mkdir(parents=True, exist_ok=True)
    for old in (out / "captures").glob("failed_*.json"):
        old.unlink()
    st = CorpusGenerator(out, lines, seed, verify_every).generate()
    meta = {k: v for k, v in asdict(st).items() if k != "failure_samples"}
    meta.update(seed=seed, asked_lines=lines, log="agent.log", captures_dir="captures")
    (out / "corpus.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return st


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parent / "corpus",
        help="output directory (default: bench/corpus)",
    )
    ap.add_argument(
        "--lines",
        type=int,
        default=DEFAULT_LINES,
        help=f"approximate number of lines (default {DEFAULT_LINES:,})",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--verify-every",
        type=int,
        default=50_000,
        help="re-render every Nth line through real structlog and compare (0: off)",
    )
    args = ap.parse_args(argv)
    st = generate(args.out, args.lines, args.seed, args.verify_every)
    size = st.bytes
    print(
        f"wrote {args.out / 'agent.log'}: {st.lines:,} lines ({st.json_lines:,} JSON, "
        f"{st.nonjson_lines:,} non-JSON), {size:,} bytes ({size / 1e6:.1f} MB), "
        f"{st.requests:,} requests, {st.failures:,} failures"
    )
    print(f"wrote {args.out / 'captures'}: {st.captures} failure captures")
    print(
        f"verified {st.verified} lines against real structlog; took {st.seconds:.1f}s "
        f"(pid {os.getpid()}, python {sys.version.split()[0]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
