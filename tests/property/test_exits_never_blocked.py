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

#: Every rule, set so tight that almost any entry breaches it.
TIGHT = """
rules:
  max_contracts: {limit: 1, close_all: true}
  daily_realized_loss: {limit: -1, limit_pct: 0.01}
  max_order_notional: {limit: 1}
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
