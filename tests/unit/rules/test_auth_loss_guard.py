"""AuthLossGuard: follow the venue's can_trade flag; refuse new risk while it is false."""

from __future__ import annotations

from dataclasses import replace

from riskguard.core import (
    ALLOW,
    AlertLevel,
    CancelAllOrders,
    ClosePosition,
    Deny,
    RaiseAlert,
    RiskEngine,
)
from riskguard.core.rules.auth_loss_guard import AuthLossGuard, AuthLossGuardParams, AuthLossState
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order

RULE = "auth_loss_guard"
STOPPED = (
    "The venue reports that A1 may not trade (can_trade is false); "
    "new orders are refused until the venue allows trading again"
)


def rule(flatten_on_loss: bool = False) -> AuthLossGuard:
    return AuthLossGuard(AuthLossGuardParams(flatten_on_loss=flatten_on_loss))


# -- gate ------------------------------------------------------------------------------------


def test_check_when_venue_says_can_trade_then_allowed() -> None:
    # Act
    verdict = rule().check(order(), make_view(), AuthLossState())
    # Assert
    assert verdict == ALLOW


def test_check_when_venue_says_cannot_trade_then_denied() -> None:
    # Arrange
    view = make_view(accounts=[account(can_trade=False)])
    # Act
    verdict = rule().check(order(), view, AuthLossState())
    # Assert
    assert verdict == Deny(RULE, "venue_cannot_trade", STOPPED)


def test_check_when_no_snapshot_for_account_then_denied_account_unknown() -> None:
    # Arrange: only A2 has reported
    view = make_view(accounts=[account("A2")])
    # Act
    verdict = rule().check(order(), view, AuthLossState())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "account_unknown"


def test_check_when_another_account_cannot_trade_then_this_one_allowed() -> None:
    # Arrange
    view = make_view(accounts=[account(), account("A2", can_trade=False)])
    # Act
    verdict = rule().check(order(), view, AuthLossState())
    # Assert
    assert verdict == ALLOW


# -- react -----------------------------------------------------------------------------------


def test_react_when_can_trade_turns_false_then_critical_alert_and_orders_cancelled() -> None:
    # Arrange
    snapshot = account(can_trade=False, ts=at(5))
    view = make_view(at(5), accounts=[snapshot], fills=[make_fill("f1", "buy", "1", "18000.00")])
    # Act
    state, actions = rule().react(snapshot, view, AuthLossState())
    # Assert: positions are left alone unless flatten_on_loss
    reason = (
        "The venue reports that A1 may not trade (can_trade is false); working orders are cancelled and "
        "new orders are refused until the venue allows trading again"
    )
    assert list(actions) == [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        CancelAllOrders(rule=RULE, reason=reason, account="A1", symbol=None),
    ]
    assert state.stopped_since == {"A1": at(5)}


def test_react_when_flatten_on_loss_then_positions_closed_too() -> None:
    # Arrange: long MNQ and short ES
    snapshot = account(can_trade=False, ts=at(5))
    fills = [make_fill("f1", "buy", "1", "18000.00"), make_fill("e1", "sell", "1", "5000.00", symbol="ES")]
    view = make_view(at(5), accounts=[snapshot], fills=fills)
    # Act
    _, actions = rule(flatten_on_loss=True).react(snapshot, view, AuthLossState())
    # Assert
    reason = (
        "The venue reports that A1 may not trade (can_trade is false); positions are closed, working orders "
        "cancelled, and new orders are refused until the venue allows trading again"
    )
    assert list(actions) == [
        RaiseAlert(rule=RULE, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        ClosePosition(rule=RULE, reason=reason, account="A1", symbol="MNQ"),
        ClosePosition(rule=RULE, reason=reason, account="A1", symbol="ES"),
        CancelAllOrders(rule=RULE, reason=reason, account="A1", symbol=None),
    ]


def test_react_when_false_repeats_then_nothing_more() -> None:
    # Arrange
    state = AuthLossState({"A1": T0})
    snapshot = account(can_trade=False, ts=at(10))
    # Act
    new_state, actions = rule().react(snapshot, make_view(at(10), accounts=[snapshot]), state)
    # Assert
    assert list(actions) == []
    assert new_state.stopped_since == {"A1": T0}


def test_react_when_can_trade_turns_true_again_then_info_alert_and_block_lifted() -> None:
    # Arrange
    state = AuthLossState({"A1": T0, "A2": T0})
    snapshot = account(can_trade=True, ts=at(60))
    view = make_view(at(60), accounts=[snapshot])
    # Act
    new_state, actions = rule().react(snapshot, view, state)
    # Assert
    assert list(actions) == [
        RaiseAlert(
            rule=RULE,
            reason="The venue reports that A1 may trade again (can_trade is true); new orders are accepted",
            level=AlertLevel.INFO,
            account="A1",
        )
    ]
    assert new_state.stopped_since == {"A2": T0}
    assert rule().check(order(ts=at(60)), view, new_state) == ALLOW


def test_react_when_can_trade_true_and_never_stopped_then_nothing() -> None:
    # Arrange
    snapshot = account(ts=at(1))
    # Act
    state, actions = rule().react(snapshot, make_view(at(1)), AuthLossState())
    # Assert
    assert list(actions) == []
    assert state.stopped_since == {}


# -- through the engine ----------------------------------------------------------------------


def test_engine_when_venue_stops_account_then_entries_denied_exits_approved_until_it_allows_again() -> None:
    # Arrange
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "2", "18000.00"))
    # Act
    on_stop = engine.handle(account(can_trade=False, ts=at(10)))
    entry = engine.check(order("buy", "1", order_id="o2", ts=at(11)))
    exit_ = engine.check(order("sell", "2", order_id="o3", ts=at(11)))
    on_resume = engine.handle(account(can_trade=True, ts=at(20)))
    after = engine.check(order("buy", "1", order_id="o4", ts=at(21)))
    # Assert
    assert [(a.name, getattr(a, "level", None)) for a in on_stop] == [
        ("alert", AlertLevel.CRITICAL),
        ("cancel_all_orders", None),
    ]
    assert on_stop[1].id == "3.2.auth_loss_guard.cancel_all_orders"
    assert (entry.approved, entry.reason_code, entry.rule, entry.message) == (
        False,
        "venue_cannot_trade",
        RULE,
        STOPPED,
    )
    assert exit_.approved
    assert [replace(a, id="") for a in on_resume] == [
        RaiseAlert(
            rule=RULE,
            reason="The venue reports that A1 may trade again (can_trade is true); new orders are accepted",
            level=AlertLevel.INFO,
            account="A1",
        )
    ]
    assert after.approved
    assert engine.lockouts.all() == []  # no LockOut: the venue's flag is the lock
