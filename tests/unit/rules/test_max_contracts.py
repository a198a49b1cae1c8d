"""MaxContracts: holding the limit is allowed; past it, the gate refuses and a fill is answered at once."""

from __future__ import annotations

from decimal import Decimal

from riskguard.core import CancelAllOrders, ClosePosition, RaiseAlert, ReducePosition, RiskEngine
from riskguard.core.events import FillBooked
from riskguard.core.rules.max_contracts import CountType, MaxContracts, MaxContractsParams
from riskguard.testing.factories import ES, MNQ, make_fill
from tests.unit.rules._view import account, at, make_view, order

D = Decimal


def rule(limit: str = "5", count_type: CountType = CountType.NET, close_all: bool = True) -> MaxContracts:
    return MaxContracts(MaxContractsParams(limit=D(limit), count_type=count_type, close_all=close_all))


def booked(view_fills: list, fill):  # type: ignore[no-untyped-def]
    """The view after `view_fills` + `fill`, and the FillBooked event for `fill`."""
    view = make_view(fills=view_fills)
    applied = view.ledger.apply(fill)
    return view, FillBooked(fill, applied)


def test_max_contracts_when_order_reaches_the_limit_exactly_then_allowed() -> None:
    # Arrange: 3 held, 2 more makes 5 = the limit
    view = make_view(fills=[make_fill("f1", "buy", "3", "18000.00")])
    # Act / Assert
    assert rule().check(order("buy", "2"), view, None).__class__.__name__ == "Allow"


def test_max_contracts_when_order_would_pass_the_limit_then_refused_with_counts() -> None:
    # Arrange: 3 MNQ + 2 ES held (net count 5); 1 more would make 6
    view = make_view(
        fills=[make_fill("f1", "buy", "3", "18000.00"), make_fill("f2", "sell", "2", "5000.00", symbol="ES")]
    )
    # Act
    verdict = rule().check(order("buy", "1"), view, None)
    # Assert
    assert verdict.code == "max_contracts"  # type: ignore[union-attr]
    assert verdict.message == "A1 holds 5 contracts; 1 more would make 6, over the limit of 5"  # type: ignore[union-attr]


def test_max_contracts_when_order_flips_the_position_then_counts_only_what_remains() -> None:
    # Arrange: long 4; selling 7 leaves short 3, so the count goes 4 -> 3
    view = make_view(fills=[make_fill("f1", "buy", "4", "18000.00")])
    # Act / Assert
    assert rule("4").check(order("sell", "7"), view, None).__class__.__name__ == "Allow"
    assert rule("2").check(order("sell", "7"), view, None).__class__.__name__ == "Deny"


def test_max_contracts_when_strategies_offset_then_net_counts_the_venue_position_and_gross_counts_both() -> None:
    # Arrange: s1 long 2, s2 short 2 on MNQ: the venue shows 0; the strategies hold 4
    view = make_view(
        fills=[make_fill("f1", "buy", "2", "18000.00"), make_fill("f2", "sell", "2", "18000.00", strategy="s2")]
    )
    # Act
    net = rule("4", CountType.NET).check(order("buy", "3", strategy="s3"), view, None)
    gross = rule("4", CountType.GROSS).check(order("buy", "1", strategy="s3"), view, None)
    # Assert: net 0 + 3 = 3 is fine; gross 4 + 1 = 5 is over 4
    assert net.__class__.__name__ == "Allow"
    assert gross.message == "A1 holds 4 contracts; 1 more would make 5, over the limit of 4"  # type: ignore[union-attr]


def test_max_contracts_when_fill_stays_at_the_limit_then_no_action() -> None:
    view, event = booked([make_fill("f1", "buy", "3", "18000.00")], make_fill("f2", "buy", "2", "18000.00"))
    assert rule().react(event, view, None) == (None, ())


