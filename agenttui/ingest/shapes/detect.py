"""Which shape a file has, told from its first lines, and every shape by its name.

A shape's name says how it was put together, so that a child process indexing part of a file
rebuilds the same reader from the name and its settings: ``pino``, ``pino+mapping`` (a
``[mapping]`` laid over pino), ``docker/structlog`` (Docker's json-file wrapping structlog).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from agenttui.ingest.shapes import containers, mapping, objects, otlp, otlp_llm, otlp_pretty
from agenttui.ingest.shapes.base import JSON, STRUCTLOG, Shape, json_shape, loads
from agenttui.ingest.shapes.journald import journald
from agenttui.ingest.shapes.logfmt import LOGFMT, parse_logfmt
from agenttui.ingest.shapes.node import pino
from agenttui.ingest.shapes.python import is_naive, loguru, naive_times, parse_tz, pjl

DETECT_LINES: Final = 50
"""Lines looked at to tell a file's shape."""
DETECT_BYTES: Final = 256 << 10
"""Bytes of a file's head read to tell its shape before indexing it."""

SHAPES: Final[dict[str, Shape]] = {
    "structlog": STRUCTLOG,
    "json": JSON,
    "loguru": json_shape("loguru", loguru, show_canonical=True),
    "pino": json_shape("pino", pino, host_key="hostname"),
    "bunyan": json_shape("bunyan", pino, host_key="hostname"),
    "python-json-logger": json_shape("python-json-logger", pjl()),
    "journald": json_shape("journald", journald, show_canonical=True, host_key="host"),
    "logfmt": LOGFMT,
    "otlp": otlp.OTLP,
}
NAMES: Final = (*SHAPES, "otlp-pretty", "docker", "cri", "mapping")
"""Every shape family (``docker`` and ``cri`` wrap another; ``mapping`` overlays another)."""


def get(name: str, settings: dict[str, Any] | None = None) -> Shape:
    """The shape called ``name``, built with its settings (the ``[mapping]`` table, and the
    container of a container log); an unknown name reads plain JSON."""
    table = dict(settings or {})
    runtime, sep, rest = name.partition("/")
    if sep and runtime in containers.RUNTIMES:
        container = str(table.pop("container", "") or "")
        return containers.wrap(runtime, get(rest, table), container)
    table.pop("container", None)
    if name.startswith("otlp-pretty"):
        batches = "otlp" + name.removeprefix("otlp-pretty")
        return otlp_pretty.pretty_shape(get(batches, table))
    if name == "mapping":  # a mapping over plain JSON
        return mapping.overlay_shape(JSON, table)
    if name.endswith("+mapping"):
        return mapping.overlay_shape(get(name.removesuffix("+mapping"), table), table)
    if table.get("tz"):
        tz = parse_tz(table["tz"])
        if name == "python-json-logger":
            return json_shape(name, pjl(tz), mapping=table)
        if name in ("structlog", "json"):
            return json_shape(name, naive_times(tz), mapping=table)
    return SHAPES.get(name, JSON)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A file's shape and why it was chosen."""

    shape: Shape
    reason: str
    decided: bool = True
    """False while the file has shown nothing to decide on (read as JSON meanwhile)."""


def _naive_note(name: str, obj: dict[str, Any], table: dict[str, Any]) -> str:
    for key in ("asctime", "timestamp", "time", "ts", "@timestamp"):
        if key in obj:
            if not is_naive(obj[key]):
                return ""
            tz = table.get("tz")
            if tz:
                return f"; times without a zone ({key}) read in {tz}"
            if name == "python-json-logger":
                return (
                    f"; times without a zone ({key}): read as this machine's local time"
                    " (--tz or [mapping] tz to say the writer's)"
                )
            return (
                f"; times without a zone ({key}): read as UTC"
                " (--tz or [mapping] tz to say the writer's)"
            )
    return ""


