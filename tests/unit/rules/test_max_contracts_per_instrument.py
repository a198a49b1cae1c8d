"""MaxContractsPerInstrument: per-symbol caps on the account's net position, gate and react."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from riskguard.core import (
    ALLOW,
    AccountView,
    Action,
    AlertLevel,
    CancelAllOrders,
    CancelOrder,
    ClosePosition,
    Deny,
    Fill,
    FillBooked,
    InvalidInput,
    RaiseAlert,
    ReducePosition,
    RiskEngine,
    Scope,
)
from riskguard.core.rules.max_contracts_per_instrument import (
    MaxContractsPerInstrument,
    MaxContractsPerInstrumentParams,
)
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order, working

D = Decimal
RULE = "max_contracts_per_instrument"


def rule(close_all: bool = False, default_limit: str | None = None) -> MaxContractsPerInstrument:
    return MaxContractsPerInstrument(
        MaxContractsPerInstrumentParams(
            limits={"MNQ": D("3")},
            default_limit=None if default_limit is None else D(default_limit),
            close_all=close_all,
        )
    )


def booked(view: AccountView, fill: Fill) -> FillBooked:
    """Book `fill` in the view's ledger, as the engine does before the rules see it."""
    return FillBooked(fill, view.ledger.apply(fill))


def without_ids(actions: list[Action]) -> list[Action]:
    return [replace(action, id="") for action in actions]


# -- gate ------------------------------------------------------------------------------------


def test_check_when_order_stays_below_limit_then_allowed() -> None:
    # Arrange: long 1 MNQ; buying 1 makes 2, below the cap of 3
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000.00")])
    # Act
    verdict = rule().check(order("buy", "1"), view, None)
    # Assert
    assert verdict == ALLOW


def test_check_when_order_reaches_limit_exactly_then_allowed() -> None:
    # Arrange: long 1 MNQ; buying 2 makes exactly 3, the cap: equal is allowed
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000.00")])
    # Act
    verdict = rule().check(order("buy", "2"), view, None)
    # Assert
    assert verdict == ALLOW


def test_check_when_order_goes_over_limit_then_denied_with_counts() -> None:
    # Arrange: long 1 MNQ; buying 3 makes 4 > 3
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000.00")])
    # Act
    verdict = rule().check(order("buy", "3"), view, None)
    # Assert
    assert verdict == Deny(
        RULE,
        "max_contracts_per_instrument",
        "A1 is long 1 MNQ; this buy of 3 would make it long 4, over the limit of 3 MNQ contracts",
    )


def test_check_when_flip_lands_past_limit_on_other_side_then_denied() -> None:
    # Arrange: long 2 MNQ; selling 6 flips to short 4 (|-4| > 3); selling 5 flips to short 3 (= 3)
    view = make_view(fills=[make_fill("f1", "buy", "2", "18000.00")])
    # Act
    over = rule().check(order("sell", "6"), view, None)
    at_limit = rule().check(order("sell", "5"), view, None)
    # Assert
    assert isinstance(over, Deny)
    assert over.code == "max_contracts_per_instrument"
    assert over.message == "A1 is long 2 MNQ; this sell of 6 would make it short 4, over the limit of 3 MNQ contracts"
    assert at_limit == ALLOW


def test_check_when_position_is_net_over_strategies_then_net_is_counted() -> None:
    # Arrange: s1 long 3, s2 short 2 -> the account is net long 1; buying 2 makes net 3 (allowed), 3 makes 4
    view = make_view(
        fills=[
            make_fill("f1", "buy", "3", "18000.00"),
            make_fill("f2", "sell", "2", "18000.00", strategy="s2"),
        ]
    )
    # Act
    at_limit = rule().check(order("buy", "2"), view, None)
    over = rule().check(order("buy", "3"), view, None)
    # Assert
    assert at_limit == ALLOW
    assert isinstance(over, Deny)


def test_check_when_symbol_not_listed_and_no_default_then_uncapped() -> None:
    # Arrange: ES is not in `limits` and default_limit is None
    view = make_view()
    # Act
    verdict = rule().check(order("buy", "50", symbol="ES", price="5000.00"), view, None)
    # Assert
    assert verdict == ALLOW


def test_check_when_symbol_not_listed_then_default_limit_applies() -> None:
    # Arrange: default_limit 1 covers ES; buying 1 is the limit, 2 is over
    view = make_view()
    capped = rule(default_limit="1")
    # Act
    at_limit = capped.check(order("buy", "1", symbol="ES", price="5000.00"), view, None)
    over = capped.check(order("buy", "2", symbol="ES", price="5000.00"), view, None)
    # Assert
    assert at_limit == ALLOW
    assert over == Deny(
        RULE,
        "max_contracts_per_instrument",
        "A1 holds no ES; this buy of 2 would make it long 2, over the limit of 1 ES contracts",
    )


