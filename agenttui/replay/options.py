"""What the command line said about replays, kept for the TUI (checked lazily: the TUI starts
anyway and says what is wrong when a replay is asked for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agenttui.replay import history
from agenttui.replay import runner as replay
from agenttui.replay.captures import Capture


@dataclass(slots=True)
class ReplayOptions:
    """What the command line said about replays (checked lazily: the TUI starts anyway)."""

    config: str | None = None
    target_command: str | None = None
    target_http: str | None = None
    target_callable: str | None = None
    env: list[str] = field(default_factory=list)
    timeout: float | None = None
    profile: str | None = None
    state_dir: str | None = None
    captures_dirs: list[str] = field(default_factory=list)
    default_target: replay.Target | None = None
    """Used when nothing else names a target (``--demo``: the demo agent)."""

    def settings(self, capture: Capture | None = None) -> replay.Settings:
        """The replay settings; without a configured target, captures of the demo agent are
        replayed against it.

        Raises:
            replay.TargetError: A setting cannot be used (one line naming it).
            config.ConfigError: The config file cannot be read.
        """
        default = self.default_target
        if default is None and capture is not None and replay.is_demo_capture(capture):
            default = replay.demo_target()
        return replay.load_settings(
            self.config,
            target_command=self.target_command,
            target_http=self.target_http,
            target_callable=self.target_callable,
            env_pairs=self.env,
            timeout=self.timeout,
            profile=self.profile,
            default_target=default,
        )

    def history_dir(self) -> Path:
        """Where replay history goes."""
        return history.state_dir(self.state_dir)
