"""Terminal safety and secrets in the TUI: hostile log text on every screen is shown, escaped,
never parsed as markup nor written raw; secret-looking values are masked unless
``--show-secrets``.

A markup string built from log text (an f-string handed to a widget) would swallow the
``[@click=app.quit]`` and ``[bold]`` below, so each screen must show them literally.
"""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from textual.pilot import Pilot

from agenttui.commands import traces as traces_cmd
from agenttui.output import secrets
from agenttui.session import Session
from agenttui.ui.app import AgentTUI
from agenttui.ui.screens.event_screen import EventScreen
from agenttui.ui.screens.main_screen import MainScreen
from agenttui.ui.screens.tools_screen import ToolsScreen
from agenttui.ui.screens.trace_screen import TraceScreen
from agenttui.ui.screens.unattributed_screen import UnattributedScreen
from agenttui.ui.widgets.tool_panel import ToolPanel
from tests.test_hostile import FORBIDDEN, HOSTILE_TEXT
from tests.test_ui_pilot import ready, screen_text, wait_for

CLICK = "[@click=app.quit]"
TOOL = "[bold]t[/] [@click=app.quit]x \x1b[31m"
API_KEY = "sk-proj-abcdefghijklmnopqrstuv"
PASSWORD = "hunter2-secret"
FILE_NAME = "agent\x1b]0;pwned\x07[@click=app.quit].log"
SIZE = (200, 45)


def write_hostile_logs(directory: Path) -> Path:
    """A log file with a hostile name: one failed trace made of hostile text, raw lines."""
    directory.mkdir()
    log = directory / FILE_NAME
    query = f"key {API_KEY} {CLICK} {HOSTILE_TEXT}"
    exc = [
        {
            "exc_type": "ValueError",
            "exc_value": f"bad {CLICK} \x1b[2J {API_KEY}",
            "frames": [
                {
                    "filename": f"/srv/{CLICK}.py",
                    "lineno": 3,
                    "name": "run",
                    "line": f"call({CLICK!r})",
                    "locals": {"password": repr(PASSWORD), "x": repr(CLICK)},
                }
            ],
        }
    ]
    rows = [
        {
            "timestamp": "2026-01-01T00:00:00Z",
            "event": "request_start",
            "request_id": "evil",
            "query": query,
            "password": PASSWORD,
        },
        {
            "timestamp": "2026-01-01T00:00:01Z",
            "event": "tool_call_start",
            "request_id": "evil",
            "tool": TOOL,
            "call_id": "c1",
        },
        {
            "timestamp": "2026-01-01T00:00:02Z",
            "event": "tool_call_failed",
            "request_id": "evil",
            "tool": TOOL,
            "call_id": "c1",
            "level": "error",
            "duration_ms": 5,
            "error": f"Boom {CLICK} \x1b]52;c;cm0gLXJm\x07 Bearer abcdefghijklmnop",
            "exception": exc,
        },
        {
            "timestamp": "2026-01-01T00:00:03Z",
            "event": "request_failed",
            "request_id": "evil",
            "error": f"Failed {CLICK}",
        },
        {"timestamp": "2026-01-01T00:00:04Z", "event": f"startup {CLICK}", "api_key": API_KEY},
    ]
    with log.open("wb") as f:
        for row in rows:
            f.write(orjson.dumps(row) + b"\n")
        f.write(f"raw line {HOSTILE_TEXT} {CLICK} password={PASSWORD}\n".encode())
    return log


def assert_safe_screen(app: AgentTUI, *, must_show: tuple[str, ...] = (CLICK,)) -> str:
    """The screen shows no raw control character and shows the hostile text literally."""
    text = screen_text(app)
    raw = {c for c in text if c in FORBIDDEN and c != "\n"}
    assert not raw, f"raw characters on screen: {sorted(map(hex, map(ord, raw)))}"
    for literal in must_show:
        assert literal in text, f"{literal!r} not shown literally on {type(app.screen).__name__}"
    assert app.is_running
    assert app.title == "agenttui"
    return text


async def _open_event(pilot: Pilot[None], app: AgentTUI, row: int) -> EventScreen:
    await pilot.press("v")
    table = app.screen.query_one("#events")
    await wait_for(pilot, lambda: table.row_count >= 4)  # type: ignore[attr-defined]
    table.move_cursor(row=row)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
    await pilot.pause()
    assert isinstance(app.screen, EventScreen)
    return app.screen


