"""Find the logs on this box when ``agenttui`` is run without a path.

Where it looks, in order: ``[logs] paths`` of the config file, ``$AGENTTUI_LOGS``, then the usual
places (``./logs``, ``./*.log`` and ``./*.jsonl``, ``/var/log/<agent-ish>/``, container log
directories, the newest directories of failure captures, journald). A file is a candidate when its
first lines are structured logs (:mod:`agenttui.ingest.sniff`, which also keeps binary files,
source code, ``.git``, virtualenvs, ``node_modules`` and caches out of a directory given by hand).
No symlink is followed out of the place searched, no FIFO or device is opened, and the whole
search has a deadline.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from agenttui import config
from agenttui.ingest.sniff import Candidate, describe, skip_dir

DEADLINE_S = 3.0
"""The whole search stops after this long (what was found so far is used)."""
MAX_FILES = 2000
MAX_DEPTH = 3
JOURNAL_TIMEOUT_S = 3.0
AGENTISH = re.compile(
    r"agent|llm|gpt|claude|openai|anthropic|langchain|crew|autogen|(^|[-_.])ai\b|bot"
)


@dataclass(slots=True)
class Discovery:
    """What the search found, skipped, and where it looked."""

    candidates: list[Candidate] = field(default_factory=list)
    captures: list[str] = field(default_factory=list)
    """Directories holding failure captures, newest first (read beside the chosen logs)."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    looked: list[str] = field(default_factory=list)
    """Each place searched, with what came of it."""
    explicit: list[str] = field(default_factory=list)
    """Paths named by the config or ``$AGENTTUI_LOGS``: opened as given, no picker."""
    explicit_from: str = ""


# --------------------------------------------------------------------------- the search


class _Search:
    def __init__(self, cwd: str, deadline: float) -> None:
        self.cwd = cwd
        self.deadline = deadline
        self.found = Discovery()
        self.seen: set[str] = set()
        self.files = 0

    def late(self) -> bool:
        return time.monotonic() > self.deadline or self.files > MAX_FILES

    def add(self, path: str, origin: str, bounds: str | None) -> bool:
        real = os.path.realpath(path)
        if real in self.seen:
            return False
        self.seen.add(real)
        self.files += 1
        got = describe(path, origin, bounds)
        if isinstance(got, str):
            self.found.skipped.append((path, got))
            return False
        self.found.candidates.append(got)
        return True

    def walk(self, root: str, origin: str, depth: int = 0) -> Iterator[str]:
        """Files under ``root`` (skipped directories and captures left out)."""
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if self.late():
                return
            try:
                if entry.is_dir(follow_symlinks=False):
                    why = skip_dir(entry.path, entry.name)
                    if why is not None:
                        self.found.skipped.append((entry.path + os.sep, why))
                    elif depth < MAX_DEPTH:
                        yield from self.walk(entry.path, origin, depth + 1)
                elif not _is_capture(entry.name):
                    yield entry.path
            except OSError:
                continue

    def directory(self, root: str, origin: str, bounds: str | None = None) -> None:
        if not os.path.isdir(root):
            self.found.looked.append(f"{origin}: not there")
            return
        n = sum(self.add(p, origin, bounds or root) for p in self.walk(root, origin))
        self.found.looked.append(f"{origin}: {n} log file{'' if n == 1 else 's'}")

    def captures(self, roots: list[str]) -> None:
        dirs: dict[str, float] = {}
        for root in roots:
            for dirpath, dirnames, filenames in _bounded_walk(root, 3):
                if self.late():
                    break
                times = [
                    os.lstat(os.path.join(dirpath, f)).st_mtime for f in filenames if _is_capture(f)
                ]
                if times:
                    dirs[dirpath] = max(times)
                dirnames[:] = [d for d in dirnames if skip_dir(os.path.join(dirpath, d), d) is None]
        newest = sorted(dirs, key=lambda d: -dirs[d])[:3]
        self.found.captures = newest
        self.found.looked.append(
            f"failure captures (failed_*.json) under {', '.join(roots)}: "
            + (", ".join(newest) if newest else "none")
        )


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _is_capture(name: str) -> bool:
    return name.startswith("failed_") and name.endswith(".json")


def _bounded_walk(root: str, depth: int) -> Iterator[tuple[str, list[str], list[str]]]:
    base = root.rstrip(os.sep).count(os.sep)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        yield dirpath, dirnames, filenames
        if dirpath.count(os.sep) - base >= depth:
            dirnames[:] = []


