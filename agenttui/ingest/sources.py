"""Sources: what the user asked to read (files, directories, globs, standard input) and the
log files they name now.

Reading the files (generations, descriptors under a budget) is :mod:`agenttui.ingest.files`;
reading their lines and noticing rotation is :mod:`agenttui.ingest.lines`. Both are re-exported
here. Directory walks never follow symbolic links to directories; recursive globs do, but visit
each directory once (a symlink loop ends) and stop after :data:`MAX_GLOB_MATCHES` files.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from agenttui.ingest.files import (
    FD_BUDGET,
    HEAD_BYTES,
    MAX_LINE,
    MIN_COPY_HEAD,
    FileTable,
    LogFile,
    describe,
)
from agenttui.ingest.lines import (
    CHUNK,
    Lines,
    check_retired,
    check_rotation,
    file_size,
    read_lines,
)

__all__ = [
    "CHUNK",
    "FD_BUDGET",
    "HEAD_BYTES",
    "MAX_LINE",
    "MIN_COPY_HEAD",
    "FileTable",
    "Lines",
    "LogFile",
    "SourceError",
    "Spec",
    "captures_in",
    "check_retired",
    "check_rotation",
    "describe",
    "display_path",
    "expand",
    "file_size",
    "glob_files",
    "matches",
    "parse_specs",
    "read_lines",
    "unique_paths",
    "watch_roots",
]

CAPTURE_GLOB: Final = "failed_*.json"
"""Failure capture files: they are not log streams."""

_SKIP_SUFFIXES: Final = (".xz", ".zst", ".zip")
"""Compressed files that are not read (gzip and bzip2 are: see :mod:`agenttui.ingest.spool`)."""
_MAX_DEPTH: Final = 4
MAX_GLOB_MATCHES: Final = 100_000
"""A recursive glob stops after this many files (a symlink loop, a huge tree)."""


class SourceError(Exception):
    """A path given by the user cannot be used (one line, for the user)."""


@dataclass(slots=True)
class Spec:
    """What the user asked to read: a file, a directory or a glob."""

    text: str
    kind: str
    """``file``, ``dir``, ``glob`` or ``stdin``."""


def is_capture(path: str) -> bool:
    """Whether ``path`` names a failure capture file (``failed_*.json``)."""
    name = os.path.basename(path)
    return name.startswith("failed_") and name.endswith(".json")


def parse_specs(paths: list[str]) -> list[Spec]:
    """Check the paths given on the command line.

    Raises:
        SourceError: A path does not exist (and is not a glob), or is not readable.
    """
    specs: list[Spec] = []
    for text in paths:
        if text == "-":
            if any(s.kind == "stdin" for s in specs):
                raise SourceError("-: standard input can be read only once")
            specs.append(Spec(text, "stdin"))
        elif os.path.isdir(text):
            if not os.access(text, os.R_OK | os.X_OK):
                raise SourceError(f"{text}: permission denied")
            specs.append(Spec(text, "dir"))
        elif os.path.exists(text):
            if not os.path.isfile(text):
                kind = "a pipe" if stat.S_ISFIFO(os.stat(text).st_mode) else "not a regular file"
                raise SourceError(
                    f"{text}: {kind}: agenttui reads regular files (by offset) and directories"
                )
            if not os.access(text, os.R_OK):
                raise SourceError(f"{text}: permission denied")
            specs.append(Spec(text, "file"))
        elif glob.has_magic(text):
            specs.append(Spec(text, "glob"))
        else:
            try:
                os.stat(text)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise SourceError(f"{text}: symbolic link loop") from None
                if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                    raise SourceError(f"{text}: {describe(exc)}") from None
            raise SourceError(f"{text}: no such file or directory")
    return specs


def expand(specs: list[Spec]) -> list[str]:
    """The log files the specs name now (captures and compressed files left out), sorted."""
    found: list[str] = []
    for spec in specs:
        if spec.kind == "file":
            found.append(spec.text)
        elif spec.kind == "stdin":
            from agenttui.ingest.spool import stdin_spool

            found.append(stdin_spool().path)
        elif spec.kind == "glob":
            found.extend(p for p in glob_files(spec.text) if _is_log(p))
        else:
            found.extend(_walk(spec.text))
    return unique_paths(found)


def matches(specs: list[Spec], path: str) -> bool:
    """Whether the log file ``path`` (absolute, from the watcher) is one the specs name."""
    key = os.path.abspath(path)
    for spec in specs:
        if spec.kind == "file":
            if os.path.abspath(spec.text) == key:
                return True
        elif spec.kind == "stdin":
            from agenttui.ingest.spool import stdin_spool

            if os.path.abspath(stdin_spool().path) == key:
                return True
        elif spec.kind == "dir":
            root = os.path.abspath(spec.text)
            rel = os.path.relpath(key, root)
            parts = rel.split(os.sep)
            if (
                not rel.startswith(os.pardir)
                and len(parts) <= _MAX_DEPTH + 1
                and not any(part.startswith(".") for part in parts)
                and _is_log(key)
            ):
                return True
        elif _glob_match(os.path.abspath(spec.text), key) and _is_log(key):
            return True
    return False


def _glob_match(pattern: str, path: str) -> bool:
    """Whether ``path`` matches the glob ``pattern`` (both absolute), component by component."""
    pat, parts = pattern.split(os.sep), path.split(os.sep)
    if "**" not in pattern:
        return len(pat) == len(parts) and all(map(fnmatch.fnmatchcase, parts, pat))
    cut = next(i for i, p in enumerate(pat) if "**" in p)
    head, tail = pat[:cut], [p.replace("**", "*") for p in pat[cut + 1 :]]
    if len(parts) < len(head) + len(tail):
        return False
    return all(map(fnmatch.fnmatchcase, parts[: len(head)], head)) and all(
        map(fnmatch.fnmatchcase, parts[len(parts) - len(tail) :], tail)
    )


def unique_paths(paths: Iterable[str]) -> list[str]:
    """``paths`` without repeats of the same absolute path, in order."""
    seen: set[str] = set()
    unique = []
    for p in paths:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def captures_in(specs: list[Spec]) -> list[str]:
    """Failure capture files found under the specs."""
    out: list[str] = []
    for spec in specs:
        if spec.kind == "file" and is_capture(spec.text):
            out.append(spec.text)
        elif spec.kind == "glob":
            out.extend(p for p in glob_files(spec.text) if is_capture(p))
        elif spec.kind == "dir":
            out.extend(sorted(_walk(spec.text, captures=True)))
    return out


def watch_roots(specs: list[Spec]) -> list[str]:
    """Directories to watch for new and changed files."""
    roots: set[str] = set()
    for spec in specs:
        if spec.kind == "dir":
            roots.add(os.path.abspath(spec.text))
        elif spec.kind == "stdin":
            from agenttui.ingest.spool import stdin_spool

            roots.add(stdin_spool().dir)
        elif spec.kind == "file":
            roots.add(os.path.dirname(os.path.abspath(spec.text)))
        else:
            base = spec.text.split("*")[0].split("?")[0].split("[")[0]
            root = base if base.endswith(os.sep) else os.path.dirname(base)
            roots.add(os.path.abspath(root or "."))
    return sorted(r for r in roots if os.path.isdir(r))


def glob_files(pattern: str, limit: int = MAX_GLOB_MATCHES) -> list[str]:
    """The paths ``pattern`` matches, sorted. ``**`` matches any number of directories; each
    directory is visited once (by device and inode: a symlink loop ends), at most
    ``_MAX_DEPTH * 2`` levels down, and at most ``limit`` paths are returned."""
    if "**" not in pattern:
        return sorted(glob.glob(pattern))[:limit]
    head, _, tail = pattern.partition("**")
    tail = tail.lstrip(os.sep).replace("**", "*") or "*"
    root = head.rstrip(os.sep) or ("." if not head else os.sep)
    out: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack = [(root, 0)]
    while stack and len(out) < limit:
        d, depth = stack.pop()
        try:
            st = os.stat(d)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        out.extend(glob.glob(os.path.join(glob.escape(d), tail))[: limit - len(out)])
        if depth >= _MAX_DEPTH * 2:
            continue
        try:
            entries = sorted(
                (e.path for e in os.scandir(d) if not e.name.startswith(".") and e.is_dir()),
                reverse=True,
            )
        except OSError:
            continue
        stack.extend((e, depth + 1) for e in entries)
    out = [p[2:] if not head and p.startswith("./") else p for p in out]
    return sorted(set(out))


def _is_log(path: str) -> bool:
    return os.path.isfile(path) and not is_capture(path) and not path.endswith(_SKIP_SUFFIXES)


def _walk(root: str, *, captures: bool = False, depth: int = 0) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    from agenttui.ingest.sniff import skip_dir, walk_check

    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                # Code, dependencies and caches are not searched (see ingest.sniff).
                if depth < _MAX_DEPTH and skip_dir(entry.path, entry.name) is None:
                    yield from _walk(entry.path, captures=captures, depth=depth + 1)
            elif captures and is_capture(entry.path):
                yield entry.path  # FIFOs and sockets too: listed with a problem, never read
            elif (
                not captures
                and entry.is_file()
                and _is_log(entry.path)
                and walk_check(entry.path) is None
            ):
                yield entry.path
        except OSError:
            continue


def display_path(path: str) -> str:
    """A path shortened for display (relative to the working directory when inside it)."""
    try:
        rel = Path(path).resolve().relative_to(Path.cwd())
    except (ValueError, OSError):
        return path
    return str(rel)
