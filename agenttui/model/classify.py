"""Failure classes: the production causes behind an error, each with what it means and the fix.

The rules are data: :data:`RULES` is an ordered table of regular expressions over the error line
(``Type: message``), the traceback, or both; the first rule whose patterns all match decides
the class. Cold start is not a text rule: it is found over the traces' timing
(:func:`agenttui.model.triage.cold_starts`) and given to :func:`classify` as a flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class FailureClass:
    """A production cause of failures."""

    key: str
    """Short name, used in queries (``class:timeout``) and JSON."""
    title: str
    explanation: str
    """What usually happened, in one paragraph."""
    fix: str
    """What to check and change."""


_CLASSES: Final = (
    FailureClass(
        "missing_env",
        "missing environment variable",
        "The code reads a setting (an API key, a URL, a flag) from the environment and the "
        "process on this machine does not have it. It worked on a laptop because the variable "
        "was exported in the developer's shell or loaded from a .env file that is not deployed; "
        "services started by systemd, cron, Docker or a supervisor get a different, usually "
        "much smaller, environment.",
        "Compare the variables the process really has (cat /proc/PID/environ | tr '\\0' "
        "'\\n') with what the code reads. Set the variable where the service is defined "
        "(systemd Environment=/EnvironmentFile=, the container's env, the deployment's "
        "secrets), then restart it. Make the program check its required settings at start-up "
        "and exit with a clear message instead of failing on the first request.",
    ),
    FailureClass(
        "wrong_path",
        "wrong relative path / working directory",
        "A file was opened by a relative path (or a path that only exists on another machine). "
        "Relative paths are resolved against the process's current working directory, which "
        "for a service is whatever its launcher chose (often / or the service user's home), "
        "not the project directory the developer ran it from.",
        "Build paths from the code's own location (Path(__file__).parent / 'data' / ...) or "
        "from a configured base directory, or set the service's working directory "
        "(WorkingDirectory= in systemd, WORKDIR in a Dockerfile). Check that the file is "
        "deployed at all: data files are easy to leave out of a package or an image.",
    ),
    FailureClass(
        "wrong_host",
        "localhost or wrong host",
        "A connection was refused, or a host name did not resolve. On a laptop the dependency "
        "(a database, a cache, a model server, an internal API) ran on localhost; on this "
        "machine it runs elsewhere, under another name, on another port, or not at all. Inside "
        "a container, localhost is the container itself.",
        "Check which host and port the code really uses (the traceback's locals, the config) "
        "and whether anything listens there (ss -ltnp, curl). Point the setting at the real "
        "service address for this environment instead of a hard-coded localhost, and make "
        "sure the service is started before the agent.",
    ),
    FailureClass(
        "permission",
        "permission denied",
        "The process was not allowed to read, write or execute something. The service runs as "
        "a different user than the developer did, the directory belongs to another user, the "
        "file system is mounted read-only, or a sandbox (SELinux, AppArmor, a container's "
        "read-only root) refuses the access.",
        "Look at the path in the error and at who the process runs as (ps -o user= -p PID, "
        "ls -ld on each parent directory). Write to a directory the service owns (a state "
        "or cache directory, a mounted volume), or grant that user access; do not run the "
        "agent as root to make it go away.",
    ),
    FailureClass(
        "missing_binary",
        "missing binary",
        "The code starts an external program (ripgrep, git, ffmpeg, a browser...) that is "
        "installed on the developer's machine but not here, or not on this process's PATH. "
        "Python reports it as FileNotFoundError with the program's name; shells report "
        "'command not found' and exit status 127.",
        "Install the program in the image or on the host (and pin its version), or call it "
        "by an absolute path that exists. Check the PATH the service really has, which is "
        "often shorter than an interactive shell's. Check for the binary at start-up with "
        "shutil.which() and fail with a clear message.",
    ),
    FailureClass(
        "rate_limit",
        "rate limit (429)",
        "An API refused the call because too many requests were made in a time window "
        "(HTTP 429, a RateLimitError, a quota error). In production many requests share one "
        "key and one limit, so what never happened with one user at a time happens under "
        "load; a change of model or prompt that makes more calls per request (model drift) "
        "has the same effect.",
        "Retry with exponential backoff and jitter, honouring the Retry-After header; limit "
        "the concurrency of calls to that API; cache repeated calls; and check whether the "
        "number of calls per request went up recently (a new model or planner version). Ask "
        "for a higher limit if the traffic is legitimate.",
    ),
    FailureClass(
        "memory",
        "memory limit (MemoryError, OOM kill)",
        "The process ran out of memory: Python raised MemoryError, or the kernel's OOM killer "
        "or the container's memory limit killed it (SIGKILL, exit status 137, 'Killed'). The "
        "production box or container has less memory than the laptop, or this input is much "
        "bigger than the ones tried.",
        "Check the memory limit (the container's, systemd MemoryMax=) and the kernel log "
        "(dmesg | grep -i oom). Stream large inputs instead of reading them whole, bound "
        "caches and batch sizes, and give the process the memory it really needs.",
    ),
    FailureClass(
        "concurrency",
        "concurrency (race / shared state)",
        "Requests handled at the same time interfere through shared state: a dict or list "
        "changed while another thread iterated it, a lock ordering that deadlocks, a "
        "database row updated twice, an object or event loop used from the wrong thread. "
        "It does not happen on a laptop with one request at a time, and it comes and goes "
        "with load.",
        "Find the shared object in the traceback (module globals, class attributes, "
        "singletons, caches) and give each request its own, or guard it with a lock; "
        "iterate over a copy (list(d.items())); keep one event loop per thread. Try it "
        "again with several concurrent requests to reproduce it.",
    ),
    FailureClass(
        "model_drift",
        "model drift (new model version, output shape)",
        "The model behind the agent changed: a new version started answering under the same "
        "name (the logs show it, and the failures started with it), or the model's answer "
        "could not be parsed (invalid JSON, a missing field, a schema validation error, an "
        "unexpected format) because the model, the prompt or the sampling settings changed "
        "and the output no longer has the shape the code expects.",
        "Compare the failing requests on the new version with the ones that passed on the old "
        "one (stats screen: per model; query model:NAME). Pin the model version instead of "
        "an alias, ask for structured output (JSON mode, tool calling, a response schema) "
        "instead of parsing free text, validate and retry once with the validation error in "
        "the prompt, and log the raw output when parsing fails.",
    ),
    FailureClass(
        "timeout",
        "timeout",
        "A call took longer than its time limit. The dependency is slower here than on the "
        "laptop (network distance, load, a cold cache, a smaller machine), or the limit is "
        "set lower in production, or the call waited for something that never answered.",
        "Check how long the call usually takes (the tool statistics: p95, p99) against the "
        "configured timeout; raise it only if the usual latency is close to it. Otherwise "
        "find where the time goes (the waterfall), add retries with backoff for transient "
        "slowness, and make sure a timed-out call is really cancelled.",
    ),
    FailureClass(
        "cold_start",
        "cold start",
        "The first request after the process started (or after a long idle gap) was much "
        "slower than the ones after it: models, connections, caches and imports are loaded "
        "lazily on first use, and that first request paid for it, possibly past a timeout.",
        "Warm up at start-up (load the model, open the connection pools, make one dummy "
        "call) before taking traffic, mark the service ready only after that, and keep a "
        "minimum number of instances warm if they scale to zero.",
    ),
    FailureClass(
        "unknown",
        "unknown",
        "No rule recognised this error. It may be a bug in the agent or a tool, or a cause "
        "this table does not know yet.",
        "Read the traceback from the innermost frame outwards and look at the locals of the "
        "frame that raised. Compare with a trace of the same request that succeeded. If it "
        "is a production cause that should be recognised, add a rule to "
        "agenttui/classify.py.",
    ),
)

CLASSES: Final[dict[str, FailureClass]] = {c.key: c for c in _CLASSES}
"""Every failure class by key, in display order."""

UNKNOWN: Final = CLASSES["unknown"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: every given pattern must match (case-insensitive).

    ``error`` is matched against the ``Type: message`` line, ``traceback`` against the
    traceback text, ``text`` against both.
    """

    cls: str
    name: str
    """What the rule recognises (shown as the evidence)."""
    error: str | None = None
    traceback: str | None = None
    text: str | None = None