def configured_paths(config_file: str | None = None) -> tuple[list[str], str]:
    """``[logs] paths`` of the config, else ``$AGENTTUI_LOGS`` (``:``-separated), and which.

    Raises:
        agenttui.config.ConfigError: The config is broken or ``paths`` is not a list of strings.
    """
    table = config.section(config.load(config_file), "logs")
    paths = table.get("paths")
    if paths is not None:
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise config.ConfigError("[logs] paths in agenttui.toml must be a list of strings")
        if paths:
            return list(paths), "[logs] paths in agenttui.toml"
    env = os.environ.get("AGENTTUI_LOGS", "")
    found = [p for p in env.split(os.pathsep) if p]
    return found, ("$AGENTTUI_LOGS" if found else "")


def journal_sample() -> bool:
    """Whether journald has JSON-looking messages from the last hour (deadline: a few s)."""
    exe = shutil.which("journalctl")
    if exe is None:
        return False
    try:
        done = subprocess.run(
            [exe, "-o", "json", "--since", "-1h", "-n", "200", "--no-pager", "-q"],
            capture_output=True,
            timeout=JOURNAL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return any(b'"MESSAGE":"{' in line for line in done.stdout.splitlines())


def journal_snapshot(folder: str) -> str:
    """Write journald's JSON of the last hour into ``folder`` (deadline: 10 s); its path.

    Raises:
        OSError: journalctl could not be run.
    """
    exe = shutil.which("journalctl")
    if exe is None:
        raise OSError("journalctl is not installed")
    path = os.path.join(folder, "journald-last-hour.jsonl")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    # What journalctl wrote within the deadline is read.
    with os.fdopen(fd, "wb") as out, contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            [exe, "-o", "json", "--since", "-1h", "--no-pager", "-q"],
            stdout=out,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    return path


def discover(
    cwd: str | None = None,
    *,
    config_file: str | None = None,
    system: bool = True,
    deadline_s: float = DEADLINE_S,
) -> Discovery:
    """Search for logs (see the module doc). ``system=False`` leaves ``/var`` and journald out
    (tests)."""
    cwd = cwd or os.getcwd()
    search = _Search(cwd, time.monotonic() + deadline_s)
    found = search.found
    explicit, source = configured_paths(config_file)
    if explicit:
        found.explicit, found.explicit_from = explicit, source
        found.looked.append(f"{source}: {', '.join(explicit)}")
        return found
    found.looked.append("[logs] paths in agenttui.toml: not set")
    found.looked.append("$AGENTTUI_LOGS: not set")
    search.directory(os.path.join(cwd, "logs"), "./logs")
    here = 0
    try:
        names = sorted(os.listdir(cwd))
    except OSError:
        names = []
    for name in names:
        if name.endswith((".log", ".jsonl")) and not search.late():
            here += search.add(os.path.join(cwd, name), "./*.log", cwd)
    found.looked.append(f"./*.log, ./*.jsonl: {here} log file{'' if here == 1 else 's'}")
    if system:
        _system(search)
    search.captures([cwd] + (["/var/log"] if system else []))
    if not found.candidates:
        for folder in found.captures[:1]:  # captures alone still tell what failed
            found.candidates.append(
                Candidate(folder, "failure captures", 0, _mtime(folder), "failed_*.json")
            )
    if search.late():
        found.looked.append(f"stopped looking after {deadline_s:g} s or {MAX_FILES} files")
    found.candidates.sort(key=lambda c: -c.mtime)
    return found


def _system(search: _Search) -> None:
    try:
        agentish = [n for n in sorted(os.listdir("/var/log")) if AGENTISH.search(n.lower())]
    except OSError:
        agentish = []
    for name in agentish:
        path = os.path.join("/var/log", name)
        if os.path.isdir(path) and not os.path.islink(path):
            search.directory(path, f"/var/log/{name}/", "/var/log")
    if not agentish:
        search.found.looked.append("/var/log/<agent-ish>/: none")
    search.directory("/var/log/containers", "/var/log/containers/", "/var/log")
    search.directory("/var/lib/docker/containers", "/var/lib/docker/containers/")
    if shutil.which("journalctl") is None:
        search.found.looked.append("journald: journalctl not installed")
    elif journal_sample():
        search.found.candidates.append(
            Candidate("journald", "journald", 0, time.time(), "journalctl -o json, last hour")
        )
        search.found.looked.append("journald: JSON messages in the last hour")
    else:
        search.found.looked.append("journald: no JSON messages in the last hour")
