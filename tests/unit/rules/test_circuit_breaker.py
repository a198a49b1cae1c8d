"""CircuitBreaker: consecutive losing trades or rejected orders trip a latched lockout with a cooldown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskguard.core import (
    ALLOW,
    AccountView,
    Action,
    AlertLevel,
    CancelAllOrders,
    Deny,
    EndLockout,
    FillBooked,
    InvalidInput,
    LockOut,
    Lockout,
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
)
from riskguard.core.events import Event
from riskguard.core.rules.circuit_breaker import (
    AccountBreaker,
    CircuitBreaker,
    CircuitBreakerParams,
    CircuitBreakerState,
)
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order

NAME = "circuit_breaker"
TRIPPED_ON_LOSSES = (
    "Circuit breaker tripped on A1 after 3 losing trades in a row (the last -20.00 USD); working orders cancelled "
    "and new risk refused until an operator resets it, not before 2026-03-06 15:00:00 UTC"
)


def rule(**params: int) -> CircuitBreaker:
    return CircuitBreaker(CircuitBreakerParams(**params))  # type: ignore[arg-type]


class Desk:
    """A rule, its state and a view whose ledger books the fills fed to it."""

    def __init__(self, the_rule: CircuitBreaker, now: datetime = T0, lockouts: LockoutBook | None = None) -> None:
        self.rule = the_rule
        self.state = the_rule.initial_state()
        self.view: AccountView = make_view(now, lockouts=lockouts)
        self.count = 0

    def feed(self, event: Event) -> list[Action]:
        self.state, actions = self.rule.react(event, self.view, self.state)
        return list(actions)

    def fill(self, side: str, qty: str, price: str, *, fee: str = "0", account_id: str = "A1") -> list[Action]:
        self.count += 1
        fill = make_fill(f"f{self.count}", side, qty, price, fee=fee, account=account_id)
        return self.feed(FillBooked(fill, self.view.ledger.apply(fill)))

    def trade(self, exit_price: str, *, fee: str = "0", account_id: str = "A1") -> list[Action]:
        """Buy 1 MNQ at 18000.00, sell it at `exit_price` (2 USD a point); the close's actions."""
        assert self.fill("buy", "1", "18000.00", fee=fee, account_id=account_id) == []
        return self.fill("sell", "1", exit_price, fee=fee, account_id=account_id)

    def order_status(self, order_id: str, status: str, *, reason: str = "", account_id: str = "A1") -> list[Action]:
        return self.feed(update(order_id, status, self.view.now, reason=reason, account_id=account_id))

    def breaker(self, account_id: str = "A1") -> AccountBreaker:
        return self.state.accounts.get(account_id, AccountBreaker())


def update(order_id: str, status: str, ts: datetime, *, reason: str = "", account_id: str = "A1") -> OrderUpdated:
    """The venue reports a buy 1 MNQ limit 18000 of strategy s1 in `status`."""
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


def lose(desk: Desk, times: int) -> list[Action]:
    """`times` losing trades of -10 points (-20.00 USD); the last one's actions."""
    actions: list[Action] = []
    for _ in range(times):
        actions = desk.trade("17990.00")
    return actions


def locked(reason: str = TRIPPED_ON_LOSSES, account_id: str = "A1") -> LockoutBook:
    book = LockoutBook()
    book.add(Lockout(Scope(account=account_id), NAME, reason, T0, None))
    return book


def without_ids(actions: Sequence[Action]) -> list[Action]:
    return [replace(action, id="") for action in actions]


# -- params --------------------------------------------------------------------------------------


def test_params_when_defaults_then_seed_004s_three_losses_five_errors_thirty_minutes() -> None:
    # Arrange / Act
    params = CircuitBreakerParams()
    # Assert
    assert (params.max_consecutive_losses, params.max_consecutive_errors, params.cooldown_minutes) == (3, 5, 30)


@pytest.mark.parametrize("field", ["max_consecutive_losses", "max_consecutive_errors", "cooldown_minutes"])
def test_params_when_a_count_is_zero_then_the_rule_refuses_to_build(field: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        rule(**{field: 0})


# -- losing trades -------------------------------------------------------------------------------


def test_losses_when_two_in_a_row_then_nothing_happens() -> None:
    # Arrange
    desk = Desk(rule())
    # Act
    actions = lose(desk, 2)
    # Assert
    assert actions == []
    assert desk.breaker() == AccountBreaker(losses=2)
    assert desk.rule.check(order(), desk.view, desk.state) == ALLOW


def test_losses_when_the_third_in_a_row_closes_then_alert_cancel_and_latched_lockout() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 2)
    # Act: (17990 - 18000) x 2 = -20.00 USD
    actions = desk.trade("17990.00")
    # Assert: cooldown ends at T0 14:30 + 30 min = 15:00 UTC
    assert actions == [
        RaiseAlert(rule=NAME, reason=TRIPPED_ON_LOSSES, level=AlertLevel.CRITICAL, account="A1"),
        CancelAllOrders(rule=NAME, reason=TRIPPED_ON_LOSSES, account="A1", symbol=None),
        LockOut(rule=NAME, reason=TRIPPED_ON_LOSSES, scope=Scope(account="A1"), until=None),
    ]
    assert desk.breaker().tripped_at == T0
    assert desk.rule.check(order(), desk.view, desk.state) == Deny(NAME, "locked_out", TRIPPED_ON_LOSSES)