_FNF = r"FileNotFoundError|No such file or directory|ENOENT|cannot find the (?:file|path)"
_RELATIVE_QUOTED = r"""['"](?![/\\~]|[A-Za-z]:\\)[^'"\s]*[/\\.][^'"\s]*['"]"""

RULES: Final[tuple[Rule, ...]] = (
    # Missing binary before wrong path: both are FileNotFoundError.
    Rule(
        "missing_binary",
        "command not found / exit status 127",
        text=r"command not found|executable file not found|not found in \$?PATH"
        r"|spawn \S+ ENOENT|exit(?:ed)?(?: with)?(?: code| status)?[ :=]*127\b"
        r"|returned non-zero exit status 127|status 127\b|\bsh: \d+: [\w.+/-]+: not found",
    ),
    Rule(
        "missing_binary",
        "FileNotFoundError raised while starting a subprocess",
        error=_FNF,
        traceback=r"_execute_child|subprocess\.py|Popen|os\.exec|posix_spawn",
    ),
    Rule(
        "missing_binary",
        "FileNotFoundError naming a bare program (no directory, no suffix)",
        error=r"(?:FileNotFoundError|No such file or directory).*:\s*['\"][\w+-]+['\"]\s*$",
    ),
    Rule(
        "missing_env",
        "KeyError on an environment-style name",
        error=r"KeyError:\s*['\"](?-i:[A-Z][A-Z0-9_]{2,})['\"]",
    ),
    Rule(
        "missing_env",
        "KeyError raised inside os.environ",
        error=r"KeyError",
        traceback=r"os\.environ|<frozen os>|[/\\]os\.py",
    ),
    Rule(
        "missing_env",
        "message about an environment variable",
        error=r"environment variable|env(?:ironment)? var\b|\benv var"
        r"|(?-i:\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b) (?:is )?(?:not set|unset|missing|required"
        r"|empty)|(?:missing|unset|undefined|required) (?:setting |config value )?"
        r"(?-i:\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b)",
    ),
    Rule(
        "missing_env",
        "API key not configured",
        error=r"api[_ ]key (?:client option )?must be set|no api[_ ]key (?:provided|found)"
        r"|api[_ ]key (?:is )?(?:not set|missing|required)",
    ),
    Rule(
        "permission",
        "permission denied",
        text=r"PermissionError|Permission denied|\bEACCES\b|\bEPERM\b|Operation not permitted"
        r"|Read-only file system|\bEROFS\b|Access is denied",
    ),
    Rule(
        "rate_limit",
        "429 / rate limit",
        error=r"\b429\b|RateLimit|Too Many Requests|rate[ -]?limit|quota exceeded"
        r"|exceeded your current quota|Throttl|RESOURCE_EXHAUSTED|SlowDown",
    ),
    Rule(
        "memory",
        "out of memory",
        text=r"MemoryError|out of memory|\bOOM\b|OutOfMemory|Cannot allocate memory|ENOMEM"
        r"|\bKilled\b|SIGKILL|signal 9\b|exit(?:ed)?(?: with)?(?: code| status)?[ :=]*137"
        r"|status 137\b|memory limit",
    ),
    Rule(
        "wrong_path", "file not found by a relative path", error=rf"(?:{_FNF}).*{_RELATIVE_QUOTED}"
    ),
    Rule(
        "wrong_path",
        "file not found by a path from a developer machine",
        error=rf"(?:{_FNF}).*['\"](?:/Users/|/home/|C:\\Users\\|~)",
    ),
    Rule("wrong_path", "file not found", error=rf"{_FNF}|NotADirectoryError|IsADirectoryError"),
    Rule(
        "concurrency",
        "shared state changed during iteration / deadlock / race",
        text=r"changed size during iteration|mutated during iteration|modified during "
        r"iteration|deadlock|race condition|concurrent modification"
        r"|ConcurrentModification|database is locked|Lock wait timeout"
        r"|could not serialize access|already borrowed|attached to a different loop"
        r"|Event loop is closed|got Future .* attached to a different loop"
        r"|cannot schedule new futures after shutdown|StaleDataError|OptimisticLock",
    ),
    Rule(
        "wrong_host",
        "connection refused / host not resolved",
        text=r"ConnectionRefused|Connection refused|ECONNREFUSED|Name or service not known"
        r"|nodename nor servname|getaddrinfo (?:failed|ENOTFOUND)|ENOTFOUND"
        r"|Temporary failure in name resolution|NameResolutionError|gaierror"
        r"|No route to host|EHOSTUNREACH|Could not resolve host|Unknown host"
        r"|Network is unreachable|ENETUNREACH",
    ),
    Rule(
        "wrong_host",
        "connection to localhost",
        error=r"\blocalhost\b|\b127\.0\.0\.1\b|\[::1\]|\b0\.0\.0\.0\b",
    ),
    Rule(
        "model_drift",
        "model output could not be parsed",
        text=r"JSONDecodeError|json\.decoder|Expecting value|Expecting property name"
        r"|Unterminated string|Extra data: line|ValidationError|validation error"
        r"|OutputParser|unexpected (?:format|response format|output)"
        r"|(?:could not|failed to|unable to) parse (?:the )?(?:model|llm|response|output"
        r"|completion|json|tool call)|invalid json|not valid json|missing required field"
        r"|field required|response_format",
    ),
    Rule(
        "timeout",
        "timed out",
        text=r"TimeoutError|Timeout|timed out|time-out|deadline exceeded|DEADLINE_EXCEEDED"
        r"|ETIMEDOUT|did not answer within|504 Gateway|took too long",
    ),
)
"""The table, in order: the first rule whose patterns all match decides."""


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return None if pattern is None else re.compile(pattern, re.IGNORECASE | re.DOTALL)


