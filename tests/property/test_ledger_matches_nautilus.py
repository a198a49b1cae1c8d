"""riskguard's ledger and NautilusTrader's Position agree, key by key, on generated fill streams."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from bench.fill_mix import INSTRUMENTS, generate_fills
from bench.peers.nautilus import NettingPositions, PeerPosition, build_events, rounding_allowance
from hypothesis import given
from hypothesis import strategies as st

from riskguard.core.ledger import Ledger
from riskguard.core.positions import PositionKey

seeds = st.integers(min_value=0, max_value=2**32 - 1)
lengths = st.integers(min_value=1, max_value=300)

MULTIPLIERS = {instrument.symbol: instrument.multiplier for instrument in INSTRUMENTS}
FLOAT_RELATIVE = Decimal("1e-9")


@dataclass(frozen=True)
class Replay:
    ledger: Ledger
    peer: dict[PositionKey, PeerPosition]
    rounding: dict[PositionKey, Decimal]
    notional: dict[PositionKey, Decimal]


def replay(seed: int, length: int) -> Replay:
    fills = generate_fills(seed, length)
    ledger = Ledger(INSTRUMENTS)
    rounding = rounding_allowance([ledger.apply(fill) for fill in fills])
    book = NettingPositions()
    book.apply_all(build_events(fills, INSTRUMENTS))
    notional: dict[PositionKey, Decimal] = {}
    for fill in fills:
        key = PositionKey(fill.account, fill.strategy, fill.symbol)
        notional[key] = notional.get(key, Decimal(0)) + fill.qty * fill.price * MULTIPLIERS[fill.symbol]
    return Replay(ledger, book.report(), rounding, notional)


@pytest.mark.peer
@given(seed=seeds, length=lengths)
def test_net_quantity_when_fill_mix_replayed_then_equals_nautilus_exactly(seed: int, length: int) -> None:
    # Arrange
    result = replay(seed, length)

    # Act
    ours = {key: (p.net_qty if (p := result.ledger.position(*key)) else Decimal(0)) for key in result.peer}

    # Assert
    assert set(result.ledger.position_keys()) == set(result.peer)
    assert ours == {key: theirs.net_qty for key, theirs in result.peer.items()}


@pytest.mark.peer
@given(seed=seeds, length=lengths)
def test_realized_pnl_when_fill_mix_replayed_then_matches_nautilus_total_per_key(seed: int, length: int) -> None:
    # Arrange
    result = replay(seed, length)

    # Act
    differences = {
        key: abs(result.ledger.totals(*key)[theirs.currency].realized_pnl - theirs.realized_pnl)
        for key, theirs in result.peer.items()
    }

    # Assert
    # Totals per key, not per position: a flip's fee is split half-even at the fee's own places by
    # riskguard and half away from zero at the currency's places by NautilusTrader; both conserve it.
    # The tolerance has two parts. NautilusTrader stores realized PnL as Money, rounded to the
    # currency step after every fill, so each fill whose exact PnL is off that grid may move its
    # total by half a step (`rounding_allowance`: e.g. three 1-lot exits from 3 MNQ bought at an
    # average of 301.25 / 3 realize 3.50 USD exactly, but 1.17 + 1.17 + 1.17 = 3.51 in NautilusTrader).
    # The rest is float64: prices, averages and PnL carry a relative error near 1e-16 of the amounts
    # traded, so 1e-9 of the key's traded notional (|qty x price x multiplier| summed) is far above
    # that noise and far below any accounting mistake, which would be off by a price tick or a fee.
    for key, difference in differences.items():
        tolerance = result.rounding.get(key, Decimal(0)) + FLOAT_RELATIVE * max(Decimal(1), result.notional[key])
        assert difference <= tolerance, (key, difference, tolerance)


@pytest.mark.peer
@given(seed=seeds, length=lengths)
def test_average_entry_when_fill_mix_replayed_then_matches_nautilus_avg_px_open(seed: int, length: int) -> None:
    # Arrange
    result = replay(seed, length)

    # Act
    pairs = [
        (position.avg_entry_price, result.peer[position.key].avg_px_open) for position in result.ledger.open_positions()
    ]

    # Assert
    for ours, theirs in pairs:
        assert theirs is not None
        assert abs(ours - theirs) <= FLOAT_RELATIVE * ours, (ours, theirs)
