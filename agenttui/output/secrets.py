"""Mask values that look like secrets before they are shown, copied, stored or exported.

Agents log API keys, bearer tokens and passwords more often than anyone would like, and
agenttui is run on production boxes, on shared screens, with output pasted into tickets.
Every output path (the TUI, ``traces``/``watch``/``report`` in Markdown and JSON, incident
notes, clipboard copies, replay history and settings, exported tests) goes through this module;
``--show-secrets`` is the only way to see the values.

* :func:`mask` masks secret-looking values inside any text, as a whole (a multi-line PEM block
  is one secret): ``sk-...`` API keys, GitHub, Slack, Google, Stripe and Hugging Face keys,
  ``Authorization`` header values of any scheme (``Bearer``, ``Basic``, ``Token``, ``Digest``),
  ``Bearer``/``Basic`` credentials, AWS access key ids and named secret keys, URL userinfo
  (``scheme://user:pass@host`` and DSNs such as ``https://KEY@sentry.io/1``), JWTs, PEM private
  keys, ``--password X``-style arguments, ``passwd X``, and ``name=value`` pairs whose name
  says secret (``password=123`` included; counts such as ``max_tokens=512`` are kept).
* :func:`mask_fields` masks a decoded JSON value at any depth: string values of fields named like
  secrets (:func:`is_secret_name`), the argument after a ``--password``-style item of a list,
  and :func:`mask` on every other string. Numbers are kept (``max_tokens: 512`` is not a secret).
* :func:`mask_env` masks an environment: by name, then by value.

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
    r"session[_-]?id|client[_-]?secret|x[_-]api[_-]key|"
    r"(?:^|[_-])pass$|(?:^|[_-])pw$|(?:^|[_-])dsn$|(?:^|[_-])passphrase$)",
    re.IGNORECASE,
)

_SECRET_WORD = (
    r"passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|authorization|cookie|credential|passphrase"
)
"""Words that make a ``name=value`` pair secret wherever they are in the name."""
_COUNT_WORD = re.compile(r"token|key", re.IGNORECASE)
"""Names with these words may hold counts (``max_tokens=512``): numbers are kept for them."""

_VALUE_END = r"(?:[^\s\"',;&)}\]\\]|\\(?![\"']))+"


def _pair(match: re.Match[str]) -> str:
    name, sep, value = match.group("name"), match.group("sep"), match.group("value")
    if value.startswith(MASK):
        return match.group(0)
    if (
        re.fullmatch(r"\d+(?:\.\d+)?", value)
        and _COUNT_WORD.search(name)
        and (not re.search(r"passw|pwd|secret|pass$|pw$", name, re.IGNORECASE))
    ):
        return match.group(0)
    return name + sep + MASK


def _authorization(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.startswith(MASK):
        return match.group(0)
    quote = value[0] if value[:1] in "\"'" else ""
    return match.group("head") + quote + MASK + (quote if value.endswith(quote) and quote else "")


# Each pattern keeps a recognisable prefix and masks the rest.
_PATTERNS: Final[list[tuple[re.Pattern[str], Any]]] = [
    # PEM private keys, the whole block (a block cut before its END line is masked to the end).
    (
        re.compile(
            r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)"
            r"(?:.*?(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)|.*\Z)",
            re.DOTALL,
        ),
        lambda m: m.group(1) + MASK + (m.group(2) or ""),
    ),
    # The tail of a PEM private key whose BEGIN line was cut off (a text shown from its end).
    (
        re.compile(
            r"\A(?:(?!-----BEGIN ).)*?(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)",
            re.DOTALL,
        ),
        MASK + r"\1",
    ),
    # A PEM body line seen alone (a log keeps the last line of an error): DER keys in base64
    # start with MII (RSA, PKCS#8), MHc (EC) or the OpenSSH magic.
    (re.compile(r"\b(?:MII|MHc|b3BlbnNzaC1rZXktdjE)[A-Za-z0-9+/]{40,}={0,2}"), MASK),
    # Authorization headers, any scheme (Bearer, Basic, Token, Digest ... response=...).
    (
        re.compile(
            r"(?i)(?P<head>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*)"
            r"(?P<value>\"[^\"\n]*\"?|'[^'\n]*'?|[^\r\n]+)"
        ),
        _authorization,
    ),
    # URL userinfo: scheme://user:password@host keeps the user; scheme://KEY@host (DSNs).
    (
        re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]*:)[^\s@/'\"]+(@)"),
        r"\1" + MASK + r"\2",
    ),
    (
        re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)(?!\*\*\*\*@)[^\s:/@'\"]+(@)"),
        r"\1" + MASK + r"\2",
    ),
    # Bare Bearer / Basic credentials.
    (re.compile(r"\b([Bb]earer)(\s+)(?!\*\*\*\*)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + MASK),
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
    (re.compile(r"\b((?:rk|pk|sk)_(?:live|test)_)[A-Za-z0-9]{10,}"), r"\1" + MASK),
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
    # Command-line arguments: --password X, --api-key=X, -p is too ambiguous to touch.
    (
        re.compile(
            rf"(?i)(?<![\w-])(--?[\w-]*(?:{_SECRET_WORD}|pass|pw|dsn)[\w-]*)(=|[ \t]+)"
            rf"(?![\"']?\*\*\*\*)(?!-)[\"']?{_VALUE_END}"
        ),
        lambda m: m.group(1) + m.group(2) + MASK,
    ),
    # "passwd X" (the way passwd(1) and config dumps write it).
    (re.compile(r"(?i)\b(passwd)([ \t]+)(?!\*\*\*\*)(?![=:])" + _VALUE_END), r"\1\2" + MASK),
    # name=value / "name": "value" pairs whose name says secret.
    (
        re.compile(
            rf"(?i)(?P<name>\b[\w.-]*(?:{_SECRET_WORD})[\w.-]*(?:\\?[\"'])?|"
            r"\b(?:[\w.-]*[_-])?(?:pass|pw|dsn)(?:\\?[\"'])?)"
            r"(?P<sep>\s*[=:]\s*(?:\\?[\"'])?)(?![\"'\s,;&)}\]\\])"
            rf"(?P<value>(?:Bearer\s+|Basic\s+)?{_VALUE_END})"
        ),
        _pair,
    ),
]

_QUICK_WORDS: Final = (
    "sk-", "sk_", "eyj", "://", "bearer", "basic", "token", "akia", "asia", "aida", "aroa",
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "aiza", "hf_", "_live_",
    "_test_", "private key", "mii", "mhc", "b3blbnnzac1", "pass", "pw", "dsn", "secret", "key",
    "authoriz", "cookie", "credential",
)  # fmt: skip
"""A cheap first look (plain substring searches run at memory speed; a regex alternation
would not): text without any of these cannot hold a masked pattern."""


def mask(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``****`` (prefixes kept)."""
    if not text:
        return text
    low = text.lower()
    if not any(word in low for word in _QUICK_WORDS):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def may_hold_secrets(text: str) -> bool:
    """Whether :func:`mask_fields` could change a JSON value whose serialised text is
    ``text`` (keys included): False means it is certain not to, so masking can be skipped
    (a fast path for output of many small objects, such as ``watch``)."""
    low = text.lower()
    for fragment in _FRAGMENTS:  # noqa: SIM110 (a third cheaper than any() over a generator)
        if fragment in low:
            return True
    return False


