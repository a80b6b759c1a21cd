"""Turn a capture into a regression test: a pytest file that runs the same input through the same
replay target and asserts that it does not fail.

The file stands alone (it does not import agenttui), so it can live in the agent's repository.
Every value from the capture is written as a Python literal with :func:`repr`, never spliced
into code. Nothing secret is written: the input and the error are masked
(:mod:`agenttui.output.secrets`), and environment overrides whose name or value looks secret are
read from the test's environment instead. The file is created 0600, never over another file.
"""

from __future__ import annotations

import os
import re
import sys

from agenttui.output.secrets import is_secret_name, mask, mask_fields
from agenttui.replay.captures import Capture
from agenttui.replay.environment import child_env
from agenttui.replay.settings import Settings

_HEADER = '''"""Regression test exported by agenttui from a production failure capture.

Capture: {capture}
Original error: {error}
Target: {target}

It runs the captured input through the same target and fails while the bug is still there.
"""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

INPUT = json.loads({input_json})
ENV = {env}
UNSET_ENV = {unset_env}
SECRET_ENV = {secret_env}
TIMEOUT = {timeout}
CWD = {cwd}


def _env():
    env = dict(os.environ)
    env.update(ENV)
    for name in UNSET_ENV:
        env.pop(name, None)
    for name in SECRET_ENV:
        if name not in os.environ:
            pytest.skip(f"set {{name}} in the environment to run this test")
    return env

'''

_COMMAND = """
def test_{name}_does_not_fail(tmp_path):
    argv = [{argv}]
    proc = subprocess.run(
        argv, input=json.dumps(INPUT).encode(), capture_output=True, timeout=TIMEOUT,
        env=_env(), cwd=CWD, check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-4000:]
"""

_HTTP = """
def test_{name}_does_not_fail():
    _env()
    body = json.dumps({{"query": INPUT["query"], "request_id": INPUT["request_id"]}}).encode()
    request = urllib.request.Request(
        {url}, data=body, method="POST", headers={{"Content-Type": "application/json"}},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
    with opener.open(request, timeout=TIMEOUT) as response:
        assert 200 <= response.status < 300, response.read()[-4000:]
"""

_CALLABLE = """
def test_{name}_does_not_fail(monkeypatch):
    env = _env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in UNSET_ENV:
        monkeypatch.delenv(key, raising=False)
    if CWD:
        monkeypatch.chdir(CWD)
    import asyncio
    import importlib
    import inspect

    module_name, _, attr = {spec}.partition(":")
    fn = importlib.import_module(module_name)
    for part in attr.split("."):
        fn = getattr(fn, part)
    params = inspect.signature(fn).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {{k: INPUT.get(k) for k in ("request_id", "context") if takes_all or k in params}}
    result = fn(INPUT["query"], **kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
"""


def name_for(capture: Capture) -> str:
    """A Python identifier from the capture's request id (or file name)."""
    base = capture.request_id or os.path.splitext(capture.name)[0]
    name = re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_")[:60] or "capture"
    return name if not name[0].isdigit() else f"capture_{name}"


def _comment(text: str | None) -> str:
    """Text safe inside the module docstring (one line, no quotes or backslashes)."""
    cleaned = re.sub(r"[^ -~]", "?", text or "(none)").replace('"', "'").replace("\\", "/")
    return cleaned[:200]


def render(capture: Capture, settings: Settings) -> str:
    """The source of the regression test for ``capture`` replayed with ``settings``."""
    import json

    env, cwd, _applied = child_env(capture, settings)
    overrides = {k: v for k, v in env.items() if os.environ.get(k) != v}
    secret = sorted(k for k in overrides if is_secret_name(k) or mask(overrides[k]) != overrides[k])
    plain = {k: overrides[k] for k in sorted(overrides) if k not in secret}
    unset = sorted(k for k in os.environ if k not in env)
    target = settings.target
    input_json = json.dumps(mask_fields(capture.input()), ensure_ascii=True, default=str)
    source = _HEADER.format(
        capture=_comment(capture.path),
        error=_comment(mask(capture.error or "")),
        target=_comment(target.describe()),
        input_json=repr(input_json),
        env=repr(plain),
        unset_env=repr(unset),
        secret_env=repr(secret),
        timeout=repr(float(settings.timeout)),
        cwd=repr(cwd),
    )
    name = name_for(capture)
    if target.kind == "command":
        parts = []
        for arg in target.argv:
            if arg == sys.executable:
                parts.append("sys.executable")
            elif "{scratch}" in arg:
                pieces = [repr(p) for p in arg.split("{scratch}")]
                parts.append(" + str(tmp_path) + ".join(pieces))
            else:
                parts.append(repr(arg))
        source += _COMMAND.format(name=name, argv=", ".join(parts))
    elif target.kind == "http":
        source += _HTTP.format(name=name, url=repr(target.url))
    else:
        source += _CALLABLE.format(name=name, spec=repr(target.callable))
    return source


def default_path(capture: Capture) -> str:
    """``test_replay_<request id>.py`` in the working directory."""
    return f"test_replay_{name_for(capture)}.py"


def write(capture: Capture, settings: Settings, path: str) -> str:
    """Write the test to ``path`` (never over an existing file) and return the path.

    Raises:
        FileExistsError: ``path`` exists.
        OSError: It cannot be written.
    """
    source = render(capture, settings)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(source)
    return path


__all__ = ["default_path", "name_for", "render", "write"]
