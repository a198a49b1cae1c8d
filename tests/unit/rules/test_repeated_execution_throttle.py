"""RepeatedExecutionThrottle: too many fills for one strategy in a window disable it until reset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from riskguard.core import (
    Action,
    AlertLevel,
    EndLockout,
    FillBooked,
    InvalidInput,
    LockOut,
    Lockout,
    LockoutBook,
    RaiseAlert,
    ResetRequested,
    RiskEngine,
    Scope,
)
from riskguard.core.events import Event
from riskguard.core.rules.repeated_execution_throttle import (
    RepeatedExecutionThrottle,
    RepeatedExecutionThrottleParams,
    StrategyFills,
    ThrottleState,
)
from riskguard.testing.factories import T0, make_fill
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order

NAME = "repeated_execution_throttle"
S1 = Scope(account="A1", strategy="s1")
TRIPPED = (
    "strategy s1 on A1 had 4 fills within 60 s, over the limit of 3; the strategy is disabled until an operator "
    "resets it"
)


def rule(max_fills: int = 3, window_seconds: int = 60) -> RepeatedExecutionThrottle:
    return RepeatedExecutionThrottle(
        RepeatedExecutionThrottleParams(max_fills=max_fills, window_seconds=window_seconds)
    )


class Desk:
    """A rule, its state and a view whose ledger books the fills fed to it."""

    def __init__(self, the_rule: RepeatedExecutionThrottle, lockouts: LockoutBook | None = None) -> None:
        self.rule = the_rule
        self.state = the_rule.initial_state()
        self.view = make_view(T0, lockouts=lockouts)
        self.count = 0

    def feed(self, event: Event) -> list[Action]:
        self.state, actions = self.rule.react(event, self.view, self.state)
        return list(actions)

    def fill(
        self, seconds: int, *, strategy: str = "s1", account_id: str = "A1", now: int | None = None
    ) -> list[Action]:
        """A buy 1 MNQ at T0 + `seconds`, booked when the view's time is T0 + `now` (default: the same)."""
        self.count += 1
        fill = make_fill(f"f{self.count}", "buy", "1", "18000", seconds=seconds, strategy=strategy, account=account_id)
        self.view.now = at(seconds if now is None else now)
        return self.feed(FillBooked(fill, self.view.ledger.apply(fill)))

    def fills(self, *seconds: int, strategy: str = "s1") -> list[Action]:
        actions: list[Action] = []
        for second in seconds:
            actions = self.fill(second, strategy=strategy)
        return actions


def without_ids(actions: Sequence[Action]) -> list[Action]:
    return [replace(action, id="") for action in actions]


def test_params_when_only_max_fills_is_given_then_the_window_is_a_minute() -> None:
    # Arrange / Act / Assert
    assert RepeatedExecutionThrottleParams(max_fills=3).window_seconds == 60


@pytest.mark.parametrize(
    ("field", "params"), [("max_fills", (0, 60)), ("window_seconds", (3, 0)), ("max_fills", (True, 60))]
)
def test_params_when_not_a_positive_count_then_the_rule_refuses_to_build(field: str, params: tuple[int, int]) -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInput, match=field):
        rule(*params)


def test_fills_when_at_the_limit_in_the_window_then_nothing_happens() -> None:
    # Arrange
    desk = Desk(rule())
    # Act: 3 fills in 20 s, the limit
    actions = desk.fills(0, 10, 20)
    # Assert
    assert actions == []
    assert desk.state.strategies == {("A1", "s1"): StrategyFills((at(0), at(10), at(20)))}


def test_fills_when_one_more_than_the_limit_in_the_window_then_alert_and_latched_strategy_lockout() -> None:
    # Arrange
    desk = Desk(rule())
    desk.fills(0, 10, 20)
    # Act: the 4th fill within 60 s
    actions = desk.fill(30)
    # Assert
    assert actions == [
        RaiseAlert(rule=NAME, reason=TRIPPED, level=AlertLevel.CRITICAL, account="A1"),
        LockOut(rule=NAME, reason=TRIPPED, scope=S1, until=None),
    ]
    assert desk.state.strategies[("A1", "s1")].tripped is True


