"""DailyRealizedLoss: reaching the limit flattens, cancels and locks until the next reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskguard.config import parse_config
from riskguard.core import CancelAllOrders, ClosePosition, LockOut, RaiseAlert, RiskEngine, Scope
from riskguard.core.actions import AlertLevel, EndLockout
from riskguard.core.decisions import Allow
from riskguard.core.errors import InvalidInput, RiskguardError
from riskguard.core.events import ClockTicked, FillBooked, ResetRequested
from riskguard.core.lockouts import Lockout
from riskguard.core.rules.base import Enforcement
from riskguard.core.rules.daily_realized_loss import (
    DailyRealizedLoss,
    DailyRealizedLossParams,
    StartBasis,
    daily_loss_status,
)
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


# -- seed 003's daily-loss halt: start_basis, manual_reset, block_entries, status fields --------------

LATE = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # Friday 20:00 UTC; the UTC day ends at 2026-03-07 00:00
MIDNIGHT = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)


def halt_rule(**changes: object) -> DailyRealizedLoss:
    """Seed 003's configuration: 5 % of the day's starting equity, UTC day, block entries, no manual reset."""
    settings: dict[str, object] = {
        "limit_pct": D("5"),
        "start_basis": StartBasis.EQUITY,
        "reset_time": "00:00",
        "timezone": "UTC",
        "on_breach": Enforcement.BLOCK_ENTRIES,
        "manual_reset": False,
    }
    settings.update(changes)
    return DailyRealizedLoss(DailyRealizedLossParams(**settings))  # type: ignore[arg-type]


def day_of(the_rule: DailyRealizedLoss, *closes: str):  # type: ignore[no-untyped-def]
    """At 20:00 UTC: an account update (balance 19,500, equity 20,000), 1 MNQ bought at 18000.00 per
    close and each sold at the given price (2 USD a point, no fees). Returns (state, actions, view)."""
    snapshot = account(balance="19500", equity="20000", ts=LATE)
    view = make_view(LATE, accounts=[snapshot])
    state, actions = the_rule.react(snapshot, view, the_rule.initial_state())
    produced = list(actions)
    for number, price in enumerate(closes, start=1):
        view.ledger.apply(make_fill(f"b{number}", "buy", "1", "18000.00", seconds=5 * 3600 + 30))
        closing = make_fill(f"s{number}", "sell", "1", price, seconds=5 * 3600 + 31)
        state, actions = the_rule.react(FillBooked(closing, view.ledger.apply(closing)), view, state)
        produced.extend(actions)
    return state, produced, view


def test_daily_loss_when_start_basis_is_equity_then_999_50_of_a_1000_limit_passes() -> None:
    # Arrange / Act: 5 % of the starting equity 20,000.00 is 1,000.00;
    # (17500.25 - 18000.00) x 1 x 2 = -999.50, 0.50 short of it
    the_rule = halt_rule()
    state, actions, view = day_of(the_rule, "17500.25")
    # Assert
    assert actions == []
    assert isinstance(the_rule.check(order(ts=LATE), view, state), Allow)


def test_daily_loss_when_start_basis_is_equity_and_1000_00_is_lost_then_entries_are_blocked_until_utc_midnight() -> (
    None
):
    # Arrange / Act: -999.50, then (17999.75 - 18000.00) x 2 = -0.50: -1000.00, exactly 5 % of 20,000.00
    the_rule = halt_rule()
    state, actions, view = day_of(the_rule, "17500.25", "17999.75")
    # Assert: block_entries is an alert and a lock only: nothing closed, nothing cancelled
    reason = (
        "Daily realized loss -1000.00 USD reached the -1000.00 USD limit (5.00 % of the day's starting equity "
        "20000.00 USD) on A1; new risk is refused until 2026-03-07 00:00 UTC"
    )
    assert [type(a) for a in actions] == [RaiseAlert, LockOut]
    assert all(a.reason == reason for a in actions)
    assert "closed" not in reason
    lock = actions[1]
    assert isinstance(lock, LockOut)
    assert (lock.scope, lock.until) == (Scope(account="A1"), MIDNIGHT)
    verdict = the_rule.check(order(ts=LATE), view, state)
    assert (verdict.code, verdict.message) == ("daily_loss_limit", reason)  # type: ignore[union-attr]


def test_daily_loss_when_start_basis_is_balance_then_the_same_999_50_breaches_5_pct_of_19500() -> None:
    # Arrange / Act: 5 % of the starting balance 19,500.00 is 975.00; -999.50 is past it
    the_rule = halt_rule(start_basis=StartBasis.BALANCE)
    _, actions, _ = day_of(the_rule, "17500.25")
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, LockOut]
    assert actions[0].reason.startswith(
        "Daily realized loss -999.50 USD reached the -975.00 USD limit (5.00 % of the day's starting balance "
        "19500.00 USD) on A1"
    )


def test_daily_loss_when_start_basis_is_left_out_then_it_is_the_balance() -> None:
    assert DailyRealizedLossParams().start_basis is StartBasis.BALANCE
    assert DailyRealizedLossParams().manual_reset is True


def test_daily_loss_when_only_a_pct_of_equity_and_no_update_yet_then_refuses_naming_equity() -> None:
    the_rule = halt_rule()
    verdict = the_rule.check(order(), make_view(accounts=[]), the_rule.initial_state())
    assert verdict.code == "daily_loss_limit"  # type: ignore[union-attr]
    assert verdict.message == (  # type: ignore[union-attr]
        "the daily loss limit is 5.00 % of the day's starting equity, and no equity has been reported for A1 today"
    )


def test_daily_loss_when_the_start_value_arrives_after_the_loss_then_the_breach_fires_then() -> None:
    # Arrange: -1000.00 realized before the day's first account update (no limit known yet)
    the_rule = halt_rule()
    view = make_view(LATE, accounts=[])
    view.ledger.apply(make_fill("b1", "buy", "1", "18000.00", seconds=5 * 3600 + 30))
    closing = make_fill("s1", "sell", "1", "17500.00", seconds=5 * 3600 + 31)  # -500.00 points x 2
    state, before = the_rule.react(FillBooked(closing, view.ledger.apply(closing)), view, the_rule.initial_state())
    # Act: equity 20,000.00 arrives: 5 % is 1,000.00, already reached
    snapshot = account(balance="19500", equity="20000", ts=LATE)
    state, actions = the_rule.react(snapshot, make_view(LATE, accounts=[snapshot]), state)
    # Assert
    assert list(before) == []
    assert [type(a) for a in actions] == [RaiseAlert, LockOut]
    assert actions[0].reason.startswith("Daily realized loss -1000.00 USD reached the -1000.00 USD limit")


@pytest.mark.parametrize("pct", ["0", "-2", "100.01"])
def test_daily_loss_when_limit_pct_is_not_over_0_and_at_most_100_then_refused(pct: str) -> None:
    with pytest.raises(InvalidInput, match="limit_pct"):
        DailyRealizedLoss(DailyRealizedLossParams(limit_pct=D(pct)))


@pytest.mark.parametrize("pct", ["0.01", "0.5", "10", "100"])
def test_daily_loss_when_limit_pct_is_in_range_then_accepted(pct: str) -> None:
    assert DailyRealizedLoss(DailyRealizedLossParams(limit_pct=D(pct))).params.limit_pct == D(pct)


def test_daily_loss_when_latched_without_manual_reset_then_refused_as_it_could_never_end() -> None:
    with pytest.raises(InvalidInput, match="manual_reset"):
        DailyRealizedLoss(DailyRealizedLossParams(limit=D("-500"), latch=True, manual_reset=False))


def test_daily_loss_when_config_has_limit_pct_0_then_the_loader_names_the_key() -> None:
    with pytest.raises(RiskguardError, match=r"rules\.daily_realized_loss\.limit_pct"):
        parse_config("rules:\n  daily_realized_loss: {limit_pct: 0}\n", env={})


def test_daily_loss_when_seed_003_config_is_loaded_then_every_option_is_read() -> None:
    config = parse_config(
        'rules:\n  daily_realized_loss: {limit_pct: 5, start_basis: equity, reset_time: "00:00", '
        'timezone: "UTC", on_breach: block_entries, manual_reset: false}\n',
        env={},
    )
    params = config.params("daily_realized_loss")
    assert params == DailyRealizedLossParams(
        limit_pct=D("5"),
        start_basis=StartBasis.EQUITY,
        reset_time="00:00",
        timezone="UTC",
        on_breach=Enforcement.BLOCK_ENTRIES,
        manual_reset=False,
    )


def test_daily_loss_when_manual_reset_is_false_then_refuses_reset_until_the_lock_ends() -> None:
    # Arrange
    the_rule = halt_rule()
    state, actions, view = day_of(the_rule, "17500.00")  # -1000.00
    lock = actions[1]
    assert isinstance(lock, LockOut)
    lockout = Lockout(lock.scope, the_rule.name, lock.reason, LATE, lock.until)
    # Act
    refusal = the_rule.refuses_reset(view, state, lockout)
    at_midnight = the_rule.refuses_reset(make_view(MIDNIGHT), state, lockout)
    # Assert
    assert refusal == (
        "the daily loss lock on account A1 clears by itself at 2026-03-07 00:00 UTC, the start of the next "
        "trading day; it has no manual reset (manual_reset: false)"
    )
    assert at_midnight is None
    assert halt_rule(manual_reset=True).refuses_reset(view, state, lockout) is None


def test_daily_loss_status_when_the_day_breaches_and_rolls_over_then_seed_003_fields_follow() -> None:
    # Arrange
    the_rule = halt_rule()
    quiet, _, view = day_of(the_rule, "17500.25")  # -999.50
    halted, _, _ = day_of(the_rule, "17500.25", "17999.75")  # -1000.00
    # Act
    below = daily_loss_status(the_rule, quiet, "A1", view)
    breached = daily_loss_status(the_rule, halted, "A1", view)
    next_day = daily_loss_status(the_rule, halted, "A1", make_view(MIDNIGHT))
    # Assert
    assert below == {
        "daily_loss_halt": False,
        "daily_start_equity": D("20000"),
        "daily_date": "2026-03-06",
        "daily_realized_pnl": D("-999.50"),
    }
    assert breached == {
        "daily_loss_halt": True,
        "daily_start_equity": D("20000"),
        "daily_date": "2026-03-06",
        "daily_realized_pnl": D("-1000.00"),
    }
    assert next_day == {
        "daily_loss_halt": False,
        "daily_start_equity": None,
        "daily_date": "2026-03-07",
        "daily_realized_pnl": D("0"),
    }


def halted_engine(**changes: object) -> RiskEngine:
    """Seed 003's halt through the engine: equity 20,000, 1 MNQ still held, -1000.00 realized by 20:00:02."""
    engine = RiskEngine([halt_rule(**changes)], [MNQ])
    engine.handle(account(balance="19500", equity="20000", ts=LATE))
    engine.handle(make_fill("f1", "buy", "2", "18000.00", seconds=5 * 3600 + 30 + 1))
    engine.handle(make_fill("f2", "sell", "1", "17500.00", seconds=5 * 3600 + 30 + 2))  # -500 points x 2
    return engine


