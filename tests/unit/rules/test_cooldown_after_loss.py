"""CooldownAfterLoss: one big losing trade or a losing streak locks the account for a while."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from riskguard.core import (
    Action,
    AlertLevel,
    ClockTicked,
    Fill,
    FillBooked,
    InvalidInput,
    LockOut,
    ResetRequested,
    RiskEngine,
    Scope,
)
from riskguard.core.rules.cooldown_after_loss import CooldownAfterLoss, CooldownAfterLossParams, CooldownState
from riskguard.testing.factories import T0
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, order

D = Decimal


def rule(**settings: Any) -> CooldownAfterLoss:
    return CooldownAfterLoss(CooldownAfterLossParams(**settings))


def fill(
    fill_id: str, side: str, price: str, ts: datetime, *, qty: str = "1", fee: str = "0", strategy: str = "s1"
) -> Fill:
    return Fill(fill_id, f"o-{fill_id}", "A1", strategy, "MNQ", side, qty, price, ts, fee)  # type: ignore[arg-type]


def feed(cooldown: CooldownAfterLoss, fills: list[Fill]) -> tuple[CooldownState, list[list[Action]]]:
    """Book each fill in one ledger and let the rule react at the fill's time."""
    view = make_view(fills[0].ts)
    state = cooldown.initial_state()
    produced = []
    for each in fills:
        view.now = each.ts
        state, actions = cooldown.react(FillBooked(each, view.ledger.apply(each)), view, state)
        produced.append(list(actions))
    return state, produced


def round_trip(n: int, entry: str, exit_: str, *, seconds: int = 0, fee: str = "0") -> list[Fill]:
    """Long 1 MNQ at `entry`, closed at `exit_`: (exit - entry) x 2 USD a point, less fees."""
    return [
        fill(f"in{n}", "buy", entry, at(seconds), fee=fee),
        fill(f"out{n}", "sell", exit_, at(seconds + 1), fee=fee),
    ]


def fields(action: Action) -> tuple[str, dict[str, Any]]:
    return type(action).__name__, {k: v for k, v in asdict(action).items() if k not in ("id", "reason")}


# -- one big loss -----------------------------------------------------------------------------------


def test_react_when_loss_just_below_threshold_then_nothing() -> None:
    # Arrange: (17950.25 - 18000.00) x 2 = -99.50, a limit of 100
    cooldown = rule(loss_amount=D("100"))
    # Act
    state, produced = feed(cooldown, round_trip(1, "18000.00", "17950.25"))
    # Assert
    assert produced == [[], []]
    assert state.streaks == {"A1": 1}


@pytest.mark.parametrize("written", [D("100"), D("-100")])
def test_react_when_loss_reaches_threshold_exactly_then_warns_and_locks_for_the_cooldown(written: Decimal) -> None:
    # Arrange: (17950.00 - 18000.00) x 2 = -100.00: reaching the threshold fires; closed at T0 + 1 s
    cooldown = rule(loss_amount=written)
    # Act
    state, produced = feed(cooldown, round_trip(1, "18000.00", "17950.00"))
    # Assert: until T0 + 1 s + 15 min = 14:45:01 UTC = 09:45:01 EST
    until = at(1, minutes=15)
    assert [fields(a) for a in produced[1]] == [
        ("RaiseAlert", {"rule": "cooldown_after_loss", "level": AlertLevel.WARNING, "account": "A1", "details": {}}),
        (
            "LockOut",
            {
                "rule": "cooldown_after_loss",
                "scope": {"account": "A1", "strategy": None, "symbol": None},
                "until": until,
                "code": "locked_out",
            },
        ),
    ]
    assert produced[1][1].reason == (
        "cooldown after a loss of -100.00 USD (the limit is -100.00 USD) on A1 (MNQ); "
        "new risk is refused until 2026-03-06 09:45:01 America/New_York (14:45:01 UTC)"
    )
    assert produced[1][0].reason == produced[1][1].reason
    assert state == CooldownState()  # the streak starts over


def test_react_when_loss_over_threshold_net_of_fees_then_locks() -> None:
    # Arrange: gross (17960.00 - 18000.00) x 2 = -80.00, fees 2 x 10.25 = 20.50: net -100.50
    cooldown = rule(loss_amount=D("100"), cooldown_minutes=30)
    # Act
    _, produced = feed(cooldown, round_trip(1, "18000.00", "17960.00", fee="10.25"))
    # Assert
    lock = produced[1][1]
    assert isinstance(lock, LockOut)
    assert lock.until == at(1, minutes=30)
    assert "a loss of -100.50 USD" in lock.reason


