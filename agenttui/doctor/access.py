"""Users and paths: who the agent runs as and what it may read, write and run."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psutil  # type: ignore[import-untyped]

from agenttui.doctor.results import Check
from agenttui.doctor.settings import PathRule


@dataclass(slots=True)
class Who:
    """The user paths are checked as."""

    name: str
    uid: int
    gids: frozenset[int]
    why: str
    """``you``, ``the agent process`` or ``the [doctor] user setting``."""


def current_user() -> Who:
    """The user running agenttui."""
    uid = os.geteuid()
    return Who(_user_name(uid), uid, frozenset({os.getegid(), *os.getgroups()}), "you")


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def user_by_name(name: str) -> Who | None:
    """A user from the passwd database, with its groups (None when unknown)."""
    try:
        import grp
        import pwd

        entry = pwd.getpwnam(name)
    except (KeyError, ImportError):
        return None
    gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
    return Who(name, entry.pw_uid, frozenset(gids), "the [doctor] user setting")


def user_of_process(pid: int) -> Who | None:
    """The effective user and groups of a process (None when it cannot be read)."""
    try:
        proc = psutil.Process(pid)
        uid = int(proc.uids().effective)
        gids = {int(proc.gids().effective)}
        status = Path(f"/proc/{pid}/status")
        if status.is_file():
            for line in status.read_text().splitlines():
                if line.startswith("Groups:"):
                    gids.update(int(g) for g in line.split()[1:])
    except (psutil.Error, OSError, ValueError):
        return None
    return Who(_user_name(uid), uid, frozenset(gids), f"the agent process (pid {pid})")


def _allowed(st: os.stat_result, who: Who, letter: str) -> bool:
    bits = {"r": 4, "w": 2, "x": 1}[letter]
    mode = st.st_mode
    if who.uid == 0:
        return letter != "x" or bool(mode & 0o111) or stat.S_ISDIR(mode)
    if st.st_uid == who.uid:
        return bool(mode & (bits << 6))
    if st.st_gid in who.gids:
        return bool(mode & (bits << 3))
    return bool(mode & bits)


def access_as(path: Path, mode: str, who: Who) -> str | None:
    """Why ``who`` lacks ``mode`` on ``path`` (None when allowed).

    Uses ``os.access`` for the current user (ACLs and read-only mounts included) and the
    permission bits of the path and each parent directory for another user.
    """
    if who.uid == os.geteuid() and who.why == "you":
        flags = {"r": os.R_OK, "w": os.W_OK, "x": os.X_OK}
        missing = [m for m in mode if not os.access(path, flags[m])]
        return f"no {'/'.join(_WORDS[m] for m in missing)} permission" if missing else None
    absolute = path.absolute()
    for parent in reversed(absolute.parents):
        try:
            if not _allowed(parent.stat(), who, "x"):
                return f"cannot enter {parent}"
        except OSError as exc:
            return f"{parent}: {exc.strerror or exc}"
    st = absolute.stat()
    missing = [m for m in mode if not _allowed(st, who, m)]
    return f"no {'/'.join(_WORDS[m] for m in missing)} permission" if missing else None


_WORDS: Final = {"r": "read", "w": "write", "x": "execute"}


def _owner(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "?"
    return f"{_user_name(st.st_uid)}:{st.st_gid} {stat.filemode(st.st_mode)}"


def check_path(rule: PathRule, who: Who, cwd: Path | None = None) -> Check:
    """A path exists and ``who`` may read / write / execute it."""
    base = Path.cwd() if cwd is None else cwd
    path = Path(rule.path)
    full = path if path.is_absolute() else base / path
    label = f"path {rule.path}"
    detail: dict[str, Any] = {"path": str(full), "mode": rule.mode, "as": who.name}
    relative = "" if path.is_absolute() else f" (relative: resolved from {base})"
    if not full.exists():
        return Check(
            label,
            "fail",
            f"{full} does not exist{relative}",
            "create it, or fix the path"
            + (
                "; use an absolute path: the working directory differs in production"
                if relative
                else ""
            ),
            detail,
        )
    try:
        why = access_as(full, rule.mode, who)
    except OSError as exc:
        why = exc.strerror or str(exc)
    if why is not None:
        return Check(
            label,
            "fail",
            f"{who.name} ({who.why}): {why} on {full}",
            f"chown/chmod it for {who.name} (now {_owner(full)})",
            detail,
        )
    kind = "directory" if full.is_dir() else "file"
    return Check(
        label, "ok", f"{kind}, {who.name} can {'/'.join(_WORDS[m] for m in rule.mode)}", "", detail
    )


def check_user(who: Who, agent: Who | None) -> Check:
    """Who runs agenttui and the agent; a warning for root."""
    detail: dict[str, Any] = {"user": who.name, "uid": who.uid}
    reason = f"running as {who.name} (uid {who.uid})"
    if agent is not None and agent.uid != who.uid:
        detail["agent_user"] = agent.name
        reason += f"; {agent.why} runs as {agent.name}: paths are checked as {agent.name}"
    runner = agent or who
    if runner.uid == 0:
        return Check(
            "user",
            "warn",
            reason + ("" if agent is None else "; the agent is root"),
            "run the agent as an unprivileged user (root hides permission problems "
            "that appear elsewhere)",
            detail,
        )
    return Check("user", "ok", reason, "", detail)


def check_script(text: str, who: Who, cwd: Path | None = None) -> Check:
    """A script exists, is executable by ``who``, and its ``#!`` interpreter exists."""
    base = Path.cwd() if cwd is None else cwd
    path = Path(text) if Path(text).is_absolute() else base / text
    label = f"script {text}"
    detail: dict[str, Any] = {"path": str(path)}
    if not path.is_file():
        return Check(
            label,
            "fail",
            f"{path} does not exist",
            "fix the path in the config, or deploy the script",
            detail,
        )
    why = access_as(path, "rx", who)
    if why is not None:
        return Check(label, "fail", f"{who.name}: {why} on {path}", f"chmod +x {path}", detail)
    try:
        with path.open("rb") as f:
            head = f.readline(256)
    except OSError as exc:
        return Check(label, "fail", f"cannot read {path}: {exc.strerror}", "", detail)
    if head.startswith(b"#!"):
        line = head[2:]
        if line.rstrip(b"\n").endswith(b"\r"):
            return Check(
                label,
                "fail",
                "the #! line ends in CR (Windows line endings): 'bad interpreter'",
                f"convert it: sed -i 's/\\r$//' {path}",
                detail,
            )
        words = line.decode("utf-8", "replace").split()
        if words:
            interp = words[0]
            if Path(interp).name == "env" and len(words) > 1:
                found = shutil.which(words[1])
                detail["interpreter"] = words[1]
                if found is None:
                    return Check(
                        label,
                        "fail",
                        f"its interpreter {words[1]} is not on PATH",
                        f"install {words[1]} or change the #! line",
                        detail,
                    )
            elif not os.access(interp, os.X_OK):
                detail["interpreter"] = interp
                return Check(
                    label,
                    "fail",
                    f"its interpreter {interp} does not exist",
                    "install it or change the #! line",
                    detail,
                )
    return Check(label, "ok", f"executable by {who.name}", "", detail)
