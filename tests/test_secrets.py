"""The masking function against the table of secret shapes (tests/secret_shapes.py)."""

from __future__ import annotations

import json

import pytest

from agenttui.output import secrets
from tests.secret_shapes import ENV_CANARIES, ENV_SHAPES, PEM_BODY, SHAPES


@pytest.mark.parametrize(("name", "text", "canary"), SHAPES, ids=[s[0] for s in SHAPES])
def test_every_shape_is_masked_in_text(name: str, text: str, canary: str) -> None:
    masked = secrets.mask(text)
    assert canary not in masked
    assert secrets.MASK in masked
    assert secrets.mask(masked) == masked  # masking is stable


@pytest.mark.parametrize(("name", "text", "canary"), SHAPES, ids=[s[0] for s in SHAPES])
def test_every_shape_is_masked_inside_json_and_nested(name: str, text: str, canary: str) -> None:
    value: object = {"event": text}
    for _ in range(400):  # deeper than the old limit of 200 levels
        value = {"inner": [value]}
    assert canary not in json.dumps(secrets.mask_fields(value))
    assert canary not in secrets.mask(json.dumps({"event": text}))


def test_all_shapes_in_one_multiline_text() -> None:
    text = "\n".join(t for _n, t, _c in SHAPES)
    masked = secrets.mask(text)
    for _name, _text, canary in SHAPES:
        assert canary not in masked


def test_pem_masked_as_a_whole_even_in_a_diff() -> None:
    diff = (
        "-error: x\n+-----BEGIN EC PRIVATE KEY-----\n+"
        + PEM_BODY
        + "\n+-----END EC PRIVATE KEY-----"
    )
    assert PEM_BODY not in secrets.mask(diff)


def test_env_names_and_values() -> None:
    masked = secrets.mask_env(dict(ENV_SHAPES))
    for canary in ENV_CANARIES:
        assert canary not in json.dumps(masked)
    assert secrets.mask_env({"HOME": "/root", "MODEL": "gpt"}) == {"HOME": "/root", "MODEL": "gpt"}


def test_structured_values() -> None:
    data = {
        "argv": ["agent", "--password", "CANARYargv", "--db-pass", "CANARYargv2", "-v"],
        "locals": {"pw": "'CANARYpw'", "MY_PASS": "x1", "SENTRY_DSN": "y", "count": 3},
        "headers": {"Authorization": "Token CANARYhdr"},
        "url": "https://CANARYuser@sentry.io/1",
    }
    out = json.dumps(secrets.mask_fields(data))
    for canary in ("CANARYargv", "CANARYargv2", "CANARYpw", "CANARYhdr", "CANARYuser"):
        assert canary not in out
    assert '"-v"' in out and '"count": 3' in out


def test_deeper_than_any_limit() -> None:
    deep: list[object] = ["password=CANARYdeep"]
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[-1]  # type: ignore[assignment]
    node.append({"token": "CANARYdeep2"})
    out = secrets.mask_fields(deep)
    node = out[-1]
    while isinstance(node[0], list):
        node = node[0]
    assert node == [{"token": secrets.MASK}]
    assert out[0] == "password=" + secrets.MASK


@pytest.mark.parametrize(
    "text",
    [
        "compute 877 * 86 + 7",
        "max_tokens=512 total_tokens: 40",
        "https://example.com/a?b=c",
        "KeyError: 'OPENAI_API_KEY'",
        "the password is wrong",
        "RateLimitError: 429 Too Many Requests",
        "tool web_search took 1.2s",
        "pass the salt",
        "run --verbose --jobs 4",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert secrets.mask(text) == text
