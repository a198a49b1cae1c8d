"""The journal's encoding: every event and action written by the codec reads back equal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given

from riskguard.codec import _KINDS, decode_action, encode_action, encode_event, parse_event
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import (
    AlertLevel,
    CancelAllOrders,
    CancelOrder,
    ClosePosition,
    EndLockout,
    Halt,
    LockOut,
    MoveStop,
    RaiseAlert,
    ReducePosition,
)
from riskguard.core.errors import InvalidInput
from riskguard.core.events import (
    ActionFailed,
    ClockTicked,
    HaltRequested,
    MarkUpdated,
    OrderUpdated,
    PauseRequested,
    PositionReported,
    ResetRequested,
    ResumeRequested,
)
from riskguard.core.fills import Fill
from riskguard.core.orders import OrderRequest
from riskguard.core.scope import Scope
from riskguard.testing.factories import MNQ, make_fill
from tests.strategies import fills

TS = datetime(2026, 11, 22, 18, 0, 0, 250000, tzinfo=UTC)
EVENTS = [
    make_fill("f1", "sell", "3", "18000.25", fee="-0.10"),
    MarkUpdated("MNQ", "18000.50", TS),  # type: ignore[arg-type]
    AccountSnapshot("A1", Decimal("50000.00"), Decimal("49800.5"), TS, Decimal(1200), can_trade=False, currency="USD"),
    MNQ,
    OrderRequest(
        "o1", "A1", "s1", "MNQ", "buy", "limit", "2", TS, price="18000.00", stop_loss="17990.00", take_profit="18020.00"
    ),  # type: ignore[arg-type]
    OrderUpdated("o2", "A1", "s1", "MNQ", "sell", "stop", "working", "2", TS, stop_price="17990.00"),  # type: ignore[arg-type]
    PositionReported("A1", "MNQ", Decimal(-2), TS),
    ClockTicked(TS),
    ResetRequested("ops", "reviewed", TS, Scope(account="A1"), rule="daily_realized_loss"),
    HaltRequested("ops", "news", TS, Scope(account="A1", symbol="MNQ"), cancel_orders=True, flatten=True),
    PauseRequested("ops", "lunch", TS),
    ResumeRequested("ops", "back", TS, Scope(account="A1")),
    ActionFailed("3.1.r.close_position", "r", "close_position", "A1", "venue said no", TS, symbol="MNQ"),
]
ACTIONS = [
    ClosePosition(id="1.1.r.close_position", rule="r", reason="x", account="A1", symbol="MNQ"),
    ReducePosition(id="1.2.r.reduce_position", rule="r", reason="x", account="A1", symbol="MNQ", qty=Decimal("0.5")),
    CancelOrder(id="1.3.r.cancel_order", rule="r", reason="x", account="A1", order_id="o9", symbol=None),
    CancelAllOrders(id="1.4.r.cancel_all_orders", rule="r", reason="x", account="A1"),
    MoveStop(id="1.5.r.move_stop", rule="r", reason="x", account="A1", symbol="MNQ", stop_price=Decimal("17995.25")),
    LockOut(
        id="1.6.r.lock_out",
        rule="r",
        reason="x",
        scope=Scope(account="A1", strategy="s1", symbol="MNQ"),
        until=TS,
        code="c",
    ),
    LockOut(id="1.7.r.lock_out", rule="r", reason="x", scope=Scope(), until=None),
    EndLockout(id="1.8.r.end_lockout", rule="r", reason="x", scope=Scope(account="A1"), locked_by="r"),
    Halt(id="1.9.r.halt", rule="r", reason="x", scope=Scope(account="A1")),
    RaiseAlert(id="1.10.r.alert", rule="r", reason="x", level=AlertLevel.CRITICAL, account="A1", details={"k": "v"}),
]


def test_codec_examples_cover_every_event_type() -> None:
    assert {type(event) for event in EVENTS} == set(_KINDS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_encode_event_when_read_back_then_equal(event: object) -> None:
    assert parse_event(encode_event(event)) == event  # type: ignore[arg-type]


@given(fills())
def test_encode_event_when_any_fill_is_read_back_then_equal(fill: Fill) -> None:
    assert parse_event(encode_event(fill)) == fill


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.id)
def test_encode_action_when_read_back_then_equal(action: object) -> None:
    assert decode_action(encode_action(action)) == action  # type: ignore[arg-type]


def test_decode_action_when_type_or_field_unknown_then_refused_naming_it() -> None:
    with pytest.raises(InvalidInput, match=r"action\.type"):
        decode_action({"type": "Explode", "id": "1"})
    with pytest.raises(InvalidInput, match=r"action\.colour"):
        decode_action({**encode_action(ACTIONS[0]), "colour": "red"})
