"""A daemon killed (`kill -9`) in the middle of an emergency close, then started again on its journal:
every piece of state comes back exactly, and the close it was retrying is carried out once.

The story, on PAPER-USD (50,000 USD; MNQ: tick 0.25, 2 USD a point; MES: tick 0.25, 5 USD a
point; a market order pays one tick of spread; 0.62 USD a contract a side):

- Tuesday 2026-06-09 14:00 UTC, trade A: 1 MNQ bought at 20000.25, marked at 20050.00 (the
  high-water mark), sold at 20049.75: +99.00 - 1.24 fees = +97.76.
- Wednesday 2026-06-10 from 14:00:00 UTC, trades B and C: two losing round trips of 1 MNQ,
  -32.24 each (each a cooldown, and a losing run of 2); then 4 MNQ and 1 MES bought, the third
  entry in a minute (a trade-frequency lockout); at 14:00:50, with every order call failing
  with a 5xx, MNQ falls to 19960.00: the kill switch trips, and its two closes and its
  cancel-all fail once each, which opens the order-submission breaker.
- The process dies at 14:00:50 and comes back at 14:01:00 with a new monotonic clock, while the
  venue answers every order call with a 429.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from riskguard.core.actions import CancelAllOrders, ClosePosition
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import Side
from riskguard.core.lockouts import Lockout
from riskguard.core.rules.circuit_breaker import AccountBreaker
from riskguard.core.rules.daily_realized_loss import daily_loss_status
from riskguard.core.scope import Scope
from riskguard.daemon.executor import RetryPolicy
from riskguard.daemon.health import HEALTH_SETTING, BreakerState
from riskguard.store.journal import ActionStatus
from riskguard.testing.engine_state import engine_state
from riskguard.venues.base import CallClass
from riskguard.venues.paper.venue import PaperVenue
from tests.integration._rig import ACCOUNT, ManualClock, Rig, build, crash, market, paper_venue, until

pytestmark = pytest.mark.asyncio

TUESDAY = datetime(2026, 6, 9, 14, 0, tzinfo=UTC)  # 10:00 New York (EDT)
WEDNESDAY = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)
CRASHED_AT = datetime(2026, 6, 10, 14, 0, 50, tzinfo=UTC)
BACK_AT = datetime(2026, 6, 10, 14, 1, 0, tzinfo=UTC)  # 10 s later by the wall clock
RULES = """\
  daily_realized_loss: {limit: -1000}
  weekly_reward_target: {target_pct: 20}
  drawdown_kill_switch: {max_drawdown_pct: 1}
  trade_frequency_limit: {per_minute: 2, cooldown_seconds: 900}
  cooldown_after_loss: {loss_amount: 20, cooldown_minutes: 30, timezone: UTC}
  circuit_breaker: {max_consecutive_losses: 3}