def _base(lines: Iterable[bytes]) -> tuple[Verdict, list[dict[str, Any]]]:
    """The shape of lines without wrapper or mapping, and the objects looked at."""
    texts = 0
    kv = 0
    kv_keys: set[str] = set()
    seen: list[dict[str, Any]] = []
    for n, raw in enumerate(lines):
        if n >= DETECT_LINES:
            break
        line = raw.strip()
        if not line:
            continue
        if line[:1] == b"{":
            if line.startswith((b'{"resourceLogs"', b'{"resourceSpans"')):
                key = "resourceLogs" if line.startswith(b'{"resourceLogs"') else "resourceSpans"
                return Verdict(SHAPES["otlp"], "OTLP JSON export batch: " + key), seen
            obj = loads(line)
            if isinstance(obj, dict):
                seen.append(obj)
                found = objects.detect_object(obj)
                if found is None:
                    why = ", ".join(sorted(list(obj)[:6])) or "{}"
                    return Verdict(JSON, "JSON objects: " + why), seen
                name, reason = found
                return Verdict(SHAPES[name], reason), seen
        texts += 1
        parsed = parse_logfmt(line.decode("utf-8", "backslashreplace"))
        if parsed is not None:
            seen.append(parsed)
            kv += 1
            kv_keys.update(list(parsed)[:4])
    if kv and kv * 2 >= texts:
        why = ", ".join(sorted(kv_keys)[:6])
        return Verdict(LOGFMT, "key=value lines: " + why), seen
    if texts:
        return Verdict(JSON, f"{texts} line(s), none JSON or key=value yet", decided=False), seen
    return Verdict(JSON, "empty so far", decided=False), seen


def detect(
    lines: Iterable[bytes], table: dict[str, Any] | None = None, path: str | None = None
) -> Verdict:
    """Tell a file's shape from its first lines (the first JSON object decides).

    Container logs (Docker json-file, CRI) are unwrapped and their inner lines told. Lines
    that are not JSON decide ``logfmt`` when at least half of them are ``key=value`` pairs.
    Without any line to go on, the verdict is JSON, undecided (ask again later). A mapping
    with names is laid over the shape found, and the reason says which of its names matched.
    """
    table = table or {}
    head = list(lines)[:DETECT_LINES]
    runtime = containers.detect_runtime(head)
    if runtime is not None:
        inner = detect(containers.inner_lines(runtime, head), table)
        container = containers.container_of(path or "")
        shape = containers.wrap(runtime, inner.shape, container)
        label = "Docker json-file" if runtime == "docker" else "CRI (containerd / CRI-O)"
        return Verdict(shape, f"{label} log of container {container}; inner: {inner.reason}")
    if otlp_pretty.looks_pretty(head):
        reason = "OTLP JSON export batch, pretty-printed over many lines"
        if mapping.has_names(table):
            reason += "; [mapping] in agenttui.toml applied"
            return Verdict(get("otlp-pretty+mapping", table), reason)
        return Verdict(get("otlp-pretty", table), reason)
    verdict, seen = _base(head)
    shape, reason = verdict.shape, verdict.reason
    if shape is otlp.OTLP:
        reason += otlp_llm.describe(
            [loads(line.strip()) for line in head if line.strip()[:1] == b"{"]
        )
    if seen:
        reason += _naive_note(shape.name, seen[0], table)
    if table.get("tz") and shape.name in ("python-json-logger", "structlog", "json"):
        shape = get(shape.name, table)
    if mapping.has_names(table):
        shape = mapping.overlay_shape(shape, table)
        objs = [o for o in (loads(line.strip()) for line in head if line.strip()[:1] == b"{")]
        objs = [o for o in objs if isinstance(o, dict)] or seen
        fields, events = mapping.matched(table, objs, verdict.shape.canon)
        if fields or events:
            names = [*(f"field {f}" for f in fields), *(f"event {e!r}" for e in events)]
            reason += "; [mapping] in agenttui.toml applied: " + ", ".join(names)
        else:
            reason += "; [mapping] in agenttui.toml applied (none of its names in the first lines)"
    return Verdict(shape, reason, verdict.decided)


def head_lines(fd: int, start: int = 0, size: int = DETECT_BYTES) -> list[bytes]:
    """Complete lines at the start of a file (a partial first line is kept when it is all)."""
    try:
        data = os.pread(fd, size, start)
    except OSError:
        return []
    lines = data.split(b"\n")
    if len(lines) > 1:
        lines.pop()
    return lines[:DETECT_LINES]
