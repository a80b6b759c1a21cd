"""Mask values that look like secrets before they are shown or exported.

Agents log API keys, bearer tokens and passwords more often than anyone would like, and
agenttui is run on production boxes, on shared screens, with output pasted into tickets.
Everything shown or exported is masked by default (``--show-secrets`` reveals it):

* :func:`mask` masks secret-looking values inside any text: ``sk-...`` API keys, GitHub,
  Slack and Google keys, ``Bearer``/``Basic`` credentials, AWS access key ids (``AKIA...``)
  and secret keys given as ``aws_secret_access_key=...``, passwords in URLs
  (``scheme://user:pass@host``), JWTs, PEM private keys, and ``password=...``-style pairs
  whose key names a secret.
* :func:`mask_fields` masks a decoded JSON value: the string values of fields named like
  secrets (``*_key``, ``*token*``, ``password``, ``passwd``, ``secret``, ``authorization``,
  ``api_key``, ``cookie``, ``credential``), recursively, and :func:`mask` on every other string.
  Numbers are kept (``max_tokens: 512`` is not a secret). Environment dictionaries are masked
  the same way (``OPENAI_API_KEY`` is named like a secret).

Masking happens at display and export time only, never while indexing (it would slow the hot
path and lose the real value for ``--show-secrets``).
"""

from __future__ import annotations

import re
from typing import Any, Final

MASK: Final = "****"
"""What a masked value is replaced with."""

_SECRET_NAME = re.compile(
    r"(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|[_-]key$|^key$|"
    r"authorization|auth[_-]?header|cookie|credential|private[_-]?key|access[_-]?key|"
    r"session[_-]?id|client[_-]?secret|x[_-]api[_-]key)",
    re.IGNORECASE,
)

# Each pattern keeps a recognisable prefix (group 1) and masks the rest.
_PATTERNS: Final[list[tuple[re.Pattern[str], str]]] = [
    # PEM private keys (multi-line).
    (
        re.compile(
            r"(-----BEGIN [A-Z ]*PRIVATE KEY-----).*?(-----END [A-Z ]*PRIVATE KEY-----)", re.DOTALL
        ),
        r"\1" + MASK + r"\2",
    ),
    # Passwords in URLs: scheme://user:password@host.
    (
        re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]*:)[^\s@/'\"]+(@)"),
        r"\1" + MASK + r"\2",
    ),
    # Authorization header values.
    (re.compile(r"\b([Bb]earer)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + MASK),
    (
        re.compile(
            r"\b(Basic)(\s+)(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[a-z][A-Z]))[A-Za-z0-9+/]{8,}={0,2}"
        ),
        r"\1\2" + MASK,
    ),
    # JSON Web Tokens.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "eyJ" + MASK),
    # OpenAI / Anthropic style keys: sk-..., sk-proj-..., sk-ant-...
    (re.compile(r"\b(sk-(?:proj-|ant-|live-|test-)?)[A-Za-z0-9_-]{12,}"), r"\1" + MASK),
    # Stripe, GitHub, Slack, Google, Hugging Face.
    (re.compile(r"\b((?:rk|pk)_(?:live|test)_)[A-Za-z0-9]{10,}"), r"\1" + MASK),
    (re.compile(r"\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}"), r"\1" + MASK),
    (re.compile(r"\b(xox[abposr]-)[A-Za-z0-9-]{10,}"), r"\1" + MASK),
    (re.compile(r"\b(AIza)[0-9A-Za-z_-]{30,}"), r"\1" + MASK),
    (re.compile(r"\b(hf_)[A-Za-z0-9]{20,}"), r"\1" + MASK),
    # AWS access key ids, and secret keys where they are named.
    (re.compile(r"\b((?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{4})[A-Z0-9]{12}\b"), r"\1" + MASK),
    (
        re.compile(r"(?i)(aws_?secret_?(?:access_?)?key[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{20,}"),
        r"\1" + MASK,
    ),
    # key=value / "key": "value" pairs whose key names a secret (not numbers: max_tokens=512).
    (
        re.compile(
            r"(?i)(\b[\w.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|"
            r"access[_-]?key|private[_-]?key|authorization|cookie|credential)[\w.-]*[\"']?"
            r"\s*[=:]\s*[\"']?)(?![\"'\s,;&)}\]]|\d+(?:\.\d+)?\b|\*\*\*\*)"
            r"(?:Bearer\s+|Basic\s+)?[^\s\"',;&)}\]]+"
        ),
        r"\1" + MASK,
    ),
]

_QUICK = re.compile(
    r"sk-|eyJ|://|bearer|basic|token|AKIA|ASIA|AIDA|AROA|gh[pousr]_|github_pat_|xox|"
    r"AIza|hf_|_live_|_test_|PRIVATE KEY|passw|pwd|secret|key|authoriz|cookie|credential",
    re.IGNORECASE,
)
"""A cheap first look: text without any of these cannot hold a masked pattern."""


def mask(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``****`` (prefixes kept)."""
    if not text or _QUICK.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def may_hold_secrets(text: str) -> bool:
    """Whether :func:`mask_fields` could change a JSON value whose serialised text is
    ``text`` (keys included): False means it is certain not to, so masking can be skipped
    (a fast path for output of many small objects, such as ``watch``)."""
    low = text.lower()
    return any(fragment in low for fragment in _FRAGMENTS)


_FRAGMENTS: Final = (
    # Every pattern of _QUICK and _SECRET_NAME needs one of these (lower case): a superset.
    *("sk-", "eyj", "://", "bearer", "basic", "token", "akia", "asia", "aida", "aroa"),
    *("gh", "github_pat_", "xox", "aiza", "hf_", "_live_", "_test_", "private key"),
    *("passw", "pwd", "secret", "key", "auth", "cookie", "credential", "session"),
)


def is_secret_name(name: str) -> bool:
    """Whether a field (or environment variable) name says its value is a secret."""
    return _SECRET_NAME.search(name) is not None


def mask_fields(value: Any) -> Any:
    """A copy of a decoded JSON value with secrets masked (see the module docstring).

    Non-JSON values (anything but dict, list, tuple, str) are returned as they are.
    """
    return _mask_value(value, secret=False, depth=0)


_MAX_DEPTH: Final = 200
"""Deeper values are returned unmasked rather than recursing without end (they are shown
truncated anyway)."""


def _mask_value(value: Any, *, secret: bool, depth: int) -> Any:
    if isinstance(value, str):
        return MASK if secret and value else mask(value)
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            k: _mask_value(
                v, secret=secret or (isinstance(k, str) and is_secret_name(k)), depth=depth + 1
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask_value(v, secret=secret, depth=depth + 1) for v in value]
    return value


def mask_env(env: dict[str, str]) -> dict[str, str]:
    """Environment variables with secret values masked: by name, then by value pattern."""
    return {k: (MASK if is_secret_name(k) and v else mask(v)) for k, v in env.items()}
