"""SymbolBlocks: no new risk in blocked symbols; positions opened in one anyway are closed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from riskguard.core import (
    ALLOW,
    AccountView,
    AlertLevel,
    CancelAllOrders,
    ClosePosition,
    Deny,
    Fill,
    FillBooked,
    Instrument,
    InvalidInput,
    RaiseAlert,
    RiskEngine,
)
from riskguard.core.rules.symbol_blocks import SymbolBlocks, SymbolBlocksParams
from riskguard.testing.factories import make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order

RULE = "symbol_blocks"
CLZ6 = Instrument("CLZ6", Decimal("0.01"), Decimal("1000"), "USD")
ALL_INSTRUMENTS = (*INSTRUMENTS, CLZ6)


def rule() -> SymbolBlocks:
    return SymbolBlocks(SymbolBlocksParams(symbols=("ES",), prefixes=("CL",)))


def booked(view: AccountView, fill: Fill) -> FillBooked:
    return FillBooked(fill, view.ledger.apply(fill))


def cl_fill(fill_id: str, side: str, qty: str, *, seconds: int = 0) -> Fill:
    return make_fill(fill_id, side, qty, "70.00", symbol="CLZ6", seconds=seconds)


# -- gate ------------------------------------------------------------------------------------


def test_check_when_symbol_not_blocked_then_allowed() -> None:
    # Act
    verdict = rule().check(order(), make_view(), None)
    # Assert
    assert verdict == ALLOW


def test_check_when_symbol_listed_exactly_then_denied_naming_it() -> None:
    # Act
    verdict = rule().check(order(symbol="ES", price="5000.00"), make_view(), None)
    # Assert
    assert verdict == Deny(
        RULE,
        "symbol_blocked",
        "ES may not be traded (it is on the blocklist); orders that open or add to a position in ES are refused",
    )


def test_check_when_symbol_starts_with_blocked_prefix_then_denied_naming_prefix() -> None:
    # Act
    verdict = rule().check(order(symbol="CLZ6", price="70.00"), make_view(instruments=ALL_INSTRUMENTS), None)
    # Assert
    assert verdict == Deny(
        RULE,
        "symbol_blocked",
        "CLZ6 may not be traded (it starts with the blocked prefix CL); "
        "orders that open or add to a position in CLZ6 are refused",
    )


def test_check_when_symbol_only_starts_with_an_exact_entry_then_allowed() -> None:
    # Arrange: "ES" is an exact entry, not a prefix, so ESZ6 is not blocked by it
    blocks = SymbolBlocks(SymbolBlocksParams(symbols=("ES",)))
    # Act
    verdict = blocks.check(order(symbol="ESZ6", price="5000.00"), make_view(), None)
    # Assert
    assert verdict == ALLOW


# -- react -----------------------------------------------------------------------------------


def test_react_when_position_opened_in_blocked_symbol_then_alert_close_and_cancel() -> None:
    # Arrange: a CLZ6 position opened at the venue, outside riskguard
    view = make_view(instruments=ALL_INSTRUMENTS)
    event = booked(view, cl_fill("c1", "buy", "2"))
    # Act
    _, actions = rule().react(event, view, None)
    # Assert
    reason = (
        "A1 traded CLZ6, which may not be traded (it starts with the blocked prefix CL), and is now long 2; "
        "closing the CLZ6 position and cancelling its working orders"
    )
    assert list(actions) == [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        ClosePosition(rule=RULE, reason=reason, account="A1", symbol="CLZ6"),
        CancelAllOrders(rule=RULE, reason=reason, account="A1", symbol="CLZ6"),
    ]


def test_react_when_close_fills_partly_or_fully_then_nothing_more() -> None:
    # Arrange: long 3 CLZ6; riskguard's close fills as 1 then 2
    view = make_view(instruments=ALL_INSTRUMENTS, fills=[cl_fill("c1", "buy", "3")])
    # Act
    _, partial = rule().react(booked(view, cl_fill("x1", "sell", "1", seconds=1)), view, None)
    _, full = rule().react(booked(view, cl_fill("x2", "sell", "2", seconds=2)), view, None)
    # Assert
    assert list(partial) == []
    assert list(full) == []


def test_react_when_more_added_before_close_done_then_close_asked_again() -> None:
    # Arrange: long 1 ES, then another buy of 1
    view = make_view(fills=[make_fill("e1", "buy", "1", "5000.00", symbol="ES")])
    # Act
    _, actions = rule().react(booked(view, make_fill("e2", "buy", "1", "5000.00", symbol="ES", seconds=1)), view, None)
    # Assert
    assert [(type(a).__name__, getattr(a, "symbol", None)) for a in actions] == [
        ("RaiseAlert", None),
        ("ClosePosition", "ES"),
        ("CancelAllOrders", "ES"),
    ]
    assert actions[0].reason.startswith(
        "A1 traded ES, which may not be traded (it is on the blocklist), and is now long 2"
    )


def test_react_when_fill_flips_blocked_position_then_close_asked() -> None:
    # Arrange: long 2 ES, a sell of 3 leaves short 1
    view = make_view(fills=[make_fill("e1", "buy", "2", "5000.00", symbol="ES")])
    # Act
    _, actions = rule().react(booked(view, make_fill("e2", "sell", "3", "5000.00", symbol="ES", seconds=1)), view, None)
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders]
    assert "and is now short 1;" in actions[0].reason


def test_react_when_fill_in_allowed_symbol_then_nothing() -> None:
    # Arrange
    view = make_view()
    # Act
    _, actions = rule().react(booked(view, make_fill("f1", "buy", "5", "18000.00")), view, None)
    # Assert
    assert list(actions) == []


@pytest.mark.parametrize(
    ("symbols", "prefixes", "field"),
    [((), (), "symbols"), (("",), (), "symbols"), ((), ("  ",), "prefixes")],
)
def test_init_when_blocklist_empty_or_blank_then_invalid(
    symbols: tuple[str, ...], prefixes: tuple[str, ...], field: str
) -> None:
    # Act / Assert
    with pytest.raises(InvalidInput) as raised:
        SymbolBlocks(SymbolBlocksParams(symbols=symbols, prefixes=prefixes))
    assert raised.value.field == field


# -- through the engine ----------------------------------------------------------------------


def test_engine_when_blocked_position_opened_outside_then_closed_entries_denied_exit_approved() -> None:
    # Arrange
    engine = RiskEngine([rule()], ALL_INSTRUMENTS)
    engine.handle(account())
    # Act
    actions = engine.handle(cl_fill("c1", "sell", "2"))
    entry = engine.check(order("sell", "1", symbol="CLZ6", price="70.00", order_id="o2", ts=at(1)))
    exit_ = engine.check(order("buy", "2", symbol="CLZ6", price="70.00", order_id="o3", ts=at(1)))
    # Assert
    plain = [replace(a, id="") for a in actions]
    assert [(type(a).__name__, getattr(a, "symbol", None)) for a in plain] == [
        ("RaiseAlert", None),
        ("ClosePosition", "CLZ6"),
        ("CancelAllOrders", "CLZ6"),
    ]
    assert actions[1].id == "2.2.symbol_blocks.close_position"
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "symbol_blocked", RULE)
    assert "CLZ6" in entry.message
    assert exit_.approved
