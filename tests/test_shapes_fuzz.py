"""Property tests of the shape parsers: nothing raises on any input, and the container
unwrapping gives back exactly the lines the container printed."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from agenttui.ingest import shapes
from agenttui.ingest.records import decode_record
from agenttui.ingest.shapes.otlp_pretty import Scanner
from agenttui.ingest.shapes.otlp_values import hex_id
from tests import shape_story

SETTINGS = settings(max_examples=150, deadline=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)

ALL = [
    *shapes.SHAPES,
    "otlp-pretty",
    "docker/structlog",
    "cri/pino",
    "pino+mapping",
    "docker/otlp",
]
MAPPING = {"tool_start": ["Calling {tool}", "go *"], "message": "m.x", "tz": "+02:00"}


@SETTINGS
@given(st.lists(st.binary(max_size=120) | json_values.map(orjson.dumps), max_size=12))
def test_no_shape_raises_on_any_line(lines: list[bytes]) -> None:
    for name in ALL:
        shape = shapes.get(name, MAPPING)
        for line in lines:
            shape.records(line)
            shape.decode(line)
            shape.decode_record(line)
            if shape.expand is not None:
                shape.expand(line)
            if shape.gather is not None:
                shape.gather(lambda pos: None, 0, line)


@SETTINGS
@given(json_values, st.integers(min_value=0, max_value=4))
def test_scanner_never_raises_on_pretty_json(value: object, indent: int) -> None:
    doc = {"resourceSpans": [{"resource": value, "scopeSpans": [{"spans": [value, {}]}]}]}
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()
    scanner = Scanner()
    closed = []
    for line in text.splitlines():
        closed.extend(scanner.feed(" " * indent + line if line != "{" else line))
    assert all(kind == "spans" for kind, _obj in closed)


@SETTINGS
@given(
    st.lists(
        st.text(
            st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"),
            max_size=40_000,
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["docker", "cri"]),
)
def test_container_lines_come_back_whole(lines: list[str], runtime: str) -> None:
    inner = [orjson.dumps({"event": "x", "request_id": "r", "text": t}).decode() for t in lines]
    make = shape_story.docker_json_file if runtime == "docker" else shape_story.cri_log
    wrapped = make(inner, 1_800_000_000.0)
    shape = shapes.get(f"{runtime}/structlog", {"container": "c"})
    got = [rec for raw in wrapped.splitlines() for rec in shape.records(raw)]
    want = [decode_record(line.encode()) for line in inner]
    assert [r._replace(ts=None) for r in got] == [r._replace(ts=None) for r in want]


@given(st.binary(min_size=8, max_size=16))
def test_ids_in_base64_and_hex_agree(raw: bytes) -> None:
    import base64

    if len(raw) not in (8, 16) or not raw.strip(b"\0"):
        return
    assert hex_id(base64.b64encode(raw).decode()) == raw.hex()
    assert hex_id(raw.hex().upper()) == raw.hex()
