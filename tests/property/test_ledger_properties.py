"""Invariants of money and positions that hold for any stream of fills."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from riskguard.core import Fill, InvalidInput, Ledger, PositionKey
from riskguard.testing.factories import BTC_PERP, MNQ, T0
from tests.strategies import INSTRUMENTS, fill_streams, fills, price_of

D = Decimal
ZERO = D(0)


def replayed(stream: list[Fill]) -> Ledger:
    ledger = Ledger(INSTRUMENTS)
    for fill in stream:
        ledger.apply(fill)
    return ledger


def state_of(ledger: Ledger) -> tuple[object, ...]:
    return ledger.open_positions(), ledger.closed_positions(), ledger.fills_seen(), ledger.totals()


def mark_to_market(stream: list[Fill], symbol: str, mark: Decimal, multiplier: Decimal) -> Decimal:
    """What the fill stream is worth at `mark`, computed without the ledger: sum of
    signed quantity x (mark - fill price) x point value, less every fee paid."""
    value = sum(((f.signed_qty * (mark - f.price)) for f in stream if f.symbol == symbol), ZERO)
    fees = sum((f.fee for f in stream if f.symbol == symbol), ZERO)
    return value * multiplier - fees


@given(stream=fill_streams(), mnq_mark=price_of(MNQ), btc_mark=price_of(BTC_PERP))
def test_ledger_when_any_fill_stream_then_realized_plus_unrealized_equals_mark_to_market_exactly(
    stream: list[Fill], mnq_mark: Decimal, btc_mark: Decimal
) -> None:
    # Arrange
    ledger = replayed(stream)
    last = T0 + timedelta(days=1)
    # Act
    ledger.mark("MNQ", mnq_mark, last)
    ledger.mark("BTC-PERP", btc_mark, last)
    # Assert: exact equality; average-cost rounding may move value between realized and
    # unrealized, but never out of their sum
    for instrument, mark in ((MNQ, mnq_mark), (BTC_PERP, btc_mark)):
        expected = mark_to_market(stream, instrument.symbol, mark, instrument.multiplier)
        totals = ledger.totals(symbol=instrument.symbol).get(instrument.currency)
        actual = ZERO if totals is None else totals.realized_pnl + (totals.unrealized_pnl or ZERO)
        assert actual == expected


@given(stream=fill_streams())
def test_ledger_when_any_fill_stream_then_position_equals_sum_of_its_fills(stream: list[Fill]) -> None:
    # Arrange
    expected: dict[PositionKey, Decimal] = defaultdict(lambda: ZERO)
    for fill in stream:
        expected[PositionKey(fill.account, fill.strategy, fill.symbol)] += fill.signed_qty
    # Act
    ledger = replayed(stream)
    # Assert
    actual = {p.key: p.net_qty for p in ledger.open_positions()}
    assert actual == {key: qty for key, qty in expected.items() if qty != 0}


@given(stream=fill_streams())
def test_ledger_when_any_fill_stream_then_fees_are_conserved_across_positions(stream: list[Fill]) -> None:
    # Act
    ledger = replayed(stream)
    # Assert: a flip splits a fee between two positions; none is lost or made up
    held = sum((p.fees for p in ledger.open_positions() + ledger.closed_positions()), ZERO)
    assert held == sum((f.fee for f in stream), ZERO)


@given(stream=fill_streams())
def test_ledger_when_position_is_flat_then_no_unrealized_pnl_and_no_exposure(stream: list[Fill]) -> None:
    # Arrange
    ledger = replayed(stream)
    open_keys = {p.key for p in ledger.open_positions()}
    # Act / Assert
    for key in ledger.position_keys():
        if key in open_keys:
            continue
        totals = ledger.totals(*key)
        (row,) = totals.values()
        assert (row.unrealized_pnl, row.exposure, row.open_positions) == (ZERO, ZERO, 0)
        assert ledger.position(*key) is None
    for closed in ledger.closed_positions():
        assert closed.net_qty == ZERO
        assert closed.cost == ZERO
        assert closed.unrealized_pnl(D("12345")) == ZERO


@given(stream=fill_streams(), seed=st.integers(0, 2**32 - 1))
def test_ledger_when_fills_repeat_then_ledger_equals_one_without_repeats(stream: list[Fill], seed: int) -> None:
    # Arrange: re-send a random selection of fills, each later than its first delivery
    rng = random.Random(seed)
    with_repeats = list(stream)
    repeats = 0
    for fill in stream:
        if rng.random() < 0.3:
            with_repeats.insert(rng.randint(with_repeats.index(fill) + 1, len(with_repeats)), fill)
            repeats += 1
    # Act
    clean, noisy = replayed(stream), replayed(with_repeats)
    # Assert
    assert state_of(noisy) == state_of(clean)
    assert noisy.duplicates == repeats


@given(stream=fill_streams())
def test_ledger_when_replayed_twice_then_identical(stream: list[Fill]) -> None:
    assert state_of(replayed(stream)) == state_of(replayed(stream))


@given(stream=fill_streams(), bad=fills(instrument=MNQ, fill_id="bad"), offset=st.sampled_from(["0.05", "0.10", "0.2"]))
def test_ledger_when_fill_is_refused_then_nothing_changed(stream: list[Fill], bad: Fill, offset: str) -> None:
    # Arrange: a price between two MNQ ticks
    ledger = replayed(stream)
    before = state_of(ledger)
    off_grid = Fill(**{**{f: getattr(bad, f) for f in Fill.__slots__}, "price": bad.price + D(offset)})
    # Act / Assert
    try:
        ledger.apply(off_grid)
    except InvalidInput:
        pass
    else:  # pragma: no cover - a failure message, not a branch the ledger may take
        raise AssertionError("an off-tick fill was accepted")
    assert state_of(ledger) == before


class LedgerMachine(RuleBasedStateMachine):
    """Random interleavings of fills, re-sent fills and marks, checked after every step."""

    @initialize()
    def start(self) -> None:
        self.ledger = Ledger(INSTRUMENTS)
        self.applied: list[Fill] = []
        self.clock = 0

    @rule(data=st.data())
    def fill(self, data: st.DataObject) -> None:
        self.clock += 1
        fill = data.draw(fills(fill_id=f"f{self.clock}", seconds=self.clock))
        self.ledger.apply(fill)
        self.applied.append(fill)

    @precondition(lambda self: self.applied)
    @rule(data=st.data())
    def resend(self, data: st.DataObject) -> None:
        self.ledger.apply(data.draw(st.sampled_from(self.applied)))

    @rule(data=st.data())
    def mark(self, data: st.DataObject) -> None:
        self.clock += 1
        instrument = data.draw(st.sampled_from(INSTRUMENTS))
        self.ledger.mark(instrument.symbol, data.draw(price_of(instrument)), T0 + timedelta(seconds=self.clock))

    @invariant()
    def value_is_conserved(self) -> None:
        for instrument in INSTRUMENTS:
            mark = self.ledger.last_mark(instrument.symbol)
            totals = self.ledger.totals(symbol=instrument.symbol).get(instrument.currency)
            if mark is None or totals is None:
                continue
            expected = mark_to_market(self.applied, instrument.symbol, mark.price, instrument.multiplier)
            assert totals.realized_pnl + (totals.unrealized_pnl or ZERO) == expected

    @invariant()
    def excursions_bound_the_current_pnl(self) -> None:
        for position in self.ledger.open_positions():
            mark = self.ledger.last_mark(position.symbol)
            if mark is None:
                continue
            pnl = position.unrealized_pnl(mark.price)
            assert position.max_adverse_excursion >= max(-pnl, ZERO)
            assert position.max_favorable_excursion >= max(pnl, ZERO)

    @invariant()
    def duplicates_are_counted_not_applied(self) -> None:
        assert self.ledger.fills_seen() == len(self.applied)


TestLedgerMachine = LedgerMachine.TestCase