_FRAGMENTS: Final = (*_QUICK_WORDS, "auth", "session")
"""What :func:`mask` looks for, plus what secret field names need beyond it
(``auth_header``, ``session_id``): a superset of everything :func:`mask_fields` masks."""


def is_secret_name(name: str) -> bool:
    """Whether a field (or environment variable) name says its value is a secret."""
    return _SECRET_NAME.search(name) is not None


_ARG_NAME = re.compile(rf"(?i)^--?[\w-]*(?:{_SECRET_WORD}|pass|pw|dsn)[\w-]*$")
"""A list item such as ``--password`` whose next item is the secret."""


def mask_fields(value: Any) -> Any:
    """A copy of a decoded JSON value with secrets masked (see the module docstring), at any
    depth (no recursion: a value nested a million levels deep is masked too).

    Non-JSON values (anything but dict, list, tuple, str) are returned as they are.
    """
    if isinstance(value, str):
        return mask(value)
    if not isinstance(value, dict | list | tuple):
        return value
    root: list[Any] = [None]
    # (source value, target container, key in the target, secret?)
    stack: list[tuple[Any, Any, Any, bool]] = [(value, root, 0, False)]
    while stack:
        src, dst, key, secret = stack.pop()
        if isinstance(src, str):
            dst[key] = MASK if secret and src else mask(src)
        elif isinstance(src, dict):
            out: dict[Any, Any] = {}
            dst[key] = out
            for k, v in src.items():
                out[k] = None
                stack.append((v, out, k, secret or (isinstance(k, str) and is_secret_name(k))))
        elif isinstance(src, list | tuple):
            items: list[Any] = [None] * len(src)
            dst[key] = items
            after_flag = False
            for i, v in enumerate(src):
                stack.append((v, items, i, secret or after_flag))
                after_flag = isinstance(v, str) and _ARG_NAME.match(v) is not None
        else:
            dst[key] = src
    return root[0]


def mask_env(env: dict[str, str]) -> dict[str, str]:
    """Environment variables with secret values masked: by name, then by value pattern."""
    return {k: (MASK if is_secret_name(k) and v else mask(v)) for k, v in env.items()}


def is_masked(value: str) -> bool:
    """Whether a value is a mask (``***``, ``****``...) rather than a real value."""
    return bool(value) and set(value) == {"*"}


__all__ = [
    "MASK",
    "is_masked",
    "is_secret_name",
    "mask",
    "mask_env",
    "mask_fields",
    "may_hold_secrets",
]
