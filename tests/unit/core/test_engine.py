"""The engine's own gate and bookkeeping, with the simplest rules that show each path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from riskguard.core import (
    AccountSnapshot,
    AccountView,
    Action,
    ClockTicked,
    EndLockout,
    Halt,
    HaltRequested,
    LockOut,
    PauseRequested,
    RaiseAlert,
    ResetRequested,
    ResumeRequested,
    RiskEngine,
    Rule,
    RuleParams,
    Scope,
)
from riskguard.core.decisions import Verdict
from riskguard.core.events import Event
from riskguard.core.lockouts import Lockout
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.daily_realized_loss import DailyRealizedLoss, DailyRealizedLossParams
from riskguard.testing.factories import BTC_PERP, MNQ, make_fill
from tests.unit.rules._view import account, at, order

D = Decimal


def engine_with(*rules: Rule[Any, Any]) -> RiskEngine:
    engine = RiskEngine(rules, [MNQ, BTC_PERP])
    engine.handle(account())
    return engine


def daily_loss(limit: str = "-100") -> DailyRealizedLoss:
    return DailyRealizedLoss(DailyRealizedLossParams(limit=D(limit)))


def lose(engine: RiskEngine, points: str = "60.00") -> list[Action]:
    """Buy 1 MNQ at 18000 and sell it `points` lower: a loss of 2 x points USD."""
    engine.handle(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    exit_price = str(D("18000.00") - D(points))
    return engine.handle(make_fill("f2", "sell", "1", exit_price, seconds=2))


def test_engine_when_no_account_update_yet_then_new_risk_is_refused() -> None:
    # Arrange
    engine = RiskEngine([], [MNQ])
    # Act
    decision = engine.check(order())
    # Assert
    assert (decision.approved, decision.reason_code, decision.rule) == (False, "account_unknown", "engine")
    assert "no account update has been received for A1" in decision.message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"symbol": "ZZZ"}, "ZZZ is not a configured instrument"),
        ({"price": "18000.10"}, "order.price was '18000.10': is not on the MNQ price grid"),
        ({"qty": "1.5"}, "order.qty was '1.5': is not a whole number of MNQ lots"),
        ({"reduce_only": True}, "reduce-only order, but A1 holds no MNQ to reduce"),
    ],
)
def test_engine_when_order_does_not_fit_then_invalid_order(changes: dict[str, Any], message: str) -> None:
    # Arrange
    engine = engine_with()
    # Act
    decision = engine.check(order(**changes))
    # Assert
    assert (decision.approved, decision.reason_code) == (False, "invalid_order")
    assert message in decision.message


def test_engine_when_loss_limit_reached_then_flatten_cancel_lock_together_until_the_reset() -> None:
    # Arrange
    engine = engine_with(daily_loss("-100"))
    # Act: (17940 - 18000) x 1 x 2 = -120.00, past -100.00
    actions = lose(engine, "60.00")
    # Assert: the position is already flat, so no close; alert, cancel and lock come in one step
    assert [type(a) for a in actions] == [RaiseAlert, type(actions[1]), LockOut]
    assert actions[1].name == "cancel_all_orders"
    lock = actions[2]
    assert isinstance(lock, LockOut)
    assert lock.scope == Scope(account="A1")
    assert lock.until == at(hours=7, minutes=30)  # 17:00 New York (EST) is 22:00 UTC; T0 is 14:30 UTC
    assert [a.id for a in actions] == [
        "3.1.daily_realized_loss.alert",
        "3.2.daily_realized_loss.cancel_all_orders",
        "3.3.daily_realized_loss.lock_out",
    ]
    decision = engine.check(order(ts=at(3)))
    assert (decision.approved, decision.reason_code, decision.rule) == (False, "locked_out", "daily_realized_loss")
    assert decision.message == (
        "Daily realized loss -120.00 USD reached the -100.00 USD limit on A1; "
        "locked out until 2026-03-06 17:00 America/New_York"
    )


def test_engine_when_locked_out_then_an_exit_is_still_approved() -> None:
    # Arrange: lose on one strategy while another holds 2 contracts long
    engine = engine_with(daily_loss("-100"))
    engine.handle(make_fill("h1", "buy", "2", "18000.00", strategy="s2"))
    lose(engine, "60.00")
    # Act
    exit_order = engine.check(order("sell", "2", strategy="s2", ts=at(5)))
    entry_order = engine.check(order("buy", "1", strategy="s2", ts=at(5)))
    # Assert
    assert (exit_order.approved, exit_order.message) == (True, "approved: the order only reduces a position")
    assert (entry_order.approved, entry_order.reason_code) == (False, "locked_out")


def test_engine_when_lockout_time_comes_then_it_ends_and_orders_pass_again() -> None:
    # Arrange
    engine = engine_with(daily_loss("-100"))
    lose(engine, "60.00")
    deadline = engine.next_deadline()
    # Act
    actions = engine.handle(ClockTicked(deadline))  # type: ignore[arg-type]
    # Assert
    assert deadline == at(hours=7, minutes=30)
    assert [(type(a), a.rule) for a in actions] == [(EndLockout, "daily_realized_loss")]
    assert engine.check(order(ts=at(hours=7, minutes=30))).approved
    assert engine.next_deadline() is None


def test_engine_when_operator_halts_an_account_then_only_that_account_is_refused_until_resumed() -> None:
    # Arrange
    engine = engine_with()
    engine.handle(account("A2"))
    # Act
    actions = engine.handle(HaltRequested(actor="ops", reason="checking a fill", ts=at(1), scope=Scope(account="A1")))
    # Assert
    assert [type(a) for a in actions] == [Halt]
    refused = engine.check(order(ts=at(2)))
    assert (refused.approved, refused.reason_code, refused.rule) == (False, "halted", "operator")
    assert refused.message == "trading is halted for account A1: ops: checking a fill"
    assert engine.check(order(account_id="A2", ts=at(2))).approved
    engine.handle(ResumeRequested(actor="ops", reason="fill checked", ts=at(3), scope=Scope()))
    assert engine.check(order(ts=at(4))).approved


def test_engine_when_a_fill_cannot_be_valued_then_the_account_halts_and_says_why() -> None:
    # Arrange
    engine = engine_with()
    # Act: a fill in a symbol riskguard has no definition for
    actions = engine.handle(make_fill("f1", "buy", "1", "100.00", symbol="ZB"))
    # Assert
    assert [type(a) for a in actions] == [RaiseAlert, Halt]
    assert "a fill could not be booked" in actions[0].reason
    decision = engine.check(order(ts=at(1)))
    assert (decision.approved, decision.reason_code, decision.rule) == (False, "halted", "engine")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Params(RuleParams):
    pass


class _Broken(Rule[_Params, None]):
    """A rule whose check raises: the gate must deny, not allow."""

    name = "broken"
    gate = True

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        raise ZeroDivisionError("division by zero")


def test_engine_when_a_rule_raises_then_orders_are_refused_until_an_operator_resets() -> None:
    # Arrange
    engine = engine_with(_Broken(_Params()))
    # Act
    first = engine.check(order(ts=at(1)))
    second = engine.check(order(order_id="o2", ts=at(2)))
    # Assert
    assert (first.approved, first.reason_code, first.rule) == (False, "rule_faulted", "broken")
    assert (second.approved, second.reason_code) == (False, "rule_faulted")
    engine.handle(ResetRequested(actor="ops", reason="fixed", ts=at(3), rule="broken"))
    third = engine.check(order(order_id="o3", ts=at(4)))
    assert (third.approved, third.reason_code) == (False, "rule_faulted")  # still broken: faults again


class _StubbornLock(Rule[_Params, None]):
    """Locks on any fill, and refuses operator resets."""

    name = "stubborn"
    reactive = True

    def react(self, event: Event, view: AccountView, state: None) -> tuple[None, Sequence[Action]]:
        from riskguard.core.events import FillBooked

        if isinstance(event, FillBooked):
            return state, [LockOut(rule=self.name, reason="locked", scope=Scope(account="A1"), until=None)]
        return state, ()

    def refuses_reset(self, view: AccountView, state: None, lockout: Lockout) -> str | None:
        return "the cooldown runs until 15:00 UTC"


def test_engine_when_rule_refuses_a_reset_then_the_lockout_stays_and_the_refusal_is_said() -> None:
    # Arrange
    engine = engine_with(_StubbornLock(_Params()), daily_loss("-1"))
    lose(engine, "1.00")  # both rules lock A1
    # Act
    actions = engine.handle(ResetRequested(actor="ops", reason="go on", ts=at(10)))
    # Assert: the daily loss lockout is cleared (it allows resets); the stubborn one stays
    assert [(type(a).__name__, a.rule) for a in actions] == [
        ("RaiseAlert", "stubborn"),
        ("EndLockout", "daily_realized_loss"),
    ]
    assert actions[0].reason == "reset refused: the cooldown runs until 15:00 UTC"
    assert [lock.rule for lock in engine.lockouts.all()] == ["stubborn"]


def test_engine_when_fill_is_a_duplicate_then_rules_do_not_count_it_twice() -> None:
    # Arrange
    engine = engine_with(daily_loss("-100"))
    engine.handle(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    engine.handle(make_fill("f2", "sell", "1", "17970.00", seconds=2))  # -60.00
    # Act: the venue re-sends the losing fill after a reconnect
    actions = engine.handle(make_fill("f2", "sell", "1", "17970.00", seconds=2))
    # Assert: still -60.00 for the day, not -120.00
    assert actions == []
    assert engine.check(order(ts=at(3))).approved


def test_engine_when_events_arrive_out_of_time_order_then_its_clock_never_goes_back() -> None:
    # Arrange
    engine = engine_with()
    engine.handle(ClockTicked(at(100)))
    # Act: a snapshot stamped before the time already seen, then one older than the held one
    engine.handle(AccountSnapshot("A1", "1", "1", at(50)))  # type: ignore[arg-type]
    engine.handle(AccountSnapshot("A1", "2", "2", at(-10)))  # type: ignore[arg-type]
    # Assert: time stays at 100 s; the 50 s snapshot replaced T0's, the -10 s one did not replace it
    assert engine.now == at(100)
    assert (engine.accounts["A1"].ts, engine.accounts["A1"].balance) == (at(50), D("1"))


def test_engine_when_same_events_replayed_then_same_action_ids() -> None:
    def run() -> list[str]:
        engine = engine_with(daily_loss("-100"))
        return [a.id for a in lose(engine, "60.00")] + [a.id for a in engine.handle(ClockTicked(at(hours=8)))]

    assert run() == run()
    assert len(set(run())) == len(run())


def test_engine_when_two_rules_share_a_name_then_refused() -> None:
    with pytest.raises(ValueError, match="a rule may appear only once"):
        RiskEngine([daily_loss(), daily_loss()], [MNQ])


def test_engine_when_time_passes_without_events_then_check_sees_the_new_day() -> None:
    # Arrange: lose 120 on Friday with an alert-only rule (no lockout), so only check can refuse
    rule = DailyRealizedLoss(DailyRealizedLossParams(limit=D("-100"), on_breach="alert"))  # type: ignore[arg-type]
    engine = engine_with(rule)
    lose(engine, "60.00")
    # Act
    friday = engine.check(order(ts=at(10)))
    monday = engine.check(order(order_id="o2", ts=at(days=3)))
    # Assert
    assert (friday.approved, friday.reason_code) == (False, "daily_loss_limit")
    assert monday.approved


def test_engine_when_rule_is_set_to_latch_then_its_lockout_waits_for_an_operator() -> None:
    # Arrange
    engine = engine_with(DailyRealizedLoss(DailyRealizedLossParams(limit=D("-100"), latch=True)))
    # Act
    actions = lose(engine, "60.00")
    engine.handle(ClockTicked(at(days=3)))  # long past the 17:00 reset
    refused = engine.check(order(ts=at(days=3)))
    engine.handle(ResetRequested(actor="ops", reason="reviewed", ts=at(days=3, seconds=1)))
    approved = engine.check(order(order_id="o2", ts=at(days=3, seconds=2)))
    # Assert
    lock = actions[-1]
    assert isinstance(lock, LockOut)
    assert lock.until is None
    assert lock.reason.endswith("(latched: only an operator's reset ends it)")
    assert (refused.approved, refused.reason_code) == (False, "locked_out")
    assert approved.approved


def test_engine_when_system_paused_then_new_risk_refused_everywhere_and_exits_pass_until_resumed() -> None:
    # Arrange
    engine = engine_with()
    engine.handle(account("A2"))
    engine.handle(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    # Act
    actions = engine.handle(PauseRequested(actor="ops", reason="stop everything", ts=at(2)))
    refused = engine.check(order(account_id="A2", ts=at(3)))
    exit_order = engine.check(order("sell", "1", ts=at(3)))
    engine.handle(ResumeRequested(actor="ops", reason="all clear", ts=at(4)))
    after = engine.check(order(account_id="A2", order_id="o2", ts=at(5)))
    # Assert: a pause changes orders and positions not at all; it only refuses new risk
    assert actions == []
    assert (refused.approved, refused.reason_code, refused.rule) == (False, "paused", "operator")
    assert refused.message == "the system is paused (ops: stop everything); new risk is refused until resumed"
    assert exit_order.approved
    assert after.approved


def test_engine_when_emergency_halt_with_flatten_then_cancel_and_close_everything_in_scope() -> None:
    # Arrange: A1 long MNQ and short ES; A2 long MNQ
    engine = engine_with()
    engine.handle(account("A2"))
    engine.handle(make_fill("f1", "buy", "2", "18000.00", seconds=1))
    engine.handle(make_fill("f2", "sell", "1", "68000.0", symbol="BTC-PERP", seconds=1))
    engine.handle(make_fill("f3", "buy", "1", "18000.00", account="A2", seconds=1))
    # Act
    actions = engine.handle(
        HaltRequested(actor="ops", reason="venue incident", ts=at(2), cancel_orders=True, flatten=True)
    )
    # Assert
    assert [(a.name, getattr(a, "account", None), getattr(a, "symbol", None)) for a in actions] == [
        ("halt", None, None),
        ("close_position", "A1", "MNQ"),
        ("close_position", "A1", "BTC-PERP"),
        ("cancel_all_orders", "A1", None),
        ("close_position", "A2", "MNQ"),
        ("cancel_all_orders", "A2", None),
    ]
    assert all(a.reason == "halted by ops: venue incident" for a in actions)
    assert not engine.check(order(ts=at(3))).approved
    assert engine.check(order("sell", "2", ts=at(3))).approved


def test_engine_when_halt_without_sweep_then_only_new_risk_stops() -> None:
    engine = engine_with()
    engine.handle(make_fill("f1", "buy", "2", "18000.00", seconds=1))
    actions = engine.handle(HaltRequested(actor="ops", reason="look", ts=at(2), scope=Scope(account="A1")))
    assert [a.name for a in actions] == ["halt"]


class _CountsWrongly(Rule[_Params, None]):
    """A rule that returns an action when it should only count an approval."""

    name = "counts_wrongly"
    reactive = True

    def react(self, event: Event, view: AccountView, state: None) -> tuple[None, Sequence[Action]]:
        from riskguard.core.events import OrderApproved

        if isinstance(event, OrderApproved):
            return state, [RaiseAlert(rule=self.name, reason="no", level="info")]  # type: ignore[arg-type]
        return state, ()


def test_engine_when_a_rule_acts_on_an_approval_then_the_order_is_refused_not_crashed() -> None:
    # Arrange
    engine = engine_with(_CountsWrongly(_Params()))
    engine.handle(make_fill("f1", "buy", "1", "18000.00", seconds=1))
    # Act
    entry = engine.check(order(ts=at(2)))
    exit_order = engine.check(order("sell", "1", order_id="o2", ts=at(2)))
    # Assert: the entry fails closed, the exit still passes
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "rule_faulted", "counts_wrongly")
    assert "it returned actions for an order approval" in entry.message
    assert exit_order.approved
