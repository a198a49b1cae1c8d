"""`GET /api/risk`: the whole risk state of a running daemon in one read, with seed 003's field names.

A pure function of the daemon's state and the times it is given: it reads no clock and changes
nothing. The limits are read from the rules the engine enforces (the enabled, configured ones).

Where seed 003 speaks of one wallet and the daemon guards several accounts, the top-level
fields summarise them and `account` holds each account's figures: `kill_switch_active` and
`daily_loss_halt` are true when any account's is; `kill_switch_triggered_at` is the earliest
trip among the active switches; `daily_start_equity` is per account (accounts may hold
different currencies, which are never added); `current_per_trade_risk` is the largest over the
accounts (a % of each account's own equity), and null while any account's cannot be measured.

Paper and live positions: a position counts as paper (`open_positions_paper`) while the mode in
force is paper or the venue is the paper venue; `open_positions` counts live ones only. In this
slice the daemon has no live permission, so every position is paper. A position is a net
(account, symbol) pair that is not flat, as the venue holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from riskguard.api._encode import decimal_text, iso, optional_decimal, percent_text
from riskguard.config.execution import ExecutionMode, effective_execution_mode
from riskguard.config.schema import RiskConfig
from riskguard.core.engine import RiskEngine
from riskguard.core.rules.base import AccountView, Rule
from riskguard.core.rules.daily_realized_loss import DailyLossState, DailyRealizedLoss, daily_loss_status
from riskguard.core.rules.drawdown_kill_switch import DrawdownKillSwitch, KillSwitchState
from riskguard.core.rules.per_trade_risk import PerTradeRisk, current_per_trade_risk
from riskguard.core.scope import Scope
from riskguard.daemon.service import Daemon
from riskguard.venues.base import VenueAdapter
from riskguard.venues.paper.remote import RemotePaperVenue
from riskguard.venues.paper.venue import PaperVenue

__all__ = [
    "account_ids",
    "daemon_status",
    "is_paper_venue",
    "lockout_rows",
    "open_pairs",
    "risk_payload",
    "rule_named",
    "venue_network",
]

_ZERO = Decimal(0)
_R = TypeVar("_R", bound=Rule[Any, Any])


def risk_payload(
    daemon: Daemon,
    config: RiskConfig,
    *,
    now: datetime,
    now_monotonic: float,
    allow_live: bool = False,
) -> dict[str, Any]:
    """The payload of `GET /api/risk` at wall-clock `now` (lockouts that ended by then are left
    out) and `now_monotonic` (the daemon's monotonic clock, for the breakers)."""
    engine = daemon.guard.engine
    view = engine.view()
    mode = effective_execution_mode(config, allow_live=allow_live)
    paper = mode is ExecutionMode.PAPER or is_paper_venue(daemon.venue)
    network = venue_network(daemon.venue)
    kill = rule_named(engine, DrawdownKillSwitch)
    daily = rule_named(engine, DailyRealizedLoss)
    per_trade = rule_named(engine, PerTradeRisk)
    fee = _ZERO if per_trade is None else per_trade.params.fee_per_contract
    kill_state: KillSwitchState | None = None if kill is None else engine.states[kill.name]
    daily_state: DailyLossState | None = None if daily is None else engine.states[daily.name]

    pairs = open_pairs(view)
    accounts: dict[str, dict[str, Any]] = {}
    risks: list[Decimal | None] = []
    for account in account_ids(daemon, config):
        risk = current_per_trade_risk(view, account, fee_per_contract=fee)
        risks.append(risk)
        accounts[account] = _account(view, account, network, kill_state, daily, daily_state, risk, pairs, config)

    triggered = [
        switch.kill_switch_triggered_at
        for switch in (() if kill_state is None else kill_state.accounts.values())
        if switch.kill_switch_active and switch.kill_switch_triggered_at is not None
    ]
    known_risks = [risk for risk in risks if risk is not None]
    largest_risk = None if len(known_risks) != len(risks) else max(known_risks, default=_ZERO)
    live_count = 0 if paper else len(pairs)
    latency = daemon.executor.latency
    return {
        "generated_at": iso(now),
        "as_of": iso(engine.now),
        "execution_mode": mode.value,
        "paused": engine.paused is not None,
        "pause_reason": None if engine.paused is None else engine.paused.reason,
        "kill_switch_active": any(summary["kill_switch_active"] for summary in accounts.values()),
        "kill_switch_triggered_at": iso(min(triggered, default=None)),
        "daily_loss_halt": any(summary["daily_loss_halt"] for summary in accounts.values()),
        "daily_start_equity": (
            None if daily is None else {account: summary["daily_start_equity"] for account, summary in accounts.items()}
        ),
        "daily_date": None if daily is None else daily.schedule.trading_day(view.now).isoformat(),
        "account": accounts,
        "realized_pnl": {currency: decimal_text(t.realized_pnl) for currency, t in engine.ledger.totals().items()},
        "limits": _limits(kill, daily, per_trade),
        "current_per_trade_risk": percent_text(largest_risk),
        "open_positions": live_count,
        "open_positions_paper": len(pairs) - live_count,
        "positions": _positions(engine, paper),
        "circuit_breakers": daemon.health.states(now_monotonic),
        **daemon.recovery(),
        "recovery_network": network,
        "lockouts": lockout_rows(engine, now),
        "headroom": [
            {
                "rule": row.rule,
                "label": row.label,
                **_scope(row.scope),
                "value": decimal_text(row.value),
                "limit": decimal_text(row.limit),
                "unit": row.unit,
                "used_pct": decimal_text(row.used_pct),
            }
            for row in engine.headroom()
        ],
        "halts": [
            {"scope": str(halt.scope), "reason": halt.reason, "since": iso(halt.since), "by": halt.by}
            for halt in engine.halts.values()
        ],
        "enforcement_latency_ms": {
            "p50": _ms(latency.percentile(0.5)),
            "p99": _ms(latency.percentile(0.99)),
            "samples": len(latency.samples),
        },
        "daemon": daemon_status(daemon),
    }


def lockout_rows(engine: RiskEngine, now: datetime) -> list[dict[str, Any]]:
    """The lockouts in force at `now`, longest-standing first."""
    in_force = sorted((lock for lock in engine.lockouts.all() if lock.active(now)), key=lambda lock: lock.since)
    return [
        {
            "rule": lock.rule,
            **_scope(lock.scope),
            "code": lock.code,
            "reason": lock.reason,
            "since": iso(lock.since),
            "until": iso(lock.until),
        }
        for lock in in_force
    ]


def daemon_status(daemon: Daemon) -> dict[str, Any]:
    return {
        "venue": daemon.venue.name,
        "connected": daemon.connected,
        "ready": daemon.ready,
        "fatal": daemon.fatal,
        "journal_seq": daemon.guard.seq,
    }


def account_ids(daemon: Daemon, config: RiskConfig) -> list[str]:
    """The configured accounts, then those the venue listed, then any the engine has a report of."""
    return list(dict.fromkeys([*config.accounts, *daemon.accounts, *daemon.guard.engine.accounts]))


def is_paper_venue(venue: VenueAdapter) -> bool:
    return isinstance(venue, PaperVenue | RemotePaperVenue)


def venue_network(venue: VenueAdapter) -> str | None:
    """Seed 003's `network`: "paper" on the paper venue; None (unknown) until real venues say theirs."""
    return "paper" if is_paper_venue(venue) else None


def rule_named(engine: RiskEngine, kind: type[_R]) -> _R | None:
    """The engine's rule of this class, if it is configured and enabled."""
    return next((rule for rule in engine.rules if isinstance(rule, kind)), None)


def open_pairs(view: AccountView) -> set[tuple[str, str]]:
    """The (account, symbol) pairs whose net position is not flat."""
    nets: dict[tuple[str, str], Decimal] = {}
    for position in view.all_positions():
        key = (position.account, position.symbol)
        nets[key] = nets.get(key, _ZERO) + position.net_qty
    return {key for key, net in nets.items() if net != 0}


def _account(
    view: AccountView,
    account: str,
    network: str | None,
    kill_state: KillSwitchState | None,
    daily: DailyRealizedLoss | None,
    daily_state: DailyLossState | None,
    risk: Decimal | None,
    pairs: set[tuple[str, str]],
    config: RiskConfig,
) -> dict[str, Any]:
    snapshot = view.account(account)
    switch = None if kill_state is None else kill_state.accounts.get(account)
    status: Mapping[str, object] = {}
    if daily is not None and daily_state is not None:
        status = daily_loss_status(daily, daily_state, account, view)
    configured = config.accounts.get(account)
    currency = snapshot.currency if snapshot is not None else configured.currency if configured else ""
    start = status.get("daily_start_equity")
    realized = status.get("daily_realized_pnl")
    return {
        "currency": currency,
        "balance": None if snapshot is None else decimal_text(snapshot.balance),
        "equity": None if snapshot is None else decimal_text(snapshot.equity),
        "margin_used": None if snapshot is None else decimal_text(snapshot.margin_used),
        "withdrawable": None,
        "can_trade": None if snapshot is None else snapshot.can_trade,
        "network": network,
        "reported_at": None if snapshot is None else iso(snapshot.ts),
        "kill_switch_active": switch is not None and switch.kill_switch_active,
        "kill_switch_triggered_at": None if switch is None else iso(switch.kill_switch_triggered_at),
        "high_water_mark": None if switch is None else decimal_text(switch.hwm),
        "drawdown_pct": None if switch is None else percent_text(switch.drawdown_pct),
        "daily_loss_halt": status.get("daily_loss_halt") is True,
        "daily_start_equity": optional_decimal(start if isinstance(start, Decimal) else None),
        "daily_realized_pnl": optional_decimal(realized if isinstance(realized, Decimal) else None),
        "current_per_trade_risk": percent_text(risk),
        "open_positions": sum(1 for owner, _ in pairs if owner == account),
    }


def _limits(
    kill: DrawdownKillSwitch | None, daily: DailyRealizedLoss | None, per_trade: PerTradeRisk | None
) -> dict[str, Any]:
    daily_loss = None
    if daily is not None:
        params = daily.params
        daily_loss = {
            "limit": None if params.limit is None else decimal_text(-abs(params.limit)),
            "limit_pct": optional_decimal(params.limit_pct),
            "start_basis": params.start_basis.value,
            "reset_time": params.reset_time,
            "timezone": params.timezone,
        }
    trade = None if per_trade is None else per_trade.params
    return {
        "max_drawdown": None if kill is None else decimal_text(kill.params.max_drawdown_pct),
        "daily_loss": daily_loss,
        "per_trade": None if trade is None else decimal_text(trade.max_risk_per_trade_pct),
        "portfolio_budget": None if trade is None else optional_decimal(trade.portfolio_budget),
        "min_risk_reward_ratio": None if trade is None else optional_decimal(trade.min_risk_reward_ratio),
        "max_concurrent_positions": None if trade is None else trade.max_concurrent_positions,
    }


def _positions(engine: RiskEngine, paper: bool) -> list[dict[str, Any]]:
    return [
        {
            "account": position.account,
            "strategy": position.strategy,
            "symbol": position.symbol,
            "net_qty": decimal_text(position.net_qty),
            "avg_entry_price": decimal_text(position.avg_entry_price),
            "unrealized_pnl": optional_decimal(engine.ledger.unrealized_pnl(position)),
            "currency": position.currency,
            "paper": paper,
        }
        for position in engine.ledger.open_positions()
    ]


def _scope(scope: Scope) -> dict[str, str | None]:
    return {"scope": str(scope), "account": scope.account, "strategy": scope.strategy, "symbol": scope.symbol}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
