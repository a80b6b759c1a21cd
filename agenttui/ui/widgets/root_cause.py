"""The failure class of a trace and its fix, shown under the trace summary."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import Static

from agenttui.model.classify import Classification
from agenttui.model.drift import drifted_requests
from agenttui.model.triage import classify_trace, cold_starts
from agenttui.output.incident import failing_event, traceback_plain
from agenttui.session import Session


def root_cause_text(found: Classification) -> Text:
    """``cause: <class> (<evidence>)`` then ``fix: <text>``."""
    text = Text(end="")
    text.append("cause: ", style="bold")
    text.append(found.cls.title, style="bold yellow")
    text.append(f"  ({found.evidence})", style="dim")
    text.append("\nfix: ", style="bold green")
    text.append(found.cls.fix)
    return text


class RootCause(Static):
    """Classifies the trace's failure in a thread (reads its traceback) and shows the fix."""

    class Found(Message):
        """The classification of the trace (None: it did not fail)."""

        def __init__(self, found: Classification | None, seen: int) -> None:
            """Remember the result and the event count it was made at."""
            super().__init__()
            self.found = found
            self.seen = seen

    def __init__(self, session: Session, request_id: str, *, id: str | None = None) -> None:
        """Explain the failure of ``request_id``."""
        super().__init__(id=id)
        self.session = session
        self.request_id = request_id
        self.found: Classification | None = None
        self._asked = -1

    def update_for(self, seen: int) -> None:
        """The trace has ``seen`` events now: classify again if it changed."""
        if seen != self._asked:
            self._asked = seen
            self.classify(seen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="root-cause")
    def classify(self, seen: int) -> None:
        """Read the failing event's traceback and classify (in a thread)."""
        session = self.session
        with session.read():
            trace = session.index.traces.get(self.request_id)
            if trace is None or (trace.status != "error" and not trace.tool_errors):
                self.post_message(self.Found(None, seen))
                return
        failing = failing_event(session.events(trace))
        tb = traceback_plain(failing.exception) if failing is not None else None
        with session.read():
            found = classify_trace(session.index, trace, tb)
            if found is not None and found.cls.key in ("timeout", "unknown"):
                cold = cold_starts(session.index)
                drift = drifted_requests(session.index) if found.cls.key == "unknown" else {}
                if self.request_id in cold or self.request_id in drift:
                    found = classify_trace(session.index, trace, tb, cold=set(cold), drift=drift)
        self.post_message(self.Found(found, seen))

    @on(Found)
    def _found(self, message: Found) -> None:
        self.found = message.found
        if message.found is None:
            self.remove_class("-visible")
            return
        self.update(root_cause_text(message.found))
        self.add_class("-visible")
