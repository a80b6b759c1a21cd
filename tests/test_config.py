"""The config file: found, read, and bad files named in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agenttui import config


def test_no_file_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert config.load() == {}


def test_found_in_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "agenttui.toml").write_text('[replay]\ncommand = ["python", "-m", "x"]\n')
    monkeypatch.chdir(tmp_path)
    assert config.section(config.load(), "replay") == {"command": ["python", "-m", "x"]}
    assert config.section(config.load(), "doctor") == {}


def test_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[replay\n")
    with pytest.raises(config.ConfigError, match="not valid TOML") as info:
        config.load(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(config.ConfigError, match="config file not found"):
        config.load(tmp_path / "missing.toml")
    (tmp_path / "s.toml").write_text('replay = "x"\n')
    with pytest.raises(config.ConfigError, match=r"\[replay\] .* must be a table"):
        config.section(config.load(tmp_path / "s.toml"), "replay")


def test_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTTUI_TIMEOUT", "5")
    monkeypatch.setenv("AGENTTUI_EMPTY", "")
    assert config.env_override("timeout") == "5"
    assert config.env_override("empty") is None
