"""What a replay applies to the agent: environment and working directory.

A capture is data written by whoever can write the log directory, never configuration. The
``capture`` profile therefore applies only what the operator allowed:

* variables named in ``[replay] capture_env`` (none by default), and never a name that
  changes how programs load or run (:func:`is_dangerous`: ``LD_*``, ``PYTHON*``, ``PATH``,
  ``*_BIN``, ``*_PATH``...), even when listed: those get a one-line warning;
* the capture's ``cwd`` only when it lies inside ``[replay] capture_cwd_in``.

Precedence: our environment < the allowed capture variables < ``[replay.env]``/``--env``.
What was applied (values masked) is returned to be shown on the replay screen, in ``--json``
and in the history.
"""

from __future__ import annotations

import os
import re
from typing import Any, Final

from agenttui.output.secrets import is_masked, mask_env
from agenttui.replay.captures import Capture
from agenttui.replay.settings import ENV_NAME_RE, Settings

DEMO_MARKER: Final = "agenttui.demo.agent"
"""The ``written_by`` field of the captures the bundled demo agent writes."""

_DANGEROUS_EXACT: Final = frozenset(
    {
        "PATH",
        "HOME",
        "ENV",
        "BASH_ENV",
        "SHELL",
        "SHELLOPTS",
        "BASHOPTS",
        "IFS",
        "PS4",
        "PROMPT_COMMAND",
        "CDPATH",
        "NODE_OPTIONS",
        "PERL5OPT",
        "PERL5LIB",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "CLASSPATH",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "GCONV_PATH",
        "LOCPATH",
        "NLSPATH",
        "HOSTALIASES",
        "RESOLV_HOST_CONF",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "BROWSER",
        "LESSOPEN",
        "LESSCLOSE",
        "TMPDIR",
        "VIRTUAL_ENV",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NO_PROXY",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CONFIG_DIRS",
        "XDG_DATA_DIRS",
        "OPENSSL_CONF",
        "OPENSSL_ENGINES",
        "TERMINFO",
    }
)
_DANGEROUS_RE: Final = re.compile(
    r"^(?:LD_|DYLD_|PYTHON|PERL|RUBY|NODE_|NPM_CONFIG_|GIT_|MALLOC_|GLIBC_|BASH_FUNC_|"
    r"JAVA|CONDA|GEM_|LUA_|R_LIBS|AGENTTUI_)"
    r"|(?:_BIN|_PATH|_HOME|_OPTIONS|_OPTS|_PROXY|_CMD|_COMMAND|_EXE|_EXECUTABLE|_PROGRAM|"
    r"_PRELOAD|_LIB|_LIBS|_PLUGIN|_PLUGINS|_HOOK|_HOOKS|_SHELL|_INTERPRETER|_CONFIG|_CONF|"
    r"_RC|_STARTUP|_CA_BUNDLE)$",
    re.IGNORECASE,
)


def is_dangerous(name: str) -> bool:
    """Whether a variable changes how programs load or run: never applied from a capture."""
    return name.upper() in _DANGEROUS_EXACT or _DANGEROUS_RE.search(name) is not None


def is_demo_capture(capture: Capture) -> bool:
    """Whether the bundled demo agent wrote the capture (its ``written_by`` marker; never the
    text of a traceback)."""
    return capture.written_by == DEMO_MARKER


def _inside(path: str, root: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _recorded(capture: Capture) -> dict[str, str | None]:
    """The capture's variables that could be applied: name -> value (None: unset)."""
    ctx = capture.context or {}
    out: dict[str, str | None] = {}
    recorded = ctx.get("env")
    if isinstance(recorded, dict):
        for name, value in recorded.items():
            if not isinstance(name, str) or not ENV_NAME_RE.match(name):
                continue
            if value is None:
                out[name] = None
            elif isinstance(value, str | int | float) and not isinstance(value, bool):
                out[name] = str(value)
    tool_timeout = ctx.get("TOOL_TIMEOUT")
    if isinstance(tool_timeout, int | float) and not isinstance(tool_timeout, bool):
        out.setdefault("TOOL_TIMEOUT", f"{tool_timeout:g}")
    return out


def child_env(
    capture: Capture, settings: Settings
) -> tuple[dict[str, str], str | None, dict[str, Any]]:
    """The environment and working directory of a replay, and what was applied (masked).

    ``applied`` holds ``capture_env`` (name -> masked value or ``(unset)``), ``env`` (the
    overrides, masked), ``cwd``, and ``warnings`` (one line each: refused names, a cwd outside
    ``capture_cwd_in``, masked values left alone).
    """
    env = dict(os.environ)
    cwd = settings.cwd
    applied_env: dict[str, str | None] = {}
    warnings: list[str] = []
    capture_cwd: str | None = None
    if settings.profile == "capture":
        recorded = _recorded(capture)
        allowed = set(settings.capture_env)
        for name in sorted(recorded):
            value = recorded[name]
            if is_dangerous(name):
                if name in allowed:
                    warnings.append(
                        f"{name}: never applied from a capture (it changes how programs "
                        "load or run), even when listed in replay.capture_env"
                    )
                continue
            if name not in allowed:
                continue
            if value is not None and is_masked(value):
                warnings.append(f"{name}: masked in the capture; the value here is kept")
                continue
            applied_env[name] = None if value is None else value.replace("\0", "")
        ignored = sorted(n for n in recorded if n not in allowed)
        if ignored:
            warnings.append(f"not applied (not in replay.capture_env): {', '.join(ignored)[:300]}")
        recorded_cwd = (capture.context or {}).get("cwd")
        if isinstance(recorded_cwd, str) and recorded_cwd and "\0" not in recorded_cwd:
            root = settings.capture_cwd_in
            if root is None:
                warnings.append("capture cwd not applied: replay.capture_cwd_in is not set")
            elif not _inside(recorded_cwd, root):
                warnings.append(f"capture cwd not applied: outside {root}")
            elif not os.path.isdir(recorded_cwd):
                warnings.append("capture cwd not applied: no such directory here")
            elif cwd is None:
                capture_cwd = cwd = os.path.realpath(recorded_cwd)
    for name, value in applied_env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env.update({k: v.replace("\0", "") for k, v in settings.env.items()})
    values = mask_env({k: v for k, v in applied_env.items() if v is not None})
    shown = {k: values.get(k, "(unset)") for k in applied_env}
    applied: dict[str, Any] = {
        "capture_env": shown,
        "env": mask_env(dict(settings.env)),
        "cwd": cwd or os.getcwd(),
        "capture_cwd": capture_cwd,
        "warnings": warnings,
    }
    return env, cwd, applied


__all__ = ["DEMO_MARKER", "child_env", "is_dangerous", "is_demo_capture"]