def test_check_when_listed_limit_and_default_both_exist_then_listed_wins() -> None:
    # Arrange: MNQ is listed at 3, the default of 1 does not apply to it
    view = make_view()
    # Act
    verdict = rule(default_limit="1").check(order("buy", "3"), view, None)
    # Assert
    assert verdict == ALLOW


# -- react -----------------------------------------------------------------------------------


def test_react_when_fill_reaches_limit_exactly_then_nothing() -> None:
    # Arrange: long 1, a fill of 2 makes 3 = the cap
    view = make_view(fills=[make_fill("f1", "buy", "1", "18000.00")])
    event = booked(view, make_fill("f2", "buy", "2", "18000.00"))
    # Act
    _, actions = rule().react(event, view, None)
    # Assert
    assert list(actions) == []


def test_react_when_fill_goes_over_limit_then_excess_reduced_and_adding_orders_cancelled() -> None:
    # Arrange: long 2 with a protective sell stop and a buy limit working; a fill of 3 makes 5
    view = make_view(
        fills=[make_fill("f1", "buy", "2", "18000.00")],
        orders=[
            working("stop1", "sell", "2", stop_price="17990.00"),
            working("add1", "buy", "1", order_type="limit", stop_price=None, price="17995.00"),
        ],
    )
    event = booked(view, make_fill("f2", "buy", "3", "18000.00"))
    # Act
    _, actions = rule().react(event, view, None)
    # Assert: 5 held - 3 cap = 2 over, all added by this fill; only the buy (adding) order is cancelled
    reason = (
        "A1 is long 5 MNQ, over the limit of 3 MNQ contracts; "
        "reducing it by 2 and cancelling the orders that would add to it"
    )
    assert list(actions) == [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        ReducePosition(rule=RULE, reason=reason, account="A1", symbol="MNQ", qty=D("2")),
        CancelOrder(rule=RULE, reason=reason, account="A1", order_id="add1", symbol="MNQ"),
    ]


def test_react_when_close_all_and_over_limit_then_symbol_closed_and_its_orders_cancelled() -> None:
    # Arrange: flat, a fill of 4 makes 4 > 3, close_all
    view = make_view(fills=[make_fill("e1", "buy", "1", "5000.00", symbol="ES")])
    event = booked(view, make_fill("f1", "buy", "4", "18000.00"))
    # Act
    _, actions = rule(close_all=True).react(event, view, None)
    # Assert: only MNQ is touched, the ES position is left alone
    reason = (
        "A1 is long 4 MNQ, over the limit of 3 MNQ contracts; "
        "closing the whole MNQ position and cancelling its working orders"
    )
    assert list(actions) == [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        ClosePosition(rule=RULE, reason=reason, account="A1", symbol="MNQ"),
        CancelAllOrders(rule=RULE, reason=reason, account="A1", symbol="MNQ"),
    ]


def test_react_when_own_reduce_fills_partly_while_still_over_then_nothing_more() -> None:
    # Arrange: long 5 (cap 3, a reduce of 2 asked for); 1 of the reduce fills -> long 4, still over
    view = make_view(fills=[make_fill("f1", "buy", "5", "18000.00")])
    event = booked(view, make_fill("r1", "sell", "1", "18001.00"))
    # Act
    _, actions = rule().react(event, view, None)
    # Assert: a fill that only reduces never asks for another close
    assert list(actions) == []


def test_react_when_trader_adds_while_reduce_pending_then_only_the_new_excess_is_reduced() -> None:
    # Arrange: long 5 (cap 3, a reduce of 2 already asked for), then a buy of 1 makes 6
    view = make_view(fills=[make_fill("f1", "buy", "5", "18000.00")])
    event = booked(view, make_fill("f2", "buy", "1", "18000.00"))
    # Act
    _, actions = rule().react(event, view, None)
    # Assert: min(added 1, over 6 - 3 = 3) = 1, so the pending 2 are not asked for twice
    reduce = [action for action in actions if isinstance(action, ReducePosition)]
    assert [(r.symbol, r.qty) for r in reduce] == [("MNQ", D("1"))]


