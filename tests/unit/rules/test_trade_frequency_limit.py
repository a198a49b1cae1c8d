"""TradeFrequencyLimit: trades per minute, hour and session, the lockouts, and the session reset across DST."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest

from riskguard.core import (
    AccountView,
    Action,
    AlertLevel,
    ClockTicked,
    Deny,
    Fill,
    FillBooked,
    InvalidInput,
    LockOut,
    ResetRequested,
    RiskEngine,
    Scope,
)
from riskguard.core.decisions import ALLOW
from riskguard.core.rules.trade_frequency_limit import (
    AccountTrades,
    TradeFrequencyLimit,
    TradeFrequencyLimitParams,
    TradeFrequencyState,
)
from riskguard.testing.factories import T0
from tests.unit.rules._view import INSTRUMENTS, D, account, at, make_view, order


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rule(**settings: Any) -> TradeFrequencyLimit:
    return TradeFrequencyLimit(TradeFrequencyLimitParams(**settings))


def fill(fill_id: str, side: str, ts: datetime, *, qty: str = "1", order_id: str | None = None) -> Fill:
    return Fill(fill_id, order_id or f"o-{fill_id}", "A1", "s1", "MNQ", side, qty, "18000.00", ts)  # type: ignore[arg-type]


def feed(
    limit: TradeFrequencyLimit, fills: list[Fill], state: TradeFrequencyState | None = None
) -> tuple[TradeFrequencyState, list[list[Action]], AccountView]:
    """Book each fill in one ledger and let the rule react, the view's time being the fill's."""
    view = make_view(fills[0].ts)
    state = state or limit.initial_state()
    produced = []
    for each in fills:
        view.now = each.ts
        state, actions = limit.react(FillBooked(each, view.ledger.apply(each)), view, state)
        produced.append(list(actions))
    return state, produced, view


def trades(*stamps: datetime) -> TradeFrequencyState:
    return TradeFrequencyState({"A1": AccountTrades(tuple((ts, f"o{i}") for i, ts in enumerate(stamps)))})


def lock_of(actions: list[Action]) -> LockOut:
    """The one lockout among a breach's actions."""
    (lock,) = [a for a in actions if isinstance(a, LockOut)]
    return lock


def fields(action: Action) -> tuple[str, dict[str, Any]]:
    return type(action).__name__, {k: v for k, v in asdict(action).items() if k not in ("id", "reason")}


# -- the gate ------------------------------------------------------------------------------------


def test_check_when_below_per_minute_cap_then_allowed() -> None:
    # Arrange: cap 2, one trade in the last minute
    limit = rule(per_minute=2)
    # Act
    verdict = limit.check(order(ts=at(30)), make_view(at(30)), trades(at(0)))
    # Assert
    assert verdict == ALLOW


def test_check_when_at_per_minute_cap_then_denied_until_the_oldest_trade_leaves() -> None:
    # Arrange: cap 2, trades at T0+0 s and T0+10 s, order at T0+30 s
    limit = rule(per_minute=2)
    # Act
    verdict = limit.check(order(ts=at(30)), make_view(at(30)), trades(at(0), at(10)))
    # Assert: room again when the T0 trade leaves, at T0 + 60 s = 14:31:00 UTC = 09:31:00 EST
    assert verdict == Deny(
        "trade_frequency_limit",
        "trade_frequency",
        "A1 has made 2 trades in the last minute, the limit is 2 per minute; one more would exceed it, "
        "so new entries are refused until 2026-03-06 09:31:00 America/New_York",
    )


def test_check_when_trade_exactly_one_window_old_then_it_no_longer_counts() -> None:
    # Arrange: cap 1, a trade at T0; the window at now is (now - 60 s, now]
    limit = rule(per_minute=1)
    state = trades(at(0))
    # Act
    inside = limit.check(order(), make_view(at(59.999)), state)
    outside = limit.check(order(), make_view(at(60)), state)
    # Assert
    assert isinstance(inside, Deny)
    assert outside == ALLOW


def test_check_when_at_per_hour_cap_then_denied_with_hour_window() -> None:
    # Arrange: cap 3 per hour, trades at T0, +20 min, +40 min; order at +50 min
    limit = rule(per_hour=3)
    # Act
    verdict = limit.check(order(), make_view(at(minutes=50)), trades(at(0), at(minutes=20), at(minutes=40)))
    # Assert: the T0 trade leaves at T0 + 1 h = 15:30 UTC = 10:30 EST
    assert isinstance(verdict, Deny)
    assert verdict.message.startswith("A1 has made 3 trades in the last hour, the limit is 3 per hour")
    assert verdict.message.endswith("until 2026-03-06 10:30:00 America/New_York")


