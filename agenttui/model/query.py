"""The filter language, shared by the TUI (``/`` or ``:``) and ``agenttui traces --filter``.

A query is a list of terms; a trace must match all of them::

    status:error tool:web_search dur>5s dur<200ms level:warning "connection refused"
    since:15m id:abc class:timeout -tool:call_llm model:gpt-4o* tokens>10000 some words

* ``status:error|ok|running``
* ``tool:NAME``: a tool call of that tool (``*`` and ``?`` as wildcards)
* ``model:NAME``: the request used that model (an LLM call answered by it, or an event naming
  it; ``*`` and ``?`` as wildcards, else the name contains ``NAME``)
* ``tokens>10000``, ``tokens<=500``: the request's tokens (``k`` and ``m`` multiply); requests
  whose logs give no tokens have none
* ``dur>5s``, ``dur>=1.5s``, ``dur<200ms``, ``dur<=2m``: the request's duration (units ``ms``,
  ``s``, ``m``, ``h``; a bare number is milliseconds); running requests have none
* ``level:debug|info|warning|error``: an event at that level or worse (what the index keeps:
  warning and error)
* ``since:15m``: started in the last 15 minutes before the newest log line (``s``, ``m``,
  ``h``, ``d``)
* ``id:abc``: the request id contains ``abc``
* ``class:timeout``: the failure class (see ``agenttui/classify.py``)
* ``"quoted text"`` and bare words: text in the request id, query or error; consecutive bare
  words are one phrase, as in a plain search
* ``-`` before a term negates it

Everything is case-insensitive. :func:`parse` raises :class:`QueryError` with a one-line
message saying what is wrong and at which column.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from agenttui.model.classify import CLASSES
from agenttui.model.traces import Trace, TraceIndex

FIELDS: Final = ("status", "tool", "model", "dur", "tokens", "level", "since", "id", "class")
STATUSES: Final = ("error", "ok", "running")
LEVELS: Final = ("debug", "info", "warning", "error")
_LEVEL_ALIASES: Final = {
    "warn": "warning",
    "err": "error",
    "trace": "debug",
    "critical": "error",
    "fatal": "error",
}
_DURATION_UNITS: Final = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_SINCE_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([a-z]*)$")
_COMPARISON: Final = re.compile(r"(dur|duration|tokens)(>=|<=|>|<|=)(.*)$", re.IGNORECASE)
_COUNT_UNITS: Final = {"": 1.0, "k": 1000.0, "m": 1_000_000.0}

Predicate = Callable[[TraceIndex, Trace], bool]


class QueryError(ValueError):
    """A query that cannot be used; the message is one line naming the problem and column."""


@dataclass(slots=True)
class _Token:
    text: str
    column: int
    """1-based column of the token's first character."""
    quoted: bool
    text_only: bool
    """A quote opened before any colon: the token is text, never a field."""


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        buf: list[str] = []
        quoted = False
        text_only = False
        colon = False
        while i < n and not text[i].isspace():
            c = text[i]
            if c == ":":
                colon = True
            if c == '"':
                if not quoted and not colon:
                    text_only = True
                end = text.find('"', i + 1)
                if end < 0:
                    raise QueryError(f'unclosed quote at column {i + 1}: add a closing "')
                buf.append(text[i + 1 : end])
                quoted = True
                i = end + 1
            else:
                buf.append(c)
                i += 1
        out.append(_Token("".join(buf), start + 1, quoted, text_only))
    return out


def _number(
    value: str, units: dict[str, float], default: str | None, what: str, term: str, column: int
) -> float:
    m = _NUMBER.match(value.lower())
    names = ", ".join(unit for unit in units if unit)
    if m is None:
        example = {"duration": "5s or 200ms", "token count": "10000 or 12k"}.get(what, "15m or 2h")
        raise QueryError(
            f'{what} "{value}" in "{term}" at column {column} is not a number '
            f"with a unit, e.g. {example}"
        )
    unit = m.group(2) or default
    if unit is None:
        raise QueryError(f'{what} "{value}" in "{term}" at column {column} needs a unit ({names})')
    if unit not in units:
        raise QueryError(
            f'unknown unit "{m.group(2)}" in "{term}" at column {column} (use {names})'
        )
    return float(m.group(1)) * units[unit]


