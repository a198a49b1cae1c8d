"""Configuration: a YAML file validated as a whole into frozen rule params, or refused whole."""

from __future__ import annotations

from riskguard.config.execution import ExecutionMode, effective_execution_mode
from riskguard.config.loader import ConfigError, ConfigIssue, load_config, parse_config, parse_rules
from riskguard.config.schema import RiskConfig
from riskguard.config.source import ConfigSource

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "ConfigSource",
    "ExecutionMode",
    "RiskConfig",
    "effective_execution_mode",
    "load_config",
    "parse_config",
    "parse_rules",
]