def test_check_when_other_account_at_cap_then_this_account_allowed() -> None:
    # Arrange
    limit = rule(per_minute=1)
    state = TradeFrequencyState({"A2": AccountTrades(((at(0), "o1"),))})
    # Act / Assert
    assert limit.check(order(ts=at(1)), make_view(at(1)), state) == ALLOW


@pytest.mark.parametrize(
    ("trade_times", "allowed_at", "refused_at"),
    [
        # Spring forward, Sunday 2026-03-08: 17:00 EDT = 21:00 UTC (not 22:00 as in winter)
        (("2026-03-08T20:00:00", "2026-03-08T20:30:00"), "2026-03-08T21:00:00", "2026-03-08T20:59:59"),
        # Fall back, Sunday 2026-11-01: 17:00 EST = 22:00 UTC (not 21:00 as in summer)
        (("2026-11-01T21:00:00", "2026-11-01T21:30:00"), "2026-11-01T22:00:00", "2026-11-01T21:59:59"),
    ],
)
def test_check_when_per_session_cap_on_dst_day_then_count_restarts_at_local_reset(
    trade_times: tuple[str, str], allowed_at: str, refused_at: str
) -> None:
    # Arrange: cap 2 per session, two trades just before the reset
    limit = rule(per_session=2)
    state, _, _ = feed(limit, [fill(f"f{i}", "buy", utc(ts)) for i, ts in enumerate(trade_times)])
    # Act
    refused = limit.check(order(), make_view(utc(refused_at)), state)
    allowed = limit.check(order(), make_view(utc(allowed_at)), state)
    # Assert
    assert isinstance(refused, Deny)
    assert refused.message.endswith(
        f"until {utc(allowed_at).astimezone(limit.schedule.timezone):%Y-%m-%d} 17:00:00 America/New_York"
    )
    assert allowed == ALLOW


# -- reacting to fills ---------------------------------------------------------------------------------


def test_react_when_fills_reach_the_cap_then_nothing() -> None:
    # Arrange: cap 2 per minute
    limit = rule(per_minute=2)
    # Act
    state, produced, _ = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "buy", at(10))])
    # Assert
    assert produced == [[], []]
    assert [ts for ts, _ in state.accounts["A1"].trades] == [at(0), at(10)]


def test_react_when_a_fill_goes_over_the_per_minute_cap_then_locks_for_the_cooldown() -> None:
    # Arrange: cap 2 per minute, cooldown 60 s (default); the third entry at T0+20 s
    limit = rule(per_minute=2)
    # Act
    state, produced, _ = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "buy", at(10)), fill("f3", "buy", at(20))])
    # Assert: locked until T0 + 20 s + 60 s = 14:31:20 UTC = 09:31:20 EST
    until = at(80)
    assert [fields(a) for a in produced[2]] == [
        ("RaiseAlert", {"rule": "trade_frequency_limit", "level": AlertLevel.CRITICAL, "account": "A1", "details": {}}),
        (
            "LockOut",
            {
                "rule": "trade_frequency_limit",
                "scope": {"account": "A1", "strategy": None, "symbol": None},
                "until": until,
                "code": "locked_out",
            },
        ),
    ]
    assert produced[2][1].reason == (
        "A1 made 3 trades in the last minute, over the limit of 2 per minute; "
        "new entries are refused until 2026-03-06 09:31:20 America/New_York"
    )
    assert state.accounts["A1"].locked_until == until


def test_react_when_breach_with_flatten_and_lock_then_closes_cancels_and_locks() -> None:
    # Arrange: cap 1 per minute, on_breach flatten_and_lock; long 2 after two entries
    limit = rule(per_minute=1, on_breach="flatten_and_lock")
    # Act
    _, produced, _ = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "buy", at(1))])
    # Assert: locked until T0 + 1 s + 60 s
    assert [fields(a) for a in produced[1]][1:] == [
        ("ClosePosition", {"rule": "trade_frequency_limit", "account": "A1", "symbol": "MNQ"}),
        ("CancelAllOrders", {"rule": "trade_frequency_limit", "account": "A1", "symbol": None}),
        (
            "LockOut",
            {
                "rule": "trade_frequency_limit",
                "scope": {"account": "A1", "strategy": None, "symbol": None},
                "until": at(61),
                "code": "locked_out",
            },
        ),
    ]
    assert produced[1][0].reason.endswith(
        "positions are closed, orders cancelled and new entries refused until 2026-03-06 09:31:01 America/New_York"
    )


