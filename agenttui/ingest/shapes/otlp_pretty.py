"""Pretty-printed OTLP JSON: one export batch written over many lines, as the spec's examples
(and ``json.dumps(..., indent=2)``) write it, one or several documents per file.

Lines are scanned as they come (strings, nesting and the keys that opened each level); each
span or log record is read when the line that closes it arrives, with the ``resource`` and
``scope`` read before it, and gives its records at that line (``offset + k``, like a one-line
batch: a closing line is longer than the records of what it closes). Reading back, the
document is scanned again from its first line (``{`` alone) up to that line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from agenttui.ingest.records import RAW_RECORD, Record
from agenttui.ingest.shapes.base import Decoded, Shape, loads
from agenttui.ingest.shapes.otlp import OTLP

MAX_DOCUMENT: Final = 64 << 20
"""Bytes of one document kept while it is open; past it the rest of it is skipped."""
_ITEMS: Final = {"spans": "resourceSpans", "logRecords": "resourceLogs"}
_SCOPES: Final = {"spans": "scopeSpans", "logRecords": "scopeLogs"}


class Scanner:
    """Reads one file's documents line by line (the state of one file read in order)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.text: list[str] = []
        self.size = 0
        self.stack: list[tuple[str, str, int]] = []
        """Open levels: (bracket, key that opened it, start in the document's text)."""
        self.in_string = False
        self.escaped = False
        self.token: list[str] = []
        self.last_string: str | None = None
        self.key: str | None = None
        self.resource: Any = None
        self.scope: Any = None
        self.active = False

    def feed(self, line: str) -> list[tuple[str, dict[str, Any]]]:
        """Take one line; returns the (array key, object) of each span or log record it
        closes."""
        if not self.active:
            if line.rstrip() != "{":
                return []
            self.reset()
            self.active = True
        base = self.size
        self.text.append(line + "\n")
        self.size += len(line) + 1
        if self.size > MAX_DOCUMENT:
            self.reset()
            return []
        closed: list[tuple[str, dict[str, Any]]] = []
        stack = self.stack
        for i, ch in enumerate(line):
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif ch == "\\":
                    self.escaped = True
                elif ch == '"':
                    self.in_string = False
                    self.last_string = "".join(self.token)
                else:
                    self.token.append(ch)
                continue
            if ch == '"':
                self.in_string = True
                self.token = []
            elif ch == ":":
                self.key = self.last_string
            elif ch in "{[":
                parent = stack[-1] if stack else None
                key = "*" if parent is not None and parent[0] == "[" else (self.key or "")
                stack.append((ch, key, base + i))
                self.key = None
            elif ch in "}]":
                if not stack:
                    self.reset()
                    return closed
                bracket, key, start = stack.pop()
                if bracket == "{" and len(stack) >= 1:
                    self._closed(key, start, base + i + 1, closed)
                if not stack:  # the document ends
                    self.active = False
                    self.text = []
                    self.size = 0
                    return closed
            elif ch == ",":
                self.key = None
        return closed

    def _closed(
        self, key: str, start: int, end: int, closed: list[tuple[str, dict[str, Any]]]
    ) -> None:
        names = [k for _b, k, _s in self.stack]
        if key == "resource" and len(names) == 3:
            self.resource = self._object(start, end)
        elif key == "scope" and len(names) == 5:
            self.scope = self._object(start, end)
        elif key == "*" and len(names) == 6 and names[-1] in _ITEMS:
            obj = self._object(start, end)
            if isinstance(obj, dict):
                closed.append((names[-1], obj))

    def _object(self, start: int, end: int) -> Any:
        return loads("".join(self.text)[start:end].encode("utf-8", "surrogateescape"))

    def batch(self, items: list[tuple[str, dict[str, Any]]]) -> bytes:
        """The items as one compact export batch, under the resource and scope read so far."""
        out: dict[str, list[Any]] = {}
        for kind, obj in items:
            resource: dict[str, Any] = {"scope": self.scope} if self.scope is not None else {}
            resource[kind] = [obj]
            entry = {"resource": self.resource} if self.resource is not None else {}
            entry[_SCOPES[kind]] = [resource]
            out.setdefault(_ITEMS[kind], []).append(entry)
        return orjson.dumps(out)


def _text(line: bytes) -> str:
    return line.decode("utf-8", "surrogateescape")


def pretty_shape(batches: Shape = OTLP) -> Shape:
    """The shape of one pretty-printed OTLP file (its own scanner), its batches read as
    ``batches`` reads one-line batches (``otlp``, or ``otlp+mapping``)."""
    scanner = Scanner()
    assert batches.expand is not None
    expand_batch = batches.expand

    def _expand(line: bytes) -> list[Decoded]:
        """Records of a gathered line (a compact batch); a pretty-printed line alone holds
        none."""
        if line[:1] == b"{" and len(line) > 1:
            return expand_batch(line)
        return []

    def fold(line: bytes) -> list[Record]:
        closed = scanner.feed(_text(line))
        if not closed:
            return []
        records = [rec for _d, rec in expand_batch(scanner.batch(closed))]
        return records[: max(1, len(line))]

    def gather(before: Callable[[int], tuple[int, bytes] | None], start: int, line: bytes) -> bytes:
        lines = [line]
        pos = start
        size = len(line)
        while line.rstrip() != b"{" and size < MAX_DOCUMENT:  # the document starts at column 0
            prev = before(pos)
            if prev is None:
                break
            pos, line = prev
            line = line.removesuffix(b"\r")
            lines.append(line)
            size += len(line)
        again = Scanner()
        closed: list[tuple[str, dict[str, Any]]] = []
        for raw in reversed(lines):
            closed = again.feed(_text(raw))
        return again.batch(closed) if closed else b""

    def single(line: bytes) -> Decoded:
        found = _expand(line)
        return found[0] if found else (None, RAW_RECORD)

    return Shape(
        batches.name.replace("otlp", "otlp-pretty", 1),
        lambda line: single(line)[1],
        single,
        expand=_expand,
        host_key="host",
        mapping=batches.mapping,
        gather=gather,
        fold=fold,
    )


def looks_pretty(lines: list[bytes]) -> bool:
    """Whether a file starts with a pretty-printed OTLP batch (``{`` alone, then a
    ``resourceSpans`` / ``resourceLogs`` / metrics / profiles key)."""
    texts = [x.strip() for x in lines if x.strip()]
    if len(texts) < 2 or texts[0] != b"{":
        return False
    return texts[1].startswith(
        (b'"resourceSpans"', b'"resourceLogs"', b'"resourceMetrics"', b'"resourceProfiles"')
    )