_COMPILED: Final[
    tuple[tuple[Rule, re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None], ...]
] = tuple(
    (rule, _compile(rule.error), _compile(rule.traceback), _compile(rule.text)) for rule in RULES
)


@dataclass(frozen=True, slots=True)
class Classification:
    """The class of one failure and why."""

    cls: FailureClass
    evidence: str
    """The rule that matched, or why none did."""


def classify(
    error: str | None,
    traceback: str | None = None,
    *,
    cold_start: bool = False,
    new_model: str | None = None,
) -> Classification:
    """Classify one failure.

    Args:
        error: The error line (``Type: message``) or any error text.
        traceback: The formatted traceback, when known (makes some rules sharper).
        cold_start: The failure is the first request after a start and was far slower than
            the following ones (see :func:`agenttui.model.triage.cold_starts`). Decides when no text
            rule does, and also over ``timeout``.
        new_model: The failure ran on a model version that is new in the log and failing more
            than the older one; the text is the evidence (see
            :func:`agenttui.model.drift.drifted_requests`). Decides when no text rule does.

    Returns:
        The class and the evidence.
    """
    error = error or ""
    tb = traceback or ""
    both = f"{error}\n{tb}"
    for rule, err_re, tb_re, text_re in _COMPILED:
        if err_re is not None and not err_re.search(error):
            continue
        if tb_re is not None and not tb_re.search(tb):
            continue
        if text_re is not None and not text_re.search(both):
            continue
        if cold_start and rule.cls == "timeout":
            return Classification(
                CLASSES["cold_start"], "timed out on the first request after a start"
            )
        return Classification(CLASSES[rule.cls], rule.name)
    if cold_start:
        return Classification(
            CLASSES["cold_start"], "first request after a start, far slower than the next ones"
        )
    if new_model:
        return Classification(CLASSES["model_drift"], new_model)
    return Classification(UNKNOWN, "no rule matched" if error or tb else "no error text")


def class_keys() -> list[str]:
    """Every class key, in display order."""
    return list(CLASSES)


__all__ = [
    "CLASSES",
    "RULES",
    "UNKNOWN",
    "Classification",
    "FailureClass",
    "Rule",
    "class_keys",
    "classify",
]