def test_losses_when_a_win_comes_between_then_the_run_starts_again() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 2)
    # Act: a +10.00 USD win, then two more losses
    win = desk.trade("18005.00")
    after = lose(desk, 2)
    # Assert
    assert (win, after) == ([], [])
    assert desk.breaker().losses == 2


def test_losses_when_a_trade_breaks_even_then_the_run_starts_again() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 2)
    # Act: exit at the entry, no fees: 0.00 realized
    desk.trade("18000.00")
    # Assert
    assert desk.breaker().losses == 0


def test_losses_when_fees_turn_a_scratch_into_a_loss_then_it_counts() -> None:
    # Arrange
    desk = Desk(rule())
    # Act: exit at the entry, 0.50 fee on each fill -> -1.00 USD net
    desk.trade("18000.00", fee="0.50")
    # Assert
    assert desk.breaker().losses == 1


def test_losses_when_a_position_is_only_reduced_then_it_is_not_a_trade() -> None:
    # Arrange
    desk = Desk(rule(max_consecutive_losses=1))
    desk.fill("buy", "2", "18000.00")
    # Act: sell 1 of 2 at a loss; the position stays open
    actions = desk.fill("sell", "1", "17990.00")
    # Assert
    assert actions == []
    assert desk.breaker().losses == 0


def test_losses_when_a_fill_flips_the_position_then_the_closed_part_is_a_trade() -> None:
    # Arrange
    desk = Desk(rule(max_consecutive_losses=1))
    desk.fill("buy", "1", "18000.00")
    # Act: sell 2 at 17990: closes the long at -20.00 USD and opens a short 1
    actions = desk.fill("sell", "2", "17990.00")
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, CancelAllOrders, LockOut]
    assert "after 1 losing trades in a row (the last -20.00 USD)" in actions[0].reason


def test_losses_when_tripped_then_later_losses_do_not_fire_again() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 3)
    # Act
    actions = lose(desk, 3)
    # Assert
    assert actions == []
    assert desk.breaker().tripped_at == T0


def test_losses_when_on_another_account_then_counted_apart() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 2)
    # Act
    actions = desk.trade("17990.00", account_id="A2")
    # Assert
    assert actions == []
    assert (desk.breaker("A1").losses, desk.breaker("A2").losses) == (2, 1)


# -- order errors --------------------------------------------------------------------------------


def test_errors_when_four_rejections_in_a_row_then_nothing_happens() -> None:
    # Arrange
    desk = Desk(rule())
    # Act
    actions = [a for i in range(4) for a in desk.order_status(f"r{i}", "rejected")]
    # Assert
    assert actions == []
    assert desk.breaker().errors == ("r0", "r1", "r2", "r3")


def test_errors_when_the_fifth_rejection_in_a_row_arrives_then_the_breaker_trips() -> None:
    # Arrange
    desk = Desk(rule())
    for i in range(1, 5):
        desk.order_status(f"r{i}", "rejected")
    # Act
    actions = desk.order_status("r5", "rejected", reason="insufficient margin")
    # Assert
    reason = (
        "Circuit breaker tripped on A1 after 5 rejected orders in a row (the last r5: insufficient margin); "
        "working orders cancelled and new risk refused until an operator resets it, not before 2026-03-06 15:00:00 UTC"
    )
    assert actions == [
        RaiseAlert(rule=NAME, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        CancelAllOrders(rule=NAME, reason=reason, account="A1", symbol=None),
        LockOut(rule=NAME, reason=reason, scope=Scope(account="A1"), until=None),
    ]


@pytest.mark.parametrize(
    ("status", "errors"), [("working", ()), ("filled", ()), ("cancelled", ("r0", "r1")), ("new", ("r0", "r1"))]
)
def test_errors_when_an_order_reaches_a_status_then_only_working_or_filled_end_the_run(
    status: str, errors: tuple[str, ...]
) -> None:
    # Arrange
    desk = Desk(rule())
    desk.order_status("r0", "rejected")
    desk.order_status("r1", "rejected")
    # Act
    desk.order_status("ok", status)
    # Assert
    assert desk.breaker().errors == errors


def test_errors_when_the_same_rejection_is_reported_twice_then_it_counts_once() -> None:
    # Arrange
    desk = Desk(rule(max_consecutive_errors=2))
    desk.order_status("r1", "rejected")
    # Act
    actions = desk.order_status("r1", "rejected")
    # Assert
    assert actions == []
    assert desk.breaker().errors == ("r1",)


def test_errors_and_losses_when_mixed_then_each_run_is_counted_apart() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 2)
    # Act: a rejection neither adds to nor ends the losing run
    desk.order_status("r1", "rejected")
    actions = desk.trade("17990.00")
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, CancelAllOrders, LockOut]