@dataclass(slots=True)
class Query:
    """A parsed query: call it with ``(index, trace)``."""

    text: str
    terms: list[tuple[bool, Predicate]] = field(default_factory=list)
    """(negated, predicate) pairs; all must hold."""
    since_s: float | None = None
    now: float | None = None
    """Reference time of ``since:`` (default: the newest timestamp of the index)."""
    _now_cache: tuple[int, int, float | None] = (-1, -1, None)

    @property
    def empty(self) -> bool:
        """Whether the query has no term (matches everything)."""
        return not self.terms

    def __call__(self, index: TraceIndex, trace: Trace) -> bool:
        """Whether ``trace`` matches every term."""
        return all(predicate(index, trace) != negated for negated, predicate in self.terms)

    def reference_time(self, index: TraceIndex) -> float | None:
        """Now for ``since:``: :attr:`now`, else the newest timestamp (cached per index state)."""
        if self.now is not None:
            return self.now
        key = (id(index), index.lines)
        if self._now_cache[:2] != key:
            from agenttui.model.triage import latest_time

            self._now_cache = (*key, latest_time(index))
        return self._now_cache[2]


def _text_predicate(needle: str) -> Predicate:
    needle = needle.lower()

    def match(index: TraceIndex, trace: Trace) -> bool:
        if needle in trace.request_id.lower():
            return True
        if trace.query is not None and needle in trace.query.lower():
            return True
        error = index.error_text(trace)
        if error is not None and needle in error.lower():
            return True
        if trace.tool_errors:
            return any(
                s.error is not None and needle in s.error.lower() for s in index.spans(trace)
            )
        return False

    return match


def _tool_predicate(pattern: str) -> Predicate:
    pattern = pattern.lower()
    wild = any(c in pattern for c in "*?[")

    def match(index: TraceIndex, trace: Trace) -> bool:
        names = index.tools.names
        for row in trace.span_rows():
            name = names[row[0]].lower()
            if fnmatch.fnmatchcase(name, pattern) if wild else name == pattern:
                return True
        return False

    return match


def _model_predicate(pattern: str) -> Predicate:
    pattern = pattern.lower()
    wild = any(c in pattern for c in "*?[")

    def match(index: TraceIndex, trace: Trace) -> bool:
        for name in index.trace_models(trace):
            name = name.lower()
            if fnmatch.fnmatchcase(name, pattern) if wild else pattern in name:
                return True
        return False

    return match


def _compare(op: str, value: float, limit: float) -> bool:
    if op == ">":
        return value > limit
    if op == ">=":
        return value >= limit
    if op == "<":
        return value < limit
    if op == "<=":
        return value <= limit
    return math.isclose(value, limit)


def _tokens_predicate(op: str, limit: float) -> Predicate:
    def match(_index: TraceIndex, trace: Trace) -> bool:
        tokens = trace.total_tokens
        return tokens is not None and _compare(op, tokens, limit)

    return match


def _class_predicate(key: str) -> Predicate:
    from agenttui.model.classify import classify
    from agenttui.model.drift import drifted_requests
    from agenttui.model.triage import failure_text

    cache: dict[str, str] = {}
    drift: dict[str, str] = {}
    """Failed requests on a new model version (see :mod:`agenttui.model.drift`)..."""
    drift_state: tuple[int, int] | None = None
    """...as of this index state."""

    def match(index: TraceIndex, trace: Trace) -> bool:
        nonlocal drift, drift_state
        if trace.status != "error" and not trace.tool_errors:
            return False
        error = failure_text(index, trace)
        if error is None:
            return False
        found = cache.get(error)
        if found is None:
            found = cache[error] = classify(error).cls.key
        if found == "unknown" and index.models.names:
            state = (id(index), index.lines)
            if drift_state != state:
                drift, drift_state = drifted_requests(index), state
            evidence = drift.get(trace.request_id)
            if evidence:
                return classify(error, new_model=evidence).cls.key == key
        return found == key

    return match


def _duration_predicate(op: str, limit_ms: float) -> Predicate:
    def match(_index: TraceIndex, trace: Trace) -> bool:
        total = trace.total_ms
        return total is not None and _compare(op, total, limit_ms)

    return match


def _level_predicate(level: str) -> Predicate:
    rank = LEVELS.index(level)

    def match(_index: TraceIndex, trace: Trace) -> bool:
        if rank <= 1:
            return True
        if trace.error_level or trace.status == "error":
            return True
        return rank == 2 and trace.warn_level

    return match


def parse(text: str, *, now: float | None = None) -> Query:
    """Parse a query.

    Args:
        text: The query as typed.
        now: Reference time of ``since:`` (default: the newest timestamp of the index the
            query is used on).

    Raises:
        QueryError: One line saying what is wrong and where.
    """
    query = Query(text.strip(), now=now)
    phrase: list[str] = []

    def flush() -> None:
        if phrase:
            query.terms.append((False, _text_predicate(" ".join(phrase))))
            phrase.clear()

    for token in _tokens(text):
        raw, column = token.text, token.column
        negated = False
        if raw == "-" and not token.quoted:
            raise QueryError(f'"-" at column {column} must be followed by a term, e.g. -status:ok')
        if text[column - 1] == "-" and len(raw) > 1:
            negated = True
            raw = raw[1:]
            column += 1
        term = _term(raw, column, token, query)
        if term is None:
            if negated:
                flush()
                query.terms.append((True, _text_predicate(raw)))
            else:
                phrase.append(raw)
            continue
        flush()
        query.terms.append((negated, term))
    flush()
    return query


