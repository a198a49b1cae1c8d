"""ProtectiveStops: after a restart or reconnect, a position whose stop is gone gets its last stop back."""

from __future__ import annotations

from decimal import Decimal

from riskguard.core import Action, AlertLevel, MoveStop, PositionReported, RaiseAlert, RiskEngine
from riskguard.core.rules.protective_stops import ProtectiveStops, ProtectiveStopsParams
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, working

RULE = "protective_stops"


def engine() -> RiskEngine:
    built = RiskEngine([ProtectiveStops(ProtectiveStopsParams())], INSTRUMENTS)
    built.handle(account())
    return built


def reported(net_qty: str, protected: bool | None, seconds: float = 600, symbol: str = "MNQ") -> PositionReported:
    return PositionReported("A1", symbol, Decimal(net_qty), at(seconds), protected=protected)


def only_moves(actions: list[Action]) -> list[tuple[str, str, Decimal]]:
    return [(a.account, a.symbol, a.stop_price) for a in actions if isinstance(a, MoveStop)]


def test_protective_stops_when_a_long_lost_its_stop_then_the_last_stop_price_is_placed_again_and_warned() -> None:
    rules = engine()
    rules.handle(make_fill("f1", "buy", "2", "18000.00", seconds=5))
    rules.handle(working("s1", "sell", "2", stop_price="17980.00", ts=at(6)))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", ts=at(60)))  # moved up: this is the one
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", status="cancelled", ts=at(120)))

    actions = rules.handle(reported("2", False))

    assert only_moves(actions) == [("A1", "MNQ", Decimal("17990.00"))]
    alerts = [a for a in actions if isinstance(a, RaiseAlert)]
    assert [(a.level, a.reason) for a in alerts] == [
        (
            AlertLevel.WARNING,
            "A1 holds long 2 MNQ with no working stop at the venue (cancelled while riskguard was away or the "
            "link was down); re-arming its sell stop at 17990.00",
        )
    ]
    move = next(a for a in actions if isinstance(a, MoveStop))
    assert move.order_id is None  # a new stop for the whole position, not a move of a gone order


def test_protective_stops_when_a_short_lost_its_stop_then_a_buy_stop_is_placed_again() -> None:
    rules = engine()
    rules.handle(make_fill("f1", "sell", "1", "18000.00", seconds=5))
    rules.handle(working("s1", "buy", "1", stop_price="18015.25", ts=at(6)))
    rules.handle(working("s1", "buy", "1", stop_price="18015.25", status="cancelled", ts=at(7)))

    assert only_moves(rules.handle(reported("-1", False))) == [("A1", "MNQ", Decimal("18015.25"))]


def test_protective_stops_when_the_venue_shows_a_stop_or_did_not_look_then_nothing_is_placed() -> None:
    rules = engine()
    rules.handle(make_fill("f1", "buy", "2", "18000.00", seconds=5))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", ts=at(6)))

    assert rules.handle(reported("2", True)) == []
    assert rules.handle(reported("2", None)) == []


def test_protective_stops_when_the_stop_filled_then_it_is_forgotten_and_a_new_position_is_only_reported() -> None:
    rules = engine()
    rules.handle(make_fill("f1", "buy", "2", "18000.00", seconds=5))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", ts=at(6)))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", status="filled", ts=at(30)))
    rules.handle(make_fill("f2", "sell", "2", "17990.00", seconds=30, order_id="s1"))
    rules.handle(make_fill("f3", "buy", "1", "18001.00", seconds=40))  # a new long, no stop yet

    actions = rules.handle(reported("1", False))

    assert only_moves(actions) == []
    assert [(a.level, a.reason) for a in actions if isinstance(a, RaiseAlert)] == [
        (
            AlertLevel.WARNING,
            "A1 holds long 1 MNQ with no working stop at the venue, and riskguard has seen none for it to "
            "re-arm; no_stop_loss_grace decides what happens to an unprotected position",
        )
    ]


def test_protective_stops_when_the_position_went_flat_then_its_old_stop_is_not_reused() -> None:
    rules = engine()
    rules.handle(make_fill("f1", "buy", "2", "18000.00", seconds=5))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", ts=at(6)))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", status="cancelled", ts=at(7)))
    rules.handle(make_fill("f2", "sell", "2", "18004.00", seconds=8))  # flat by hand
    rules.handle(make_fill("f3", "buy", "3", "18010.00", seconds=9))  # a new long

    assert only_moves(rules.handle(reported("3", False))) == []


def test_protective_stops_when_a_long_flipped_short_then_the_long_s_sell_stop_is_not_placed_for_the_short() -> None:
    rules = engine()
    rules.handle(make_fill("f1", "buy", "2", "18000.00", seconds=5))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", ts=at(6)))
    rules.handle(working("s1", "sell", "2", stop_price="17990.00", status="cancelled", ts=at(7)))
    rules.handle(make_fill("f2", "sell", "3", "18004.00", seconds=8))  # long 2 -> short 1 in one fill

    assert only_moves(rules.handle(reported("-1", False))) == []


def test_protective_stops_when_a_flat_position_is_reported_unprotected_then_nothing_happens() -> None:
    rules = engine()
    assert rules.handle(reported("0", False)) == []


def test_protective_stops_when_stops_are_kept_per_account_and_symbol_then_each_re_arms_its_own() -> None:
    rules = engine()
    rules.handle(account("A2"))
    rules.handle(make_fill("f1", "buy", "1", "18000.00", seconds=5))
    rules.handle(make_fill("f2", "buy", "1", "5000.00", symbol="ES", seconds=5))
    rules.handle(make_fill("f3", "buy", "1", "18000.00", account="A2", seconds=5))
    rules.handle(working("s1", "sell", "1", stop_price="17950.00", ts=at(6)))
    rules.handle(working("s2", "sell", "1", stop_price="4990.00", symbol="ES", ts=at(6)))
    rules.handle(working("s3", "sell", "1", stop_price="17900.00", account_id="A2", ts=at(6)))

    moves = only_moves(rules.handle(reported("1", False, symbol="ES")))
    moves += only_moves(rules.handle(PositionReported("A2", "MNQ", Decimal(1), at(600), protected=False)))
    moves += only_moves(rules.handle(reported("1", False)))

    assert moves == [
        ("A1", "ES", Decimal("4990.00")),
        ("A2", "MNQ", Decimal("17900.00")),
        ("A1", "MNQ", Decimal("17950.00")),
    ]
