"""VenueErrorRate: more than 1 % of at least 20 venue calls in 5 minutes failing refuses new risk
across the portfolio for 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskguard.core import (
    AccountSnapshot,
    AccountView,
    Action,
    AlertLevel,
    ClockTicked,
    InvalidInput,
    Ledger,
    LockOut,
    LockoutBook,
    OrderStatus,
    OrderType,
    OrderUpdated,
    Price,
    Quantity,
    RaiseAlert,
    ResetRequested,
    RiskEngine,
    Scope,
    Side,
    WorkingOrders,
)
from riskguard.core.events import Event
from riskguard.core.rules.venue_error_rate import VenueErrorRate, VenueErrorRateParams, VenueErrorRateState
from riskguard.testing.factories import MNQ, T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, order

NAME = "venue_error_rate"
D = Decimal


def rule(**params: object) -> VenueErrorRate:
    return VenueErrorRate(VenueErrorRateParams(**params))  # type: ignore[arg-type]


def update(order_id: str, status: str, ts: datetime, *, reason: str = "", account_id: str = "A1") -> OrderUpdated:
    """The venue reports a buy 1 MNQ limit 18000 in `status`."""
    return OrderUpdated(
        order_id,
        account_id,
        "s1",
        "MNQ",
        Side.BUY,
        OrderType.LIMIT,
        OrderStatus(status),
        Quantity("1"),
        ts,
        price=Price("18000"),
        reason=reason,
    )


class Desk:
    def __init__(self, the_rule: VenueErrorRate | None = None, now: datetime = T0) -> None:
        self.rule = the_rule or rule()
        self.state: VenueErrorRateState = self.rule.initial_state()
        ledger = Ledger(INSTRUMENTS)
        self.view = AccountView(now, ledger, {}, WorkingOrders(), ledger.instruments, LockoutBook(), {})
        self.count = 0

    def at(self, ts: datetime) -> Desk:
        self.view.now = ts
        return self

    def feed(self, event: Event) -> list[Action]:
        self.state, actions = self.rule.react(event, self.view, self.state)
        return list(actions)

    def status(self, order_id: str, status: str, *, reason: str = "") -> list[Action]:
        return self.feed(update(order_id, status, self.view.now, reason=reason))

    def accepted(self, n: int) -> list[Action]:
        """`n` new orders the venue accepts (working); the actions of the last."""
        actions: list[Action] = []
        for _ in range(n):
            self.count += 1
            actions = self.status(f"ok{self.count}", "working")
        return actions

    def rate(self) -> tuple[int, int]:
        """(failed, all) calls in the state's window."""
        return sum(1 for c in self.state.calls if c.failed), len(self.state.calls)


def tripped_reason(errors: int, calls: int, rate: str, until: str, order_id: str = "r1") -> str:
    return (
        f"Venue error rate {errors} of {calls} calls ({rate} %) in the last 5 min is over the 1.00 % limit "
        f"(the latest: order {order_id} on A1 rejected: venue busy); new risk is refused across the portfolio until "
        f"{until} UTC, exits still allowed"
    )


# -- params --------------------------------------------------------------------------------------


def test_params_when_defaults_then_seed_002s_one_percent_over_five_minutes_twenty_calls_fifteen_minutes() -> None:
    # Arrange / Act
    params = VenueErrorRateParams()
    # Assert
    assert (params.window_minutes, params.max_error_rate_pct, params.min_calls, params.cooldown_minutes) == (
        5,
        D(1),
        20,
        15,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("window_minutes", 0), ("min_calls", 0), ("cooldown_minutes", 0), ("max_error_rate_pct", D(100))],
)
def test_params_when_out_of_range_then_the_rule_refuses_to_build(field: str, value: object) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        rule(**{field: value})


# -- the rate ------------------------------------------------------------------------------------


def test_rate_when_one_of_two_calls_fails_then_too_few_calls_to_trip() -> None:
    # Arrange
    desk = Desk()
    desk.accepted(1)
    # Act: 1 of 2 = 50 %, but 2 < 20 calls
    actions = desk.status("r1", "rejected", reason="venue busy")
    # Assert
    assert actions == []
    assert desk.rate() == (1, 2)


