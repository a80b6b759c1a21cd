"""The keys, in a modal."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Every list and table",
        [
            ("↑ ↓  j k", "move the cursor"),
            ("g G  Home End", "top / bottom (the list: newest / oldest)"),
            ("n / N", "next / previous match (or failure)"),
            ("/", "filter the trace list (again: edit it)"),
            ("?  q", "this help / quit"),
        ],
    ),
    (
        "Trace list",
        [
            ("enter, double click", "open the trace"),
            ("g Home (newest row)", "follow new traces again"),
            ("!", "newest failure: error, cause and fix"),
            ("e", "next failed trace (wraps)"),
            ("E", "error groups (class, explanation, fix)"),
            ("s", "live stats: rates, per tool and per model"),
            ("/  :", "filter: words, status:error tool:X dur>5s"),
            ("", "level:warning since:15m id:abc"),
            ("", "class:timeout model:gpt-4o* tokens>10k"),
            ("", '"a phrase", -term to exclude; esc clears'),
            ("m / b / B", "bookmark / next bookmark / list them"),
            ("c / y", "copy request id / trace JSON (OSC 52)"),
            ("i", "write a Markdown incident note"),
            ("t", "tool stats (enter: filter to the tool)"),
            ("u", "lines without request id, non-JSON"),
            ("d", "doctor: env, binaries, hosts, memory"),
            ("C", "failure captures (◆ in the list)"),
            ("r", "replay the trace's capture locally"),
            ("ctrl+p", "command palette"),
        ],
    ),
    (
        "Trace screen",
        [
            ("w / v", "focus the waterfall / the events"),
            ("enter", "open the selected tool/LLM call or event"),
            ("n / N", "next / previous trace of the list"),
            ("c / y / i", "copy id / copy JSON / incident note"),
            ("r", "replay its capture: verdict, both traces, diff"),
            ("esc", "back to the list"),
        ],
    ),
    (
        "Event screen",
        [
            ("↑ ↓ PgUp PgDn", "scroll"),
            ("esc", "back"),
        ],
    ),
]


def help_text() -> Text:
    """The key table as text."""
    text = Text(end="")
    for i, (section, keys) in enumerate(KEYS):
        if i:
            text.append("\n")
        text.append(section + "\n", style="bold underline")
        for key, what in keys:
            text.append(f"  {key:<22}", style="bold")
            text.append(what + "\n")
    text.append("\nTimes are UTC. Status: ✗ error, ● running, ✓ ok.", style="dim")
    return text


class HelpScreen(ModalScreen[None]):
    """Lists the keys; any of Esc, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; border-title-align: center; background: $surface;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        """The key table in a bordered box."""
        with VerticalScroll() as box:
            box.border_title = "agenttui keys"
            box.border_subtitle = "esc to close"
            yield Static(help_text(), id="help-text")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