@pytest.mark.parametrize(("last", "trips"), [(59, True), (60, False)])
def test_fills_when_the_oldest_is_exactly_a_window_old_then_it_no_longer_counts(last: int, trips: bool) -> None:
    # Arrange: fills at T0, +10 s, +20 s; the window at now is (now - 60 s, now]
    desk = Desk(rule())
    desk.fills(0, 10, 20)
    # Act
    actions = desk.fill(last)
    # Assert: at +59 s all four count; at +60 s the T0 fill has left
    assert bool(actions) is trips


def test_fills_when_of_another_strategy_or_account_then_counted_apart() -> None:
    # Arrange
    desk = Desk(rule())
    desk.fills(0, 10, 20)
    # Act
    other_strategy = desk.fill(30, strategy="s2")
    other_account = desk.fill(31, account_id="A2")
    # Assert
    assert (other_strategy, other_account) == ([], [])


def test_fills_when_tripped_then_more_fills_do_not_fire_again() -> None:
    # Arrange
    desk = Desk(rule())
    desk.fills(0, 10, 20, 30)
    # Act: working orders keep filling
    actions = desk.fills(31, 32, 33)
    # Assert
    assert actions == []


def test_fills_when_one_is_reported_after_the_window_then_it_is_not_counted() -> None:
    # Arrange
    desk = Desk(rule())
    desk.fills(100, 110, 120)
    # Act: a fill of T0 + 30 s reported at T0 + 121 s, outside (61, 121]
    actions = desk.fill(30, now=121)
    # Assert
    assert actions == []
    assert desk.state.strategies[("A1", "s1")].times == (at(100), at(110), at(120))


def test_fills_when_many_then_state_keeps_only_the_fills_inside_the_window() -> None:
    # Arrange
    desk = Desk(rule(max_fills=50))
    # Act: 100 fills of two strategies, one every second
    for second in range(100):
        desk.fill(second, strategy=f"s{second % 2}")
    # Assert: each strategy had 30 fills in the last 60 s, none over 50; s0's oldest kept is T0 + 40 s
    assert {key: len(fills.times) for key, fills in desk.state.strategies.items()} == {
        ("A1", "s0"): 30,
        ("A1", "s1"): 30,
    }
    assert desk.state.strategies[("A1", "s0")].times[0] == at(40)


def test_fills_when_another_strategy_has_gone_quiet_then_it_is_dropped() -> None:
    # Arrange
    desk = Desk(rule())
    desk.fill(0, strategy="s2")
    # Act
    desk.fill(60)
    # Assert
    assert list(desk.state.strategies) == [("A1", "s1")]


def test_reset_when_the_engine_cleared_the_lockout_then_the_strategy_starts_afresh() -> None:
    # Arrange: tripped; the book is empty, as after the engine cleared the lockout
    desk = Desk(rule())
    desk.fills(0, 10, 20, 30)
    # Act
    actions = desk.feed(ResetRequested("ops", "checked", at(40)))
    # Assert
    assert actions == []
    assert desk.state == ThrottleState()


def test_reset_when_the_lockout_is_still_there_then_the_trip_stays() -> None:
    # Arrange
    book = LockoutBook()
    book.add(Lockout(S1, NAME, TRIPPED, at(30), None))
    desk = Desk(rule(), lockouts=book)
    desk.fills(0, 10, 20, 30)
    before = desk.state
    # Act
    desk.feed(ResetRequested("ops", "checked", at(40), scope=Scope(account="A1", strategy="s2")))
    # Assert
    assert desk.state is before