def test_react_when_more_fills_while_locked_then_no_second_bundle() -> None:
    # Arrange: cap 1 per minute: the 2nd fill breaches, the 3rd comes during the lockout
    limit = rule(per_minute=1)
    # Act
    _, produced, _ = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "buy", at(1)), fill("f3", "buy", at(2))])
    # Assert
    assert [len(actions) for actions in produced] == [0, 2, 0]


def test_react_when_breach_after_the_lockout_ended_then_fires_again() -> None:
    # Arrange: cap 1 per minute; breach at T0+1 s locks until T0+61 s; two more entries at +70 s, +71 s
    limit = rule(per_minute=1)
    fills = [fill("f1", "buy", at(0)), fill("f2", "buy", at(1)), fill("f3", "buy", at(70)), fill("f4", "buy", at(71))]
    # Act
    _, produced, _ = feed(limit, fills)
    # Assert: at +71 s the window (11 s, 71 s] holds the trades at 70 s and 71 s: 2 > 1, locked until 131 s
    assert [len(actions) for actions in produced] == [0, 2, 0, 2]
    assert lock_of(produced[3]).until == at(131)


def test_react_when_per_session_breach_during_timer_lockout_then_locks_until_the_reset() -> None:
    # Arrange: 1 per minute and 2 per session; T0 is 09:30 EST on Friday 2026-03-06
    limit = rule(per_minute=1, per_session=2)
    # Act
    _, produced, _ = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "buy", at(1)), fill("f3", "buy", at(2))])
    # Assert: f2 breaches per minute (until T0+61 s); f3 breaches per session: until 17:00 EST = 22:00 UTC
    assert lock_of(produced[1]).until == at(61)
    assert lock_of(produced[2]).until == utc("2026-03-06T22:00:00")
    assert lock_of(produced[2]).reason.startswith(
        "A1 made 3 trades since the session began at 2026-03-05 17:00:00 America/New_York, over the limit of 2 per session"
    )


def test_react_when_counting_entries_then_exits_do_not_count() -> None:
    # Arrange: cap 1 per minute; buy 2, then sell 1 and sell 1 (a reduce and a close)
    limit = rule(per_minute=1)
    fills = [fill("f1", "buy", at(0), qty="2"), fill("f2", "sell", at(1)), fill("f3", "sell", at(2))]
    # Act
    state, produced, _ = feed(limit, fills)
    # Assert
    assert produced == [[], [], []]
    assert len(state.accounts["A1"].trades) == 1


def test_react_when_counting_fills_then_exits_count_too() -> None:
    # Arrange: same fills, count: fills; the reduce at +1 s is the second trade in the minute
    limit = rule(per_minute=1, count="fills")
    fills = [fill("f1", "buy", at(0), qty="2"), fill("f2", "sell", at(1)), fill("f3", "sell", at(2))]
    # Act
    _, produced, _ = feed(limit, fills)
    # Assert
    assert [len(actions) for actions in produced] == [0, 2, 0]


def test_react_when_a_flip_then_it_is_an_entry() -> None:
    # Arrange: cap 1; long 1, then sell 2 flips to short 1
    limit = rule(per_minute=1)
    # Act
    _, produced, _ = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "sell", at(1), qty="2")])
    # Assert
    assert [len(actions) for actions in produced] == [0, 2]


def test_react_when_partial_fills_of_one_order_then_they_count_once() -> None:
    # Arrange: cap 1; one order "big" filled in three parts
    limit = rule(per_minute=1)
    fills = [fill(f"f{i}", "buy", at(i), order_id="big") for i in range(3)]
    # Act
    state, produced, _ = feed(limit, fills)
    # Assert
    assert produced == [[], [], []]
    assert state.accounts["A1"].trades == ((at(0), "big"),)


def test_react_when_trades_age_out_then_state_keeps_only_the_longest_window() -> None:
    # Arrange: per minute and per hour only; trades at T0, +30 min, +2 h
    limit = rule(per_minute=5, per_hour=10)
    fills = [fill("f1", "buy", at(0)), fill("f2", "buy", at(minutes=30)), fill("f3", "buy", at(hours=2))]
    # Act
    state, _, _ = feed(limit, fills)
    # Assert: at +2 h the hour back is +1 h: only the newest trade is kept
    assert state.accounts["A1"].trades == ((at(hours=2), "o-f3"),)


def test_react_when_operator_resets_the_account_then_counts_and_lock_are_forgotten() -> None:
    # Arrange
    limit = rule(per_minute=1)
    state, _, view = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "buy", at(1))])
    other = ResetRequested("ops", "checked", at(5), Scope(account="A1", strategy="s1"), rule="trade_frequency_limit")
    # Act
    narrow, _ = limit.react(other, view, state)
    reset, actions = limit.react(ResetRequested("ops", "checked", at(5), Scope(account="A1")), view, state)
    # Assert
    assert narrow == state
    assert (reset, actions) == (TradeFrequencyState(), ())
    assert limit.check(order(ts=at(5)), make_view(at(5)), reset) == ALLOW


