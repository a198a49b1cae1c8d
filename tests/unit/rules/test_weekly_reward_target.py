"""WeeklyRewardTarget: 20 % of the week's starting equity realized puts the account in preservation
mode (an info alert once; orders need a stop risking at most 1 % of equity) until the week ends."""

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
    Fill,
    InvalidInput,
    Ledger,
    LockoutBook,
    RaiseAlert,
    RiskEngine,
    Scope,
    WorkingOrders,
)
from riskguard.core.events import Event, FillBooked
from riskguard.core.rules.weekly_reward_target import (
    AccountWeek,
    WeeklyRewardTarget,
    WeeklyRewardTargetParams,
    WeeklyRewardTargetState,
)
from riskguard.testing.factories import MNQ, T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, order

NAME = "weekly_reward_target"
CODE = "weekly_target_preservation"
D = Decimal
#: The week holding T0 (Friday 2026-03-06) began Sunday 2026-03-01 17:00 EST = 22:00 UTC.
WEEK_START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
#: It ends Sunday 2026-03-08 17:00 EDT (DST began at 02:00 that day) = 21:00 UTC.
WEEK_END = datetime(2026, 3, 8, 21, 0, tzinfo=UTC)


def rule(**params: object) -> WeeklyRewardTarget:
    return WeeklyRewardTarget(WeeklyRewardTargetParams(**params))  # type: ignore[arg-type]


class Desk:
    """The rule, its state, and a view whose ledger books the fills fed to the rule."""

    def __init__(self, the_rule: WeeklyRewardTarget | None = None, now: datetime = T0) -> None:
        self.rule = the_rule or rule()
        self.state: WeeklyRewardTargetState = self.rule.initial_state()
        self.accounts: dict[str, AccountSnapshot] = {}
        ledger = Ledger(INSTRUMENTS)
        self.view = AccountView(now, ledger, self.accounts, WorkingOrders(), ledger.instruments, LockoutBook(), {})
        self.count = 0

    def at(self, ts: datetime) -> Desk:
        self.view.now = ts
        return self

    def feed(self, event: Event) -> list[Action]:
        self.state, actions = self.rule.react(event, self.view, self.state)
        return list(actions)

    def snapshot(self, equity: str, currency: str = "USD", account_id: str = "A1") -> list[Action]:
        snapshot = AccountSnapshot(account_id, D(equity), D(equity), self.view.now, currency=currency)
        self.accounts[account_id] = snapshot
        return self.feed(snapshot)

    def fill(self, side: str, price: str, *, qty: str = "1", fee: str = "0", symbol: str = "MNQ") -> list[Action]:
        self.count += 1
        fill = Fill(f"f{self.count}", f"o{self.count}", "A1", "s1", symbol, side, qty, price, self.view.now, fee)  # type: ignore[arg-type]
        return self.feed(FillBooked(fill, self.view.ledger.apply(fill)))

    def round_trip(self, exit_price: str, *, fee: str = "1.25") -> list[Action]:
        """Buy 1 MNQ at 18000.00 and sell it at `exit_price` (2 USD a point), `fee` on each fill."""
        assert self.fill("buy", "18000.00", fee=fee) == []
        return self.fill("sell", exit_price, fee=fee)

    def week(self, account_id: str = "A1") -> AccountWeek:
        return self.state.accounts[account_id]

    def check(self, **fields: object) -> object:
        return self.rule.check(order(ts=self.view.now, **fields), self.view, self.state)  # type: ignore[arg-type]


def reached(equity: str = "10000") -> Desk:
    """Equity 10000 USD at the week's first snapshot: the 20 % target is 2000.00 USD, reached by
    (19001.25 - 18000.00) x 2 = 2002.50 minus 1.25 + 1.25 fees = 2000.00."""
    desk = Desk()
    desk.snapshot(equity)
    desk.round_trip("19001.25")
    return desk


REACHED = (
    "Weekly target reached on A1: realized 2000.00 USD this week is 20.00 % of the 10000.00 USD it started with "
    "(target 20.00 %); preservation mode until 2026-03-08 17:00 America/New_York: new orders need a stop_loss "
    "risking at most 1.00 % of equity"
)


# -- params --------------------------------------------------------------------------------------


