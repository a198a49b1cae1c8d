"""The daemon's HTTP API: the read-only risk state, strategies, lockouts, logs, health and metrics."""

from __future__ import annotations

from riskguard.api.app import create_app
from riskguard.api.metrics import DaemonCollector, metrics_registry
from riskguard.api.risk_payload import (
    account_ids,
    daemon_status,
    is_paper_venue,
    lockout_rows,
    open_pairs,
    risk_payload,
    rule_named,
    venue_network,
)
from riskguard.api.schemas import (
    ACTIONS_LIMIT_MAX,
    AccountSummary,
    ActionRow,
    AlertRow,
    CircuitBreaker,
    DaemonStatus,
    DailyLossLimit,
    EnforcementLatency,
    HaltRow,
    HeadroomRow,
    Health,
    Limits,
    LockoutRow,
    PositionRow,
    RiskPayload,
    StrategyRow,
)
from riskguard.api.server import ApiServer, api_url

__all__ = [
    "ACTIONS_LIMIT_MAX",
    "AccountSummary",
    "ActionRow",
    "AlertRow",
    "ApiServer",
    "CircuitBreaker",
    "DaemonCollector",
    "DaemonStatus",
    "DailyLossLimit",
    "EnforcementLatency",
    "HaltRow",
    "HeadroomRow",
    "Health",
    "Limits",
    "LockoutRow",
    "PositionRow",
    "RiskPayload",
    "StrategyRow",
    "account_ids",
    "api_url",
    "create_app",
    "daemon_status",
    "is_paper_venue",
    "lockout_rows",
    "metrics_registry",
    "open_pairs",
    "risk_payload",
    "rule_named",
    "venue_network",
]
