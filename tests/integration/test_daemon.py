"""The daemon against the paper venue and its fault injection: retries, failed closes, blindness,
catch-up after a dropped link, and a restart that gives back the lockouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio

from riskguard.config import parse_config
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import OrderType, Side
from riskguard.core.orders import OrderRequest
from riskguard.daemon.executor import RetryPolicy
from riskguard.daemon.guard import Guard
from riskguard.daemon.health import BreakerState
from riskguard.daemon.service import Daemon, DaemonSettings
from riskguard.store.journal import Journal, sqlite_url
from riskguard.venues.base import CallClass
from riskguard.venues.paper.venue import PaperConfig, PaperVenue

pytestmark = pytest.mark.asyncio

ACCOUNT = "PAPER-USD"
FAST = RetryPolicy(max_attempts=3, first_delay=0.01, max_delay=0.02)


@dataclass
class Rig:
    daemon: Daemon
    venue: PaperVenue
    journal: Journal


def build(
    tmp_path: Path,
    rules_yaml: str,
    *,
    policy: RetryPolicy = FAST,
    venue: PaperVenue | None = None,
    dead_mans_switch: float = 0.0,
) -> Rig:
    config = parse_config(f"rules:\n{rules_yaml}", "test", env={})
    journal = Journal.open(sqlite_url(tmp_path / "riskguard.db"))
    guard = Guard(lambda: RiskEngine(config.build_rules(), config.instruments.values()), journal, _now)
    venue = venue or PaperVenue(PaperConfig(step_interval=None))
    settings = DaemonSettings(retry=policy, dead_mans_switch=dead_mans_switch)
    return Rig(Daemon(guard, venue, settings=settings), venue, journal)


def _now() -> datetime:
    return datetime.now(UTC)


@pytest_asyncio.fixture
async def started() -> AsyncIterator[Callable[[Rig], object]]:
    running: list[Rig] = []

    async def start(rig: Rig) -> Rig:
        await rig.daemon.start()
        running.append(rig)
        return rig

    yield start  # type: ignore[misc]
    for rig in running:
        await rig.daemon.stop()


async def until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait for the daemon's tasks to make `predicate` true; fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the daemon did not get there in time")
        await asyncio.sleep(0.01)


def order(qty: str, side: Side = Side.BUY, *, reduce_only: bool = False) -> OrderRequest:
    return OrderRequest(
        "bot-1", ACCOUNT, "s1", "MNQ", side, OrderType.MARKET, Decimal(qty), _now(), reduce_only=reduce_only
    )  # type: ignore[arg-type]


def close_status(rig: Rig) -> tuple[str, int] | None:
    rows = [r for r in rig.journal.action_log() if r["name"] == "close_position"]
    return None if not rows else (rows[0]["status"], rows[0]["attempts"])


async def test_daemon_when_a_close_fails_twice_then_the_third_attempt_closes_the_position(
    tmp_path: Path, started
) -> None:  # type: ignore[no-untyped-def]
    # Arrange: 3 MNQ bought at 20000.00 + one tick of spread = 20000.25
    rig = await started(build(tmp_path, "  daily_unrealized_loss: {limit: -60}"))
    await rig.venue.place_order(order("3"))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 3)
    rig.venue.faults.close_failures = 2
    # Act: 19989.00 is -11.25 points x 3 x 2 USD = -67.50 unrealized, past the -60 limit
    rig.venue.move_price("MNQ", Decimal("19989.00"))
    await until(lambda: close_status(rig) == ("done", 3))
    # Assert: flat at the venue and in the ledger; the order breaker saw two outages, not three
    assert rig.venue.simulator.net_qty(ACCOUNT, "MNQ") == 0
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 0)
    trade = rig.daemon.health.breakers[CallClass.ORDER_SUBMISSION]
    assert (trade.state, trade.failures) == (BreakerState.CLOSED, 0)


async def test_daemon_when_a_kill_switch_close_always_fails_then_recorded_as_close_fail_and_alerted(
    tmp_path: Path, started
) -> None:  # type: ignore[no-untyped-def]
    # Arrange: equity 50,000; 10 MNQ at 20000.25 (fees 6.20)
    rig = await started(build(tmp_path, "  drawdown_kill_switch: {max_drawdown_pct: 1}"))
    await rig.venue.place_order(order("10"))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 10)
    rig.venue.faults.close_always_fails = True
    # Act: 19970.00 is -30.25 x 10 x 2 = -605 unrealized: equity 49,388.80 is 1.2 % below the peak
    rig.venue.move_price("MNQ", Decimal("19970.00"))
    await until(lambda: close_status(rig) is not None and close_status(rig)[0] == "failed")  # type: ignore[index]
    # Assert
    await until(
        lambda: any(a.details.get("close_reason") == "kill_switch_close_fail" for a in rig.daemon.recent_alerts)
    )
    alert = next(a for a in rig.daemon.recent_alerts if a.details.get("close_reason"))
    assert alert.level.value == "critical"
    assert "must be closed by hand" in alert.reason
    assert close_status(rig) == ("failed", 3)
    assert rig.venue.simulator.net_qty(ACCOUNT, "MNQ") == 10  # still open: a human must act
    assert not rig.daemon.check(order("1")).approved  # and no new risk meanwhile


async def test_daemon_when_429s_burst_on_a_close_then_retried_through_and_the_breaker_never_trips(
    tmp_path: Path, started
) -> None:  # type: ignore[no-untyped-def]
    rig = await started(build(tmp_path, "  daily_unrealized_loss: {limit: -60}", policy=RetryPolicy(5, 0.01, 0.02)))
    await rig.venue.place_order(order("3"))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 3)
    rig.venue.faults.rate_limited = 4
    # Act: the breach sends a close and a cancel-all; the four 429s fall on either
    rig.venue.move_price("MNQ", Decimal("19989.00"))
    await until(lambda: all(r["status"] == "done" for r in sent(rig)) and len(sent(rig)) == 2)
    # Assert: 4 refused attempts + 1 successful one each; flat; the breaker never counted a 429
    assert sum(r["attempts"] for r in sent(rig)) == 6
    assert rig.venue.simulator.net_qty(ACCOUNT, "MNQ") == 0
    trade = rig.daemon.health.breakers[CallClass.ORDER_SUBMISSION]
    assert (trade.state, trade.trips) == (BreakerState.CLOSED, 0)


def sent(rig: Rig) -> list[dict[str, object]]:
    return [r for r in rig.journal.action_log() if r["name"] in ("close_position", "cancel_all_orders")]


async def test_daemon_when_the_venue_drops_then_new_risk_is_refused_but_exits_pass(tmp_path: Path, started) -> None:  # type: ignore[no-untyped-def]
    rig = await started(build(tmp_path, "  max_contracts: {limit: 5}"))
    await rig.venue.place_order(order("2"))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 2)
    rig.venue.disconnect("cable pulled")
    await until(lambda: not rig.daemon.connected)
    refused = rig.daemon.check(order("1"))
    assert (refused.approved, refused.reason_code) == (False, "venue_unavailable")
    assert "connection to paper is down" in refused.message
    assert rig.daemon.check(order("2", Side.SELL, reduce_only=True)).approved


async def test_daemon_when_fills_happen_while_disconnected_then_caught_up_exactly_once(tmp_path: Path, started) -> None:  # type: ignore[no-untyped-def]
    # Arrange: 1 MNQ known to the daemon, then the link drops and 2 more fill unseen
    rig = await started(build(tmp_path, "  max_contracts: {limit: 5}"))
    await rig.venue.place_order(order("1"))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 1)
    rig.venue.disconnect("cable pulled")
    await until(lambda: not rig.daemon.connected)
    rig.venue.simulator.place(order("2"), _now())  # at the venue, while riskguard is blind
    # Act
    rig.venue.reconnect()
    await until(lambda: rig.daemon.connected)
    # Assert: the ledger holds what the venue holds, each fill once
    engine = rig.daemon.guard.engine
    assert engine.view().net_qty(ACCOUNT, "MNQ") == 3
    assert engine.ledger.fills_seen() == len(rig.venue.simulator.fills(ACCOUNT))
    assert rig.daemon.reconciliation is not None
    assert (rig.daemon.reconciliation.fills_caught_up, rig.daemon.reconciliation.discrepancy_count) == (1, 0)


async def test_daemon_when_restarted_after_a_lockout_then_the_lockout_and_pnl_come_back(tmp_path: Path) -> None:
    # Arrange: a losing round trip starts a 1-minute cooldown
    rules = "  cooldown_after_loss: {loss_amount: 20, cooldown_minutes: 1, timezone: UTC}"
    first = build(tmp_path, rules)
    await first.daemon.start()
    await first.venue.place_order(order("3"))
    await until(lambda: first.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 3)
    first.venue.move_price("MNQ", Decimal("19990.00"))
    await first.venue.close_position(ACCOUNT, "MNQ")  # sells 3 at 19989.75: a loss of 63.00 + fees 3.72
    await until(lambda: first.daemon.guard.engine.lockouts.all() != [])
    lockouts = first.daemon.guard.engine.lockouts.all()
    totals = first.daemon.guard.engine.ledger.totals()
    await first.daemon.stop()
    first.journal.close()
    # Act: a new daemon on the same data
    second = build(tmp_path, rules)
    second.daemon.guard.restore(lambda: 0.0)
    # Assert
    assert second.daemon.guard.engine.lockouts.all() == lockouts
    assert second.daemon.guard.engine.ledger.totals() == totals
    assert totals["USD"].realized_pnl == Decimal("-66.72")


async def test_daemon_when_the_journal_cannot_be_written_then_it_fails_closed_and_asks_to_stop(
    tmp_path: Path,
    started,  # type: ignore[no-untyped-def]
) -> None:
    rig = await started(build(tmp_path, "  max_contracts: {limit: 5}"))

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    rig.journal.write = disk_full  # type: ignore[method-assign]
    rig.venue.move_price("MNQ", Decimal("20001.00"))  # an event that must be journaled before it counts
    await until(rig.daemon.failed.is_set)
    refused = rig.daemon.check(order("1"))
    assert (refused.approved, refused.reason_code) == (False, "venue_unavailable")
    assert "No space left on device" in refused.message


async def test_daemon_when_order_calls_keep_failing_with_5xx_then_the_breaker_opens_and_new_risk_is_refused(
    tmp_path: Path,
    started,  # type: ignore[no-untyped-def]
) -> None:
    # Arrange: 3 MNQ held; every order-submission call will fail with a 5xx for the next six calls
    rig = await started(build(tmp_path, "  daily_unrealized_loss: {limit: -60}"))
    await rig.venue.place_order(order("3"))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 3)
    rig.venue.faults.unavailable = {CallClass.ORDER_SUBMISSION: 6}
    # Act: the breach's close and cancel-all use up the six (3 attempts each)
    rig.venue.move_price("MNQ", Decimal("19989.00"))
    await until(lambda: len(sent(rig)) == 2 and all(r["status"] == "failed" for r in sent(rig)))
    # Assert: seed 003's order breaker trips at 3 failures; the gate says why it refuses
    trade = rig.daemon.health.breakers[CallClass.ORDER_SUBMISSION]
    assert (trade.state, trade.trips) == (BreakerState.OPEN, 1)
    refused = rig.daemon.check(order("1"))
    assert (refused.approved, refused.reason_code) == (False, "venue_unavailable")
    assert "order-submission breaker is open" in refused.message


async def test_daemon_when_the_venue_lacks_a_position_the_ledger_holds_then_flagged_for_review_and_booked(
    tmp_path: Path,
) -> None:
    # Arrange: a first daemon books 2 MNQ; the next start meets a venue that holds nothing
    first = build(tmp_path, "  max_contracts: {limit: 5}")
    await first.daemon.start()
    await first.venue.place_order(order("2"))
    await until(lambda: first.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 2)
    await first.daemon.stop()
    first.journal.close()
    second = build(tmp_path, "  max_contracts: {limit: 5}")
    # Act
    await second.daemon.start()
    try:
        # Assert: one discrepancy, alerted as a warning naming it, and the ledger brought to the venue's 0
        result = second.daemon.reconciliation
        assert result is not None
        assert (result.discrepancy_count, result.recovery_status) == (1, "discrepancies_flagged")
        recovery = second.daemon.recovery()
        assert {k: v for k, v in recovery.items() if k != "recovery_at"} == {
            "recovery_active": False,
            "recovery_status": "discrepancies_flagged",
            "recovery_position_count": 0,
            "recovery_discrepancy_count": 1,
            "recovery_batch_id": result.batch_id,
        }
        alert = next(a for a in second.daemon.recent_alerts if a.rule == "reconciliation")
        assert alert.level.value == "warning"
        assert "PAPER-USD MNQ: the venue holds 0, riskguard's ledger 2; its closing fill is missing" in alert.reason
        await until(lambda: second.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 0)
    finally:
        await second.daemon.stop()


async def test_daemon_when_the_venue_answers_too_slowly_then_attempts_time_out_the_breaker_opens_and_risk_is_refused(
    tmp_path: Path,
    started,  # type: ignore[no-untyped-def]
) -> None:
    # Arrange: 3 MNQ held; then every venue call takes 0.5 s, ten times the 0.05 s an attempt may take
    slow = RetryPolicy(max_attempts=3, first_delay=0.01, max_delay=0.02, call_timeout=0.05)
    rig = await started(build(tmp_path, "  daily_unrealized_loss: {limit: -60}", policy=slow))
    await rig.venue.place_order(order("3"))
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 3)
    rig.venue.faults.delay = timedelta(seconds=0.5)
    # Act: -67.50 unrealized breaches the limit: a close and a cancel-all, each timing out 3 times
    rig.venue.move_price("MNQ", Decimal("19989.00"))
    await until(lambda: len(sent(rig)) == 2 and all(r["status"] == "failed" for r in sent(rig)))
    # Assert: a timeout is an outage: it names the wait, counts toward the breaker, and the gate refuses
    close = next(r for r in sent(rig) if r["name"] == "close_position")
    assert close["attempts"] == 3
    assert close["last_error"] == "VenueUnavailable after 3 attempts: paper did not answer close_position within 0.05 s"
    trade = rig.daemon.health.breakers[CallClass.ORDER_SUBMISSION]
    assert (trade.state, trade.trips) == (BreakerState.OPEN, 1)
    refused = rig.daemon.check(order("1"))
    assert (refused.approved, refused.reason_code) == (False, "venue_unavailable")
    assert rig.daemon.check(order("3", Side.SELL, reduce_only=True)).approved  # the exit still passes
    assert rig.venue.simulator.net_qty(ACCOUNT, "MNQ") == 3  # nothing went through half-done


async def test_daemon_when_a_pending_close_had_already_reached_the_venue_then_resuming_it_closes_nothing_twice(
    tmp_path: Path,
) -> None:
    # Arrange: 3 MNQ held, max 1: the breach reduces by 2 with an action journaled as pending
    venue = PaperVenue(PaperConfig(step_interval=None))
    first = build(tmp_path, "  max_contracts: {limit: 1, close_all: false}", venue=venue)
    await first.daemon.start()
    first.daemon.executor.submit = lambda *_args, **_kwargs: None  # type: ignore[method-assign]  # dies before sending
    await venue.place_order(order("3"))
    await until(lambda: first.journal.actions_in("pending") != [])
    (reduce,) = [a for a, _ in first.journal.actions_in("pending") if a.name == "reduce_position"]
    # ... the venue got the reduce (sent, then the daemon was killed before it journaled "done")
    await venue.close_position(ACCOUNT, "MNQ", Decimal(2), client_id=reduce.id)
    for task in first.daemon._tasks:
        task.cancel()
    first.journal.close()
    # Act: the next start resumes the pending reduce
    second = build(tmp_path, "  max_contracts: {limit: 1, close_all: false}", venue=venue)
    await second.daemon.start()
    try:
        await until(lambda: second.journal.actions_in("pending") == [])
        # Assert: the venue answered the repeat with its first order: 3 - 2 = 1 held, not 3 - 2 - 1 = 0
        assert venue.simulator.repeated_client_ids == [reduce.id]
        assert venue.simulator.net_qty(ACCOUNT, "MNQ") == 1
        assert [r["status"] for r in second.journal.action_log() if r["id"] == reduce.id] == ["done"]
        assert second.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 1
    finally:
        await second.daemon.stop()


async def test_daemon_when_healthy_then_the_dead_mans_switch_is_kept_ahead_and_fires_once_it_dies(
    tmp_path: Path,
) -> None:
    # Arrange: a working limit order; the daemon pushes the switch 5 s ahead every ~1.7 s
    rig = build(tmp_path, "  max_contracts: {limit: 5}", dead_mans_switch=5.0)
    await rig.daemon.start()
    resting = await rig.venue.place_order(replace(order("1"), order_type=OrderType.LIMIT, price=Decimal("19000.00")))
    await until(lambda: "PAPER-USD" in rig.venue._cancel_at)
    armed = rig.venue._cancel_at["PAPER-USD"]
    assert timedelta(seconds=4) < armed - _now() <= timedelta(seconds=5)
    rig.venue.step()
    assert [o.order_id for o in rig.venue.simulator.open_orders(ACCOUNT, _now())] == [resting]
    # Act: the daemon dies (no stop, no disarm); 5 s later the venue's next step fires the switch
    for task in rig.daemon._tasks:
        task.cancel()
    await asyncio.sleep(5.2)
    rig.venue.step()
    # Assert
    assert rig.venue.simulator.open_orders(ACCOUNT, _now()) == []
    rig.journal.close()


async def test_daemon_when_stopped_on_purpose_then_the_dead_mans_switch_is_disarmed(tmp_path: Path) -> None:
    rig = build(tmp_path, "  max_contracts: {limit: 5}", dead_mans_switch=5.0)
    await rig.daemon.start()
    await until(lambda: "PAPER-USD" in rig.venue._cancel_at)
    venue = rig.venue
    venue.close = _stays_open  # type: ignore[method-assign]  # look at the venue after the daemon lets go
    await rig.daemon.stop()
    assert venue._cancel_at == {}


async def _stays_open() -> None:
    return None


async def test_daemon_when_a_stop_was_cancelled_while_disconnected_then_the_reconnect_re_arms_it(
    tmp_path: Path,
    started,  # type: ignore[no-untyped-def]
) -> None:
    # Arrange: long 2 MNQ with a sell stop at 19990.00 that the daemon has seen working
    rig = await started(build(tmp_path, "  protective_stops: {}"))
    await rig.venue.place_order(order("2"))
    stop_id = await rig.venue.place_stop(ACCOUNT, "MNQ", Side.SELL, Decimal(2), Decimal("19990.00"))
    await until(lambda: rig.daemon.guard.engine.orders.of(ACCOUNT, "MNQ") != [])
    rig.venue.disconnect("cable pulled")
    await until(lambda: not rig.daemon.connected)
    rig.venue.simulator.cancel(ACCOUNT, stop_id, _now())  # the venue's cancel-on-disconnect, unseen
    # Act
    rig.venue.reconnect()
    await until(lambda: rig.daemon.connected)
    # Assert: a new sell stop for the whole position at the same price, journaled and done, and a warning
    await until(lambda: len(rig.venue.simulator.open_orders(ACCOUNT, _now())) == 1)
    (stop,) = rig.venue.simulator.open_orders(ACCOUNT, _now())
    assert (stop.side, stop.qty, stop.stop_price, stop.order_id != stop_id) == (
        Side.SELL,
        Decimal(2),
        Decimal("19990.00"),
        True,
    )
    await until(lambda: [r["status"] for r in rig.journal.action_log() if r["name"] == "move_stop"] == ["done"])
    alert = next(a for a in rig.daemon.recent_alerts if a.rule == "protective_stops")
    assert "re-arming its sell stop at 19990.00" in alert.reason


async def test_daemon_when_the_start_up_reconciliation_fails_then_blind_until_a_retry_succeeds(
    tmp_path: Path,
    started,  # type: ignore[no-untyped-def]
) -> None:
    # Arrange: the first account read of the start-up reconciliation fails with a 5xx
    rig = build(tmp_path, "  max_contracts: {limit: 5}")
    rig.venue.faults.unavailable = {CallClass.ACCOUNT_READS: 1}
    # Act
    await started(rig)
    # Assert: started, but it has not seen the venue: new risk refused
    refused = rig.daemon.check(order("1"))
    assert (rig.daemon.ready, refused.approved, refused.reason_code) == (False, False, "venue_unavailable")
    assert "start-up reconciliation with the venue has not finished" in refused.message
    # ... and the retry a second later reads the venue, and the gate opens
    await until(lambda: rig.daemon.ready, seconds=5)
    assert rig.daemon.check(order("1")).approved
    await rig.venue.place_order(order("2"))  # the event pump runs now
    await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 2)
