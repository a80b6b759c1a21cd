"""Container runtimes' log files, unwrapped: each entry's inner line is read with its own shape.

* Docker's ``json-file`` driver (``/var/lib/docker/containers/<id>/<id>-json.log``):
  ``{"log": "<line>\\n", "stream": "stdout", "time": "<RFC 3339>"}``; a line over 16 KB is
  split across entries, all but the last without the trailing newline.
* The CRI format of containerd and CRI-O (``/var/log/containers/*.log``,
  ``/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log``):
  ``<RFC 3339 nano> <stream> <P|F> <text>``, ``P`` parts joined until the ``F`` part.

A split line's record is found at its last part. The container named by the path is the source.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Final

import orjson

from agenttui.ingest.records import RAW_RECORD, Record, parse_time
from agenttui.ingest.shapes.base import Decoded, Shape, loads

MAX_PARTS: Final = 256
"""Parts of one split line kept at most (4 MB of Docker's 16 KB parts); past it the line is
read as far as it got."""

_CRI: Final = re.compile(
    rb"^(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF])(?::\S*)? ?"
)
"""A CRI entry's head: time, stream, and its tags (``P`` or ``F``, more after ``:``)."""
_DOCKER_DIR: Final = re.compile(r"/containers/([0-9a-f]{12,64})/[0-9a-f]{12,64}-json\.log")
_K8S_FILE: Final = re.compile(r"^([^_/]+)_([^_/]+)_(.+)-[0-9a-f]{64}\.log")
_POD_DIR: Final = re.compile(r"/pods/([^_/]+)_([^_/]+)_[^/]+/([^/]+)/\d+\.log")


def container_of(path: str) -> str:
    """The container a log file belongs to, from its path (else the file's name)."""
    m = _DOCKER_DIR.search(path)
    if m is not None:
        return m.group(1)[:12]
    m = _POD_DIR.search(path)
    if m is not None:
        return f"{m.group(2)}/{m.group(3)}"
    name = os.path.basename(path)
    m = _K8S_FILE.match(name)
    if m is not None:
        return f"{m.group(1)}/{m.group(3)}"
    return name


# A part: (text, stream, time, complete).
Part = tuple[str, str, str, bool]


def docker_part(line: bytes) -> Part | None:
    """One json-file entry, or None when the line is not one."""
    obj = loads(line)
    if not isinstance(obj, dict) or not isinstance(obj.get("log"), str):
        return None
    log: str = obj["log"]
    stream = obj.get("stream")
    when = obj.get("time")
    complete = log.endswith("\n")
    return (
        log[:-1] if complete else log,
        stream if isinstance(stream, str) else "",
        when if isinstance(when, str) else "",
        complete,
    )


def cri_part(line: bytes) -> Part | None:
    """One CRI entry, or None when the line is not one."""
    m = _CRI.match(line)
    if m is None:
        return None
    rest = line[m.end() :].decode("utf-8", "backslashreplace")
    return rest, m.group(2).decode(), m.group(1).decode(), m.group(3) == b"F"


def docker_line(text: str, stream: str, when: str) -> bytes:
    """A complete json-file entry (how a joined split line is read back)."""
    return orjson.dumps({"log": text + "\n", "stream": stream, "time": when})


def cri_line(text: str, stream: str, when: str) -> bytes:
    """A complete CRI entry (how a joined split line is read back)."""
    return f"{when} {stream} F {text}".encode("utf-8", "surrogateescape")


Runtime = tuple[Callable[[bytes], Part | None], Callable[[str, str, str], bytes]]
"""How to read one entry, and how to write a joined one back."""
RUNTIMES: Final[dict[str, Runtime]] = {
    "docker": (docker_part, docker_line),
    "cri": (cri_part, cri_line),
}


def detect_runtime(lines: list[bytes]) -> str | None:
    """``docker`` or ``cri`` when the first non-empty line is such an entry."""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line[:1] == b"{":
            obj = loads(line)
            if (
                isinstance(obj, dict)
                and isinstance(obj.get("log"), str)
                and "stream" in obj
                and "time" in obj
            ):
                return "docker"
            return None
        return "cri" if _CRI.match(line) else None
    return None


def inner_lines(runtime: str, lines: list[bytes]) -> list[bytes]:
    """The inner lines of a file's first entries (to tell their shape)."""
    part_of = RUNTIMES[runtime][0]
    out = []
    for raw in lines:
        part = part_of(raw.strip())
        if part is not None:
            out.append(part[0].encode("utf-8", "surrogateescape"))
    return out


def wrap(runtime: str, inner: Shape, container: str) -> Shape:
    """The shape of a container log whose inner lines are read with ``inner``."""
    part_of, line_of = RUNTIMES[runtime]

    def read(text: str, stream: str, when: str) -> list[Decoded]:
        raw = text.encode("utf-8", "surrogateescape")
        found = inner.expand(raw) if inner.expand is not None else [inner.decode(raw)]
        wrapped_ts: float | None = None
        out: list[Decoded] = []
        for data, rec in found:
            if data is None:
                out.append((None, RAW_RECORD))
                continue
            if rec.ts is None:
                if wrapped_ts is None:
                    wrapped_ts = parse_time(when)
                rec = rec._replace(ts=wrapped_ts)
            shown = dict(data)
            shown.setdefault("container", container)
            shown.setdefault("stream", stream)
            out.append((shown, rec))
        return out

    def expand(line: bytes) -> list[Decoded]:
        part = part_of(line)
        if part is None:
            return [(None, RAW_RECORD)]
        text, stream, when, complete = part
        if not complete:
            return []  # read with the part that ends it
        return read(text, stream, when)

    pending: list[Part] = []

    def fold(line: bytes) -> list[Record]:
        part = part_of(line)
        if part is None:
            return [RAW_RECORD]
        if not part[3] and len(pending) < MAX_PARTS:
            pending.append(part)
            return []
        text = "".join(p[0] for p in pending) + part[0]
        first = pending[0] if pending else part
        pending.clear()
        return [rec for _data, rec in read(text, first[1], first[2])]

    def gather(before: Callable[[int], tuple[int, bytes] | None], start: int, line: bytes) -> bytes:
        last = part_of(line)
        if last is None or not last[3]:
            return line
        parts = [last]
        pos = start
        while len(parts) <= MAX_PARTS:
            prev = before(pos)
            if prev is None:
                break
            pos, raw = prev
            part = part_of(raw.removesuffix(b"\r"))
            if part is None or part[3]:
                break
            parts.insert(0, part)
        if len(parts) == 1:
            return line
        return line_of("".join(p[0] for p in parts), parts[0][1], parts[0][2])

    def partial(line: bytes) -> bool:
        part = part_of(line.removesuffix(b"\r"))
        return part is not None and not part[3]

    def single(line: bytes) -> Decoded:
        found = expand(line)
        return found[0] if found else (None, RAW_RECORD)

    settings: dict[str, Any] = dict(inner.mapping or {})
    settings["container"] = container
    return Shape(
        f"{runtime}/{inner.name}",
        lambda line: single(line)[1],
        single,
        expand=expand,
        mapping=settings,
        host_key="container",
        gather=gather,
        fold=fold,
        partial=partial,
    )