async def test_every_screen_shows_hostile_text_escaped_and_secrets_masked(tmp_path: Path) -> None:
    write_hostile_logs(tmp_path / "logs")
    app = AgentTUI(Session([str(tmp_path / "logs")]))
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        assert isinstance(app.screen, MainScreen)
        text = assert_safe_screen(app, must_show=("[bold]b[/]", CLICK, "Failed [@click"))
        assert API_KEY not in text
        # The raw-lines view (u): the raw line and the event without a request id.
        await pilot.press("u")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, UnattributedScreen) and len(app.screen.events) == 2,
        )
        await pilot.pause()
        text = assert_safe_screen(
            app, must_show=(CLICK, "\\x1b]52;c;", "agent\\x1b]0;pwned", "api_key=****")
        )
        assert PASSWORD not in text and API_KEY not in text
        await pilot.press("enter")  # the newest: the raw line
        await wait_for(pilot, lambda: isinstance(app.screen, EventScreen))
        text = assert_safe_screen(app, must_show=(CLICK, "\\x1b", "[bold]b[/]"))
        assert PASSWORD not in text
        await pilot.press("escape", "escape")
        # The trace: summary (query, error), waterfall (tool names), events table.
        tl.select_request("evil")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        await wait_for(pilot, lambda: len(app.screen.events) == 4)  # type: ignore[attr-defined]
        await pilot.pause()
        text = assert_safe_screen(app, must_show=(CLICK, "\\x1b", "[bold]t[/]", "\\u202e"))
        assert API_KEY not in text and "sk-proj-****" in text
        # The failed call's event: traceback with locals, and the whole JSON.
        await _open_event(pilot, app, row=2)
        text = assert_safe_screen(app, must_show=(CLICK, "\\x1b", "[bold]t[/]"))
        assert PASSWORD not in text and API_KEY not in text
        assert "Bearer ****" in text and "password=****" in text
        await pilot.press("escape")
        # The start event's JSON: the password field and the key inside the query.
        await _open_event(pilot, app, row=0)
        text = assert_safe_screen(app, must_show=(CLICK, "[bold]b[/]"))
        assert PASSWORD not in text and API_KEY not in text
        await pilot.press("escape", "escape")
        # Tool statistics: tool names are log text too.
        await pilot.press("t")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ToolsScreen)
                and app.screen.query_one(ToolPanel).row_count == 1
            ),
        )
        await pilot.pause()
        assert_safe_screen(app, must_show=("[bold]t[/]", CLICK, "\\x1b"))
        await pilot.press("escape")
        # Searching for hostile text is shown literally in the status line.
        await pilot.press("slash")
        await pilot.press(*"[@click")
        await pilot.pause(0.2)
        assert_safe_screen(app, must_show=("“[@click”",))
        # Notifications carry no raw log text.
        for note in app._notifications:
            assert not {c for c in note.message if c in FORBIDDEN}
        assert app.is_running


async def test_show_secrets_reveals_them(tmp_path: Path) -> None:
    write_hostile_logs(tmp_path / "logs")
    app = AgentTUI(Session([str(tmp_path / "logs")]), show_secrets=True)
    async with app.run_test(size=SIZE) as pilot:
        tl = await ready(pilot, app)
        tl.select_request("evil")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen))
        await pilot.pause()
        assert API_KEY in screen_text(app)
        await _open_event(pilot, app, row=0)
        assert PASSWORD in screen_text(app)
    # The next app masks again (the default).
    app = AgentTUI(Session([str(tmp_path / "logs")]))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        assert API_KEY not in screen_text(app)


@pytest.mark.parametrize("show", [False, True])
def test_headless_commands_mask_unless_asked(tmp_path: Path, show: bool) -> None:
    write_hostile_logs(tmp_path / "logs")
    out = io.BytesIO()
    assert traces_cmd.print_traces([str(tmp_path / "logs")], out, show_secrets=show) == 0
    data = out.getvalue()
    assert (API_KEY.encode() in data) == show
    assert (b"abcdefghijklmnop" in data) == show  # the bearer token in the tool error
    row = orjson.loads(data.splitlines()[0])
    assert row["request_id"] == "evil"
    if not show:
        assert "sk-proj-****" in row["query"] and "Bearer ****" in row["tools"][0]["error"]