def test_react_when_position_only_reduced_then_not_a_trade() -> None:
    # Arrange: long 2, sell 1 at a 200.00 loss: (17900 - 18000) x 1 x 2; the position stays open
    cooldown = rule(loss_amount=D("100"))
    # Act
    state, produced = feed(
        cooldown, [fill("f1", "buy", "18000.00", at(0), qty="2"), fill("f2", "sell", "17900.00", at(1))]
    )
    # Assert
    assert produced == [[], []]
    assert state == CooldownState()


def test_react_when_flip_closes_a_losing_position_then_it_counts() -> None:
    # Arrange: long 1 at 18000, sell 2 at 17940: the long closes at (17940 - 18000) x 2 = -120.00
    cooldown = rule(loss_amount=D("100"))
    # Act
    _, produced = feed(cooldown, [fill("f1", "buy", "18000.00", at(0)), fill("f2", "sell", "17940.00", at(1), qty="2")])
    # Assert
    assert [a.name for a in produced[1]] == ["alert", "lock_out"]


# -- losing streaks -------------------------------------------------------------------------------------


def test_react_when_losses_in_a_row_reach_the_count_then_locks_and_streak_restarts() -> None:
    # Arrange: 3 in a row; each trade loses (17999.00 - 18000.00) x 2 = -2.00
    cooldown = rule(consecutive_losses=3)
    fills = [f for n in range(4) for f in round_trip(n, "18000.00", "17999.00", seconds=10 * n)]
    # Act
    state, produced = feed(cooldown, fills)
    # Assert: the 3rd close (at T0 + 21 s) fires, until T0 + 21 s + 15 min; the 4th starts a new streak
    assert [len(actions) for actions in produced] == [0, 0, 0, 0, 0, 2, 0, 0]
    lock = produced[5][1]
    assert isinstance(lock, LockOut)
    assert lock.until == at(21, minutes=15)
    assert lock.reason.startswith("cooldown after 3 losing trades in a row on A1 (MNQ)")
    assert state.streaks == {"A1": 1}


def test_react_when_two_losses_then_nothing() -> None:
    # Arrange
    cooldown = rule(consecutive_losses=3)
    fills = [f for n in range(2) for f in round_trip(n, "18000.00", "17999.00", seconds=10 * n)]
    # Act
    state, produced = feed(cooldown, fills)
    # Assert
    assert all(actions == [] for actions in produced)
    assert state.streaks == {"A1": 2}


@pytest.mark.parametrize(("exit_price", "meaning"), [("18001.00", "a win"), ("18000.00", "break-even")])
def test_react_when_a_win_or_break_even_in_between_then_streak_starts_over(exit_price: str, meaning: str) -> None:
    # Arrange: loss, loss, then `meaning`, then loss, loss: never 3 in a row
    cooldown = rule(consecutive_losses=3)
    exits = ["17999.00", "17999.00", exit_price, "17999.00", "17999.00"]
    fills = [f for n, price in enumerate(exits) for f in round_trip(n, "18000.00", price, seconds=10 * n)]
    # Act
    state, produced = feed(cooldown, fills)
    # Assert
    assert all(actions == [] for actions in produced), meaning
    assert state.streaks == {"A1": 2}


def test_react_when_both_triggers_on_the_same_trade_then_one_lockout_names_both() -> None:
    # Arrange: two small losses, then a -120.00 loss: 3 in a row and over 100
    cooldown = rule(loss_amount=D("100"), consecutive_losses=3)
    exits = ["17999.00", "17999.00", "17940.00"]
    fills = [f for n, price in enumerate(exits) for f in round_trip(n, "18000.00", price, seconds=10 * n)]
    # Act
    _, produced = feed(cooldown, fills)
    # Assert
    assert [a.name for a in produced[5]] == ["alert", "lock_out"]
    assert produced[5][1].reason.startswith(
        "cooldown after a loss of -120.00 USD (the limit is -100.00 USD) and 3 losing trades in a row on A1"
    )


def test_react_when_cooldown_crosses_spring_forward_then_message_shows_local_time_after_the_jump() -> None:
    # Arrange: a -100.00 close at 2026-03-08 06:50 UTC = 01:50 EST; 15 min later is 07:05 UTC = 03:05 EDT
    cooldown = rule(loss_amount=D("100"))
    opened = datetime(2026, 3, 8, 6, 49, tzinfo=UTC)
    fills = [fill("f1", "buy", "18000.00", opened), fill("f2", "sell", "17950.00", opened + timedelta(minutes=1))]
    # Act
    _, produced = feed(cooldown, fills)
    # Assert
    lock = produced[1][1]
    assert isinstance(lock, LockOut)
    assert lock.until == datetime(2026, 3, 8, 7, 5, tzinfo=UTC)
    assert lock.reason.endswith("until 2026-03-08 03:05:00 America/New_York (07:05:00 UTC)")


