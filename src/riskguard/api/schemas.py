"""The shapes the read-only API answers with, as pydantic models: they are the OpenAPI schema.

Money, quantities, percentages and every other decimal figure are strings (``"20000.25"``),
never JSON numbers, so no client parses them into binary floats by accident. Times are ISO 8601
in UTC. Seed 003's field names are kept as they are (``kill_switch_active``, ``daily_date`` …).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ACTIONS_LIMIT_MAX",
    "AccountSummary",
    "ActionRow",
    "AlertRow",
    "CheckAnswer",
    "CircuitBreaker",
    "DaemonStatus",
    "DailyLossLimit",
    "EnforcementLatency",
    "EquityPoint",
    "HaltRow",
    "HeadroomRow",
    "Health",
    "Limits",
    "LockoutRow",
    "OpsAnswer",
    "PositionRow",
    "RiskPayload",
    "RuleRow",
    "StrategyRow",
]

#: The most rows `GET /api/actions` returns at once.
ACTIONS_LIMIT_MAX = 1000

DecimalText = Annotated[str, Field(description="a decimal number, written as a string", examples=["20000.25"])]
Timestamp = Annotated[str, Field(description="ISO 8601, UTC", examples=["2026-06-10T14:00:00+00:00"])]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountSummary(_Model):
    """One account as the venue last reported it, with its share of the risk controls."""

    currency: str
    balance: DecimalText | None = Field(description="cash balance; null until the venue reports the account")
    equity: DecimalText | None = Field(description="balance plus open PnL at the venue's prices")
    margin_used: DecimalText | None
    withdrawable: DecimalText | None = Field(description="null: no venue reports it yet")
    can_trade: bool | None
    network: str | None = Field(description='"paper" for the paper venue; mainnet / testnet for a real one')
    reported_at: Timestamp | None
    kill_switch_active: bool
    kill_switch_triggered_at: Timestamp | None
    high_water_mark: DecimalText | None
    drawdown_pct: DecimalText | None = Field(description="1 - equity / HWM, in %, to 0.01")
    daily_loss_halt: bool
    daily_start_equity: DecimalText | None
    daily_realized_pnl: DecimalText | None
    current_per_trade_risk: DecimalText | None = Field(description="% of equity, to 0.01; null: cannot be measured")
    open_positions: int


class DailyLossLimit(_Model):
    limit: DecimalText | None = Field(description="the day's realized loss that halts, negative, account currency")
    limit_pct: DecimalText | None = Field(description="or as % of the day's start value")
    start_basis: str
    reset_time: str
    timezone: str


class Limits(_Model):
    """The configured caps (not their use), null where the rule is not configured."""

    max_drawdown: DecimalText | None = Field(description="drawdown_kill_switch: % below the high-water mark")
    daily_loss: DailyLossLimit | None = Field(description="daily_realized_loss")
    per_trade: DecimalText | None = Field(description="per_trade_risk: % of equity one order may lose at its stop")
    portfolio_budget: DecimalText | None = Field(description="per_trade_risk: money at risk to every stop")
    min_risk_reward_ratio: DecimalText | None
    max_concurrent_positions: int | None


class PositionRow(_Model):
    account: str
    strategy: str
    symbol: str
    net_qty: DecimalText
    avg_entry_price: DecimalText
    unrealized_pnl: DecimalText | None = Field(description="at the latest mark; null without one")
    currency: str
    paper: bool


class CircuitBreaker(_Model):
    name: str
    state: Literal["CLOSED", "OPEN", "HALF_OPEN"]
    failures: int
    threshold: int
    timeout_seconds: float
    seconds_until_half_open: float
    trips: int


class LockoutRow(_Model):
    rule: str
    scope: str = Field(description='as people read it: "account PAPER-USD", "portfolio"')
    account: str | None
    strategy: str | None
    symbol: str | None
    code: str
    reason: str
    since: Timestamp
    until: Timestamp | None = Field(description="null: only an operator's reset ends it")


class HeadroomRow(_Model):
    rule: str
    label: str
    scope: str
    account: str | None
    strategy: str | None
    symbol: str | None
    value: DecimalText
    limit: DecimalText
    unit: str
    used_pct: DecimalText


class HaltRow(_Model):
    scope: str
    reason: str
    since: Timestamp
    by: str


class EnforcementLatency(_Model):
    """Event received -> first venue command sent, over this run's enforcements."""

    p50: float | None
    p99: float | None
    samples: int


