"""EquityDailyLoss: FTMO's daily loss on equity from the day's start balance (midnight Prague), and max loss."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskguard.core import CancelAllOrders, ClosePosition, LockOut, RaiseAlert, RiskEngine, Scope
from riskguard.core.actions import Action, AlertLevel
from riskguard.core.decisions import Allow, Deny
from riskguard.core.errors import InvalidInput
from riskguard.core.rules.equity_daily_loss import EquityDailyLoss, EquityDailyLossParams, EquityDailyLossState
from riskguard.testing.factories import MNQ, make_fill
from tests.unit.rules._view import account, make_view, order

D = Decimal
# T0 is Friday 2026-03-06 14:30 UTC = 15:30 Prague (CET, UTC+1): the day started 2026-03-05 23:00 UTC
# and ends at midnight Prague = 2026-03-06 23:00 UTC.
FRI = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
FRI_MIDNIGHT = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)


def rule(**changes: object) -> EquityDailyLoss:
    return EquityDailyLoss(EquityDailyLossParams(**changes))  # type: ignore[arg-type]


def feed(
    the_rule: EquityDailyLoss,
    state: EquityDailyLossState,
    balance: str,
    equity: str,
    now: datetime,
    *,
    holding: bool = False,
) -> tuple[EquityDailyLossState, Sequence[Action]]:
    """One account update of A1 at `now`; with `holding`, 1 MNQ is open."""
    snapshot = account(balance=balance, equity=equity, ts=now)
    fills = [make_fill("f1", "buy", "1", "18000.00")] if holding else []
    return the_rule.react(snapshot, make_view(now, fills=fills, accounts=[snapshot]), state)


def test_daily_loss_when_equity_just_above_the_floor_then_nothing() -> None:
    # Arrange: day's start balance 100,000; 5 % = 5,000; floor 95,000
    the_rule = rule()
    # Act
    state, actions = feed(the_rule, the_rule.initial_state(), "100000", "95000.01", FRI)
    # Assert
    assert list(actions) == []
    assert isinstance(the_rule.check(order(), make_view(FRI), state), Allow)


def test_daily_loss_when_equity_reaches_the_floor_then_flatten_cancel_and_lock_until_prague_midnight() -> None:
    # Arrange / Act: equity 95,000.00 = 100,000 − 5 %
    the_rule = rule()
    state, actions = feed(the_rule, the_rule.initial_state(), "100000", "95000", FRI, holding=True)
    # Assert
    reason = (
        "Daily loss: equity 95000.00 USD on A1 reached the 95000.00 USD floor (day's start balance 100000.00 USD "
        "− 5000.00 USD, 5.00 %); positions are closed, orders cancelled and new risk refused "
        "until 2026-03-07 00:00 Europe/Prague"
    )
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert all(a.reason == reason for a in actions)
    alert, close, _, lock = actions
    assert isinstance(alert, RaiseAlert)
    assert alert.level is AlertLevel.CRITICAL
    assert isinstance(close, ClosePosition)
    assert (close.account, close.symbol) == ("A1", "MNQ")
    assert isinstance(lock, LockOut)
    assert (lock.scope, lock.until) == (Scope(account="A1"), FRI_MIDNIGHT)
    assert state.days["A1"].daily_breached


def test_daily_loss_when_equity_falls_past_the_floor_then_breaches_once_that_day() -> None:
    # Arrange: 94,000 is 1,000 under the 95,000 floor
    the_rule = rule()
    state, first = feed(the_rule, the_rule.initial_state(), "100000", "94000", FRI)
    # Act
    _, second = feed(the_rule, state, "100000", "93000", FRI + timedelta(minutes=1))
    # Assert
    assert first[0].reason.startswith("Daily loss: equity 94000.00 USD on A1 reached the 95000.00 USD floor")
    assert list(second) == []


def test_daily_loss_when_later_updates_show_another_balance_then_the_first_of_the_day_stays_the_start() -> None:
    # Arrange: the day's first update shows 100,000; a later one 90,000 (a realized loss)
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "100000", "100000", FRI)
    # Act: equity 95,500 is 500 above the 95,000 floor (not 85,500 from the later balance)
    state, above = feed(the_rule, state, "90000", "95500", FRI + timedelta(minutes=1))
    _, at_floor = feed(the_rule, state, "90000", "95000", FRI + timedelta(minutes=2))
    # Assert
    assert state.days["A1"].start_balance == D("100000")
    assert list(above) == []
    assert isinstance(at_floor[0], RaiseAlert)


def test_daily_loss_when_an_absolute_limit_is_given_then_it_replaces_the_pct() -> None:
    # Arrange: 3,000 absolute from 100,000: floor 97,000
    the_rule = rule(max_daily_loss=D(3000))
    state, above = feed(the_rule, the_rule.initial_state(), "100000", "97000.01", FRI)
    # Act
    _, at_floor = feed(the_rule, state, "100000", "97000", FRI + timedelta(minutes=1))
    # Assert
    assert list(above) == []
    assert at_floor[0].reason.startswith(
        "Daily loss: equity 97000.00 USD on A1 reached the 97000.00 USD floor (day's start balance 100000.00 USD "
        "− 3000.00 USD); "
    )


def test_daily_loss_when_no_update_since_the_day_started_then_daily_start_unknown() -> None:
    # Arrange: Friday's update; the gate asks at Prague midnight (23:00 UTC), the next day
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "100000", "100000", FRI)
    # Act
    today = the_rule.check(order(), make_view(FRI), state)
    next_day = the_rule.check(order(), make_view(FRI_MIDNIGHT), state)
    never = the_rule.check(order(), make_view(FRI, accounts=[]), the_rule.initial_state())
    # Assert
    assert isinstance(today, Allow)
    assert isinstance(next_day, Deny)
    assert next_day.code == "daily_start_unknown"
    assert "since the day started at 2026-03-07 00:00 Europe/Prague" in next_day.message
    assert isinstance(never, Deny)
    assert never.code == "daily_start_unknown"


def test_daily_loss_when_the_eu_clocks_spring_forward_then_the_day_starts_23_utc_and_ends_22_utc() -> None:
    # Arrange: 2026-03-29 is the EU change: its midnight is still CET (2026-03-28 23:00 UTC); the next
    # midnight is CEST (2026-03-29 22:00 UTC). Saturday's start balance 100,000.
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "100000", "100000", datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    # Act: 22:59 UTC is still Saturday; at 23:00 UTC Sunday starts at balance 98,000 (floor 93,100)
    state, saturday = feed(the_rule, state, "98000", "95000", datetime(2026, 3, 28, 22, 59, tzinfo=UTC))
    state, _ = feed(the_rule, state, "98000", "98000", datetime(2026, 3, 28, 23, 0, tzinfo=UTC))
    _, sunday = feed(the_rule, state, "98000", "93100", datetime(2026, 3, 29, 10, 0, tzinfo=UTC))
    # Assert: 95,000 reached Saturday's 95,000 floor; Sunday: 98,000 − 4,900 = 93,100 locks until 22:00 UTC
    assert isinstance(saturday[0], RaiseAlert)
    assert sunday[0].reason.startswith("Daily loss: equity 93100.00 USD on A1 reached the 93100.00 USD floor")
    lock = sunday[-1]
    assert isinstance(lock, LockOut)
    assert lock.until == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert "until 2026-03-30 00:00 Europe/Prague" in lock.reason


def test_daily_loss_when_locked_in_winter_then_the_lock_ends_at_23_utc() -> None:
    # Monday 2026-11-02 is CET again (clocks went back 2026-10-25): midnight Prague = 23:00 UTC
    the_rule = rule()
    _, actions = feed(the_rule, the_rule.initial_state(), "100000", "90000", datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert actions[-1].until == datetime(2026, 11, 2, 23, 0, tzinfo=UTC)  # type: ignore[attr-defined]


def test_max_loss_when_equity_reaches_10_pct_below_initial_then_latched_lock() -> None:
    # Arrange: initial 100,000, 10 %: floor 90,000. The day started at 91,000 (daily floor 86,450)
    the_rule = rule(max_loss_pct=D(10), initial_balance=D(100000))
    state, above = feed(the_rule, the_rule.initial_state(), "91000", "90000.01", FRI)
    # Act
    state, at_floor = feed(the_rule, state, "91000", "90000", FRI + timedelta(minutes=1))
    _, lower = feed(the_rule, state, "91000", "86000", FRI + timedelta(minutes=2))
    # Assert
    assert list(above) == []
    assert at_floor[0].reason == (
        "Maximum loss: equity 90000.00 USD on A1 reached the 90000.00 USD floor (initial balance 100000.00 USD − "
        "10.00 %); positions are closed, orders cancelled and new risk refused until an operator resets it"
    )
    lock = at_floor[-1]
    assert isinstance(lock, LockOut)
    assert lock.until is None
    assert list(lower) == []  # past the daily floor too, but one breach is enough


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"max_daily_loss_pct": None}, "or max_daily_loss must be given"),
        ({"max_daily_loss_pct": D(0)}, "more than 0 and at most 100"),
        ({"max_loss_pct": D(10)}, "and max_loss_pct must be given together"),
        ({"max_daily_loss": D(-1)}, "must be a positive amount"),
    ],
)
def test_equity_daily_loss_when_params_invalid_then_refused(changes: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        rule(**changes)


def test_daily_loss_through_the_engine_when_locked_then_exit_approved_and_lock_ends_at_prague_midnight() -> None:
    # Arrange: start 100,000; 1 MNQ long; equity 94,900 (past the 95,000 floor)
    engine = RiskEngine([rule()], [MNQ])
    engine.handle(account(balance="100000", ts=FRI))
    engine.handle(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    actions = engine.handle(account(balance="100000", equity="94900", ts=FRI + timedelta(minutes=1)))
    # Act
    entry = engine.check(order(ts=FRI + timedelta(minutes=2)))
    exit_order = engine.check(order("sell", "1", ts=FRI + timedelta(minutes=2)))
    engine.handle(account(balance="99800", ts=FRI_MIDNIGHT))  # the next day's first update, at midnight
    next_day = engine.check(order(ts=FRI_MIDNIGHT + timedelta(seconds=1)))
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert (entry.approved, entry.reason_code) == (False, "locked_out")
    assert exit_order.approved
    assert next_day.approved


def test_equity_daily_loss_headroom_when_equity_97_000_on_a_100_000_day_then_daily_60_pct_and_max_30_pct() -> None:
    # Arrange: start balance 100,000, equity 97,000: 97,000 − 100,000 = -3000 of -5000 (5 %) = 60 % used;
    # maximum loss 10 % of the 100,000 initial balance: floor 90,000, -3000 of -10,000 = 30 % used
    the_rule = rule(max_loss_pct=D(10), initial_balance=D(100000))
    state, _ = feed(the_rule, the_rule.initial_state(), "100000", "97000", FRI)
    view = make_view(FRI, accounts=[account(balance="100000", equity="97000", ts=FRI)])
    # Act
    daily, maximum = the_rule.headroom(view, state)
    # Assert
    assert (daily.label, daily.scope, daily.value, daily.limit, daily.unit) == (
        "daily loss on equity",
        Scope(account="A1"),
        D(-3000),
        D(-5000),
        "USD",
    )
    assert daily.used_pct == D("60.0")
    assert (maximum.label, maximum.scope, maximum.value, maximum.limit, maximum.unit) == (
        "maximum loss on equity",
        Scope(account="A1"),
        D(-3000),
        D(-10000),
        "USD",
    )
    assert maximum.used_pct == D("30.0")


def test_equity_daily_loss_headroom_when_the_new_day_has_no_update_yet_then_no_row() -> None:
    # Arrange: Friday's update, then Prague midnight: Saturday's start balance is unknown (the gate refuses)
    the_rule = rule()
    friday = account(balance="100000", equity="97000", ts=FRI)
    state, _ = the_rule.react(friday, make_view(FRI, accounts=[friday]), the_rule.initial_state())
    # Act
    rows = the_rule.headroom(make_view(FRI_MIDNIGHT + timedelta(hours=1), accounts=[friday]), state)
    # Assert
    assert rows == []