def test_params_when_defaults_then_seed_002s_twenty_percent_sunday_17_new_york_one_percent_risk() -> None:
    # Arrange / Act
    params = WeeklyRewardTargetParams()
    # Assert
    assert (
        params.target_pct,
        params.preservation_risk_pct,
        params.reset_weekday,
        params.reset_time,
        params.timezone,
    ) == (D(20), D(1), "sunday", "17:00", "America/New_York")


@pytest.mark.parametrize(
    ("field", "value"), [("target_pct", D(0)), ("preservation_risk_pct", D(-1)), ("reset_weekday", "sundae")]
)
def test_params_when_invalid_then_the_rule_refuses_to_build(field: str, value: object) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        rule(**{field: value})


# -- the target ----------------------------------------------------------------------------------


def test_target_when_just_under_then_nothing() -> None:
    # Arrange
    desk = Desk()
    desk.snapshot("10000")
    # Act: (19001.00 - 18000.00) x 2 = 2002.00 - 2.50 fees = 1999.50, 0.50 short of 2000.00
    actions = desk.round_trip("19001.00")
    # Assert
    assert actions == []
    assert desk.week().weekly_pnl == {"USD": D("1999.50")}
    assert not desk.week().weekly_target_reached
    assert desk.check() == ALLOW


def test_target_when_reached_exactly_then_one_info_alert_and_preservation_mode() -> None:
    # Arrange / Act: 2000.00 net of fees = exactly 20 % of 10000.00
    desk = Desk()
    desk.snapshot("10000")
    actions = desk.round_trip("19001.25")
    # Assert
    assert actions == [RaiseAlert(rule=NAME, reason=REACHED, level=AlertLevel.INFO, account="A1")]
    assert desk.week() == AccountWeek(
        week_start=WEEK_START,
        start_equity=D("10000"),
        currency="USD",
        weekly_pnl={"USD": D("2000.00")},
        weekly_target_reached=True,
        reached_at=T0,
    )


def test_target_when_passed_then_the_alert_gives_the_measured_percent() -> None:
    # Arrange
    desk = Desk()
    desk.snapshot("10000")
    # Act: (19100 - 18000) x 2 = 2200.00 - 2.50 = 2197.50 = 21.975 %, shown half-even as 21.98 %
    actions = desk.round_trip("19100.00")
    # Assert
    assert actions[0].reason.startswith("Weekly target reached on A1: realized 2197.50 USD this week is 21.98 % of")


def test_target_when_reached_then_later_wins_and_losses_do_not_alert_again_nor_end_the_mode() -> None:
    # Arrange
    desk = reached()
    # Act: another win, then a loss that takes the week back under 20 %
    win = desk.round_trip("18100.00")
    loss = desk.round_trip("17000.00")
    # Assert
    assert (win, loss) == ([], [])
    assert desk.week().weekly_target_reached
    assert desk.check().code == CODE  # type: ignore[attr-defined]


def test_target_when_a_gain_is_booked_before_the_weeks_first_snapshot_then_it_is_reached_at_the_snapshot() -> None:
    # Arrange: 2000.00 realized, no snapshot yet this week
    desk = Desk()
    desk.round_trip("19001.25")
    # Act
    actions = desk.snapshot("10000")
    # Assert
    assert actions == [RaiseAlert(rule=NAME, reason=REACHED, level=AlertLevel.INFO, account="A1")]


def test_target_when_later_snapshots_arrive_then_the_first_of_the_week_stays_the_base() -> None:
    # Arrange
    desk = Desk()
    desk.snapshot("10000")
    # Act: equity 12000 later in the week would make the target 2400
    desk.snapshot("12000")
    actions = desk.round_trip("19001.25")
    # Assert
    assert desk.week().start_equity == D("10000")
    assert actions[0].reason == REACHED


def test_target_when_the_gain_is_in_another_currency_then_it_does_not_count() -> None:
    # Arrange: a USD account; BTC-PERP realizes 3000.0 USDC
    desk = Desk()
    desk.snapshot("10000")
    desk.fill("buy", "60000.0", symbol="BTC-PERP")
    # Act
    actions = desk.fill("sell", "63000.0", symbol="BTC-PERP")
    # Assert
    assert actions == []
    assert desk.week().weekly_pnl == {"USDC": D("3000.0")}
    assert not desk.week().weekly_target_reached