class DaemonStatus(_Model):
    venue: str
    connected: bool
    ready: bool = Field(description="the start-up reconciliation has finished")
    fatal: str | None
    journal_seq: int


class RiskPayload(_Model):
    """`GET /api/risk`: the whole risk state in one read (seed 003's field names)."""

    generated_at: Timestamp
    as_of: Timestamp = Field(description="the engine's time: the latest event it has seen")
    execution_mode: Literal["paper", "live"]
    paused: bool
    pause_reason: str | None
    kill_switch_active: bool = Field(description="true when any account's drawdown kill switch has tripped")
    kill_switch_triggered_at: Timestamp | None = Field(description="the earliest trip among the active switches")
    daily_loss_halt: bool = Field(description="true when any account's daily loss halt is on")
    daily_start_equity: dict[str, DecimalText | None] | None = Field(
        description="per account: the value the day's loss is measured from; null without daily_realized_loss"
    )
    daily_date: str | None = Field(description="the trading day of daily_realized_loss (its reset time and zone)")
    account: dict[str, AccountSummary] = Field(description="per account id")
    realized_pnl: dict[str, DecimalText] = Field(description="per currency, net of fees, since the journal began")
    limits: Limits
    current_per_trade_risk: DecimalText | None = Field(
        description="% of equity at risk in the most exposed open position over every account; null if unknown"
    )
    open_positions: int = Field(description="live positions (net per account and symbol)")
    open_positions_paper: int = Field(description="paper positions: every position while paper or on the paper venue")
    positions: list[PositionRow]
    circuit_breakers: list[CircuitBreaker]
    recovery_active: bool
    recovery_status: str
    recovery_position_count: int
    recovery_discrepancy_count: int
    recovery_batch_id: str | None
    recovery_at: Timestamp | None
    recovery_network: str | None
    lockouts: list[LockoutRow]
    headroom: list[HeadroomRow]
    halts: list[HaltRow]
    enforcement_latency_ms: EnforcementLatency
    daemon: DaemonStatus


class StrategyRow(_Model):
    """Seed 000's strategy row (the trader service's `GET /api/strategies`)."""

    strategy_id: str
    symbol: str
    enabled: bool
    risk_per_trade: DecimalText
    stop_loss_dollars: DecimalText
    max_strategy_loss: DecimalText
    is_killed: bool
    total_pnl: DecimalText
    model_reward: DecimalText | None


class ActionRow(_Model):
    """One enforcement action from the journal, with where its execution stands."""

    id: str
    seq: int
    name: str
    rule: str
    status: str
    attempts: int
    last_error: str | None
    updated_at: Timestamp
    body: dict[str, Any]


class AlertRow(_Model):
    id: str
    rule: str
    level: Literal["info", "warning", "critical"]
    account: str | None
    reason: str
    details: dict[str, str]


class Health(_Model):
    status: Literal["ok", "degraded"]
    reason: str | None = Field(description="why new risk is refused; null when ok or not signed in")
    daemon: DaemonStatus | None = Field(description="null when not signed in")


class EquityPoint(_Model):
    t: Timestamp
    equity: DecimalText
    hwm: DecimalText | None = Field(description="the drawdown kill switch's high-water mark; null without that rule")


class RuleRow(_Model):
    name: str
    params: dict[str, Any]


class CheckAnswer(_Model):
    """The pre-trade gate's decision on one order."""

    order_id: str
    approved: bool
    reason_code: str = Field(description='"approved", or the refusing rule\'s stable code')
    rule: str | None
    message: str
    forwarded: bool = Field(description="the order was sent on to the venue (the gateway)")
    venue_order_id: str | None


class OpsAnswer(_Model):
    """What an operator action did: the actions it called for (closes, cancels) by name and id."""

    ok: bool
    actor: str
    actions: list[dict[str, str]]
