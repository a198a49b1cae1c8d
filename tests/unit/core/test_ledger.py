"""The ledger on hand-worked cases: every expected number below is worked out in the comment above it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from riskguard.core import (
    ConflictingFill,
    InvalidInput,
    Ledger,
    PositionChange,
    PositionSide,
    UnknownInstrument,
)
from riskguard.testing.factories import BTC_PERP, ES, MNQ, T0, make_fill

D = Decimal


@pytest.fixture
def ledger() -> Ledger:
    return Ledger([MNQ, ES, BTC_PERP])


def snapshot(ledger: Ledger) -> tuple[object, ...]:
    """Everything observable about a ledger, to prove a refused input changed nothing."""
    return (
        ledger.open_positions(),
        ledger.closed_positions(),
        ledger.duplicates,
        ledger.fills_seen(),
        {s: ledger.last_mark(s) for s in ("MNQ", "ES", "BTC-PERP")},
        ledger.totals(),
    )


def test_ledger_when_first_fill_then_position_opens_at_fill_price_with_fee_realized(ledger: Ledger) -> None:
    # Arrange
    fill = make_fill("f1", "buy", "2", "18000.25", fee="0.74")
    # Act
    applied = ledger.apply(fill)
    # Assert
    assert applied.change is PositionChange.OPENED
    position = ledger.position("A1", "s1", "MNQ")
    assert position is not None
    assert position.side is PositionSide.LONG
    assert position.net_qty == D("2")
    assert position.avg_entry_price == D("18000.25")
    assert position.realized_pnl == D("-0.74")  # the opening fee is paid at once
    assert position.fees == D("0.74")
    assert applied.realized_pnl == D("-0.74")


def test_ledger_when_same_side_fill_then_entry_is_quantity_weighted(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "2", "18000.25", fee="0.74"))
    # Act
    applied = ledger.apply(make_fill("f2", "buy", "1", "18010.00", fee="0.37", seconds=1))
    # Assert: (2 x 18000.25 + 1 x 18010.00) / 3 = 54010.50 / 3 = 18003.50
    assert applied.change is PositionChange.INCREASED
    assert applied.position is not None
    assert applied.position.net_qty == D("3")
    assert applied.position.avg_entry_price == D("18003.50")
    assert applied.position.realized_pnl == D("-1.11")
    assert applied.position.peak_qty == D("3")


def test_ledger_when_partial_reduce_then_realizes_on_average_entry_times_multiplier(ledger: Ledger) -> None:
    # Arrange: long 3 MNQ at 18003.50, fees so far 1.11
    ledger.apply(make_fill("f1", "buy", "2", "18000.25", fee="0.74"))
    ledger.apply(make_fill("f2", "buy", "1", "18010.00", fee="0.37", seconds=1))
    # Act
    applied = ledger.apply(make_fill("f3", "sell", "1", "18020.00", fee="0.37", seconds=2))
    # Assert: (18020.00 - 18003.50) x 1 x 2 USD/point = 33.00, less the 0.37 fee = 32.63
    assert applied.change is PositionChange.REDUCED
    assert applied.realized_pnl == D("32.63")
    assert applied.position is not None
    assert applied.position.net_qty == D("2")
    assert applied.position.avg_entry_price == D("18003.50")  # reducing does not move the entry
    assert applied.position.realized_pnl == D("31.52")  # -1.11 + 32.63


def test_ledger_when_position_closed_then_it_moves_to_history_with_its_totals(ledger: Ledger) -> None:
    # Arrange: long 2 MNQ at 18003.50 after a partial exit at 18020.00 (realized 31.52)
    ledger.apply(make_fill("f1", "buy", "2", "18000.25", fee="0.74"))
    ledger.apply(make_fill("f2", "buy", "1", "18010.00", fee="0.37", seconds=1))
    ledger.apply(make_fill("f3", "sell", "1", "18020.00", fee="0.37", seconds=2))
    # Act
    applied = ledger.apply(make_fill("f4", "sell", "2", "17990.00", fee="0.74", seconds=3))
    # Assert: (17990 - 18003.50) x 2 x 2 = -54.00, less 0.74 = -54.74; total 31.52 - 54.74 = -23.22
    assert applied.change is PositionChange.CLOSED
    assert applied.realized_pnl == D("-54.74")
    assert applied.position is None
    assert ledger.position("A1", "s1", "MNQ") is None
    (closed,) = ledger.closed_positions()
    assert closed == applied.closed
    assert closed.side is PositionSide.FLAT
    assert closed.realized_pnl == D("-23.22")
    assert closed.fees == D("2.22")
    assert closed.gross_realized_pnl == D("-21.00")
    assert closed.avg_entry_price == D("18003.50")
    assert closed.avg_exit_price == D("18000")  # (18020 + 2 x 17990) / 3
    assert closed.fill_count == 4
    assert closed.opened_at == T0
    assert closed.closed_at == T0 + timedelta(seconds=3)
    (totals,) = ledger.totals().values()
    assert (totals.realized_pnl, totals.fees, totals.unrealized_pnl, totals.exposure, totals.open_positions) == (
        D("-23.22"),
        D("2.22"),
        D("0"),
        D("0"),
        0,
    )


def test_ledger_when_short_covered_lower_then_profit_uses_es_point_value(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "sell", "3", "5000.00", fee="6.60", symbol="ES"))
    # Act
    applied = ledger.apply(make_fill("f2", "buy", "1", "4990.25", fee="2.20", symbol="ES", seconds=1))
    # Assert: (5000.00 - 4990.25) x 1 x 50 USD/point = 487.50, less 2.20 = 485.30
    assert applied.realized_pnl == D("485.30")
    assert applied.position is not None
    assert applied.position.side is PositionSide.SHORT
    assert applied.position.net_qty == D("-2")
    assert applied.position.realized_pnl == D("478.70")  # -6.60 + 485.30


def test_ledger_when_fill_crosses_zero_then_old_side_closes_and_remainder_opens_new(ledger: Ledger) -> None:
    # Arrange: long 2 MNQ at 18000.00
    ledger.apply(make_fill("f1", "buy", "2", "18000.00", fee="0.74"))
    # Act: sell 5 at 18010.00, fee 1.85 split by quantity: 2/5 closes (0.74), 3/5 opens (1.11)
    applied = ledger.apply(make_fill("f2", "sell", "5", "18010.00", fee="1.85", seconds=1))
    # Assert: the close realizes (18010 - 18000) x 2 x 2 = 40.00 - 0.74 = 39.26; the new short pays 1.11
    assert applied.change is PositionChange.FLIPPED
    assert applied.closed is not None
    assert applied.closed.realized_pnl == D("38.52")  # -0.74 opening fee + 39.26
    assert applied.closed.fees == D("1.48")
    assert applied.position is not None
    assert applied.position.side is PositionSide.SHORT
    assert applied.position.net_qty == D("-3")
    assert applied.position.avg_entry_price == D("18010.00")
    assert applied.position.fees == D("1.11")
    assert applied.position.realized_pnl == D("-1.11")
    assert applied.position.position_id == "f2"
    assert applied.realized_pnl == D("38.15")  # 39.26 - 1.11: everything this fill realized


def test_ledger_when_flip_fee_does_not_split_evenly_then_rounds_half_even_and_conserves_total(ledger: Ledger) -> None:
    # Arrange: long 1; selling 2 closes 1 and opens 1, so the 0.05 fee splits 0.025 / 0.025
    ledger.apply(make_fill("f1", "buy", "1", "18000.00"))
    # Act
    applied = ledger.apply(make_fill("f2", "sell", "2", "18000.00", fee="0.05", seconds=1))
    # Assert: 0.025 rounds half-even to 0.02 for the close; the new position takes the other 0.03
    assert applied.closed is not None
    assert applied.position is not None
    assert applied.closed.fees == D("0.02")
    assert applied.position.fees == D("0.03")


def test_ledger_when_mark_moves_then_unrealized_and_exposure_follow(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "2", "18000.00"))
    # Act
    ledger.mark("MNQ", "17990.00", T0 + timedelta(seconds=5))
    # Assert: (17990 - 18000) x 2 x 2 = -40.00; exposure 2 x 17990 x 2 = 71960.00
    position = ledger.position("A1", "s1", "MNQ")
    assert position is not None
    assert ledger.unrealized_pnl(position) == D("-40.00")
    (totals,) = ledger.totals().values()
    assert totals.unrealized_pnl == D("-40.00")
    assert totals.exposure == D("71960.00")


def test_ledger_when_prices_swing_then_mae_and_mfe_keep_the_extremes(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "1", "18000.00"))
    # Act: marks at +10, -15 and +5 points; MNQ is 2 USD a point
    for seconds, price in ((1, "18010.00"), (2, "17985.00"), (3, "18005.00")):
        ledger.mark("MNQ", price, T0 + timedelta(seconds=seconds))
    # Assert
    position = ledger.position("A1", "s1", "MNQ")
    assert position is not None
    assert position.max_favorable_excursion == D("20.00")
    assert position.max_adverse_excursion == D("30.00")


def test_ledger_when_closing_fill_is_the_best_price_then_mfe_includes_it(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "1", "18000.00"))
    ledger.mark("MNQ", "17995.00", T0 + timedelta(seconds=1))
    # Act: the exit at +20 points is the best price the position ever saw
    applied = ledger.apply(make_fill("f2", "sell", "1", "18020.00", seconds=2))
    # Assert
    assert applied.closed is not None
    assert applied.closed.max_favorable_excursion == D("40.00")
    assert applied.closed.max_adverse_excursion == D("10.00")


def test_ledger_when_new_position_opens_after_close_then_excursions_start_from_zero(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "1", "18000.00"))
    ledger.mark("MNQ", "17900.00", T0 + timedelta(seconds=1))
    ledger.apply(make_fill("f2", "sell", "1", "17900.00", seconds=2))
    # Act
    ledger.apply(make_fill("f3", "buy", "1", "17900.00", seconds=3))
    # Assert
    position = ledger.position("A1", "s1", "MNQ")
    assert position is not None
    assert (position.max_adverse_excursion, position.max_favorable_excursion) == (D("0"), D("0"))
    assert position.position_id == "f3"


def test_ledger_when_mark_is_older_than_current_then_it_is_ignored(ledger: Ledger) -> None:
    # Arrange
    ledger.mark("MNQ", "18000.00", T0 + timedelta(seconds=10))
    # Act
    accepted = ledger.mark("MNQ", "17000.00", T0 + timedelta(seconds=5))
    # Assert
    assert accepted is False
    mark = ledger.last_mark("MNQ")
    assert mark is not None
    assert mark.price == D("18000.00")


def test_ledger_when_same_fill_arrives_twice_then_second_is_ignored_and_counted(ledger: Ledger) -> None:
    # Arrange
    fill = make_fill("f1", "buy", "2", "18000.00", fee="0.74")
    ledger.apply(fill)
    before = ledger.position("A1", "s1", "MNQ")
    # Act
    applied = ledger.apply(make_fill("f1", "buy", "2", "18000.00", fee="0.74"))
    # Assert
    assert applied.change is PositionChange.DUPLICATE
    assert applied.realized_pnl == D("0")
    assert ledger.position("A1", "s1", "MNQ") == before
    assert ledger.duplicates == 1
    assert ledger.fills_seen() == 1


def test_ledger_when_fill_id_reused_with_other_contents_then_refused_and_unchanged(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "2", "18000.00"))
    before = snapshot(ledger)
    # Act / Assert
    with pytest.raises(ConflictingFill, match=r"fill.fill_id was 'f1'.*price 18000.25 vs 18000.00"):
        ledger.apply(make_fill("f1", "buy", "2", "18000.25"))
    assert snapshot(ledger) == before


def test_ledger_when_same_fill_id_on_another_account_then_it_is_a_different_fill(ledger: Ledger) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "1", "18000.00", account="A1"))
    # Act
    applied = ledger.apply(make_fill("f1", "buy", "1", "18000.00", account="A2"))
    # Assert
    assert applied.change is PositionChange.OPENED
    assert ledger.fills_seen() == 2


@pytest.mark.parametrize(
    ("fill_kwargs", "error", "message"),
    [
        ({"symbol": "ZZZ"}, UnknownInstrument, "fill.symbol was 'ZZZ': no instrument"),
        (
            {"price": "18000.10"},
            InvalidInput,
            r"fill.price was '18000.10': is not on the MNQ price grid \(tick size 0.25\)",
        ),
        ({"qty": "1.5"}, InvalidInput, r"fill.qty was '1.5': is not a whole number of MNQ lots"),
    ],
)
def test_ledger_when_fill_cannot_be_valued_then_refused_and_unchanged(
    ledger: Ledger, fill_kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    # Arrange
    ledger.apply(make_fill("f1", "buy", "2", "18000.00"))
    before = snapshot(ledger)
    arguments = {"fill_id": "f2", "side": "sell", "qty": "1", "price": "18000.00", **fill_kwargs}
    # Act / Assert
    with pytest.raises(error, match=message):
        ledger.apply(make_fill(**arguments))  # type: ignore[arg-type]
    assert snapshot(ledger) == before


def test_ledger_when_strategies_and_accounts_differ_then_positions_net_separately(ledger: Ledger) -> None:
    # Arrange / Act
    ledger.apply(make_fill("f1", "buy", "2", "18000.00", strategy="s1"))
    ledger.apply(make_fill("f2", "sell", "1", "18000.00", strategy="s2", seconds=1))
    ledger.apply(make_fill("f3", "buy", "1", "18000.00", account="A2", seconds=2))
    ledger.mark("MNQ", "18010.00", T0 + timedelta(seconds=3))
    # Assert: at +10 points, s1 shows +40, s2 shows -20, A2 shows +20
    assert [(p.account, p.strategy, p.net_qty) for p in ledger.open_positions()] == [
        ("A1", "s1", D("2")),
        ("A1", "s2", D("-1")),
        ("A2", "s1", D("1")),
    ]
    assert ledger.totals(account="A1")["USD"].unrealized_pnl == D("20.00")
    assert ledger.totals(strategy="s1")["USD"].unrealized_pnl == D("60.00")
    assert ledger.totals(account="A1", strategy="s2")["USD"].unrealized_pnl == D("-20.00")
    assert ledger.totals(symbol="MNQ")["USD"].open_positions == 3


def test_ledger_when_instruments_have_different_currencies_then_totals_are_kept_apart(ledger: Ledger) -> None:
    # Arrange / Act
    ledger.apply(make_fill("f1", "buy", "1", "18000.00", fee="0.37"))
    ledger.apply(make_fill("f2", "buy", "0.01", "68000.0", fee="0.20", symbol="BTC-PERP", seconds=1))
    ledger.mark("BTC-PERP", "68100.0", T0 + timedelta(seconds=2))
    # Assert
    totals = ledger.totals()
    assert list(totals) == ["USD", "USDC"]
    assert totals["USD"].fees == D("0.37")
    assert totals["USDC"].fees == D("0.20")
    assert totals["USDC"].exposure == D("681.000")  # 0.01 x 68100.0 x 1
    assert totals["USDC"].unrealized_pnl == D("1.000")  # 0.01 x (68100.0 - 68000.0)


def test_ledger_when_symbol_has_no_mark_yet_then_unrealized_and_exposure_are_unknown(ledger: Ledger) -> None:
    # Arrange / Act: a fill is one trade's price, not the market's mark
    ledger.apply(make_fill("f1", "buy", "1", "18000.00"))
    # Assert
    position = ledger.position("A1", "s1", "MNQ")
    assert position is not None
    assert ledger.unrealized_pnl(position) is None
    (totals,) = ledger.totals().values()
    assert (totals.unrealized_pnl, totals.exposure) == (None, None)


def test_ledger_when_position_opens_after_a_lower_mark_then_mae_includes_that_mark(ledger: Ledger) -> None:
    # Arrange
    ledger.mark("MNQ", "17990.00", T0)
    # Act: opened at 18000.00 while the mark says 17990.00: the position shows -20.00 already
    ledger.apply(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    # Assert
    position = ledger.position("A1", "s1", "MNQ")
    assert position is not None
    assert ledger.unrealized_pnl(position) == D("-20.00")
    assert position.max_adverse_excursion == D("20.00")


def test_ledger_when_instrument_with_open_position_is_redefined_then_refused(ledger: Ledger) -> None:
    # Arrange
    from riskguard.core import Instrument

    ledger.apply(make_fill("f1", "buy", "1", "18000.00"))
    # Act / Assert
    with pytest.raises(InvalidInput, match="has open positions"):
        ledger.add_instrument(Instrument("MNQ", D("0.25"), D("20")))
    assert ledger.instrument("MNQ") == MNQ


def test_ledger_when_rebate_is_paid_then_it_adds_to_realized_pnl(ledger: Ledger) -> None:
    # Arrange / Act: a maker rebate is a negative fee
    applied = ledger.apply(make_fill("f1", "buy", "0.5", "68000.0", fee="-0.34", symbol="BTC-PERP"))
    # Assert
    assert applied.realized_pnl == D("0.34")