def test_daily_loss_through_the_engine_when_manual_reset_is_false_then_the_reset_is_refused_and_the_lock_stays() -> (
    None
):
    # Arrange
    engine = halted_engine()
    # Act
    actions = engine.handle(ResetRequested("ops", "want to trade", LATE + timedelta(minutes=5)))
    entry = engine.check(order(ts=LATE + timedelta(minutes=6)))
    exit_order = engine.check(order("sell", "1", ts=LATE + timedelta(minutes=6)))
    # Assert
    assert [(type(a), a.rule) for a in actions] == [(RaiseAlert, "daily_realized_loss")]
    alert = actions[0]
    assert isinstance(alert, RaiseAlert)
    assert alert.level is AlertLevel.WARNING
    assert alert.reason == (
        "reset refused: the daily loss lock on account A1 clears by itself at 2026-03-07 00:00 UTC, the start "
        "of the next trading day; it has no manual reset (manual_reset: false)"
    )
    assert [lock.rule for lock in engine.lockouts.all()] == ["daily_realized_loss"]
    assert (entry.approved, entry.reason_code) == (False, "locked_out")
    assert exit_order.approved


def test_daily_loss_through_the_engine_when_manual_reset_is_true_then_the_reset_ends_the_lock() -> None:
    # Arrange
    engine = halted_engine(manual_reset=True)
    # Act
    actions = engine.handle(ResetRequested("ops", "reviewed", LATE + timedelta(minutes=5)))
    entry = engine.check(order(ts=LATE + timedelta(minutes=6)))
    # Assert: the lockout is gone; the rule's own gate still counts the day's -1000.00 until midnight
    assert [(type(a), a.rule) for a in actions] == [(EndLockout, "daily_realized_loss")]
    assert engine.lockouts.all() == []
    assert (entry.approved, entry.reason_code) == (False, "daily_loss_limit")