# -- configuration --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "field_name"),
    [
        ({}, "per_minute"),
        ({"per_minute": 0}, "per_minute"),
        ({"per_hour": True}, "per_hour"),
        ({"per_session": -1}, "per_session"),
        ({"per_minute": 1, "cooldown_seconds": 0}, "cooldown_seconds"),
        ({"per_minute": 1, "session_reset_time": "5pm"}, "session_reset_time"),
        ({"per_minute": 1, "timezone": "Nowhere/City"}, "timezone"),
    ],
)
def test_params_when_invalid_then_refused_naming_the_field(settings: dict[str, Any], field_name: str) -> None:
    # Act
    with pytest.raises(InvalidInput) as raised:
        rule(**settings)
    # Assert
    assert raised.value.field == field_name


# -- through the engine -----------------------------------------------------------------------------------


def test_engine_when_cap_exceeded_then_entries_locked_exits_approved_and_lock_ends_on_time() -> None:
    # Arrange: cap 2 per minute; three entries at +1, +2, +3 s (sent around the gate, as at a broker)
    engine = RiskEngine([rule(per_minute=2)], INSTRUMENTS)
    engine.handle(account(ts=T0))
    engine.handle(fill("f1", "buy", at(1)))
    engine.handle(fill("f2", "buy", at(2)))
    # Act
    actions = engine.handle(fill("f3", "buy", at(3)))
    entry = engine.check(order("buy", "1", order_id="o9", ts=at(4)))
    exit_ = engine.check(order("sell", "1", order_id="o10", ts=at(4)))
    deadline = engine.next_deadline()
    ended = engine.handle(ClockTicked(at(63)))
    later = engine.check(order("buy", "1", order_id="o11", ts=at(63)))
    # Assert: locked from +3 s for 60 s, to +63 s; then the window (3 s, 63 s] is empty
    assert [a.name for a in actions] == ["alert", "lock_out"]
    assert actions[1].id == "4.2.trade_frequency_limit.lock_out"
    assert (entry.approved, entry.reason_code, entry.rule) == (False, "locked_out", "trade_frequency_limit")
    assert entry.message == actions[1].reason
    assert (exit_.approved, exit_.message) == (True, "approved: the order only reduces a position")
    assert deadline == at(63)
    assert [a.name for a in ended] == ["end_lockout"]
    assert later.approved


# -- headroom ---------------------------------------------------------------------------------------------


def test_trade_frequency_limit_headroom_when_3_entries_then_one_row_per_window() -> None:
    # Arrange: entries at +0, +10 and +70 s (the session began at 17:00 New York the day before)
    limit = rule(per_minute=3, per_hour=10, per_session=20)
    state, _, view = feed(limit, [fill("f1", "buy", at(0)), fill("f2", "buy", at(10)), fill("f3", "buy", at(70))])
    view.now = at(75)
    # Act
    rows = limit.headroom(view, state)
    # Assert: minute (15 s, 75 s]: 1 of 3 = 33.3 %; hour: 3 of 10 = 30 %; session: 3 of 20 = 15 %
    a1 = Scope(account="A1")
    assert [(r.label, r.scope, r.value, r.limit, r.unit, r.used_pct) for r in rows] == [
        ("trades in the last minute", a1, D(1), D(3), "trades", D("33.3")),
        ("trades in the last hour", a1, D(3), D(10), "trades", D("30.0")),
        ("trades this session", a1, D(3), D(20), "trades", D("15.0")),
    ]


def test_trade_frequency_limit_headroom_when_a_new_session_begins_then_its_count_starts_at_zero() -> None:
    # Arrange: 2 trades before the 17:00 New York reset (22:00 UTC: still EST on 6 March), read 1 s after it
    limit = rule(per_session=4)
    state, _, view = feed(
        limit, [fill("f1", "buy", utc("2026-03-06 21:59:00")), fill("f2", "buy", utc("2026-03-06 21:59:30"))]
    )
    view.now = utc("2026-03-06 22:00:01")
    # Act
    (row,) = limit.headroom(view, state)
    # Assert: 0 of 4 = 0 %
    assert (row.label, row.scope, row.value, row.limit, row.unit, row.used_pct) == (
        "trades this session",
        Scope(account="A1"),
        D(0),
        D(4),
        "trades",
        D("0.0"),
    )
