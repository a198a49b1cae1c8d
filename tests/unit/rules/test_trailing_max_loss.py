"""TrailingMaxLoss: Topstep's MLL trails the EOD balance high, locks at the start balance, and latches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskguard.core import CancelAllOrders, ClosePosition, LockOut, RaiseAlert, ResetRequested, RiskEngine, Scope
from riskguard.core.actions import Action, AlertLevel
from riskguard.core.decisions import Allow, Deny
from riskguard.core.errors import InvalidInput
from riskguard.core.rules.trailing_max_loss import MllState, TrailingMaxLoss, TrailingMaxLossParams, mll_status
from riskguard.testing.factories import MNQ, make_fill
from tests.unit.rules._view import account, make_view, order

D = Decimal
# T0 is Friday 2026-03-06 14:30 UTC = 08:30 Chicago (CST, UTC-6): the trading day ends 16:00 CST = 22:00 UTC.
FRI_MORNING = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
FRI_LAST = datetime(2026, 3, 6, 21, 59, tzinfo=UTC)
FRI_CLOSE = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)
MON = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)  # CDT from 2026-03-08: the day ends 16:00 CDT = 21:00 UTC


def rule() -> TrailingMaxLoss:
    return TrailingMaxLoss(TrailingMaxLossParams(max_loss=D(2000), starting_balance=D(50000)))


def feed(
    the_rule: TrailingMaxLoss, state: MllState, balance: str, equity: str, now: datetime, *, holding: bool = False
) -> tuple[MllState, Sequence[Action]]:
    """One account update of A1 at `now`; with `holding`, 1 MNQ is open."""
    snapshot = account(balance=balance, equity=equity, ts=now)
    fills = [make_fill("f1", "buy", "1", "18000.00")] if holding else []
    view = make_view(now, fills=fills, accounts=[snapshot])
    return the_rule.react(snapshot, view, state)


def test_mll_when_equity_just_above_the_level_then_nothing() -> None:
    # Arrange: start 50,000, MLL 2,000: level 48,000
    the_rule = rule()
    # Act
    state, actions = feed(the_rule, the_rule.initial_state(), "50000", "48000.01", FRI_MORNING)
    # Assert
    assert list(actions) == []
    assert isinstance(the_rule.check(order(), make_view(FRI_MORNING), state), Allow)
    assert mll_status(state, "A1")["mll_level"] == D("48000")


def test_mll_when_equity_touches_the_level_then_alert_close_cancel_and_latched_lock() -> None:
    # Arrange
    the_rule = rule()
    # Act: equity 48,000.00 = 50,000 − 2,000: touching counts
    state, actions = feed(the_rule, the_rule.initial_state(), "50000", "48000", FRI_MORNING, holding=True)
    # Assert
    reason = (
        "Maximum Loss Limit: equity 48000.00 USD on A1 reached the 48000.00 USD level (EOD high 50000.00 USD − "
        "2000.00 USD, at most the starting balance); positions are closed, orders cancelled and new risk refused "
        "until an operator resets it"
    )
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert all(a.reason == reason for a in actions)
    alert, close, _, lock = actions
    assert isinstance(alert, RaiseAlert)
    assert alert.level is AlertLevel.CRITICAL
    assert isinstance(close, ClosePosition)
    assert (close.account, close.symbol) == ("A1", "MNQ")
    assert isinstance(lock, LockOut)
    assert (lock.scope, lock.until) == (Scope(account="A1"), None)
    verdict = the_rule.check(order(), make_view(FRI_MORNING), state)
    assert isinstance(verdict, Deny)
    assert verdict.code == "trailing_max_loss"


def test_mll_when_equity_falls_past_the_level_then_breaches_once() -> None:
    # Arrange: 47,999.00 is 1.00 under the 48,000 level
    the_rule = rule()
    state, first = feed(the_rule, the_rule.initial_state(), "50000", "47999", FRI_MORNING)
    # Act: the next update, lower still
    _, second = feed(the_rule, state, "49000", "47000", FRI_LAST)
    # Assert
    assert first[0].reason.startswith("Maximum Loss Limit: equity 47999.00 USD on A1 reached the 48000.00 USD level")
    assert list(second) == []


def test_mll_when_the_day_closes_higher_then_the_level_rises_to_the_close_minus_mll() -> None:
    # Arrange: Friday's balance peaks at 52,000 but the last update before 16:00 CT shows 51,500
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "52000", "52000", FRI_MORNING)
    state, _ = feed(the_rule, state, "51500", "51500", FRI_LAST)
    assert mll_status(state, "A1")["mll_level"] == D("48000")  # intraday highs do not move it
    # Act: Monday: EOD high 51,500, level 51,500 − 2,000 = 49,500
    state, above = feed(the_rule, state, "51500", "49500.01", MON)
    _, at_level = feed(the_rule, state, "51500", "49500", MON)
    # Assert
    assert list(above) == []
    assert mll_status(state, "A1") == {
        "mll_level": D("49500"),
        "eod_high": D("51500"),
        "equity": D("49500.01"),
        "trading_day": "2026-03-09",
        "breached": False,
    }
    assert at_level[0].reason.startswith(
        "Maximum Loss Limit: equity 49500.00 USD on A1 reached the 49500.00 USD level (EOD high 51500.00 USD"
    )


def test_mll_when_an_update_arrives_exactly_at_16_ct_then_it_belongs_to_the_next_day() -> None:
    # Arrange: 51,000 at 15:59 CT is Friday's close; 60,000 at 16:00 CT is the next day's first update
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "51000", "51000", FRI_LAST)
    # Act
    state, _ = feed(the_rule, state, "60000", "60000", FRI_CLOSE)
    # Assert: EOD high 51,000 (not 60,000): level 49,000
    assert (mll_status(state, "A1")["eod_high"], mll_status(state, "A1")["mll_level"]) == (D("51000"), D("49000"))


def test_mll_when_the_day_ends_after_spring_forward_then_the_close_is_at_21_utc() -> None:
    # Arrange: Monday 2026-03-09 is CDT (UTC-5): 16:00 CT is 21:00 UTC; 20:59 UTC is still Monday
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "50500", "50500", MON)
    state, _ = feed(the_rule, state, "51000", "51000", datetime(2026, 3, 9, 20, 59, tzinfo=UTC))
    # Act: the first update of Tuesday's trading day at 21:00 UTC
    state, _ = feed(the_rule, state, "51000", "51000", datetime(2026, 3, 9, 21, 0, tzinfo=UTC))
    # Assert: Monday closed at 51,000: level 49,000
    assert mll_status(state, "A1")["mll_level"] == D("49000")
    assert mll_status(state, "A1")["trading_day"] == "2026-03-10"


def test_mll_when_the_eod_high_passes_start_plus_mll_then_the_level_locks_at_the_starting_balance() -> None:
    # Arrange: Friday closes at 53,000: 53,000 − 2,000 = 51,000, capped at the 50,000 starting balance
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "53000", "53000", FRI_LAST)
    # Act
    state, above = feed(the_rule, state, "53000", "50000.01", MON)
    _, at_level = feed(the_rule, state, "53000", "50000", MON)
    # Assert
    assert mll_status(state, "A1")["mll_level"] == D("50000")
    assert list(above) == []
    assert at_level[0].reason.startswith("Maximum Loss Limit: equity 50000.00 USD on A1 reached the 50000.00 USD")


def test_mll_when_no_account_update_yet_then_new_risk_refused_as_account_unknown() -> None:
    the_rule = rule()
    verdict = the_rule.check(order(), make_view(accounts=[]), the_rule.initial_state())
    assert isinstance(verdict, Deny)
    assert verdict.code == "account_unknown"
    assert mll_status(the_rule.initial_state(), "A1")["mll_level"] is None


@pytest.mark.parametrize(("field", "value"), [("max_loss", "0"), ("starting_balance", "-1")])
def test_mll_when_amounts_not_positive_then_refused(field: str, value: str) -> None:
    params = {"max_loss": D(2000), "starting_balance": D(50000), field: D(value)}
    with pytest.raises(InvalidInput, match="must be a positive amount"):
        TrailingMaxLoss(TrailingMaxLossParams(max_loss=params["max_loss"], starting_balance=params["starting_balance"]))


def test_mll_through_the_engine_when_breached_then_entries_locked_exits_approved_until_reset() -> None:
    # Arrange: 1 MNQ long; equity falls to 47,950 (under the 48,000 level)
    engine = RiskEngine([rule()], [MNQ])
    engine.handle(account(balance="50000", ts=FRI_MORNING))
    engine.handle(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    actions = engine.handle(account(balance="50000", equity="47950", ts=datetime(2026, 3, 6, 14, 31, tzinfo=UTC)))
    # Act
    later = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # days later: the lock is latched
    entry = engine.check(order(ts=later))
    exit_order = engine.check(order("sell", "1", ts=later))
    engine.handle(ResetRequested("ops", "account reviewed", later))
    engine.handle(account(balance="50000", equity="49000", ts=later))
    after_reset = engine.check(order(ts=later))
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert (entry.approved, entry.reason_code) == (False, "locked_out")
    assert exit_order.approved
    assert after_reset.approved


def test_mll_headroom_when_equity_49_000_over_a_48_000_level_then_minus_1000_of_minus_2000() -> None:
    # Arrange: start 50,000, MLL 2,000: level 48,000; equity 49,000 is 1,000 below the 50,000 the level
    # trails by 2,000: 49,000 − 48,000 − 2,000 = -1000 of -2000 = 50 % used
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "50000", "49000", FRI_MORNING)
    # Act
    (row,) = the_rule.headroom(make_view(FRI_MORNING), state)
    # Assert
    assert (row.label, row.scope, row.value, row.limit, row.unit) == (
        "loss from the maximum loss limit",
        Scope(account="A1"),
        D(-1000),
        D(-2000),
        "USD",
    )
    assert (row.used_pct, row.remaining) == (D("50.0"), D(-1000))


def test_mll_headroom_when_the_eod_high_rose_to_51_000_then_measured_from_it_and_none_before_an_update() -> None:
    # Arrange: Friday closes at 51,000; Monday's first update raises the EOD high to 51,000, level 49,000;
    # equity 50,200: 50,200 − 49,000 − 2,000 = -800 of -2000 = 40 % used
    the_rule = rule()
    state, _ = feed(the_rule, the_rule.initial_state(), "51000", "51000", FRI_LAST)
    state, _ = feed(the_rule, state, "50200", "50200", MON)
    # Act
    (row,) = the_rule.headroom(make_view(MON), state)
    unknown = the_rule.headroom(make_view(MON), the_rule.initial_state())
    # Assert
    assert (row.scope, row.value, row.limit, row.unit, row.used_pct) == (
        Scope(account="A1"),
        D(-800),
        D(-2000),
        "USD",
        D("40.0"),
    )
    assert unknown == []