def test_daily_loss_through_the_engine_when_utc_midnight_comes_then_the_halt_clears_by_itself() -> None:
    # Arrange
    engine = halted_engine()
    last_second = engine.check(order(ts=MIDNIGHT - timedelta(seconds=1)))
    # Act
    deadline = engine.next_deadline()
    actions = engine.handle(ClockTicked(MIDNIGHT))
    engine.handle(account(balance="19000", equity="19100", ts=MIDNIGHT))  # the new day's start value
    first_second = engine.check(order(ts=MIDNIGHT))
    # Assert
    assert (last_second.approved, last_second.reason_code) == (False, "locked_out")
    assert deadline == MIDNIGHT
    assert [(type(a), a.rule) for a in actions] == [(EndLockout, "daily_realized_loss")]
    assert first_second.approved
    assert engine.next_deadline() is None


def test_daily_loss_headroom_when_160_points_lost_then_minus_320_of_minus_500_is_64_pct() -> None:
    # Arrange: 1 MNQ bought at 18000.00 and sold 160 points lower: -160 x 2 = -320.00 USD
    state, _, view = lose(rule(), "160.00")
    # Act
    (row,) = rule().headroom(view, state)
    # Assert: the trader CLI's example line, "daily realized loss: -320 / -500 USD, 64 %"
    assert (row.label, row.scope, row.value, row.limit, row.unit) == (
        "daily realized loss",
        Scope(account="A1"),
        D("-320.00"),
        D(-500),
        "USD",
    )
    assert row.used_pct == D("64.0")


def test_daily_loss_headroom_when_only_a_pct_limit_and_no_start_value_then_nothing_to_measure() -> None:
    view = make_view(accounts=[])
    assert rule(None, "2").headroom(view, rule(None, "2").initial_state()) == []
