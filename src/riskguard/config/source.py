"""A config file that can be reloaded: the new file is validated whole before it replaces the old."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from riskguard.config.loader import ConfigError, load_config
from riskguard.config.schema import RiskConfig

__all__ = ["ConfigSource"]


class ConfigSource:
    """Holds the config in force. `reload()` keeps it when the file on disk is refused."""

    def __init__(self, path: str | Path, env: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self._env = env
        self.current: RiskConfig = load_config(self.path, env)  # a bad file at start-up is refused outright

    def reload(self) -> ConfigError | None:
        """Load the file again. On success the new config is in force and None is returned; on
        failure the old config stays in force and the error (every problem, with lines) is returned."""
        try:
            fresh = load_config(self.path, self._env)
        except ConfigError as exc:
            return exc
        self.current = fresh
        return None
