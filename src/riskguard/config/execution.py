"""Execution mode (seed 003): paper or live, with a paper lock applied where the mode is read.

The config may say `execution_mode: live`, but the mode in force is live only when whoever
starts riskguard also passes the explicit permission (`allow_live`, the daemon's `--allow-live`
flag): a config file alone, stale or copied, can never make riskguard trade live.
"""

from __future__ import annotations

from enum import StrEnum

from riskguard.config.schema import RiskConfig

__all__ = ["ExecutionMode", "effective_execution_mode"]


class ExecutionMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


def effective_execution_mode(config: RiskConfig, *, allow_live: bool) -> ExecutionMode:
    """The mode in force: live only if the config asks for it and live trading was allowed."""
    if config.execution_mode == ExecutionMode.LIVE and allow_live is True:
        return ExecutionMode.LIVE
    return ExecutionMode.PAPER