def _term(raw: str, column: int, token: _Token, query: Query) -> Predicate | None:
    """The predicate of one field term, or None for text."""
    if token.text_only:
        if not raw.strip():
            raise QueryError(f"empty quotes at column {column}: put the text to find inside")
        return None
    comparison = _COMPARISON.match(raw)
    if comparison is not None:
        what, op, value = comparison.group(1).lower(), comparison.group(2), comparison.group(3)
        example = "tokens>10000" if what == "tokens" else "dur>5s"
        if op == "=" and not value:
            raise QueryError(f'"{raw}" at column {column} needs a value, e.g. {example}')
        if not value:
            raise QueryError(
                f'"{raw}" at column {column} needs a value after "{op}", '
                f"e.g. {example.replace('>', op)}"
            )
        if what == "tokens":
            count = _number(value, _COUNT_UNITS, "", "token count", raw, column)
            return _tokens_predicate(op, count)
        limit = _number(value, _DURATION_UNITS, "ms", "duration", raw, column)
        return _duration_predicate(op, limit)
    name, sep, value = raw.partition(":")
    if not sep:
        lowered = raw.lower()
        if lowered == "dur" and not token.quoted:
            raise QueryError(
                f'"{raw}" at column {column} needs a comparison: '
                'dur>5s or dur<200ms (quote it to search the text "dur")'
            )
        return None
    field_name = name.lower()
    if not name or " " in name or not name.replace("_", "").isalnum():
        return None  # "error: foo" typed as text, URLs...
    if field_name in ("dur", "duration"):
        raise QueryError(
            f'"{raw}" at column {column}: durations compare with > or <, e.g. dur>5s or dur<200ms'
        )
    if field_name == "tokens":
        raise QueryError(
            f'"{raw}" at column {column}: tokens compare with > or <, e.g. tokens>10000'
        )
    if field_name not in FIELDS:
        if not value or field_name in ("http", "https", "file") or not name[0].isalpha():
            return None  # pasted text ("RateLimitError: 429", "12:30:01"), URLs
        raise QueryError(
            f'unknown field "{name}" at column {column} '
            f"(fields: {', '.join(FIELDS)}; put text with a colon in quotes)"
        )
    value_col = column + len(name) + 1
    if not value:
        raise QueryError(f'"{name}:" at column {column} needs a value, e.g. {_example(field_name)}')
    lowered = value.lower()
    if field_name == "status":
        if lowered not in STATUSES:
            raise QueryError(
                f'status "{value}" at column {value_col} is not one of {", ".join(STATUSES)}'
            )
        return lambda _index, trace: trace.status == lowered
    if field_name == "tool":
        return _tool_predicate(value)
    if field_name == "model":
        return _model_predicate(value)
    if field_name == "level":
        level = _LEVEL_ALIASES.get(lowered, lowered)
        if level not in LEVELS:
            raise QueryError(
                f'level "{value}" at column {value_col} is not one of {", ".join(LEVELS)}'
            )
        return _level_predicate(level)
    if field_name == "since":
        seconds = _number(value, _SINCE_UNITS, None, "time", raw, value_col)
        query.since_s = seconds

        def since(index: TraceIndex, trace: Trace) -> bool:
            ref = query.reference_time(index)
            if ref is None or math.isnan(trace.start):
                return False
            return trace.start >= ref - seconds

        return since
    if field_name == "id":
        return lambda _index, trace: lowered in trace.request_id.lower()
    # class
    key = lowered.replace("-", "_")
    if key not in CLASSES:
        raise QueryError(
            f'class "{value}" at column {value_col} is not one of {", ".join(CLASSES)}'
        )
    return _class_predicate(key)


def _example(field_name: str) -> str:
    return {
        "status": "status:error",
        "tool": "tool:web_search",
        "model": "model:gpt-4o",
        "level": "level:warning",
        "since": "since:15m",
        "id": "id:abc",
        "class": "class:timeout",
    }[field_name]


def compile_filter(text: str) -> Predicate | None:
    """A predicate for ``text``, or None when it is empty (show everything).

    Raises:
        QueryError: The query is not valid.
    """
    query = parse(text)
    return None if query.empty else query


__all__ = [
    "FIELDS",
    "LEVELS",
    "STATUSES",
    "Predicate",
    "Query",
    "QueryError",
    "compile_filter",
    "parse",
]