def test_max_contracts_when_fill_passes_the_limit_and_close_all_then_every_position_closes() -> None:
    # Arrange: 2 ES held; 4 MNQ bought makes 6 > 5
    view, event = booked(
        [make_fill("f1", "sell", "2", "5000.00", symbol="ES")], make_fill("f2", "buy", "4", "18000.00")
    )
    # Act
    _, actions = rule().react(event, view, None)
    # Assert
    reason = "A1 holds 6 contracts, over the limit of 5"
    assert [(type(a), getattr(a, "symbol", None)) for a in actions] == [
        (RaiseAlert, None),
        (ClosePosition, "ES"),
        (ClosePosition, "MNQ"),
        (CancelAllOrders, None),
    ]
    assert all(a.reason == reason and a.rule == "max_contracts" for a in actions)


def test_max_contracts_when_fill_passes_the_limit_without_close_all_then_only_the_excess_is_reduced() -> None:
    # Arrange: 2 ES held; 4 MNQ bought makes 6, one over 5
    view, event = booked(
        [make_fill("f1", "sell", "2", "5000.00", symbol="ES")], make_fill("f2", "buy", "4", "18000.00")
    )
    # Act
    _, actions = rule(close_all=False).react(event, view, None)
    # Assert
    reduce = actions[1]
    assert isinstance(reduce, ReducePosition)
    assert (reduce.account, reduce.symbol, reduce.qty) == ("A1", "MNQ", D(1))
    assert isinstance(actions[2], CancelAllOrders)
    assert actions[2].symbol == "MNQ"


def test_max_contracts_through_the_engine_when_breached_then_close_and_next_entry_refused_but_exit_allowed() -> None:
    # Arrange
    engine = RiskEngine([rule("2")], [MNQ, ES])
    engine.handle(account())
    # Act: the trader's broker fills 3 (the broker cannot be blocked before a fill)
    actions = engine.handle(make_fill("f1", "buy", "3", "18000.00", seconds=1))
    # Assert
    assert [a.id for a in actions] == [
        "2.1.max_contracts.alert",
        "2.2.max_contracts.close_position",
        "2.3.max_contracts.cancel_all_orders",
    ]
    assert not engine.check(order("buy", "1", ts=at(2))).approved
    assert engine.check(order("sell", "3", ts=at(2))).approved


def test_max_contracts_when_own_reduce_fills_in_parts_then_it_does_not_reduce_again() -> None:
    # Arrange: limit 3, a fill takes the account from 3 to 5; the rule asks to reduce 2
    the_rule = rule("3", close_all=False)
    view, event = booked([make_fill("f1", "buy", "3", "18000.00")], make_fill("f2", "buy", "2", "18000.00"))
    _, first = the_rule.react(event, view, None)
    # Act: the reduce fills one lot at a time: 5 -> 4 -> 3
    partial = make_fill("f3", "sell", "1", "18000.00", seconds=1)
    _, second = the_rule.react(FillBooked(partial, view.ledger.apply(partial)), view, None)
    # Assert
    assert [a.qty for a in first if isinstance(a, ReducePosition)] == [D(2)]
    assert list(second) == []


def test_max_contracts_when_a_fill_adds_one_over_then_only_that_one_is_reduced() -> None:
    # Arrange: limit 3 and already 4 held (an earlier reduce still working); one more lot arrives
    the_rule = rule("3", close_all=False)
    view, event = booked([make_fill("f1", "buy", "4", "18000.00")], make_fill("f2", "buy", "1", "18000.00"))
    # Act
    _, actions = the_rule.react(event, view, None)
    # Assert: answered with what this fill added (1), not the whole excess (2) asked for before
    assert [a.qty for a in actions if isinstance(a, ReducePosition)] == [D(1)]


def test_max_contracts_headroom_when_3_mnq_and_1_es_held_of_5_then_4_used_80_pct() -> None:
    # Arrange: long 3 MNQ, short 1 ES on A1: 4 contracts net of a 5 limit (4 / 5 = 80 %)
    view = make_view(
        fills=[make_fill("f1", "buy", "3", "18000.00"), make_fill("f2", "sell", "1", "5000.00", symbol="ES")]
    )
    # Act
    (row,) = rule("5").headroom(view, None)
    # Assert
    assert (row.scope.account, row.value, row.limit, row.unit) == ("A1", D(4), D(5), "contracts")
    assert (row.used_pct, row.remaining) == (D("80.0"), D(1))