def test_rate_when_one_of_nineteen_calls_fails_then_still_under_the_minimum() -> None:
    # Arrange
    desk = Desk()
    desk.accepted(18)
    # Act: 19 calls < 20
    actions = desk.status("r1", "rejected", reason="venue busy")
    # Assert
    assert actions == []


def test_rate_when_one_of_twenty_calls_fails_then_alert_and_lock_the_portfolio_for_fifteen_minutes() -> None:
    # Arrange
    desk = Desk()
    desk.accepted(19)
    # Act: 1 of 20 = 5.00 % > 1 %
    actions = desk.status("r1", "rejected", reason="venue busy")
    # Assert: 14:30 + 15 min = 14:45 UTC
    reason = tripped_reason(1, 20, "5.00", "2026-03-06 14:45:00")
    until = datetime(2026, 3, 6, 14, 45, tzinfo=UTC)
    assert actions == [
        RaiseAlert(rule=NAME, reason=reason, level=AlertLevel.CRITICAL),
        LockOut(rule=NAME, reason=reason, scope=Scope(), until=until),
    ]
    assert (desk.state.tripped, desk.state.tripped_at, desk.state.cooldown_until) == (True, T0, until)
    assert desk.state.calls == ()  # the count starts afresh


def test_rate_when_exactly_one_percent_then_nothing_and_one_more_error_trips() -> None:
    # Arrange
    desk = Desk()
    desk.accepted(99)
    # Act: 1 of 100 = 1.00 %, exactly the limit; then 2 of 101 = 1.98 %
    at_limit = desk.status("r1", "rejected", reason="venue busy")
    over = desk.status("r2", "rejected", reason="venue busy")
    # Assert
    assert at_limit == []
    assert over[0].reason == tripped_reason(2, 101, "1.98", "2026-03-06 14:45:00", "r2")


def test_rate_when_an_order_is_reported_again_then_it_is_one_call() -> None:
    # Arrange
    desk = Desk()
    # Act: new (not counted), working, a partial-fill update, filled, a repeated rejection; a market order filled at once
    for status in ("new", "working", "working", "filled"):
        desk.status("o1", status)
    desk.status("r1", "rejected")
    desk.status("r1", "rejected")
    desk.status("m1", "filled")
    desk.status("c1", "cancelled")
    # Assert: o1 (ok), r1 (failed), m1 (ok)
    assert [(c.order_id, c.failed) for c in desk.state.calls] == [("o1", False), ("r1", True), ("m1", False)]
    assert desk.state.live == {}


def test_rate_when_calls_are_exactly_five_minutes_old_then_they_have_left_the_window() -> None:
    # Arrange: 19 accepted at 14:30:00
    desk = Desk()
    desk.accepted(19)
    # Act: a rejection at 14:35:00 sees only itself (the window is 14:30:00 < ts <= 14:35:00)
    actions = desk.at(T0 + timedelta(minutes=5)).status("r1", "rejected")
    # Assert
    assert actions == []
    assert desk.rate() == (1, 1)


def test_rate_when_calls_are_just_under_five_minutes_old_then_they_count() -> None:
    # Arrange
    desk = Desk()
    desk.accepted(19)
    # Act: at 14:34:59 the 19 are still inside: 1 of 20
    actions = desk.at(T0 + timedelta(minutes=4, seconds=59)).status("r1", "rejected", reason="venue busy")
    # Assert
    assert [a.name for a in actions] == ["alert", "lock_out"]


# -- the cooldown --------------------------------------------------------------------------------


