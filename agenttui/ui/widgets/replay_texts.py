"""Pieces of the replay screen as rich ``Text``: verdict styles and meanings, a trace's tool
calls, what a replay applied, prod vs here, the error/traceback diff. Every string in them comes
from captures and agents: it is masked and cleaned (:mod:`agenttui.ui.format`), never markup."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from agenttui.model.traces import Span
from agenttui.replay import runner as replay
from agenttui.ui.format import duration, model_name, one_line, safe

SHOWN = 2000
"""Characters of a capture or replay text masked and cleaned for a one-line cell (cut
first: masking a megabyte on the event loop would freeze the screen)."""

VERDICT_STYLE: dict[str, str] = {
    replay.FIXED: "bold green",
    replay.NOT_REPRODUCED: "bold cyan",
    replay.FLAKY: "bold yellow",
    replay.REPRODUCED: "bold red",
    replay.DIFFERENT: "bold yellow",
    replay.TIMEOUT: "bold magenta",
    replay.CRASHED: "bold red",
    replay.CANCELLED: "dim",
}
VERDICT_MARK: dict[str, str] = {
    replay.FIXED: "✓",
    replay.NOT_REPRODUCED: "○",
    replay.FLAKY: "~",
    replay.REPRODUCED: "✗",
    replay.DIFFERENT: "≠",
    replay.TIMEOUT: "⏱",
    replay.CRASHED: "☠",
    replay.CANCELLED: "·",
}
VERDICT_MEANING: dict[str, str] = {
    replay.FIXED: "the same input succeeds here now, the failing step included",
    replay.NOT_REPRODUCED: "it succeeds here, but that proves nothing yet",
    replay.FLAKY: "the same input does not always end the same way",
    replay.REPRODUCED: "it fails here too, with the same error signature",
    replay.DIFFERENT: "it fails here, but with another error",
    replay.TIMEOUT: "no answer in time; its processes were killed",
    replay.CRASHED: "the agent died or could not be reached",
    replay.CANCELLED: "stopped",
}


def spans_text(
    title: str, spans: list[Span], total_ms: float | None, error: str | None, status: str
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(title, style="bold")
    text.append(
        f"  {safe(status)}",
        style="red" if status == "error" else "green" if status == "ok" else "dim",
    )
    text.append(f"  took {duration(total_ms)}\n", style="dim")
    if not spans:
        text.append("(no tool calls logged)\n", style="dim")
    for sp in spans:
        mark = {"ok": "✓", "error": "✗"}.get(sp.status, "●")
        style = "red" if sp.status == "error" else ""
        text.append(f"{mark} ", style=style)
        name = f"✦ {model_name(sp.tool, 14)}" if sp.kind == "llm" else one_line(sp.tool, 16)
        text.append(f"{name:<16} ", style=style)
        text.append(f"{duration(sp.duration_ms):>7}", style="dim")
        if sp.error:
            text.append(f"  {one_line(sp.error[:SHOWN], 200)}", style="red")
        text.append("\n")
    if error:
        text.append("error: ", style="bold red")
        text.append(one_line(error[:SHOWN], 300), style="red")
    return text


def applied_text(settings: dict[str, Any]) -> Text:
    """What the replay applied: capture variables, overrides, cwd, warnings (values masked
    when recorded; masked again here, for records read back from the history)."""
    text = Text(end="")
    capture_env = settings.get("capture_env") or {}
    env = settings.get("env") or {}
    text.append("\napplied from the capture: ", style="dim")
    if isinstance(capture_env, dict) and capture_env:
        text.append(one_line(", ".join(f"{k}={v}" for k, v in capture_env.items()), 300))
    else:
        text.append("nothing", style="dim")
    if isinstance(env, dict) and env:
        text.append("\noverrides: ", style="dim")
        text.append(one_line(", ".join(f"{k}={v}" for k, v in env.items()), 300))
    text.append("\ncwd: ", style="dim")
    text.append(one_line(str(settings.get("cwd") or "?"), 200))
    if settings.get("capture_cwd"):
        text.append(" (the capture's)", style="dim")
    for warning in settings.get("warnings") or []:
        text.append("\n⚠ " + one_line(str(warning), 300), style="yellow")
    return text


def context_text(rows: list[dict[str, Any]]) -> Text:
    """Prod vs here, one difference a line (values masked when recorded)."""
    text = Text(end="")
    text.append("prod vs here", style="bold")
    if not rows:
        text.append("  (no difference in what the capture recorded)", style="dim")
    for row in rows:
        text.append("\n" + one_line(str(row.get("what")), 28).ljust(28), style="dim")
        prod, here = row.get("prod"), row.get("here")
        text.append(" prod ")
        text.append(one_line("(unset)" if prod is None else str(prod)[:SHOWN], 40))
        text.append("  here ", style="dim")
        text.append(one_line("(unset)" if here is None else str(here)[:SHOWN], 40))
    return text


def diff_text(diff: str) -> Text:
    text = Text(end="")
    if not diff:
        text.append("(no difference in error and traceback)", style="dim")
        return text
    for line in diff.splitlines():
        style = (
            "bold"
            if line.startswith(("---", "+++"))
            else "cyan"
            if line.startswith("@@")
            else "red"
            if line.startswith("-")
            else "green"
            if line.startswith("+")
            else ""
        )
        text.append(safe(line) + "\n", style=style)
    return text


__all__ = [
    "SHOWN",
    "VERDICT_MARK",
    "VERDICT_MEANING",
    "VERDICT_STYLE",
    "applied_text",
    "context_text",
    "diff_text",
    "spans_text",
]