def test_cli_flag(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    from agenttui.cli import main

    write_hostile_logs(tmp_path / "logs")
    assert main(["traces", str(tmp_path / "logs"), "--json"]) == 0
    masked = capsysbinary.readouterr()
    assert API_KEY.encode() not in masked.out
    # The warning about an unreadable file would name a hostile file: it is cleaned too.
    assert b"\x1b" not in masked.err
    assert main(["traces", str(tmp_path / "logs"), "--json", "--show-secrets"]) == 0
    assert API_KEY.encode() in capsysbinary.readouterr().out


SECRETS = [
    ("openai key sk-abcdefghijklmnop1234 used", "sk-abcdefghijklmnop1234", "sk-****"),
    ("sk-proj-AbCdEf0123456789xyz", "AbCdEf0123456789xyz", "sk-proj-****"),
    ("sk-ant-api03-abcdefghijklmnopqrst", "api03-abcdefghijklmnopqrst", "sk-ant-****"),
    ("Authorization: Bearer abc.def-ghijklmnop", "abc.def-ghijklmnop", "Authorization: ****"),
    ("headers: bearer abcdefghijklmnop", "abcdefghijklmnop", "bearer ****"),
    ("Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "Basic ****"),
    ("AKIAIOSFODNN7EXAMPLE in env", "IOSFODNN7EXAMPLE", "AKIAIOSF****"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
        "aws_secret_access_key = ****",
    ),
    ("postgres://admin:hunter2@db:5432/app", "hunter2", "postgres://admin:****@db"),
    ("https://user:p%40ss@example.com/x", "p%40ss", "https://user:****@example.com"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl", "c2lnbmF0dXJl", "eyJ****"),
    ("password=hunter2&user=bob", "hunter2", "password=****&user=bob"),
    ('{"password": "hunter2"}', "hunter2", '"password": "****"'),
    ("{'api_key': 'abc123xyz'}", "abc123xyz", "'api_key': '****'"),
    ("OPENAI_API_KEY=sk-xyz", "sk-xyz", "OPENAI_API_KEY=****"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz", "ghp_****"),
    ("xoxb-1234567890-abcdefghij", "1234567890-abcdefghij", "xoxb-****"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----",
        "MIIEabc",
        "-----BEGIN RSA PRIVATE KEY-----****",
    ),
]


@pytest.mark.parametrize(("text", "secret", "shown"), SECRETS)
def test_mask_patterns(text: str, secret: str, shown: str) -> None:
    masked = secrets.mask(text)
    assert secret not in masked
    assert shown in masked


@pytest.mark.parametrize(
    "text",
    [
        "compute 877 * 86 + 7",
        "max_tokens=512 total_tokens: 40",
        "https://example.com/a?b=c",
        "basic arithmetic",
        "KeyError: 'OPENAI_API_KEY'",
        "the key is missing",
        "RateLimitError: 429 Too Many Requests",
        "sk-short",
        "tool web_search took 1.2s",
    ],
)
def test_mask_leaves_ordinary_text(text: str) -> None:
    assert secrets.mask(text) == text


def test_mask_fields_and_env() -> None:
    data = {
        "api_key": "abc",
        "max_tokens": 512,
        "cache_key": "k",
        "Authorization": "Bearer x",
        "nested": [{"password": "p", "ok": "fine"}],
        "q": f"use {API_KEY}",
        "session": {"cookie": {"a": "b", "n": 1}},
        "refresh_token": None,
        "client_secret": "",
        "passwd": "x",
        "x_api_key": "y",
        "secret": ["a", "b"],
    }
    assert secrets.mask_fields(data) == {
        "api_key": "****",
        "max_tokens": 512,
        "cache_key": "****",
        "Authorization": "****",
        "nested": [{"password": "****", "ok": "fine"}],
        "q": "use sk-proj-****",
        "session": {"cookie": {"a": "****", "n": 1}},
        "refresh_token": None,
        "client_secret": "",
        "passwd": "****",
        "x_api_key": "****",
        "secret": ["****", "****"],
    }
    assert secrets.mask_env(
        {"OPENAI_API_KEY": "sk-x", "HOME": "/root", "DATABASE_URL": "postgres://u:pw@h/db"}
    ) == {"OPENAI_API_KEY": "****", "HOME": "/root", "DATABASE_URL": "postgres://u:****@h/db"}
    deep: list[object] = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]  # type: ignore[assignment]
    secrets.mask_fields(deep)  # no RecursionError
