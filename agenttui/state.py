"""The private state directory: replay history and incident notes.

``--state-dir``, else ``$AGENTTUI_STATE_DIR``, else ``$XDG_STATE_HOME/agenttui``, else
``~/.local/state/agenttui``. It is created 0700 and, like ssh with ``~/.ssh``, refused with a
one-line :class:`StateDirError` when it is a symbolic link, not a directory, not owned by the
user, or writable by group or others. Everything below it is reached through directory file
descriptors opened with ``O_NOFOLLOW``: a symlink planted inside is never followed.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from agenttui import config

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class StateDirError(Exception):
    """The state directory (or a directory in it) cannot be trusted or used (one line)."""


def state_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the state goes (see the module docstring); not checked yet."""
    if explicit is not None:
        return Path(explicit)
    env = config.env_override("state_dir")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_STATE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "agenttui"
    return Path.home() / ".local" / "state" / "agenttui"


def _check(st: os.stat_result, where: str) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise StateDirError(f"{where}: is a symbolic link; refusing to use it")
    if not stat.S_ISDIR(st.st_mode):
        raise StateDirError(f"{where}: is not a directory")
    if st.st_uid != os.geteuid():
        raise StateDirError(
            f"{where}: owned by uid {st.st_uid}, not by you (uid {os.geteuid()}); "
            "refusing to use it"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise StateDirError(
            f"{where}: writable by group or others (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run: chmod 700 {where}"
        )


def check_root(root: Path, *, create: bool = True) -> Path:
    """Create ``root`` (0700) if needed (and ``create``) and check it.

    Raises:
        StateDirError: It is a symlink, not a directory, not ours, or writable by others.
        FileNotFoundError: It is missing and not ``create``.
    """
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        if not create:
            raise
        try:
            root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.mkdir(root, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StateDirError(f"{root}: cannot create: {exc.strerror or exc}") from None
        st = os.lstat(root)
    except OSError as exc:
        raise StateDirError(f"{root}: {exc.strerror or exc}") from None
    _check(st, str(root))
    return root


@contextlib.contextmanager
def open_dir(root: Path, *parts: str, create: bool = True) -> Iterator[int]:
    """A file descriptor of ``root/parts...``, each level checked like the root and never
    followed if it is a symlink; missing levels are created 0700 when ``create``.

    Raises:
        StateDirError: A level cannot be trusted or used.
        FileNotFoundError: A level is missing and not ``create``.
    """
    check_root(root, create=create)
    try:
        fd = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        raise StateDirError(f"{root}: {exc.strerror or exc}") from None
    where = str(root)
    try:
        for part in parts:
            where = os.path.join(where, part)
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            try:
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                raise
            except OSError as exc:
                raise StateDirError(f"{where}: {exc.strerror or exc}") from None
            _check(st, where)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise StateDirError(f"{where}: {exc.strerror or exc}") from None
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def write_new(dir_fd: int, name: str, data: bytes) -> str:
    """Create ``name`` (0600, ``O_EXCL``: never over a file or through a symlink) in the
    directory and write ``data``; on a name clash ``-2``, ``-3``... is added before the
    extension. Returns the name used.

    Raises:
        OSError: It cannot be written.
    """
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem}-{n}" + (f".{ext}" if ext else "")
        try:
            fd = os.open(candidate, flags, 0o600, dir_fd=dir_fd)
        except FileExistsError:
            continue
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(candidate, dir_fd=dir_fd)
            raise
        os.close(fd)
        return candidate
    raise FileExistsError(f"no free name for {name}")


__all__ = ["StateDirError", "check_root", "open_dir", "state_dir", "write_new"]