"""
# A second attempt only an hour after the first: the closes are still pending when the process dies.
SLOW = RetryPolicy(max_attempts=10, first_delay=3600.0, max_delay=3600.0)
# After the restart: retry quickly and for as long as the venue keeps answering 429.
PATIENT = RetryPolicy(max_attempts=1_000_000, first_delay=0.01, max_delay=0.05)
KILL_SWITCH_SINCE = CRASHED_AT


@dataclass
class Crashed:
    db: Path
    venue: PaperVenue
    clock: ManualClock
    before: tuple[Any, ...]  # `state_of` the engine the moment it died


@dataclass
class Restarted:
    rig: Rig
    crashed: Crashed


def rule_state(engine: RiskEngine, name: str) -> tuple[Any, Any]:
    rule = next(r for r in engine.rules if r.name == name)
    return rule, engine.states[name]


def lockouts_by_rule(engine: RiskEngine) -> dict[str, Lockout]:
    return {lockout.rule: lockout for lockout in engine.lockouts.all()}


async def trade(rig: Rig, clock: ManualClock, side: Side, qty: str, held: str, symbol: str = "MNQ") -> None:
    """Send a market order to the venue and wait until the daemon has booked its fill."""
    await rig.venue.place_order(market(clock, side, qty, symbol))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, symbol) == Decimal(held))


def pending_venue_actions(rig: Rig) -> list[dict[str, Any]]:
    return [r for r in rig.journal.action_log() if r["name"] in ("close_position", "cancel_all_orders")]


@pytest_asyncio.fixture(params=[5000, 1], ids=["replayed_journal", "from_snapshot"])
async def crashed(request: pytest.FixtureRequest, tmp_path: Path) -> Crashed:
    """The story of the module docstring, up to the crash and the 10 s the daemon is down."""
    clock = ManualClock(TUESDAY, monotonic=1000.0)
    venue = paper_venue(clock)
    db = tmp_path / "riskguard.db"
    rig = build(db, RULES, venue, clock, retry=SLOW, snapshot_every=request.param)
    await rig.daemon.start()
    engine = rig.daemon.guard.engine
    # Tuesday, trade A: bought at 20000.00 + 0.25 = 20000.25 (fee 0.62) ...
    await trade(rig, clock, Side.BUY, "1", held="1")
    clock.advance(10)
    # ... marked at 20050.00: equity 50000 - 0.62 + (20050.00 - 20000.25) x 2 = 50098.88, the high-water mark ...
    venue.move_price("MNQ", Decimal("20050.00"))
    await until(lambda: engine.accounts[ACCOUNT].equity == Decimal("50098.88"))
    clock.advance(10)
    # ... sold at 20049.75: (20049.75 - 20000.25) x 2 - 0.62 x 2 = +97.76; balance 50097.76
    await trade(rig, clock, Side.SELL, "1", held="0")
    # Wednesday, trade B: 1 bought at 20050.25 at 14:00:00, sold at 20034.75 at 14:00:10:
    # (20034.75 - 20050.25) x 2 - 1.24 = -32.24, a loss of 20 or more: cooldown until 14:30:10
    clock.advance((WEDNESDAY - clock.now()).total_seconds())
    await trade(rig, clock, Side.BUY, "1", held="1")
    clock.advance(5)
    venue.move_price("MNQ", Decimal("20035.00"))
    clock.advance(5)
    await trade(rig, clock, Side.SELL, "1", held="0")
    # Trade C: 1 bought at 20035.25 at 14:00:20, sold at 20019.75 at 14:00:30: -32.24 again,
    # the cooldown now runs until 14:30:30; two losing trades in a row
    clock.advance(10)
    await trade(rig, clock, Side.BUY, "1", held="1")
    clock.advance(5)
    venue.move_price("MNQ", Decimal("20020.00"))
    clock.advance(5)
    await trade(rig, clock, Side.SELL, "1", held="0")
    await until(lambda: lockouts_by_rule(engine)["cooldown_after_loss"].since == WEDNESDAY.replace(second=30))
    # 14:00:40: 4 MNQ bought at 20020.25 (fees 2.48), the third entry since 14:00:00 (cap 2 a
    # minute): locked for 900 s, until 14:15:40
    clock.advance(10)
    await trade(rig, clock, Side.BUY, "4", held="4")
    await until(lambda: "trade_frequency_limit" in lockouts_by_rule(engine))
    # 14:00:45: 1 MES bought at 5000.00 + 0.25 = 5000.25 (fee 0.62); balance
    # 50097.76 - 32.24 - 32.24 - 2.48 - 0.62 = 50030.18
    clock.advance(5)
    await trade(rig, clock, Side.BUY, "1", held="1", symbol="MES")
    # 14:00:50: every order call fails with a 5xx, and closes fail anyway; MNQ falls to 19960.00:
    # equity 50030.18 + (19960.00 - 20020.25) x 4 x 2 + (5000.00 - 5000.25) x 5 = 49546.93,
    # 1 - 49546.93 / 50098.88 = 1.10 % below the high-water mark: the 1 % kill switch trips
    clock.advance(5)
    venue.faults.unavailable = {CallClass.ORDER_SUBMISSION: 1_000_000}
    venue.faults.close_always_fails = True
    venue.move_price("MNQ", Decimal("19960.00"))
    # Its close of MNQ, close of MES and cancel-all fail once each: 3 failures open the breaker
    await until(lambda: len(pending_venue_actions(rig)) == 3)
    await until(lambda: all(r["attempts"] == 1 for r in pending_venue_actions(rig)))
    assert rig.daemon.health.breakers[CallClass.ORDER_SUBMISSION].current(clock.monotonic()) is BreakerState.OPEN
    before = engine_state(engine)
    # Act: kill -9; down for 10 s; the venue is back but answers every order call with a 429
    await crash(rig)
    clock.advance(10)
    clock.reboot(monotonic=7.0)
    venue.faults.unavailable = {}
    venue.faults.rate_limited = 1_000_000
    return Crashed(db, venue, clock, before)


@pytest_asyncio.fixture
async def restarted(crashed: Crashed) -> AsyncIterator[Restarted]:
    """A new Guard and Daemon on the same database and venue, started (restore, reconcile, resume)."""
    rig = build(crashed.db, RULES, crashed.venue, crashed.clock, retry=PATIENT)
    await rig.daemon.start()
    yield Restarted(rig, crashed)
    crashed.venue.faults.rate_limited = 0  # let the resumed actions finish, so the stop can drain them
    crashed.venue.faults.close_always_fails = False
    await rig.daemon.stop()


async def test_restart_when_killed_then_the_restored_engine_state_equals_the_state_it_died_with(
    crashed: Crashed,
) -> None:
    # Act
    rig = build(crashed.db, RULES, crashed.venue, crashed.clock, retry=PATIENT)
    rig.daemon.guard.restore(lambda: 0.0)
    # Assert
    try:
        assert engine_state(rig.daemon.guard.engine) == crashed.before
    finally:
        rig.journal.close()


async def test_restart_when_killed_with_positions_open_then_each_comes_back_with_its_qty_and_average_price(
    restarted: Restarted,
) -> None:
    ledger = restarted.rig.daemon.guard.engine.ledger
    mnq, mes = ledger.position(ACCOUNT, "s1", "MNQ"), ledger.position(ACCOUNT, "s1", "MES")
    assert mnq is not None
    assert mes is not None
    assert (mnq.net_qty, mnq.avg_entry_price) == (Decimal(4), Decimal("20020.25"))
    assert (mes.net_qty, mes.avg_entry_price) == (Decimal(1), Decimal("5000.25"))
    assert restarted.rig.daemon.reconciliation is not None
    assert restarted.rig.daemon.reconciliation.discrepancy_count == 0  # the venue agrees


async def test_restart_when_killed_then_the_days_and_the_weeks_realized_pnl_come_back(restarted: Restarted) -> None:
    engine = restarted.rig.daemon.guard.engine
    # Assert: the day (Wednesday): -32.24 - 32.24 - 2.48 - 0.62 = -67.58, from the balance of its
    # first account update, 50097.76 - 0.62 (trade B's entry fee) = 50097.14
    rule, state = rule_state(engine, "daily_realized_loss")
    day = daily_loss_status(rule, state, ACCOUNT, engine.view())
    assert day == {
        "daily_loss_halt": False,
        "daily_start_equity": Decimal("50097.14"),
        "daily_date": "2026-06-10",
        "daily_realized_pnl": Decimal("-67.58"),
    }
    # The week (from Sunday 17:00 New York = 21:00 UTC): +97.76 - 67.58 = +30.18 on 50,000
    rule, state = rule_state(engine, "weekly_reward_target")
    week = rule.week(state, ACCOUNT, engine.view())
    assert week.week_start == datetime(2026, 6, 7, 21, 0, tzinfo=UTC)
    assert (week.start_equity, week.weekly_pnl, week.weekly_target_reached) == (
        Decimal(50000),
        {"USD": Decimal("30.18")},
        False,
    )
    # The ledger's own total agrees: realized net of fees 30.18, fees 1.24 x 3 + 2.48 + 0.62 = 6.82
    totals = engine.ledger.totals(ACCOUNT)["USD"]
    assert (totals.realized_pnl, totals.fees) == (Decimal("30.18"), Decimal("6.82"))


async def test_restart_when_killed_after_the_kill_switch_tripped_then_it_is_still_tripped_against_the_same_high_water_mark(
    restarted: Restarted,
) -> None:
    engine = restarted.rig.daemon.guard.engine
    _, state = rule_state(engine, "drawdown_kill_switch")
    switch = state.accounts[ACCOUNT]
    assert (switch.hwm, switch.equity) == (Decimal("50098.88"), Decimal("49546.93"))
    assert (switch.kill_switch_active, switch.kill_switch_triggered_at) == (True, KILL_SWITCH_SINCE)
    kill = lockouts_by_rule(engine)["drawdown_kill_switch"]
    assert (kill.since, kill.until) == (KILL_SWITCH_SINCE, None)  # only an operator's reset ends it


async def test_restart_when_killed_then_the_lockout_and_the_cooldown_end_at_the_same_wall_clock_times(
    restarted: Restarted,
) -> None:
    lockouts = lockouts_by_rule(restarted.rig.daemon.guard.engine)
    assert sorted(lockouts) == ["cooldown_after_loss", "drawdown_kill_switch", "trade_frequency_limit"]
    # 14:00:40 + 900 s, and trade C's close at 14:00:30 + 30 min: absolute, not "so long from now"
    frequency, cooldown = lockouts["trade_frequency_limit"], lockouts["cooldown_after_loss"]
    assert (frequency.scope, frequency.until) == (Scope(account=ACCOUNT), datetime(2026, 6, 10, 14, 15, 40, tzinfo=UTC))
    assert (cooldown.scope, cooldown.until) == (Scope(account=ACCOUNT), datetime(2026, 6, 10, 14, 30, 30, tzinfo=UTC))


async def test_restart_when_the_wall_clock_reaches_each_end_then_the_lockout_and_the_cooldown_end_there(
    restarted: Restarted,
) -> None:
    engine, clock = restarted.rig.daemon.guard.engine, restarted.crashed.clock
    # Act: 14:15:39, a second before the trade-frequency lockout ends: both still hold
    clock.advance((datetime(2026, 6, 10, 14, 15, 39, tzinfo=UTC) - clock.now()).total_seconds())
    await asyncio.sleep(0.1)  # five turns of the daemon's clock loop
    assert "trade_frequency_limit" in lockouts_by_rule(engine)
    clock.advance(1)  # 14:15:40
    await until(lambda: "trade_frequency_limit" not in lockouts_by_rule(engine))
    assert sorted(lockouts_by_rule(engine)) == ["cooldown_after_loss", "drawdown_kill_switch"]
    clock.advance(890)  # 14:30:30
    await until(lambda: "cooldown_after_loss" not in lockouts_by_rule(engine))
    # Assert: the kill switch stays latched
    assert sorted(lockouts_by_rule(engine)) == ["drawdown_kill_switch"]


async def test_restart_when_killed_after_two_losses_in_a_row_then_the_circuit_breaker_rule_still_counts_two(
    restarted: Restarted,
) -> None:
    _, state = rule_state(restarted.rig.daemon.guard.engine, "circuit_breaker")
    assert state.accounts[ACCOUNT] == AccountBreaker(losses=2, errors=(), tripped_at=None, reason="")


async def test_restart_when_killed_10_s_after_the_order_breaker_opened_then_it_stays_open_for_the_20_s_left(
    restarted: Restarted,
) -> None:
    daemon = restarted.rig.daemon
    # Assert: saved with the wall-clock time it opened ...
    saved = restarted.rig.journal.setting(HEALTH_SETTING)
    assert saved["breakers"]["paper_trade"] == {
        "state": "OPEN",
        "failures": 3,
        "trips": 1,
        "opened_at": "2026-06-10T14:00:50+00:00",
    }
    # ... and open for 30 s - 10 s down = 20 s more on the new process's clock (7.0 at the restart)
    trade = daemon.health.breakers[CallClass.ORDER_SUBMISSION]
    assert (trade.current(7.0), trade.failures, trade.trips) == (BreakerState.OPEN, 3, 1)
    assert trade.seconds_left(7.0) == 20.0
    refused = daemon.check(market(restarted.crashed.clock, Side.BUY, "1"))
    assert (refused.approved, refused.reason_code) == (False, "venue_unavailable")
    assert "order-submission breaker is open" in refused.message
    assert trade.current(27.0) is BreakerState.HALF_OPEN


async def test_restart_when_the_venue_recovers_then_each_pending_emergency_action_is_carried_out_exactly_once(
    restarted: Restarted,
) -> None:
    rig, venue = restarted.rig, restarted.crashed.venue
    engine = rig.daemon.guard.engine
    # Arrange: the kill switch's two closes and its cancel-all came back pending, one attempt made
    pending = {a.id: (a, attempts) for a, attempts in rig.journal.actions_in(ActionStatus.PENDING)}
    closes = sorted(a.symbol for a, _ in pending.values() if isinstance(a, ClosePosition))
    assert closes == ["MES", "MNQ"]
    assert sum(isinstance(a, CancelAllOrders) for a, _ in pending.values()) == 1
    assert {a.rule for a, _ in pending.values()} == {"drawdown_kill_switch"}
    # Act: the venue stops throttling and lets closes through
    venue.faults.rate_limited = 0
    venue.faults.close_always_fails = False
    await until(lambda: all(rig.journal.action_status(i) == ActionStatus.DONE for i in pending))
    # Assert: flat at the venue and in the ledger, each close sent as one order, no key sent twice
    await until(lambda: engine.ledger.open_positions(ACCOUNT) == [])
    assert (venue.simulator.net_qty(ACCOUNT, "MNQ"), venue.simulator.net_qty(ACCOUNT, "MES")) == (
        Decimal(0),
        Decimal(0),
    )
    after = [f for f in venue.simulator.fills(ACCOUNT) if f.ts > CRASHED_AT]
    assert sorted((f.symbol, f.side, Decimal(f.qty)) for f in after) == [
        ("MES", Side.SELL, Decimal(1)),
        ("MNQ", Side.SELL, Decimal(4)),
    ]
    assert len({f.order_id for f in after}) == 2
    assert venue.simulator.repeated_client_ids == []
    trade = rig.daemon.health.breakers[CallClass.ORDER_SUBMISSION]
    assert (trade.current(7.0), trade.failures) == (BreakerState.CLOSED, 0)  # the venue answered
