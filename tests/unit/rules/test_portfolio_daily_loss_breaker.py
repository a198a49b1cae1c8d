"""PortfolioDailyLossBreaker: 2 % of the portfolio's start-of-day equity closes everything, locks the
portfolio for the recovery (never past the market-close reset) and re-arms for a further 2 %."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskguard.core import (
    ALLOW,
    AccountSnapshot,
    AccountView,
    Action,
    AlertLevel,
    CancelAllOrders,
    ClockTicked,
    ClosePosition,
    Fill,
    InvalidInput,
    Ledger,
    LockOut,
    Lockout,
    LockoutBook,
    MarkUpdated,
    RaiseAlert,
    ResetRequested,
    RiskEngine,
    Scope,
    WorkingOrders,
)
from riskguard.core.events import Event, FillBooked
from riskguard.core.rules.portfolio_daily_loss_breaker import (
    AccountDay,
    PortfolioBreakerState,
    PortfolioDailyLossBreaker,
    PortfolioDailyLossBreakerParams,
)
from riskguard.testing.factories import ES, MNQ, T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, order

NAME = "portfolio_daily_loss_breaker"
D = Decimal


def rule(**params: object) -> PortfolioDailyLossBreaker:
    return PortfolioDailyLossBreaker(PortfolioDailyLossBreakerParams(**params))  # type: ignore[arg-type]


class Desk:
    """The rule, its state, and a view of two accounts whose ledger books what is fed to the rule."""

    def __init__(self, the_rule: PortfolioDailyLossBreaker | None = None, now: datetime = T0) -> None:
        self.rule = the_rule or rule()
        self.state: PortfolioBreakerState = self.rule.initial_state()
        self.accounts: dict[str, AccountSnapshot] = {}
        self.lockouts = LockoutBook()
        ledger = Ledger(INSTRUMENTS)
        self.view = AccountView(now, ledger, self.accounts, WorkingOrders(), ledger.instruments, self.lockouts, {})
        self.count = 0

    def at(self, ts: datetime) -> Desk:
        self.view.now = ts
        return self

    def feed(self, event: Event) -> list[Action]:
        self.state, actions = self.rule.react(event, self.view, self.state)
        return list(actions)

    def snapshot(self, account_id: str, equity: str, currency: str = "USD") -> list[Action]:
        snapshot = AccountSnapshot(account_id, D(equity), D(equity), self.view.now, currency=currency)
        self.accounts[account_id] = snapshot
        return self.feed(snapshot)

    def fill(self, account_id: str, symbol: str, side: str, price: str, *, fee: str = "0") -> list[Action]:
        self.count += 1
        fill = Fill(f"f{self.count}", f"o{self.count}", account_id, "s1", symbol, side, "1", price, self.view.now, fee)  # type: ignore[arg-type]
        return self.feed(FillBooked(fill, self.view.ledger.apply(fill)))

    def mark(self, symbol: str, price: str) -> list[Action]:
        self.view.ledger.mark(symbol, price, self.view.now)
        return self.feed(MarkUpdated(symbol, D(price), self.view.now))  # type: ignore[arg-type]

    def tick(self) -> list[Action]:
        return self.feed(ClockTicked(self.view.now))


def desk_at_minus_500(now: datetime = T0, the_rule: PortfolioDailyLossBreaker | None = None) -> Desk:
    """A1 (30000 USD) and A2 (20000 USD): 50000 USD start-of-day equity, 2 % = 1000.00 USD.
    A1 realizes -500.00 on MNQ: (17750.50 - 18000.00) x 2 = -499.00, minus 0.50 + 0.50 fees.
    A2 holds 1 ES bought at 5000.00, no mark yet."""
    desk = Desk(the_rule, now)
    desk.snapshot("A1", "30000")
    desk.snapshot("A2", "20000")
    assert desk.fill("A1", "MNQ", "buy", "18000.00", fee="0.50") == []
    assert desk.fill("A1", "MNQ", "sell", "17750.50", fee="0.50") == []
    assert desk.fill("A2", "ES", "buy", "5000.00") == []
    return desk


def reason_at(pnl: str, pct: str, until_local: str, ending: str = "the end of the 60 min recovery") -> str:
    return (
        f"Portfolio daily loss {pnl} USD ({pct} % of the 50000.00 USD start-of-day equity) reached the 2.00 % limit; "
        f"all positions are closed, orders cancelled and new risk refused until {until_local} America/New_York, {ending}"
    )


# -- params --------------------------------------------------------------------------------------


def test_params_when_defaults_then_seed_002s_two_percent_one_hour_16_new_york() -> None:
    # Arrange / Act
    params = PortfolioDailyLossBreakerParams()
    # Assert
    assert (params.max_daily_loss_pct, params.recovery_minutes, params.reset_time, params.timezone) == (
        D(2),
        60,
        "16:00",
        "America/New_York",
    )


@pytest.mark.parametrize(
    ("field", "value"), [("max_daily_loss_pct", D(0)), ("max_daily_loss_pct", D(101)), ("recovery_minutes", 0)]
)
def test_params_when_out_of_range_then_the_rule_refuses_to_build(field: str, value: object) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        rule(**{field: value})


# -- the threshold -------------------------------------------------------------------------------


def test_breaker_when_just_under_two_percent_then_nothing() -> None:
    # Arrange
    desk = desk_at_minus_500()
    # Act: ES at 4990.25: (4990.25 - 5000) x 50 = -487.50; -500.00 - 487.50 = -987.50, 12.50 short of -1000.00
    actions = desk.mark("ES", "4990.25")
    # Assert
    assert actions == []
    assert desk.rule.daily_pnl(desk.view, desk.state) == {"USD": D("-987.50")}
    assert not desk.state.tripped
    assert desk.rule.check(order(account_id="A2"), desk.view, desk.state) == ALLOW


def test_breaker_when_exactly_two_percent_then_alert_close_every_account_cancel_and_lock_the_portfolio() -> None:
    # Arrange
    desk = desk_at_minus_500()
    now = T0 + timedelta(minutes=10)
    # Act: ES at 4990.00: -500.00 unrealized on A2 + -500.00 realized on A1 = -1000.00 = -2.00 % of 50000.00
    actions = desk.at(now).mark("ES", "4990.00")
    # Assert: 14:40 UTC + 60 min = 15:40 UTC = 10:40 New York (EST), before the 16:00 reset
    reason = reason_at("-1000.00", "-2.00", "2026-03-06 10:40")
    until = datetime(2026, 3, 6, 15, 40, tzinfo=UTC)
    assert actions == [
        RaiseAlert(rule=NAME, reason=reason, level=AlertLevel.CRITICAL),
        CancelAllOrders(rule=NAME, reason=reason, account="A1"),
        ClosePosition(rule=NAME, reason=reason, account="A2", symbol="ES"),
        CancelAllOrders(rule=NAME, reason=reason, account="A2"),
        LockOut(rule=NAME, reason=reason, scope=Scope(), until=until),
    ]
    assert (desk.state.tripped, desk.state.tripped_at, desk.state.recovery_until) == (True, now, until)
    assert desk.state.trip_pnl == {"USD": D("-1000.00")}


def test_breaker_when_past_two_percent_then_it_trips_with_the_measured_loss() -> None:
    # Arrange
    desk = desk_at_minus_500()
    # Act: ES at 4989.00: -550.00 + -500.00 = -1050.00 = -2.10 %
    actions = desk.mark("ES", "4989.00")
    # Assert
    assert actions[0] == RaiseAlert(
        rule=NAME, reason=reason_at("-1050.00", "-2.10", "2026-03-06 10:30"), level=AlertLevel.CRITICAL
    )


def test_breaker_when_only_the_first_snapshot_of_the_day_counts_then_later_equity_does_not_move_the_base() -> None:
    # Arrange: A1 reports 30000, then 29000 (its loss shows in equity too, it must not count twice)
    desk = desk_at_minus_500()
    desk.snapshot("A1", "29000")
    # Act: -1000.00 is still 2 % of 50000, not of 49000
    actions = desk.mark("ES", "4990.00")
    # Assert
    assert desk.state.start_equity() == {"USD": D("50000")}
    assert "of the 50000.00 USD start-of-day equity" in actions[0].reason


def test_breaker_when_currencies_differ_then_each_is_measured_against_its_own_equity() -> None:
    # Arrange: A1 50000 USD, A3 10000 USDC; ES -900.00 USD is -1.80 %
    desk = Desk()
    desk.snapshot("A1", "50000")
    desk.snapshot("A3", "10000", "USDC")
    desk.fill("A1", "ES", "buy", "5000.00")
    desk.fill("A3", "BTC-PERP", "buy", "60000.0")
    desk.mark("ES", "4982.00")  # (4982 - 5000) x 50 = -900.00 USD
    # Act: BTC-PERP at 59800.1 is -199.90 USDC (-1.999 %), at 59800.0 -200.00 USDC (-2.00 % of 10000)
    under = desk.mark("BTC-PERP", "59800.1")
    at_limit = desk.mark("BTC-PERP", "59800.0")
    # Assert: USD and USDC are never added (-1100 of 60000 would be -1.83 %, not a breach either way)
    assert under == []
    assert desk.rule.daily_pnl(desk.view, desk.state) == {"USD": D("-900.00"), "USDC": D("-200.0")}
    assert at_limit[0].reason.startswith(
        "Portfolio daily loss -200.00 USDC (-2.00 % of the 10000.00 USDC start-of-day equity) reached the 2.00 % limit"
    )
    assert [type(a) for a in at_limit] == [
        RaiseAlert,
        ClosePosition,
        CancelAllOrders,
        ClosePosition,
        CancelAllOrders,
        LockOut,
    ]


# -- once per breach, the recovery, re-arming ----------------------------------------------------


def test_breaker_when_tripped_then_its_own_closes_and_later_marks_do_not_fire_again() -> None:
    # Arrange
    desk = desk_at_minus_500()
    desk.mark("ES", "4990.00")
    # Act: the close fills lower, and the market keeps falling
    closing = desk.fill("A2", "ES", "sell", "4985.00")
    lower = desk.mark("ES", "4900.00")
    # Assert
    assert (closing, lower) == ([], [])
    # -500.00 on A1 + (4985 - 5000) x 50 = -750.00 on A2; nothing open any more
    assert (desk.state.accounts["A1"].realized, desk.state.accounts["A2"].realized) == (
        {"USD": D("-500.00")},
        {"USD": D("-750.00")},
    )
    assert desk.rule.daily_pnl(desk.view, desk.state) == {"USD": D("-1250.00")}


def test_breaker_when_the_recovery_ends_then_it_re_arms_and_trips_only_two_percent_further_down() -> None:
    # Arrange: tripped at 14:30 at -1000.00; A2's ES closed at 4990.00, so -1000.00 realized
    desk = desk_at_minus_500()
    desk.mark("ES", "4990.00")
    desk.fill("A2", "ES", "sell", "4990.00")
    # Act: a tick at 15:30, the recovery's end; then A2 buys ES at 5000.00 again
    still = desk.at(T0 + timedelta(minutes=59, seconds=59)).tick()
    assert desk.state.tripped
    rearmed = desk.at(T0 + timedelta(minutes=60)).tick()
    desk.fill("A2", "ES", "buy", "5000.00")
    # -1000.00 + (4980.25 - 5000) x 50 = -1000.00 - 987.50 = -1987.50: 12.50 short of another 1000.00
    under = desk.mark("ES", "4980.25")
    # -1000.00 - 1000.00 = -2000.00: another 2 % of 50000 below the -1000.00 it tripped at
    again = desk.mark("ES", "4980.00")
    # Assert
    assert (still, rearmed, under) == ([], [], [])
    assert again[0].reason == (
        "Portfolio daily loss -2000.00 USD (-4.00 % of the 50000.00 USD start-of-day equity) fell another 2.00 % below "
        "the -1000.00 USD it last tripped at; all positions are closed, orders cancelled and new risk refused "
        "until 2026-03-06 11:30 America/New_York, the end of the 60 min recovery"
    )
    assert desk.state.trip_pnl == {"USD": D("-2000.00")}


def test_breaker_when_an_operator_clears_the_lockout_then_it_re_arms_at_once() -> None:
    # Arrange: tripped; the engine has already cleared the lockout (the book is empty) when the rule sees the reset
    desk = desk_at_minus_500()
    desk.mark("ES", "4990.00")
    # Act
    desk.at(T0 + timedelta(minutes=5)).feed(ResetRequested("ops", "reviewed", desk.view.now))
    # Assert: armed, the next deadline is the 16:00 EST reset (21:00 UTC)
    assert not desk.state.tripped
    assert desk.rule.next_deadline(desk.view, desk.state) == datetime(2026, 3, 6, 21, 0, tzinfo=UTC)


def test_breaker_when_the_lockout_is_still_held_then_a_reset_does_not_re_arm() -> None:
    # Arrange: a reset of one account does not clear the portfolio lockout
    desk = desk_at_minus_500()
    actions = desk.mark("ES", "4990.00")
    lock = actions[-1]
    assert isinstance(lock, LockOut)
    desk.lockouts.add(Lockout(lock.scope, NAME, lock.reason, T0, lock.until))
    # Act
    desk.feed(ResetRequested("ops", "reviewed", T0, Scope(account="A1")))
    # Assert
    assert desk.state.tripped
    assert desk.rule.next_deadline(desk.view, desk.state) == T0 + timedelta(minutes=60)


# -- the market-close reset, across DST -----------------------------------------------------------


def test_breaker_when_tripped_half_an_hour_before_the_close_then_the_lock_ends_at_the_close() -> None:
    # Arrange: Friday 2026-03-06 20:30 UTC = 15:30 EST; 60 min would run to 16:30
    desk = desk_at_minus_500(datetime(2026, 3, 6, 20, 30, tzinfo=UTC))
    # Act
    actions = desk.mark("ES", "4990.00")
    # Assert: the 16:00 EST reset, 21:00 UTC, ends it
    assert actions[-1] == LockOut(
        rule=NAME,
        reason=reason_at("-1000.00", "-2.00", "2026-03-06 16:00", "the market-close reset"),
        scope=Scope(),
        until=datetime(2026, 3, 6, 21, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("tripped", "until"),
    [
        # Sunday 2026-03-08, the spring-forward day (23 h): 15:30 EDT is 19:30 UTC, 16:00 EDT is 20:00 UTC
        (datetime(2026, 3, 8, 19, 30, tzinfo=UTC), datetime(2026, 3, 8, 20, 0, tzinfo=UTC)),
        # Monday 2026-03-09, EDT: the close is 20:00 UTC, an hour earlier than the Friday before
        (datetime(2026, 3, 9, 19, 30, tzinfo=UTC), datetime(2026, 3, 9, 20, 0, tzinfo=UTC)),
        # Friday 2026-10-30, still EDT: 20:00 UTC
        (datetime(2026, 10, 30, 19, 30, tzinfo=UTC), datetime(2026, 10, 30, 20, 0, tzinfo=UTC)),
        # Sunday 2026-11-01, the fall-back day (25 h): 15:30 EST is 20:30 UTC, 16:00 EST is 21:00 UTC
        (datetime(2026, 11, 1, 20, 30, tzinfo=UTC), datetime(2026, 11, 1, 21, 0, tzinfo=UTC)),
        # Monday 2026-11-02, EST: 21:00 UTC
        (datetime(2026, 11, 2, 20, 30, tzinfo=UTC), datetime(2026, 11, 2, 21, 0, tzinfo=UTC)),
    ],
)
def test_breaker_when_tripped_around_the_dst_changes_then_the_lock_ends_at_16_new_york(
    tripped: datetime, until: datetime
) -> None:
    # Arrange
    desk = desk_at_minus_500(tripped)
    # Act
    actions = desk.mark("ES", "4990.00")
    # Assert
    lock = actions[-1]
    assert isinstance(lock, LockOut)
    assert lock.until == until


def test_breaker_when_the_day_resets_at_the_close_then_it_starts_afresh_and_needs_a_new_snapshot() -> None:
    # Arrange: tripped Friday 20:30 UTC, locked until the 21:00 UTC (16:00 EST) reset
    desk = desk_at_minus_500(datetime(2026, 3, 6, 20, 30, tzinfo=UTC))
    desk.mark("ES", "4990.00")
    reset = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    # Act
    before_snapshot = desk.rule.check(order(account_id="A2", ts=reset), desk.at(reset).view, desk.state)
    desk.snapshot("A1", "29500")
    desk.snapshot("A2", "19500")
    # Assert: a new trading day (Saturday's, as the 16:00 reset counts it), nothing realized, not tripped
    assert before_snapshot.code == "portfolio_equity_unknown"  # type: ignore[union-attr]
    assert before_snapshot.message.startswith(  # type: ignore[union-attr]
        "no account update for A2 since the 2026-03-06 16:00 America/New_York reset"
    )
    # A2's ES, still open, carried -500.00 ((4990 - 5000) x 50) into the day
    assert desk.state.day == datetime(2026, 3, 7).date()
    assert (desk.state.tripped, desk.state.start_equity()) == (False, {"USD": D("49000")})
    assert desk.state.accounts == {
        "A2": AccountDay(start_equity=D("19500"), currency="USD", carried={"USD": D("-500.00")}),
        "A1": AccountDay(start_equity=D("29500"), currency="USD"),
    }
    assert desk.rule.daily_pnl(desk.view, desk.state) == {"USD": D("0.00")}
    assert desk.rule.check(order(account_id="A2", ts=reset), desk.view, desk.state) == ALLOW


def test_breaker_when_a_position_is_carried_over_the_reset_then_only_the_days_move_counts() -> None:
    # Arrange: A2 holds 1 ES from 5000.00, marked 4970.00 at Friday's 16:00 EST reset (-1500.00 carried)
    desk = Desk(now=datetime(2026, 3, 6, 20, 50, tzinfo=UTC))
    desk.fill("A2", "ES", "buy", "5000.00")
    desk.mark("ES", "4970.00")
    desk.at(datetime(2026, 3, 6, 21, 0, tzinfo=UTC)).tick()
    desk.snapshot("A1", "30000")
    desk.snapshot("A2", "18500")  # 48500 USD start-of-day equity: 2 % = 970.00
    # Act: the day's move only: (4960 - 4970) x 50 = -500.00 (-1.03 %), not -2000.00 (-4.12 %)
    first = desk.mark("ES", "4960.00")
    # -962.50 (4950.75) is 7.50 short; -975.00 (4950.50) is -2.01 %
    under = desk.mark("ES", "4950.75")
    tripped = desk.mark("ES", "4950.50")
    desk.fill("A2", "ES", "sell", "4950.00")  # realizes -2500.00 from the entry; -1000.00 of it today
    # Assert
    assert (first, under) == ([], [])
    assert tripped[0].reason.startswith(
        "Portfolio daily loss -975.00 USD (-2.01 % of the 48500.00 USD start-of-day equity) reached the 2.00 % limit"
    )
    assert desk.rule.daily_pnl(desk.view, desk.state) == {"USD": D("-1000.00")}


def test_breaker_when_an_account_has_no_snapshot_today_then_it_counts_from_its_first_one() -> None:
    # Arrange: A1 (50000) reported; A2 has not, and holds ES bought at 5000.00, now 4970.00 (-1500.00)
    desk = Desk()
    desk.snapshot("A1", "50000")
    desk.fill("A2", "ES", "buy", "5000.00")
    # Act: 0 of 50000 while A2 is not counted; then A2 reports 20000: -1500.00 of 70000 = -2.14 %
    uncounted = desk.mark("ES", "4970.00")
    refused = desk.rule.check(order(account_id="A2"), desk.view, desk.state)
    counted = desk.snapshot("A2", "20000")
    # Assert
    assert uncounted == []
    assert refused.code == "portfolio_equity_unknown"  # type: ignore[union-attr]
    assert counted[0].reason.startswith(
        "Portfolio daily loss -1500.00 USD (-2.14 % of the 70000.00 USD start-of-day equity) reached the 2.00 % limit"
    )


def test_deadline_when_no_event_seen_yet_then_none_and_after_one_the_next_reset() -> None:
    # Arrange: an engine that has seen nothing has no time yet (its clock is at 1970)
    desk = Desk()
    # Act
    before = desk.rule.next_deadline(desk.view, desk.state)
    desk.snapshot("A1", "50000")
    after = desk.rule.next_deadline(desk.view, desk.state)
    # Assert: Friday 2026-03-06 16:00 EST = 21:00 UTC, when the day starts afresh
    assert (before, after) == (None, datetime(2026, 3, 6, 21, 0, tzinfo=UTC))


# -- fail closed ---------------------------------------------------------------------------------


def test_gate_when_no_snapshot_today_then_portfolio_equity_unknown() -> None:
    # Arrange
    desk = Desk()
    # Act
    verdict = desk.rule.check(order(), desk.view, desk.state)
    # Assert
    assert verdict.code == "portfolio_equity_unknown"  # type: ignore[union-attr]


def test_gate_when_the_orders_currency_has_no_equity_today_then_portfolio_equity_unknown() -> None:
    # Arrange: only USD equity; BTC-PERP is valued in USDC
    desk = Desk()
    desk.snapshot("A1", "50000")
    # Act
    verdict = desk.rule.check(order(symbol="BTC-PERP", price="60000.0"), desk.view, desk.state)
    # Assert
    assert verdict.code == "portfolio_equity_unknown"  # type: ignore[union-attr]
    assert "no positive start-of-day equity in USDC" in verdict.message  # type: ignore[union-attr]


def test_gate_when_an_open_position_has_no_mark_then_price_unknown() -> None:
    # Arrange: A2's ES has never been marked
    desk = desk_at_minus_500()
    # Act
    verdict = desk.rule.check(order(account_id="A1"), desk.view, desk.state)
    # Assert
    assert verdict.code == "price_unknown"  # type: ignore[union-attr]
    assert verdict.message.startswith("no mark price for ES")  # type: ignore[union-attr]


# -- through the engine --------------------------------------------------------------------------


def test_breaker_through_the_engine_when_tripped_then_entries_refused_exits_pass_until_the_recovery_ends() -> None:
    # Arrange: the same -1000.00 USD on 50000 USD, tripped at 14:40 UTC
    engine = RiskEngine([rule()], [MNQ, ES])
    engine.handle(AccountSnapshot("A1", D("30000"), D("30000"), T0))
    engine.handle(AccountSnapshot("A2", D("20000"), D("20000"), T0))
    engine.handle(make_fill("f1", "buy", "1", "18000.00", fee="0.50", seconds=1))
    engine.handle(make_fill("f2", "sell", "1", "17750.50", fee="0.50", seconds=2))
    engine.handle(make_fill("f3", "buy", "1", "5000.00", symbol="ES", account="A2", seconds=3))
    tripped = T0 + timedelta(minutes=10)
    actions = engine.handle(MarkUpdated("ES", D("4990.00"), tripped))  # type: ignore[arg-type]
    # Act
    entry = engine.check(order(order_id="o1", ts=tripped + timedelta(seconds=1)))
    exit_ = engine.check(order("sell", order_id="o2", symbol="ES", price="4990.00", account_id="A2", ts=tripped))
    last_second = engine.check(order(order_id="o3", ts=tripped + timedelta(minutes=59, seconds=59)))
    after = engine.check(order(order_id="o4", ts=tripped + timedelta(minutes=60)))
    # Assert
    assert [a.name for a in actions] == [
        "alert",
        "cancel_all_orders",
        "close_position",
        "cancel_all_orders",
        "lock_out",
    ]
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "locked_out", NAME)
    assert exit_.approved
    assert exit_.message == "approved: the order only reduces a position"
    assert (last_second.approved, last_second.reason_code) == (False, "locked_out")
    assert after.approved


# -- headroom ------------------------------------------------------------------------------------


def test_portfolio_headroom_when_es_marked_5_points_down_then_minus_750_of_minus_1000_portfolio_wide() -> None:
    # Arrange: A1 realized -500.00; A2's ES unmarked (no row), then marked 4995.00: -5 x 50 = -250.00;
    # -750.00 of 2 % x 50000 = -1000 USD: 75 % used
    desk = desk_at_minus_500()
    unmarked = desk.rule.headroom(desk.view, desk.state)
    assert desk.mark("ES", "4995.00") == []
    # Act
    (row,) = desk.rule.headroom(desk.view, desk.state)
    # Assert
    assert unmarked == []
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        NAME,
        "portfolio daily loss",
        Scope(),
        D("-750.00"),
        D(-1000),
        "USD",
    )
    assert (row.used_pct, row.remaining) == (D("75.0"), D(-250))


def test_portfolio_headroom_when_tripped_at_minus_1000_then_measured_against_the_next_trip_at_minus_2000() -> None:
    # Arrange: ES marked 4990.00: -500 + -10 x 50 = -1000.00 trips; it trips again at -1000 − 1000 = -2000:
    # -1000 of -2000 = 50 % used
    desk = desk_at_minus_500()
    assert desk.mark("ES", "4990.00") != []
    # Act
    (row,) = desk.rule.headroom(desk.view, desk.state)
    # Assert
    assert (row.scope, row.value, row.limit, row.unit, row.used_pct) == (
        Scope(),
        D("-1000.00"),
        D(-2000),
        "USD",
        D("50.0"),
    )
