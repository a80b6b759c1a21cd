"""Replay history: each replay's input, settings, verdict, output and timing, as JSON files.

Kept under the XDG state directory (``$XDG_STATE_HOME/agenttui``, default
``~/.local/state/agenttui``) or ``--state-dir``, never next to the production logs::

    STATE/replays/<capture key>/<UTC time>-<verdict>.json

The capture key is derived from the capture's request id (else its file path), so the history
follows a capture that is copied elsewhere. Files are created with mode 0600 in 0700 directories:
they hold agent output.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agenttui import config
from agenttui.replay.captures import Capture

MAX_ENTRIES_READ = 200
"""At most this many past replays are read for one capture (newest first)."""


class HistoryError(Exception):
    """The state directory cannot be used (one line)."""


def state_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``explicit``, else ``$AGENTTUI_STATE_DIR``, else ``$XDG_STATE_HOME/agenttui``, else
    ``~/.local/state/agenttui``."""
    if explicit is not None:
        return Path(explicit)
    env = config.env_override("state_dir")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_STATE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "agenttui"
    return Path.home() / ".local" / "state" / "agenttui"


def capture_key(capture: Capture) -> str:
    """A directory name for the capture's history: readable prefix plus a hash."""
    ident = capture.request_id or os.path.abspath(capture.path)
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", ident)[-40:].strip("._") or "capture"
    digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{prefix}-{digest}"


def save(root: Path, capture: Capture, entry: dict[str, Any]) -> Path:
    """Write one replay's record (atomically) and return its path.

    Raises:
        HistoryError: The directory cannot be created or written.
    """
    folder = root / "replays" / capture_key(capture)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    verdict = re.sub(r"[^a-z]+", "-", str(entry.get("verdict", "unknown")))
    record = {
        "capture": capture.path,
        "capture_request_id": capture.request_id,
        "input": capture.input(),
        **entry,
    }
    data = json.dumps(record, ensure_ascii=True, indent=1, default=str).encode()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".replay-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            target = folder / f"{stamp}-{verdict}.json"
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    except OSError as exc:
        raise HistoryError(f"{folder}: cannot save the replay: {exc.strerror or exc}") from exc
    return target


def load(root: Path, capture: Capture, limit: int = MAX_ENTRIES_READ) -> list[dict[str, Any]]:
    """Past replays of ``capture``, newest first. A file that cannot be read is returned as
    ``{"file": ..., "problem": ...}``, not skipped."""
    folder = root / "replays" / capture_key(capture)
    try:
        names = sorted((n for n in os.listdir(folder) if n.endswith(".json")), reverse=True)
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for name in names[:limit]:
        path = folder / name
        try:
            obj = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            out.append({"file": str(path), "problem": str(exc).splitlines()[0][:200]})
            continue
        if not isinstance(obj, dict):
            out.append({"file": str(path), "problem": "not a JSON object"})
            continue
        obj["file"] = str(path)
        out.append(obj)
    return out


__all__ = ["HistoryError", "capture_key", "load", "save", "state_dir"]