def test_cooldown_when_tripped_then_more_errors_do_not_fire_and_it_re_arms_at_the_end() -> None:
    # Arrange
    desk = Desk()
    desk.accepted(19)
    desk.status("r1", "rejected", reason="venue busy")
    # Act: 20 more calls, 2 failing, while cooling down; then the tick at 14:45
    desk.at(T0 + timedelta(minutes=1))
    during = [*desk.accepted(18), *desk.status("r2", "rejected"), *desk.status("r3", "rejected")]
    before_end = desk.at(T0 + timedelta(minutes=14, seconds=59)).feed(ClockTicked(desk.view.now))
    tripped_before_end = desk.state.tripped
    at_end = desk.at(T0 + timedelta(minutes=15)).feed(ClockTicked(desk.view.now))
    # Assert
    assert (during, before_end, at_end) == ([], [], [])
    assert tripped_before_end
    assert not desk.state.tripped
    assert desk.rule.next_deadline(desk.view, desk.state) is None


def test_cooldown_when_an_operator_clears_the_lockout_then_it_re_arms_with_a_fresh_count() -> None:
    # Arrange
    desk = Desk()
    desk.accepted(19)
    desk.status("r1", "rejected")
    desk.accepted(3)
    # Act: the engine has cleared the lockout before the rule sees the reset
    desk.feed(ResetRequested("ops", "venue fixed", T0))
    # Assert
    assert (desk.state.tripped, desk.state.calls) == (False, ())


# -- through the engine --------------------------------------------------------------------------


def test_rate_through_the_engine_when_tripped_then_every_account_is_refused_exits_pass_until_the_cooldown_ends() -> (
    None
):
    # Arrange: A1 holds 1 MNQ; 19 orders accepted, then one rejected at 14:31
    engine = RiskEngine([rule()], [MNQ])
    engine.handle(AccountSnapshot("A1", D("50000"), D("50000"), T0))
    engine.handle(AccountSnapshot("A2", D("50000"), D("50000"), T0))
    engine.handle(make_fill("h1", "buy", "1", "18000.00"))
    for n in range(19):
        engine.handle(update(f"ok{n}", "working", T0 + timedelta(seconds=n)))
    tripped = T0 + timedelta(minutes=1)
    actions = engine.handle(update("r1", "rejected", tripped, reason="venue busy"))
    # Act
    a1 = engine.check(order(order_id="o1", ts=tripped))
    a2 = engine.check(order(order_id="o2", account_id="A2", ts=tripped))
    exit_ = engine.check(order("sell", order_id="o3", ts=tripped))
    last_second = engine.check(order(order_id="o4", ts=tripped + timedelta(minutes=14, seconds=59)))
    after = engine.check(order(order_id="o5", ts=tripped + timedelta(minutes=15)))
    # Assert
    assert [a.name for a in actions] == ["alert", "lock_out"]
    assert (a1.approved, a1.reason_code, a1.rule) == (False, "locked_out", NAME)
    assert (a2.approved, a2.reason_code) == (False, "locked_out")
    assert exit_.approved
    assert (last_second.approved, after.approved) == (False, True)


# -- headroom ------------------------------------------------------------------------------------


def test_venue_error_rate_headroom_when_1_of_20_calls_failed_then_5_pct_of_a_10_pct_limit() -> None:
    # Arrange: 19 accepted + 1 rejected = 20 calls (min_calls): 1 x 100 / 20 = 5.00 % of 10 %: 50 % used
    desk = Desk(rule(max_error_rate_pct=D(10)))
    desk.accepted(19)
    assert desk.status("r1", "rejected", reason="venue busy") == []
    # Act
    (row,) = desk.rule.headroom(desk.view, desk.state)
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        NAME,
        "venue error rate",
        Scope(),
        D("5.00"),
        D(10),
        "%",
    )
    assert (row.used_pct, row.remaining) == (D("50.0"), D(5))


def test_venue_error_rate_headroom_when_fewer_than_min_calls_in_the_window_then_no_row() -> None:
    # Arrange: 20 calls at T0; 5 minutes later the window (T0, T0 + 5 min] holds none of them
    desk = Desk(rule(max_error_rate_pct=D(10)))
    desk.accepted(19)
    desk.status("r1", "rejected")
    # Act
    later = desk.at(T0 + timedelta(minutes=5)).rule.headroom(desk.view, desk.state)
    # Assert
    assert later == []