def test_react_when_operator_resets_then_streak_is_cleared() -> None:
    # Arrange: two losses so far
    cooldown = rule(consecutive_losses=3)
    state, _ = feed(cooldown, [f for n in range(2) for f in round_trip(n, "18000.00", "17999.00", seconds=10 * n)])
    view = make_view(at(60))
    # Act
    narrow, _ = cooldown.react(ResetRequested("ops", "ok", at(60), Scope(account="A1", symbol="MNQ")), view, state)
    reset, actions = cooldown.react(ResetRequested("ops", "ok", at(60), Scope(account="A1")), view, state)
    # Assert
    assert narrow == state
    assert (reset, actions) == (CooldownState(), ())


@pytest.mark.parametrize(
    ("settings", "field_name"),
    [
        ({}, "loss_amount"),
        ({"loss_amount": D("0")}, "loss_amount"),
        ({"consecutive_losses": 0}, "consecutive_losses"),
        ({"consecutive_losses": 3, "cooldown_minutes": 0}, "cooldown_minutes"),
        ({"consecutive_losses": 3, "timezone": "Atlantis/Capital"}, "timezone"),
    ],
)
def test_params_when_invalid_then_refused_naming_the_field(settings: dict[str, Any], field_name: str) -> None:
    # Act
    with pytest.raises(InvalidInput) as raised:
        rule(**settings)
    # Assert
    assert raised.value.field == field_name


# -- through the engine -----------------------------------------------------------------------------------


def test_engine_when_loss_closes_then_entries_locked_exit_approved_until_the_cooldown_ends() -> None:
    # Arrange: s2 holds long 1 MNQ; s1 loses -100.00 on a round trip closed at T0 + 2 s
    engine = RiskEngine([rule(loss_amount=D("100"))], INSTRUMENTS)
    engine.handle(account(ts=T0))
    engine.handle(fill("h1", "buy", "18000.00", at(0), strategy="s2"))
    engine.handle(fill("f1", "buy", "18000.00", at(1)))
    # Act
    actions = engine.handle(fill("f2", "sell", "17950.00", at(2)))
    entry = engine.check(order("buy", "1", order_id="o9", ts=at(3)))
    exit_ = engine.check(order("sell", "1", order_id="o10", strategy="s2", ts=at(3)))
    deadline = engine.next_deadline()
    before_end = engine.check(order("buy", "1", order_id="o11", ts=at(2, minutes=15) - timedelta(microseconds=1)))
    ended = engine.handle(ClockTicked(at(2, minutes=15)))
    after_end = engine.check(order("buy", "1", order_id="o12", ts=at(2, minutes=15)))
    # Assert: the lockout runs from T0 + 2 s for 15 min
    assert [(a.name, a.id) for a in actions] == [
        ("alert", "4.1.cooldown_after_loss.alert"),
        ("lock_out", "4.2.cooldown_after_loss.lock_out"),
    ]
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "locked_out", "cooldown_after_loss")
    assert entry.message.startswith("cooldown after a loss of -100.00 USD")
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")
    assert deadline == at(2, minutes=15)
    assert before_end.reason_code == "locked_out"
    assert [a.name for a in ended] == ["end_lockout"]
    assert after_end.approved


# -- headroom ---------------------------------------------------------------------------------------


def test_cooldown_after_loss_headroom_when_2_losses_in_a_row_of_3_then_66_7_pct_used() -> None:
    # Arrange: two losing round trips, -2.00 USD each: a streak of 2 of 3 = 66.7 %
    cooldown = rule(consecutive_losses=3)
    state, _ = feed(
        cooldown, [*round_trip(1, "18000.00", "17999.00"), *round_trip(2, "18000.00", "17999.00", seconds=5)]
    )
    # Act
    (row,) = cooldown.headroom(make_view(at(10)), state)
    # Assert
    assert (row.rule, row.label, row.scope, row.value, row.limit, row.unit) == (
        "cooldown_after_loss",
        "losing trades in a row",
        Scope(account="A1"),
        D(2),
        D(3),
        "trades",
    )
    assert (row.used_pct, row.remaining) == (D("66.7"), D(1))


def test_cooldown_after_loss_headroom_when_only_a_loss_amount_then_no_row() -> None:
    # Arrange: a one-trade loss limit has no standing value
    cooldown = rule(loss_amount=D("100"))
    # Act
    rows = cooldown.headroom(make_view(), cooldown.initial_state())
    # Assert
    assert rows == ()
