"""The demo agent's planner: a deterministic keyword planner instead of an LLM."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agenttui.demo.runtime import workdir
from agenttui.demo.tools import LLM_MODEL

DEFAULT_MODEL = "demo-planner-2024-06"
"""Planner model reported on ``request_start`` unless ``AGENT_MODEL`` says otherwise."""

DRIFT_MODEL = "demo-planner-2024-09"
"""Newer planner: adds an LLM self-check step to every plan (more 429s = model drift)."""

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
"""Data files shipped with the package (``read_file`` succeeds on these)."""


@dataclass(frozen=True)
class ToolCall:
    """One step of a plan.

    Attributes:
        tool: Name of the tool (a key of :data:`TOOLS`).
        params: JSON-serialisable parameters passed to the tool.
    """

    tool: str
    params: dict[str, Any]


_URL_RE = re.compile(r"https?://[^\s,;]+")
_PATH_RE = re.compile(
    r"\b(?:read|load|open|parse)\s+(?:the\s+file\s+)?([\w./-]+\.(?:csv|txt|json))"
)
_EXPR_RE = re.compile(r"(?:compute|calculate|what is)\s+([\d.]+(?:\s*[-+*/]\s*[\d.()]+)+)")
_COMPARE_RE = re.compile(r"compare\s+(\d+)")
_QUOTED_RE = re.compile(r"[\"']([^\"']+)[\"']")


def _slug(text: str) -> str:
    """Make a short file-name slug from free text."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40] or "report"


def _after(query_lower: str, marker: str) -> str:
    """Return the text following ``marker`` (stripped), or the whole query."""
    idx = query_lower.find(marker)
    return query_lower[idx + len(marker) :].strip(" .?!") if idx >= 0 else query_lower


def plan(query: str, model: str = DEFAULT_MODEL) -> list[ToolCall]:
    """Turn a query into tool calls with a deterministic keyword planner.

    Args:
        query: The user query.
        model: Planner model; :data:`DRIFT_MODEL` appends an LLM self-check step.

    Returns:
        The ordered list of tool calls (never empty).
    """
    q = query.lower()
    calls: list[ToolCall] = []
    if "search the web" in q or "look up" in q or "latest" in q:
        topic = _after(q, "for") if " for " in q else _after(q, "latest")
        calls.append(ToolCall("web_search", {"query": topic, "top_k": 3}))
    path_match = _PATH_RE.search(query)
    if path_match:
        calls.append(ToolCall("read_file", {"path": path_match.group(1)}))
    elif "bundled" in q or "price list" in q:
        calls.append(ToolCall("read_file", {"path": str(PACKAGE_DATA / "prices.csv")}))
    elif "release notes" in q:
        calls.append(ToolCall("read_file", {"path": str(PACKAGE_DATA / "release_notes.txt")}))
    for url in _URL_RE.findall(query):
        calls.append(ToolCall("fetch_url", {"url": url.rstrip(".)"), "method": "GET"}))
    if "grep" in q:
        quoted = _QUOTED_RE.search(query)
        pattern = quoted.group(1) if quoted else _after(q, "for").split()[0]
        calls.append(ToolCall("run_grep", {"pattern": pattern, "path": "."}))
    if any(word in q for word in ("inventory", "legacy", "erp")):
        endpoint = "/v1/inventory" if "inventory" in q else "/legacy/erp/orders"
        calls.append(ToolCall("slow_api", {"endpoint": endpoint, "method": "GET"}))
    reads_file = any(c.tool == "read_file" for c in calls)
    if reads_file and any(word in q for word in ("average", "mean", "total", "sum")):
        op = "sum" if ("total" in q or "sum" in q) else "average"
        calls.append(ToolCall("calculator", {"op": op, "column": "price"}))
    expr = _EXPR_RE.search(q)
    if expr:
        calls.append(ToolCall("calculator", {"expression": expr.group(1).strip()}))
    compare = _COMPARE_RE.search(q)
    if compare:
        for i in range(min(int(compare.group(1)), 8)):
            prompt = f"option {i + 1} of: {query}"
            calls.append(ToolCall("call_llm", {"model": LLM_MODEL, "prompt": prompt}))
    elif any(w in q for w in ("llm", "ask the model", "classify", "translate", "sentiment")):
        calls.append(ToolCall("call_llm", {"model": LLM_MODEL, "prompt": query}))
    if "summar" in q or "tl;dr" in q:
        calls.append(ToolCall("summarize", {"max_words": 25}))
    if "report" in q:
        title = _after(q, "report on") if "report on" in q else _after(q, "report")
        directory = workdir() / ("drafts" if "draft" in q else "reports")
        path = directory / f"{_slug(title)}.md"
        calls.append(ToolCall("write_report", {"title": title, "path": str(path)}))
    if not calls:
        calls.append(ToolCall("summarize", {"text": query, "max_words": 12}))
    if model == DRIFT_MODEL:
        calls.append(ToolCall("call_llm", {"model": LLM_MODEL, "prompt": "self-check answer"}))
    return calls