# -- gate and cooldown ---------------------------------------------------------------------------


def test_check_when_another_account_is_tripped_then_allows() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 3)
    # Act / Assert
    assert desk.rule.check(order(account_id="A2"), desk.view, desk.state) == ALLOW


LOCK_A1 = Lockout(Scope(account="A1"), "circuit_breaker", "tripped", T0, None)
LOCK_A2 = Lockout(Scope(account="A2"), "circuit_breaker", "tripped", T0, None)


def test_refuses_reset_when_another_account_cools_down_then_this_one_may_still_be_reset() -> None:
    # Arrange: A1 tripped at T0; the reset asks about A2's lockout
    desk = Desk(rule())
    lose(desk, 3)
    # Act / Assert
    assert desk.rule.refuses_reset(make_view(at(minutes=1)), desk.state, LOCK_A2) is None


def test_refuses_reset_when_the_cooldown_runs_then_names_the_time_it_ends() -> None:
    # Arrange: tripped at T0
    desk = Desk(rule())
    lose(desk, 3)
    # Act: one second before 15:00 UTC
    refusal = desk.rule.refuses_reset(make_view(at(minutes=30) - timedelta(seconds=1)), desk.state, LOCK_A1)
    # Assert
    assert refusal == (
        "the circuit breaker on A1 cools down until 2026-03-06 15:00:00 UTC (30 min after it tripped); "
        "reset it after that"
    )


def test_refuses_reset_when_the_cooldown_ends_exactly_then_accepts() -> None:
    # Arrange
    desk = Desk(rule())
    lose(desk, 3)
    # Act: T0 + 30 min: the cooldown has ended
    refusal = desk.rule.refuses_reset(make_view(at(minutes=30)), desk.state, LOCK_A1)
    # Assert
    assert refusal is None


def test_refuses_reset_when_nothing_tripped_then_accepts() -> None:
    # Arrange / Act / Assert
    assert rule().refuses_reset(make_view(), CircuitBreakerState(), LOCK_A1) is None


def test_reset_when_the_engine_kept_the_lockout_then_the_trip_stays() -> None:
    # Arrange: tripped; the reset was refused, so the lockout is still in the book
    desk = Desk(rule(), lockouts=locked())
    lose(desk, 3)
    before = desk.state
    # Act
    actions = desk.feed(ResetRequested("ops", "checked", at(minutes=10)))
    # Assert
    assert actions == []
    assert desk.state is before


def test_reset_when_the_engine_cleared_the_lockout_then_trip_and_counts_are_forgotten() -> None:
    # Arrange: tripped on A1, one loss on A2; the engine has cleared the lockout (empty book)
    desk = Desk(rule())
    lose(desk, 3)
    desk.trade("17990.00", account_id="A2")
    # Act
    actions = desk.feed(ResetRequested("ops", "checked", at(minutes=30)))
    # Assert
    assert actions == []
    assert desk.state == CircuitBreakerState()
    assert desk.rule.check(order(), desk.view, desk.state) == ALLOW


@pytest.mark.parametrize(
    "command",
    [
        ResetRequested("ops", "checked", T0, rule="daily_realized_loss"),
        ResetRequested("ops", "checked", T0, scope=Scope(account="A2")),
        ResetRequested("ops", "checked", T0, scope=Scope(account="A1", strategy="s1")),
    ],
)
def test_reset_when_aimed_at_another_rule_or_scope_then_state_is_unchanged(command: ResetRequested) -> None:
    # Arrange: A1 has two losses, not tripped
    desk = Desk(rule())
    lose(desk, 2)
    before = desk.state
    # Act
    desk.feed(command)
    # Assert
    assert desk.state is before


# -- through the engine --------------------------------------------------------------------------


def engine_with_three_losses() -> tuple[RiskEngine, list[Action]]:
    """Long 1 ES from T0, then three losing MNQ round trips, the last closing at T0 + 6 s."""
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("e1", "buy", "1", "5000.00", symbol="ES"))
    actions: list[Action] = []
    for n in range(3):
        engine.handle(make_fill(f"b{n}", "buy", "1", "18000.00", seconds=2 * n + 1))
        actions = engine.handle(make_fill(f"s{n}", "sell", "1", "17990.00", seconds=2 * n + 2))
    return engine, actions


