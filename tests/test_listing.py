"""The headless trace list (agenttui.model.listing): order, placing, filter, cursor, next match;
and the ``traces`` command printing what the TUI's list shows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from agenttui.commands import traces
from agenttui.model.listing import Listing, filter_keys, is_failure, ordered
from agenttui.model.query import compile_filter
from agenttui.session import Session
from tests.test_ui_fixtures import fixture_lines, write_logs

EXTRA = [
    # A trace without any time: it sorts as the oldest (bottom of the list).
    orjson.dumps({"event": "request_start", "request_id": "no-time", "query": "timeless"}),
]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    path = write_logs(tmp_path / "logs")
    with path.open("ab") as f:
        f.write(b"\n".join(EXTRA) + b"\n")
    s = Session([str(path)])
    s.scan()
    yield s
    s.close()


def newest_first(s: Session) -> list[str]:
    """The fixture's request ids, newest first: by start time, the time-less one last."""
    with s.read() as index:
        timed = sorted(
            (t for t in index.traces.values() if t.start_or_none is not None),
            key=lambda t: t.start,
        )
    return [t.request_id for t in reversed(timed)] + ["no-time"]


def test_order_is_newest_first_and_timeless_traces_are_oldest(session: Session) -> None:
    listing = Listing(session.read)
    assert listing.sync(resort=True)
    assert listing.visible_request_ids() == newest_first(session)
    assert listing.row_count == listing.total_count == 13
    assert listing.cursor == 0 and listing.following
    assert listing.selected == newest_first(session)[0]
    assert not listing.sync()  # nothing new


def test_new_traces_are_placed_and_the_cursor_stays_on_its_trace(tmp_path: Path) -> None:
    lines = fixture_lines(12)
    path = tmp_path / "agent.log"
    path.write_bytes(b"\n".join(lines[:40]) + b"\n")
    s = Session([str(path)])
    try:
        s.scan()
        listing = Listing(s.read)
        listing.sync(resort=True)
        before = listing.total_count
        assert listing.move_to(2)
        held = listing.selected
        assert not listing.following
        with path.open("ab") as f:
            f.write(b"\n".join(lines[40:]) + b"\n")
        s.poll()
        assert listing.sync()
        assert listing.total_count > before
        assert listing.selected == held  # rows arrived above: the cursor kept its trace
        assert listing.cursor > 2
        # Back on the newest row the list follows again.
        listing.move_to(0)
        assert listing.following
    finally:
        s.close()


def test_following_keeps_the_cursor_on_the_newest(tmp_path: Path) -> None:
    lines = fixture_lines(12)
    path = tmp_path / "agent.log"
    path.write_bytes(b"\n".join(lines[:40]) + b"\n")
    s = Session([str(path)])
    try:
        s.scan()
        listing = Listing(s.read)
        listing.sync(resort=True)
        listing.move_to(3)
        listing.move_to(0)  # End/G/Home back to the newest row resumes following
        with path.open("ab") as f:
            f.write(b"\n".join(lines[40:]) + b"\n")
        s.poll()
        listing.sync()
        assert listing.cursor == 0
        assert listing.selected == listing.visible_request_ids()[0]
        assert listing.selected == "req-0011-5109"
    finally:
        s.close()


def test_text_filter_and_query_filter(session: Session) -> None:
    listing = Listing(session.read)
    listing.sync(resort=True)
    listing.set_filter("UPSTREAM")  # case-insensitive, matches the error text
    assert listing.needle == "upstream"
    errors = [rid for rid in newest_first(session) if session.index.traces[rid].status == "error"]
    assert listing.visible_request_ids() == errors
    query = compile_filter("status:error")
    assert query is not None
    listing.set_filter("status:error", predicate=query)
    assert listing.visible_request_ids() == errors
    listing.set_filter("")
    assert listing.visible_request_ids() == newest_first(session)


def test_filter_with_keys_from_a_worker_checks_the_rest(session: Session) -> None:
    listing = Listing(session.read)
    listing.sync(resort=True)
    half = listing.rows[: len(listing.rows) // 2]
    keys = filter_keys(session.read, half, "question")
    listing.set_filter("question", keys)
    expected = [
        rid
        for rid in newest_first(session)
        if "question" in (session.index.traces[rid].query or "")
    ]
    assert listing.visible_request_ids() == expected


def test_next_match_and_next_failure_are_one_walk(session: Session) -> None:
    listing = Listing(session.read)
    listing.sync(resort=True)
    ids = listing.visible_request_ids()
    failed_rows = [i for i, rid in enumerate(ids) if session.index.traces[rid].status == "error"]
    assert len(failed_rows) == 3
    # Without a filter n walks the failures, older first, wrapping.
    seen = []
    for _ in range(4):
        row = listing.next_match(1)
        assert row is not None
        listing.move_to(row)
        seen.append(row)
    assert seen == [*failed_rows, failed_rows[0]]
    row = listing.next_match(-1)
    assert row == failed_rows[-1]
    assert listing.next_row(1, is_failure) == failed_rows[1]
    # With a filter every shown row matches: one row on, wrapping.
    listing.set_filter("question")
    listing.move_to(listing.row_count - 1)
    assert listing.next_match(1) == 0
    listing.set_filter("no such text")
    assert listing.next_match(1) is None


def test_move_is_clamped(session: Session) -> None:
    listing = Listing(session.read)
    listing.sync(resort=True)
    listing.move_to(10_000)
    assert listing.cursor == listing.row_count - 1
    listing.move_to(-5)
    assert listing.cursor == 0
    assert listing.row_of("no-time") == listing.row_count - 1
    assert listing.row_of("missing") is None


@pytest.mark.parametrize("query", ["", "status:error", "tool:web_search", "upstream -req-0002"])
def test_traces_command_prints_what_the_list_shows(session: Session, query: str) -> None:
    """The CLI's ``traces --filter`` and the TUI's list agree (the CLI is oldest first)."""
    listing = Listing(session.read)
    listing.sync(resort=True)
    predicate = compile_filter(query)
    if predicate is not None:
        listing.set_filter(query, predicate=predicate)
    out = io.BytesIO()
    path = session.specs[0].text
    assert traces.print_traces([path], out, query=query or None) == 0
    printed = [orjson.loads(line)["request_id"] for line in out.getvalue().splitlines()]
    assert printed == list(reversed(listing.visible_request_ids()))
    assert printed == [t.request_id for t in ordered(session.read, predicate)]
    assert printed  # every query above matches something