@pytest.mark.parametrize(
    "command",
    [
        ResetRequested("ops", "checked", T0, rule="circuit_breaker"),
        ResetRequested("ops", "checked", T0, scope=Scope(account="A2")),
        ResetRequested("ops", "checked", T0, scope=Scope(account="A1", symbol="MNQ")),
    ],
)
def test_reset_when_aimed_at_another_rule_or_scope_then_state_is_unchanged(command: ResetRequested) -> None:
    # Arrange
    desk = Desk(rule())
    desk.fills(0, 10)
    before = desk.state
    # Act
    desk.feed(command)
    # Assert
    assert desk.state is before


def test_engine_when_a_strategy_is_throttled_then_its_entries_stop_its_exits_and_others_pass_until_reset() -> None:
    # Arrange: at most 2 fills a minute
    engine = RiskEngine([rule(max_fills=2)], INSTRUMENTS)
    engine.handle(account())
    engine.handle(make_fill("f1", "buy", "1", "18000", seconds=1))
    engine.handle(make_fill("f2", "buy", "1", "18000", seconds=2))
    # Act
    tripped = engine.handle(make_fill("f3", "buy", "1", "18000", seconds=3))
    entry = engine.check(order(order_id="o1", ts=at(4)))
    other = engine.check(order(strategy="s2", order_id="o2", ts=at(5)))
    exit_ = engine.check(order("sell", "1", order_id="o3", ts=at(6)))
    reset = engine.handle(ResetRequested("ops", "bot fixed", at(7)))
    after = engine.check(order(order_id="o4", ts=at(8)))
    # Assert: 3 fills in 60 s > 2
    reason = (
        "strategy s1 on A1 had 3 fills within 60 s, over the limit of 2; the strategy is disabled until an operator "
        "resets it"
    )
    assert without_ids(tripped) == [
        RaiseAlert(rule=NAME, reason=reason, level=AlertLevel.CRITICAL, account="A1"),
        LockOut(rule=NAME, reason=reason, scope=S1, until=None),
    ]
    assert (entry.approved, entry.reason_code, entry.rule, entry.message) == (False, "locked_out", NAME, reason)
    assert other.approved is True
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")
    assert without_ids(reset) == [
        EndLockout(
            rule=NAME,
            reason="lockout by repeated_execution_throttle on account A1, strategy s1 ended: cleared by ops: bot fixed",
            scope=S1,
            locked_by=NAME,
        )
    ]
    assert after.approved is True
    assert engine.states[NAME] == ThrottleState()


def test_repeated_execution_throttle_headroom_when_fills_in_window_then_one_row_per_strategy() -> None:
    # Arrange: s1 filled at +0, +10, +20 s, s2 at +30 s; read at +65 s, the window (5 s, 65 s]
    desk = Desk(rule())
    desk.fills(0, 10, 20)
    desk.fill(30, strategy="s2")
    desk.view.now = at(65)
    # Act
    rows = desk.rule.headroom(desk.view, desk.state)
    # Assert: s1 2 of 3 = 66.7 % (the fill at +0 s has left); s2 1 of 3 = 33.3 %
    assert [(r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("fills in the last 60 s", S1, D(2), D(3), "fills", D("66.7")),
        ("fills in the last 60 s", Scope(account="A1", strategy="s2"), D(1), D(3), "fills", D("33.3")),
    ]


def test_repeated_execution_throttle_headroom_when_tripped_then_the_tripping_count_stays_until_reset() -> None:
    # Arrange: 4 fills in 3 s trip a limit of 3; read long after, at +200 s
    desk = Desk(rule())
    desk.fills(0, 1, 2, 3)
    desk.view.now = at(200)
    # Act
    (row,) = desk.rule.headroom(desk.view, desk.state)
    # Assert: 4 of 3 = 133.3 %, past the limit
    assert (row.rule, row.scope, row.value, row.limit, row.unit, row.used_pct) == (
        NAME,
        S1,
        D(4),
        D(3),
        "fills",
        D("133.3"),
    )