# -- preservation mode at the gate ---------------------------------------------------------------


def test_preservation_when_an_order_has_no_stop_loss_then_refused() -> None:
    # Arrange
    desk = reached()
    # Act
    verdict = desk.check()
    # Assert
    assert verdict.code == CODE  # type: ignore[attr-defined]
    assert verdict.message == (  # type: ignore[attr-defined]
        "A1 reached its weekly target and is in preservation mode until 2026-03-08 17:00 America/New_York: "
        "orders must carry a stop_loss risking at most 1.00 % of equity; refused"
    )


def test_preservation_when_the_risk_to_the_stop_is_exactly_one_percent_then_allowed() -> None:
    # Arrange: latest equity 12000.00: 1 % = 120.00
    desk = reached()
    desk.snapshot("12000")
    # Act: (18000.00 - 17970.00) x 2 contracts x 2 USD = 120.00
    verdict = desk.check(qty="2", stop_loss="17970.00")
    # Assert
    assert verdict == ALLOW


def test_preservation_when_the_risk_to_the_stop_is_over_one_percent_then_refused() -> None:
    # Arrange
    desk = reached()
    desk.snapshot("12000")
    # Act: (18000.00 - 17969.75) x 2 x 2 = 121.00 > 120.00
    verdict = desk.check(qty="2", stop_loss="17969.75")
    # Assert
    assert verdict.code == CODE  # type: ignore[attr-defined]
    assert verdict.message.endswith(  # type: ignore[attr-defined]
        "the order risks 121.00 USD to its stop, over 1.00 % of equity (120.00 USD of 12000.00 USD); refused"
    )


def test_preservation_when_a_market_order_has_no_price_and_no_mark_then_price_unknown() -> None:
    # Arrange
    desk = reached()
    # Act
    verdict = desk.check(order_type="market", price=None, stop_loss="17970.00")
    # Assert
    assert verdict.code == "price_unknown"  # type: ignore[attr-defined]


def test_preservation_when_the_instrument_is_in_another_currency_than_equity_then_currency_mismatch() -> None:
    # Arrange
    desk = reached()
    # Act
    verdict = desk.check(symbol="BTC-PERP", price="60000.0", stop_loss="59000.0")
    # Assert
    assert verdict.code == "currency_mismatch"  # type: ignore[attr-defined]


def test_preservation_when_another_account_then_it_is_not_affected() -> None:
    # Arrange: A2 has its own week with nothing realized
    desk = reached()
    desk.snapshot("10000", account_id="A2")
    # Act
    verdict = desk.check(account_id="A2")
    # Assert
    assert verdict == ALLOW


# -- week rollover, across DST -------------------------------------------------------------------


def test_week_when_it_rolls_over_after_spring_forward_then_preservation_ends_at_21_utc() -> None:
    # Arrange: reached Friday 2026-03-06; the week ends Sunday 2026-03-08 17:00 EDT = 21:00 UTC
    desk = reached()
    # Act
    last_second = desk.at(WEEK_END - timedelta(seconds=1)).check()
    new_week = desk.at(WEEK_END).check()
    # Assert: the new week has no snapshot but no gain either, so nothing is refused
    assert last_second.code == CODE  # type: ignore[attr-defined]
    assert new_week == ALLOW
    assert desk.rule.week(desk.state, "A1", desk.view) == AccountWeek(week_start=WEEK_END)


def test_week_when_it_rolls_over_after_fall_back_then_the_boundary_is_22_utc() -> None:
    # Arrange: the week from Sunday 2026-10-25 17:00 EDT (21:00 UTC) ends Sunday 2026-11-01 17:00 EST (22:00 UTC)
    desk = Desk(now=datetime(2026, 10, 30, 14, 0, tzinfo=UTC))
    desk.snapshot("10000")
    desk.round_trip("19001.25")
    end = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
    # Act
    last_second = desk.at(end - timedelta(seconds=1)).check()
    new_week = desk.at(end).check()
    # Assert
    assert desk.week().week_start == datetime(2026, 10, 25, 21, 0, tzinfo=UTC)
    assert "until 2026-11-01 17:00 America/New_York" in last_second.message  # type: ignore[attr-defined]
    assert (last_second.code, new_week) == (CODE, ALLOW)  # type: ignore[attr-defined]


