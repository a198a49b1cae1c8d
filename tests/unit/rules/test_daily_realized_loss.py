"""DailyRealizedLoss: reaching the limit flattens, cancels and locks until the next reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core import CancelAllOrders, ClosePosition, LockOut, RaiseAlert, RiskEngine, Scope
from riskguard.core.decisions import Allow
from riskguard.core.events import FillBooked
from riskguard.core.rules.daily_realized_loss import DailyRealizedLoss, DailyRealizedLossParams
from riskguard.testing.factories import MNQ, make_fill
from tests.unit.rules._view import account, at, make_view, order

D = Decimal


def rule(limit: str | None = "-500", limit_pct: str | None = None) -> DailyRealizedLoss:
    return DailyRealizedLoss(
        DailyRealizedLossParams(
            limit=None if limit is None else D(limit), limit_pct=None if limit_pct is None else D(limit_pct)
        )
    )


def lose(the_rule: DailyRealizedLoss, points: str, *, held: str = "0", now: datetime | None = None):  # type: ignore[no-untyped-def]
    """Open 1 MNQ at 18000.00 and close it `points` lower (2 USD a point, no fees); with `held`
    contracts of another strategy still open. Returns (state, actions, view)."""
    fills = [make_fill("f1", "buy", "1", "18000.00")]
    if held != "0":
        fills.append(make_fill("h1", "buy", held, "18000.00", strategy="s2"))
    view = make_view(now or at(1), fills=fills)
    closing = make_fill("f2", "sell", "1", str(D("18000.00") - D(points)), seconds=1)
    applied = view.ledger.apply(closing)
    return (*the_rule.react(FillBooked(closing, applied), view, the_rule.initial_state()), view)


def test_daily_loss_when_just_under_the_limit_then_nothing() -> None:
    # -249.75 points x 2 = -499.50 USD, 0.50 short of -500
    state, actions, view = lose(rule(), "249.75")
    assert list(actions) == []
    assert isinstance(rule().check(order(), view, state), Allow)


def test_daily_loss_when_the_limit_is_reached_exactly_then_flatten_cancel_and_lock_until_17_new_york() -> None:
    # Arrange / Act: -250 points x 2 = -500.00 USD, exactly the limit; another strategy holds 2
    state, actions, view = lose(rule(), "250.00", held="2")
    # Assert
    reason = "Daily realized loss -500.00 USD reached the -500.00 USD limit on A1; locked out until 2026-03-06 17:00 America/New_York"
    assert [type(a) for a in actions] == [RaiseAlert, ClosePosition, CancelAllOrders, LockOut]
    assert all(a.reason == reason for a in actions)
    close, lock = actions[1], actions[3]
    assert (close.account, close.symbol) == ("A1", "MNQ")  # type: ignore[attr-defined]
    assert lock.scope == Scope(account="A1")  # type: ignore[attr-defined]
    assert lock.until == datetime(2026, 3, 6, 22, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    assert rule().check(order(), view, state).code == "daily_loss_limit"  # type: ignore[union-attr]


def test_daily_loss_when_already_breached_today_then_later_losses_do_not_fire_again() -> None:
    # Arrange
    the_rule = rule()
    state, _, view = lose(the_rule, "250.00")
    # Act: another losing round trip the same day
    view.ledger.apply(make_fill("f3", "buy", "1", "18000.00", seconds=2))
    closing = make_fill("f4", "sell", "1", "17990.00", seconds=3)
    _, actions = the_rule.react(FillBooked(closing, view.ledger.apply(closing)), view, state)
    # Assert
    assert list(actions) == []


def test_daily_loss_when_the_day_rolls_over_then_the_tally_starts_again() -> None:
    # Arrange: -500 on Friday
    the_rule = rule()
    state, _, _ = lose(the_rule, "250.00")
    # Act: the gate at Friday 17:00 New York (22:00 UTC), when the next trading day begins
    after_reset = make_view(datetime(2026, 3, 6, 22, 0, tzinfo=UTC))
    # Assert
    assert isinstance(the_rule.check(order(), after_reset, state), Allow)


def test_daily_loss_when_lock_is_set_after_spring_forward_then_it_ends_at_21_utc() -> None:
    # Monday 2026-03-09 is EDT (UTC-4): 17:00 New York is 21:00 UTC
    monday = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)
    _, actions, _ = lose(rule(), "300.00", now=monday)
    lock = actions[-1]
    assert isinstance(lock, LockOut)
    assert lock.until == datetime(2026, 3, 9, 21, 0, tzinfo=UTC)


def test_daily_loss_when_lock_is_set_after_fall_back_then_it_ends_at_22_utc() -> None:
    # Monday 2026-11-02 is EST again (UTC-5): 22:00 UTC; the Friday before (EDT) would be 21:00
    monday = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
    _, actions, _ = lose(rule(), "300.00", now=monday)
    assert actions[-1].until == datetime(2026, 11, 2, 22, 0, tzinfo=UTC)  # type: ignore[attr-defined]


def test_daily_loss_when_pct_limit_is_nearer_then_it_fires_first() -> None:
    # Arrange: balance 10,000 at the start of the day; 2 % is 200.00, nearer than 500.00
    the_rule = rule("-500", "2")
    view = make_view(at(0), accounts=[account(balance="10000")])
    state, _ = the_rule.react(account(balance="10000"), view, the_rule.initial_state())
    view.ledger.apply(make_fill("f1", "buy", "1", "18000.00"))
    closing = make_fill("f2", "sell", "1", "17900.00", seconds=1)  # -100 points x 2 = -200.00
    # Act
    _, actions = the_rule.react(FillBooked(closing, view.ledger.apply(closing)), view, state)
    # Assert
    assert actions[0].reason.startswith("Daily realized loss -200.00 USD reached the -200.00 USD limit")


def test_daily_loss_when_only_a_pct_limit_and_no_balance_yet_then_refuses_new_risk() -> None:
    view = make_view(accounts=[])
    verdict = rule(None, "2").check(order(), view, rule(None, "2").initial_state())
    assert verdict.code == "daily_loss_limit"  # type: ignore[union-attr]
    assert "no balance has been reported for A1 today" in verdict.message  # type: ignore[union-attr]


def test_daily_loss_through_the_engine_when_locked_then_the_lock_ends_at_the_reset() -> None:
    # Arrange
    engine = RiskEngine([rule("-100")], [MNQ])
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    engine.handle(make_fill("f2", "sell", "1", "17950.00", seconds=2))  # -100.00
    # Act
    refused = engine.check(order(ts=at(3)))
    engine.handle(account(ts=at(hours=7, minutes=30)))  # any event at 17:00 New York ends the lock
    allowed = engine.check(order(ts=at(hours=7, minutes=30) + timedelta(seconds=1)))
    # Assert
    assert (refused.approved, refused.reason_code) == (False, "locked_out")
    assert allowed.approved