def test_engine_when_tripped_then_entries_are_locked_out_and_exits_pass() -> None:
    # Arrange / Act
    engine, actions = engine_with_three_losses()
    entry = engine.check(order("buy", "1", order_id="o1", ts=at(7)))
    exit_ = engine.check(order("sell", "1", symbol="ES", price="5000.00", order_id="o2", ts=at(8)))
    # Assert: tripped at T0 + 6 s, so no reset before 15:00:06 UTC
    reason = TRIPPED_ON_LOSSES.replace("15:00:00", "15:00:06")
    assert without_ids(actions) == [
        RaiseAlert(rule=NAME, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        CancelAllOrders(rule=NAME, reason=reason, account="A1", symbol=None),
        LockOut(rule=NAME, reason=reason, scope=Scope(account="A1"), until=None),
    ]
    assert all(action.id for action in actions)
    assert (entry.approved, entry.reason_code, entry.rule, entry.message) == (False, "locked_out", NAME, reason)
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")


def test_engine_when_reset_during_cooldown_then_refused_with_a_warning_and_accepted_after() -> None:
    # Arrange: tripped at T0 + 6 s; the cooldown ends at 15:00:06 UTC
    engine, _ = engine_with_three_losses()
    cooldown_end = datetime(2026, 3, 6, 15, 0, 6, tzinfo=UTC)
    # Act
    refused = engine.handle(ResetRequested("ops", "checked the bot", at(minutes=10)))
    still_locked = engine.check(order("buy", "1", order_id="o1", ts=at(minutes=10, seconds=1)))
    accepted = engine.handle(ResetRequested("ops", "checked the bot", cooldown_end))
    approved = engine.check(order("buy", "1", order_id="o2", ts=cooldown_end + timedelta(seconds=1)))
    # Assert
    assert without_ids(refused) == [
        RaiseAlert(
            rule=NAME,
            reason="reset refused: the circuit breaker on A1 cools down until 2026-03-06 15:00:06 UTC "
            "(30 min after it tripped); reset it after that",
            level=AlertLevel.WARNING,
            account="A1",
        )
    ]
    assert (still_locked.approved, still_locked.reason_code) == (False, "locked_out")
    assert without_ids(accepted) == [
        EndLockout(
            rule=NAME,
            reason="lockout by circuit_breaker on account A1 ended: cleared by ops: checked the bot",
            scope=Scope(account="A1"),
            locked_by=NAME,
        )
    ]
    assert approved.approved is True
    assert engine.states[NAME] == CircuitBreakerState()


def test_engine_when_five_orders_are_rejected_in_a_row_then_the_account_is_locked_out() -> None:
    # Arrange
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account())
    actions: list[Action] = []
    # Act
    for i in range(5):
        actions = engine.handle(update(f"r{i}", "rejected", at(i + 1)))
    decision = engine.check(order(order_id="o1", ts=at(6)))
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, CancelAllOrders, LockOut]
    assert (decision.approved, decision.reason_code) == (False, "locked_out")


# -- headroom ------------------------------------------------------------------------------------


def test_circuit_breaker_headroom_when_2_losses_and_1_rejection_then_2_of_3_and_1_of_5() -> None:
    # Arrange: two trades lost 20.00 each (2 of 3 losses: 66.66… → 66.7 %), one order rejected (1 of 5 errors: 20 %)
    desk = Desk(rule())
    desk.trade("17990.00")
    desk.trade("17990.00")
    desk.order_status("r1", "rejected")
    # Act
    losses, errors = desk.rule.headroom(desk.view, desk.state)
    # Assert
    assert (losses.label, losses.scope, losses.value, losses.limit, losses.unit, losses.used_pct) == (
        "losing trades in a row",
        Scope(account="A1"),
        Decimal(2),
        Decimal(3),
        "losses",
        Decimal("66.7"),
    )
    assert (errors.label, errors.scope, errors.value, errors.limit, errors.unit, errors.used_pct) == (
        "rejected orders in a row",
        Scope(account="A1"),
        Decimal(1),
        Decimal(5),
        "errors",
        Decimal("20.0"),
    )


def test_circuit_breaker_headroom_when_a_win_ends_the_run_then_no_losses_used() -> None:
    # Arrange: a loss (1 of 3), then a win at 18010.00 (+20.00) ends the run: 0 of 3, 0 %
    desk = Desk(rule())
    desk.trade("17990.00")
    desk.trade("18010.00")
    # Act
    losses, _ = desk.rule.headroom(desk.view, desk.state)
    # Assert
    assert (losses.scope, losses.value, losses.limit, losses.unit, losses.used_pct) == (
        Scope(account="A1"),
        Decimal(0),
        Decimal(3),
        "losses",
        Decimal("0.0"),
    )