def test_react_when_fill_flips_past_limit_then_excess_on_new_side_reduced() -> None:
    # Arrange: long 2; a sell of 7 flips to short 5: all 5 are new, 5 - 3 = 2 over
    view = make_view(fills=[make_fill("f1", "buy", "2", "18000.00")])
    event = booked(view, make_fill("f2", "sell", "7", "18000.00"))
    # Act
    _, actions = rule().react(event, view, None)
    # Assert
    reduce = [action for action in actions if isinstance(action, ReducePosition)]
    assert [(r.symbol, r.qty) for r in reduce] == [("MNQ", D("2"))]
    assert isinstance(actions[0], RaiseAlert)
    assert actions[0].reason.startswith("A1 is short 5 MNQ, over the limit of 3 MNQ contracts")


def test_react_when_limit_is_zero_then_any_position_is_reduced_to_flat() -> None:
    # Arrange: ES capped at 0 contracts
    capped = MaxContractsPerInstrument(MaxContractsPerInstrumentParams(limits={"ES": D("0")}))
    view = make_view()
    event = booked(view, make_fill("e1", "sell", "2", "5000.00", symbol="ES"))
    # Act
    _, actions = capped.react(event, view, None)
    # Assert
    reduce = [action for action in actions if isinstance(action, ReducePosition)]
    assert [(r.symbol, r.qty) for r in reduce] == [("ES", D("2"))]


def test_react_when_symbol_uncapped_then_nothing() -> None:
    # Arrange
    view = make_view()
    event = booked(view, make_fill("e1", "buy", "40", "5000.00", symbol="ES"))
    # Act
    _, actions = rule().react(event, view, None)
    # Assert
    assert list(actions) == []


@pytest.mark.parametrize(
    ("limits", "default_limit", "field"),
    [({"MNQ": D("-1")}, None, "limits.MNQ"), ({}, D("-2"), "default_limit"), ({"ES": D("NaN")}, None, "limits.ES")],
)
def test_init_when_cap_is_negative_or_not_a_number_then_invalid(
    limits: dict[str, Decimal], default_limit: Decimal | None, field: str
) -> None:
    # Arrange
    params = MaxContractsPerInstrumentParams(limits=limits, default_limit=default_limit)
    # Act / Assert
    with pytest.raises(InvalidInput) as raised:
        MaxContractsPerInstrument(params)
    assert raised.value.field == field


# -- through the engine ----------------------------------------------------------------------


def test_engine_when_fill_breaches_then_reduce_asked_entries_denied_and_exit_approved() -> None:
    # Arrange
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "3", "18000.00"))
    # Act: a fill made outside riskguard takes the account to long 5
    actions = engine.handle(make_fill("f2", "buy", "2", "18000.00", seconds=1))
    entry = engine.check(order("buy", "1", order_id="o2", ts=at(2)))
    exit_ = engine.check(order("sell", "2", order_id="o3", ts=at(2)))
    # Assert: 5 - 3 = 2 over
    assert [(a.name, getattr(a, "qty", None)) for a in without_ids(actions)] == [
        ("alert", None),
        ("reduce_position", D("2")),
    ]
    assert actions[1].id == "3.2.max_contracts_per_instrument.reduce_position"
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "max_contracts_per_instrument", RULE)
    assert exit_.approved


# -- headroom --------------------------------------------------------------------------------


def test_max_contracts_per_instrument_headroom_when_mnq_and_es_held_then_one_row_per_capped_symbol() -> None:
    # Arrange: s1 long 3 MNQ, s2 short 1 MNQ (net long 2 of the 3 cap = 66.7 %); long 1 ES of the
    # default cap of 4 (25 %); BTC-PERP: bought and sold, flat, so no row
    view = make_view(
        fills=[
            make_fill("f1", "buy", "3", "18000.00"),
            make_fill("f2", "sell", "1", "18000.00", strategy="s2"),
            make_fill("f3", "buy", "1", "5000.00", symbol="ES"),
            make_fill("f4", "buy", "0.1", "60000.0", symbol="BTC-PERP"),
            make_fill("f5", "sell", "0.1", "60000.0", symbol="BTC-PERP"),
        ]
    )
    # Act
    rows = rule(default_limit="4").headroom(view, None)
    # Assert
    assert [(r.rule, r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        (RULE, "net contracts held", Scope(account="A1", symbol="MNQ"), D(2), D(3), "contracts", D("66.7")),
        (RULE, "net contracts held", Scope(account="A1", symbol="ES"), D(1), D(4), "contracts", D("25.0")),
    ]


def test_max_contracts_per_instrument_headroom_when_symbol_has_no_cap_then_no_row() -> None:
    # Arrange: long 1 ES; only MNQ is capped and there is no default_limit
    view = make_view(fills=[make_fill("f1", "buy", "1", "5000.00", symbol="ES")])
    # Act
    rows = rule().headroom(view, None)
    # Assert
    assert rows == []
