"""Exits are never blocked: whatever state the engine is in, an order that only reduces a position
is approved — while locked out, halted, past a loss limit, rate-limited, with no account update or
no price. (Users of the leading engines report risk checks blocking their exits.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from riskguard.config import parse_config
from riskguard.core import (
    AccountSnapshot,
    ClockTicked,
    Fill,
    HaltRequested,
    OrderRequest,
    RiskEngine,
    Scope,
)
from riskguard.testing.factories import T0
from tests.strategies import INSTRUMENTS, fill_streams, price_of

#: Every rule in the catalogue, set so tight that almost any entry breaches it.
TIGHT = """
rules:
  max_contracts: {limit: 1, close_all: true}
  max_contracts_per_instrument: {limits: {MNQ: 1}, default_limit: 0.00001}
  no_stop_loss_grace: {grace_seconds: 0, require_stop_on_entry: true, on_breach: flatten_and_lock}
  daily_realized_loss: {limit: -1, limit_pct: 0.01}
  daily_unrealized_loss: {limit: -1}
  max_unrealized_profit: {target: 1}
  session_block_outside: {sessions: {saturday: ["10:00-10:01"]}, holidays: ["2026-03-07"]}
  auth_loss_guard: {flatten_on_loss: true}
  symbol_blocks: {symbols: [MNQ], prefixes: [BTC]}
  trade_frequency_limit: {per_minute: 1, per_hour: 1, per_session: 1, count: fills}
  cooldown_after_loss: {loss_amount: 0.01, consecutive_losses: 1}
  trade_management: {breakeven_after_ticks: 1, trail_after_ticks: 1, trail_distance_ticks: 1}
  protective_stops: {}
  circuit_breaker: {max_consecutive_losses: 1, max_consecutive_errors: 1}
  duplicate_order: {window_seconds: 86400}
  order_rate_limit: {max_orders_per_minute: 1}
  price_deviation: {max_deviation_pct: 0, max_mark_age_seconds: 1}
  max_slippage: {max_slippage_pct: 0, max_mark_age_seconds: 1}
  max_order_notional: {limit: 1}
  max_open_orders: {limit: 0}
  max_positions: {limit: 1}
  max_position_size: {limit_qty: 0.00001, limit_notional: 1, limit_pct: 0.01}
  max_exposure: {limit: 1, limit_pct: 0.01}
  repeated_execution_throttle: {max_fills: 1, window_seconds: 86400}
  drawdown_kill_switch: {max_drawdown_pct: 1}
  per_trade_risk: {max_risk_per_trade_pct: 0.01, max_concurrent_positions: 1, min_risk_reward_ratio: 100, portfolio_budget: 1}
  strategy_settings: {defaults: {risk_per_trade: 0.01, stop_loss_dollars: 0.01, max_strategy_loss: 0.01}}
  trailing_stop: {strategy_types: {s1: trend_following, s2: htf}, profiles: {trend_following: {initial_stop_pct: 0.1, activation_pct: 0.1, distance_pct: 0.1, tightening_pct: 0.1, max_position_pct: 0.01, max_leverage: 0.01}}}
  portfolio_daily_loss_breaker: {max_daily_loss_pct: 0.01, recovery_minutes: 1440}
  venue_error_rate: {min_calls: 1, max_error_rate_pct: 0}
  weekly_reward_target: {target_pct: 0.01, preservation_risk_pct: 0}
  trailing_max_loss: {max_loss: 1, starting_balance: 100}
  equity_daily_loss: {max_daily_loss: 1, max_loss_pct: 1, initial_balance: 100}
"""


def build(with_accounts: bool) -> RiskEngine:
    config = parse_config(TIGHT, "tight.yaml", env={})
    engine = RiskEngine(config.build_rules(), INSTRUMENTS)
    if with_accounts:
        for account in ("A1", "A2"):
            engine.handle(AccountSnapshot(account, "100", "-50", T0))  # type: ignore[arg-type]
    return engine


@st.composite
def exits(draw: st.DrawFn, engine: RiskEngine, ts: object) -> OrderRequest:
    held = engine.ledger.open_positions()
    assume(held)
    position = draw(st.sampled_from(held))
    net = sum(
        (p.net_qty for p in engine.ledger.open_positions(account=position.account, symbol=position.symbol)), Decimal(0)
    )
    assume(net != 0)
    instrument = engine.ledger.instrument(position.symbol)
    lots = int(abs(net) / instrument.lot_size)
    reduce_only = draw(st.booleans())
    qty = instrument.lot_size * draw(st.integers(1, lots * (3 if reduce_only else 1)))
    price = draw(st.one_of(st.none(), price_of(instrument)))
    return OrderRequest(
        order_id="exit",
        account=position.account,
        strategy=draw(st.sampled_from(["s1", "s2", "other"])),
        symbol=position.symbol,
        side="sell" if net > 0 else "buy",  # type: ignore[arg-type]
        order_type="market" if price is None else "limit",  # type: ignore[arg-type]
        qty=qty,  # type: ignore[arg-type]
        ts=ts,  # type: ignore[arg-type]
        price=price,
        reduce_only=reduce_only,
    )


@given(
    stream=fill_streams(max_size=40),
    with_accounts=st.booleans(),
    halted=st.booleans(),
    marks=st.booleans(),
    later=st.integers(0, 3 * 24 * 3600),
    data=st.data(),
)
def test_gate_when_order_only_reduces_a_position_then_approved_in_any_state(
    stream: list[Fill], with_accounts: bool, halted: bool, marks: bool, later: int, data: st.DataObject
) -> None:
    # Arrange: an engine driven into whatever state the fills, halts and marks make
    engine = build(with_accounts)
    for fill in stream:
        engine.handle(fill)
    end = T0 + timedelta(seconds=len(stream) + 1)
    if halted:
        engine.handle(HaltRequested(actor="ops", reason="stop everything", ts=end, scope=Scope()))
    if marks:
        for instrument in INSTRUMENTS:
            engine.ledger.mark(instrument.symbol, data.draw(price_of(instrument)), end)
    ts = end + timedelta(seconds=later)
    engine.handle(ClockTicked(ts))
    order = data.draw(exits(engine, ts))
    # Act
    decision = engine.check(order)
    # Assert
    assert decision.approved, decision


def test_gate_when_entry_in_the_same_tight_state_then_refused() -> None:
    """The counterpart: the same engine refuses an entry, so the property above is not vacuous."""
    # Arrange
    engine = build(with_accounts=True)
    engine.handle(HaltRequested(actor="ops", reason="stop", ts=T0, scope=Scope()))
    entry = OrderRequest("entry", "A1", "s1", "MNQ", "buy", "limit", "1", T0, price="18000.00")  # type: ignore[arg-type]
    # Act / Assert
    assert not engine.check(entry).approved


def test_tight_config_when_loaded_then_it_holds_every_rule_of_the_catalogue() -> None:
    from riskguard.core.rules import RULES

    assert [name for name, _ in parse_config(TIGHT, env={}).rules] == list(RULES)