def test_week_when_crypto_resets_monday_midnight_utc_then_the_week_ends_then() -> None:
    # Arrange: Monday 00:00 UTC weeks; reached Sunday 2026-03-08 23:00 UTC
    desk = Desk(
        rule(reset_weekday="monday", reset_time="00:00", timezone="UTC"), datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    )
    desk.snapshot("10000")
    actions = desk.round_trip("19001.25")
    monday = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    # Act
    new_week = desk.at(monday).check()
    # Assert
    assert desk.week().week_start == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert "preservation mode until 2026-03-09 00:00 UTC" in actions[0].reason
    assert new_week == ALLOW


def test_week_when_a_new_week_has_a_gain_but_no_snapshot_yet_then_weekly_equity_unknown() -> None:
    # Arrange: the new week (from 21:00 UTC Sunday) books +100.00 before any snapshot
    desk = Desk(now=WEEK_END + timedelta(hours=1))
    desk.round_trip("18050.00", fee="0")
    # Act
    verdict = desk.check()
    # Assert
    assert verdict.code == "weekly_equity_unknown"  # type: ignore[attr-defined]
    assert "since the week began (2026-03-08 17:00 America/New_York)" in verdict.message  # type: ignore[attr-defined]


def test_week_when_a_new_week_has_only_a_loss_and_no_snapshot_then_nothing_is_refused() -> None:
    # Arrange: -100.00, the target cannot have been reached
    desk = Desk(now=WEEK_END + timedelta(hours=1))
    desk.round_trip("17950.00", fee="0")
    # Act / Assert
    assert desk.check() == ALLOW


# -- through the engine --------------------------------------------------------------------------


def test_target_through_the_engine_when_reached_then_entries_without_stop_refused_and_exits_pass() -> None:
    # Arrange: s2 holds 1 MNQ from before; s1 makes the 2000.00 target
    engine = RiskEngine([rule()], [MNQ])
    engine.handle(AccountSnapshot("A1", D("10000"), D("10000"), T0))
    engine.handle(make_fill("h1", "buy", "1", "18000.00", strategy="s2"))
    engine.handle(make_fill("f1", "buy", "1", "18000.00", fee="1.25", seconds=1))
    actions = engine.handle(make_fill("f2", "sell", "1", "19001.25", fee="1.25", seconds=2))
    # Act
    entry = engine.check(order(order_id="o1", ts=T0 + timedelta(seconds=3)))
    protected = engine.check(order(order_id="o2", stop_loss="17940.00", ts=T0 + timedelta(seconds=4)))
    exit_ = engine.check(order("sell", order_id="o3", strategy="s2", ts=T0 + timedelta(seconds=5)))
    # Assert: (18000 - 17940) x 1 x 2 = 120.00 > 1 % of 10000 = 100.00
    assert [(a.name, a.level) for a in actions] == [("alert", AlertLevel.INFO)]  # type: ignore[attr-defined]
    assert (entry.approved, entry.reason_code, entry.rule) == (False, CODE, NAME)
    assert (protected.approved, protected.reason_code) == (False, CODE)
    assert exit_.approved
    assert exit_.message == "approved: the order only reduces a position"


# -- headroom ------------------------------------------------------------------------------------


def test_weekly_target_headroom_when_1000_realized_on_10_000_then_half_of_the_2000_target() -> None:
    # Arrange: 20 % of 10000 = 2000.00 USD target; (18501.25 - 18000.00) x 2 = 1002.50 − 2 x 1.25 fees = 1000.00
    desk = Desk()
    desk.snapshot("10000")
    desk.round_trip("18501.25")
    # Act
    (row,) = desk.rule.headroom(desk.view, desk.state)
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        NAME,
        "weekly realized profit toward target",
        Scope(account="A1"),
        D("1000.00"),
        D(2000),
        "USD",
    )
    assert (row.used_pct, row.remaining) == (D("50.0"), D(1000))


def test_weekly_target_headroom_when_no_snapshot_this_week_then_no_row() -> None:
    # Arrange: a realized gain, but no equity reported this week: the target cannot be measured
    desk = Desk()
    desk.round_trip("18501.25")
    # Act / Assert
    assert desk.rule.headroom(desk.view, desk.state) == []
