"""The daemon: a venue's events into the durable engine, the engine's actions out to the venue.

Start-up, before any order is approved: the state is restored (snapshot + journal), the venue is
connected, and a reconciliation reads the venue's accounts, positions, open orders and the fills
since the last one seen (a fill id already booked is ignored, so catch-up is exactly once).
Actions still pending from before a crash are then resumed. After that, loops run: the event
pump (venue events → journal → engine → executor), the clock (a tick at each deadline the engine
names: lockouts ending, resets), the periodic reconciliation, and, where the venue has one, the
heartbeat that keeps its dead man's switch armed. A venue that cannot be reached or read at
start-up does not stop the daemon: it starts blind and keeps trying, as after a dropped link.

The gate refuses new risk with ``venue_unavailable`` while the venue is disconnected, while the
order-submission breaker is open, or before the start-up reconciliation has finished: the daemon
does not approve what it cannot see. Those refusals are the shell's and are not fed to the engine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from riskguard.core.actions import Action, AlertLevel, RaiseAlert
from riskguard.core.decisions import Decision
from riskguard.core.errors import InvalidInput
from riskguard.core.events import ActionFailed, ClockTicked, InputEvent
from riskguard.core.orders import OrderRequest
from riskguard.daemon.executor import Executor, RetryPolicy
from riskguard.daemon.guard import Guard
from riskguard.daemon.health import HEALTH_SETTING, HealthBoard
from riskguard.daemon.reconcile import Reconciliation, reconcile
from riskguard.store.journal import ActionStatus
from riskguard.venues.base import CallClass, ConnectionChanged, DeadMansSwitch, VenueAdapter, VenueError

__all__ = ["Daemon", "DaemonSettings"]

log = structlog.get_logger("riskguard.daemon")

_BATCH = 500  # most events journaled in one transaction


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    reconcile_every: float = 1800.0  # seconds between reconciliations (seed 003: about 30 min)
    catch_up_margin: float = 5.0  # seconds before the last fill seen to ask the venue for fills from
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_clock_sleep: float = 1.0  # the clock loop wakes at least this often (lockouts in progress)
    # The venue's dead man's switch, where it has one: kept this many seconds ahead while the
    # daemon is healthy (pushed every third of it); 0: off.
    dead_mans_switch: float = 0.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """One venue, one engine, one journal."""

    def __init__(
        self,
        guard: Guard,
        venue: VenueAdapter,
        *,
        settings: DaemonSettings | None = None,
        wall_clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        on_alert: Callable[[RaiseAlert], None] | None = None,
    ) -> None:
        self.guard = guard
        self.venue = venue
        self.settings = settings or DaemonSettings()
        self._wall = wall_clock
        self._mono = monotonic
        self.health = HealthBoard(  # saved whenever a breaker changes, so a restart gets it back
            venue.name,
            on_change=lambda board: guard.journal.put_setting(
                HEALTH_SETTING, board.to_record(monotonic(), wall_clock())
            ),
        )
        self.connected = False
        self.ready = False  # the start-up reconciliation has finished
        self.reconciliation: Reconciliation | None = None
        self.recovery_active = False  # a reconciliation is reading the venue now
        self._queue: asyncio.Queue[tuple[InputEvent, float]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []
        self._alerts: list[RaiseAlert] = []
        # Who hears of alerts and of actions' progress (the API's WebSocket, alert sinks). A
        # listener must not raise or block: it runs on the daemon's own loop.
        self.alert_listeners: list[Callable[[RaiseAlert], None]] = [] if on_alert is None else [on_alert]
        self.status_listeners: list[Callable[[str, str, int, str | None], None]] = []
        self._stopping = asyncio.Event()
        self.failed = asyncio.Event()  # set when a loop dies: the runner stops the daemon (exit code 1)
        self.fatal: str | None = None
        self.executor = Executor(
            venue,
            self._journal_status,
            self._report_failure,
            self._position_of,
            self._alert,
            wall_clock,
            policy=self.settings.retry,
            on_call=lambda error: self.health.record(CallClass.ORDER_SUBMISSION, error, self._mono()),
        )

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self.guard.restore(time.perf_counter)
        try:
            self.health.restore(self.guard.journal.setting(HEALTH_SETTING), self._mono(), self._wall())
        except InvalidInput as exc:  # not starting would leave the account unguarded: measure afresh
            log.error("the saved exchange-health breakers cannot be read; they start closed", error=str(exc))
        loop = asyncio.get_running_loop()
        left_pending = self.guard.journal.actions_in(ActionStatus.PENDING)  # by the last run, before any new
        online = await self._come_online()
        self._resume(left_pending)  # closes go out even before the venue is seen: taking risk off is right
        self._tasks = [
            loop.create_task(self._process(), name="process"),
            loop.create_task(self._clock(), name="clock"),
            loop.create_task(self._periodic_reconcile(), name="reconcile"),
        ]
        if online:
            self._tasks.append(loop.create_task(self._pump(), name="pump"))
        else:  # keep trying in the background; the gate refuses new risk until it is done
            self._tasks.append(loop.create_task(self._keep_coming_online(), name="start-up"))
        if self.settings.dead_mans_switch > 0 and isinstance(self.venue, DeadMansSwitch):
            self._tasks.append(loop.create_task(self._heartbeat(self.venue), name="dead-mans-switch"))
        for task in self._tasks:
            task.add_done_callback(self._task_ended)
        log.info("daemon started", venue=self.venue.name, journal_seq=self.guard.seq)

    async def _come_online(self) -> bool:
        """Connect and run the start-up reconciliation; False (logged) if the venue is not there."""
        if not self.connected:
            try:
                await self.venue.connect()
            except VenueError as exc:
                self.health.record(CallClass.ACCOUNT_READS, exc, self._mono())
                log.error("cannot reach the venue; new risk is refused until it answers", error=str(exc))
                return False
            self.connected = True
        if not await self._reconcile("start-up"):
            return False
        self.ready = True
        return True

    async def _keep_coming_online(self) -> None:
        await _until_done(self._come_online)
        task = asyncio.get_running_loop().create_task(self._pump(), name="pump")
        task.add_done_callback(self._task_ended)
        self._tasks.append(task)
        log.info("venue reached; the start-up reconciliation is done", venue=self.venue.name)

    def _task_ended(self, task: asyncio.Task[Any]) -> None:
        """A loop that ends while the daemon runs (a journal write failed, the venue stream closed)
        leaves it unable to see or record: refuse new risk and ask to be stopped (and restarted)."""
        if self._stopping.is_set() or task.cancelled():
            return
        error = task.exception()
        if error is None and task.get_name() == "start-up":
            return  # it finished its job
        self.fatal = f"the {task.get_name()} loop stopped" + (f": {type(error).__name__}: {error}" if error else "")
        log.critical("daemon failing closed", reason=self.fatal)
        self.failed.set()

    async def stop(self) -> None:
        """Stop taking events, finish what is under way, snapshot the state, close the venue."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)  # a loop that failed was reported already
        try:
            await self._flush_queue()
            await self.executor.drain()
            await self._disarm()
            self.guard.snapshot()
        except Exception as exc:  # the journal is what it is: the next start replays it
            log.error("could not flush the state on stop", error=f"{type(exc).__name__}: {exc}")
        await self.venue.close()
        log.info("daemon stopped", journal_seq=self.guard.seq)

    def recovery(self) -> dict[str, object]:
        """Seed 003's recovery fields, for the risk payload."""
        last = self.reconciliation
        return {
            "recovery_active": self.recovery_active,
            "recovery_status": "pending" if last is None else last.recovery_status,
            "recovery_position_count": 0 if last is None else last.position_count,
            "recovery_discrepancy_count": 0 if last is None else last.discrepancy_count,
            "recovery_batch_id": None if last is None else last.batch_id,
            "recovery_at": None if last is None else last.at.isoformat(),
        }

    @property
    def accounts(self) -> tuple[str, ...]:
        """The venue's accounts, as the latest reconciliation read them."""
        return () if self.reconciliation is None else self.reconciliation.accounts

    # -- the gate --------------------------------------------------------------------------

    def check(self, order: OrderRequest) -> Decision:
        """The pre-trade gate for a bot: the daemon's own time is the order's time (a client's
        clock cannot move lockouts), and a venue the daemon cannot see refuses everything new."""
        order = dataclasses.replace(order, ts=self._wall())
        blind = self.blind_reason()
        if blind is not None and not self.guard.engine.view().reduces_position(order):
            log.warning("order refused: venue unavailable", order_id=order.order_id, reason=blind)
            return Decision(order.order_id, False, "venue_unavailable", blind, "daemon")
        return self.guard.check(order)  # exits are approved even while blind: taking risk off is always right

    def blind_reason(self) -> str | None:
        """Why new risk is refused whatever the rules say (None: it is not); the gate's words."""
        if self.fatal is not None:
            return f"the daemon cannot record or see the venue ({self.fatal}); new risk is refused"
        if not self.ready:
            return "the start-up reconciliation with the venue has not finished; new risk is refused"
        if not self.connected:
            return f"the connection to {self.venue.name} is down; new risk is refused until it is back"
        if self.health.blocks_orders(self._mono()):
            return f"the {self.venue.name} order-submission breaker is open after repeated venue errors; new risk is refused"
        return None

    # -- events ----------------------------------------------------------------------------

    async def _pump(self) -> None:
        async for event in self.venue.events():
            received = time.perf_counter()
            if isinstance(event, ConnectionChanged):
                await self._connection_changed(event)
                continue
            self._queue.put_nowait((event, received))

    async def _process(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < _BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._apply(batch)

    async def _flush_queue(self) -> None:
        batch = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        if batch:
            self._apply(batch)

    def _apply(self, batch: list[tuple[InputEvent, float]]) -> None:
        actions = self.guard.handle([event for event, _ in batch])
        if actions:
            self.executor.submit(actions, received_at=batch[0][1])

    def feed(self, events: list[InputEvent]) -> list[Action]:
        """Apply events that did not come from the venue stream (reconciliation, operator commands)."""
        actions = self.guard.handle(events)
        if actions:
            self.executor.submit(actions, received_at=time.perf_counter())
        return actions

    async def _connection_changed(self, event: ConnectionChanged) -> None:
        if not event.connected:
            self.connected = False
            log.error("venue disconnected", venue=event.venue, reason=event.reason)
            self._alert(
                RaiseAlert(
                    rule="daemon",
                    reason=f"lost the connection to {event.venue} ({event.reason}); new risk is refused until it is back",
                    level=AlertLevel.CRITICAL,
                )
            )
            return
        if self.connected:
            return  # the adapter's first "connected" (the start-up reconciliation has run)
        log.info("venue reconnected", venue=event.venue)
        await _until_done(lambda: self._reconcile("reconnect"))  # blind until the catch-up is done
        self.connected = True

    # -- the clock -------------------------------------------------------------------------

    async def _clock(self) -> None:
        while True:
            now = self._wall()
            deadline = self.guard.engine.next_deadline()
            wait = self.settings.max_clock_sleep
            if deadline is not None:
                wait = min(wait, max((deadline - now).total_seconds(), 0.0))
            await asyncio.sleep(wait)
            if deadline is not None and self._wall() >= deadline:
                self._queue.put_nowait((ClockTicked(self._wall()), time.perf_counter()))

    # -- the dead man's switch --------------------------------------------------------------

    async def _heartbeat(self, venue: DeadMansSwitch) -> None:
        """Keep the venue's scheduled cancel ahead of now while the daemon can see and record. A
        daemon that dies, hangs or goes blind stops pushing, and the venue cancels the working
        orders when the deadline passes (stops too: `protective_stops` re-arms them on return)."""
        ahead = self.settings.dead_mans_switch
        while True:
            if self.blind_reason() is None:
                at = self._wall() + timedelta(seconds=ahead)
                for account in self.accounts:
                    try:
                        await venue.schedule_cancel(account, at)
                    except VenueError as exc:
                        self.health.record(CallClass.ORDER_SUBMISSION, exc, self._mono())
                        log.warning("could not push the dead man's switch", account=account, error=str(exc))
            await asyncio.sleep(max(ahead / 3, 1.0))

    async def _disarm(self) -> None:
        """A stop on purpose disarms the switch: the trader's working orders stay at the venue."""
        if self.settings.dead_mans_switch <= 0 or not isinstance(self.venue, DeadMansSwitch) or not self.connected:
            return
        for account in self.accounts:
            try:
                await self.venue.schedule_cancel(account, None)
            except VenueError as exc:
                log.warning("could not disarm the dead man's switch", account=account, error=str(exc))

    # -- reconciliation --------------------------------------------------------------------

    async def _periodic_reconcile(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reconcile_every)
            await self._reconcile("periodic")

    async def _reconcile(self, why: str) -> bool:
        last_fill = self.guard.engine.last_fill
        since = None
        if last_fill is not None:
            since = last_fill.fill.ts - timedelta(seconds=self.settings.catch_up_margin)
        self.recovery_active = True
        try:
            events, result = await reconcile(
                self.venue, self.guard.engine, since, self._wall(), why, check_stops=why != "periodic"
            )
        except VenueError as exc:
            self.health.record(CallClass.ACCOUNT_READS, exc, self._mono())
            log.error("reconciliation failed", why=why, error=str(exc))
            return False
        finally:
            self.recovery_active = False
        self.health.record(CallClass.ACCOUNT_READS, None, self._mono())
        await self._flush_queue()
        self.feed(events)
        self.reconciliation = result
        if result.discrepancy_count:  # seed 003: flagged for a human to review
            self._alert(
                RaiseAlert(
                    rule="reconciliation",
                    reason=f"reconciliation {result.batch_id} ({why}) found: " + "; ".join(result.discrepancies),
                    level=result.level,
                )
            )
        log.info(
            "reconciled",
            why=why,
            batch=result.batch_id,
            positions=result.position_count,
            discrepancies=result.discrepancy_count,
            fills_caught_up=result.fills_caught_up,
            uncompared=", ".join(result.uncompared) or None,
        )
        return True

    # -- actions ---------------------------------------------------------------------------

    def _resume(self, pending: list[tuple[Action, int]]) -> None:
        if pending:
            log.warning("resuming actions left pending by the last run", count=len(pending))
            self.executor.submit([a for a, _ in pending], attempts={a.id: n for a, n in pending})

    def _journal_status(self, action_id: str, status: str, attempts: int, error: str | None) -> None:
        self.guard.journal.set_action_status(action_id, status, self._wall(), attempts=attempts, error=error)
        for listener in self.status_listeners:
            listener(action_id, status, attempts, error)

    async def _report_failure(self, failed: ActionFailed) -> None:
        self._queue.put_nowait((failed, time.perf_counter()))

    def _position_of(self, account: str, symbol: str) -> Decimal:
        return self.guard.engine.view().net_qty(account, symbol)

    def _alert(self, alert: RaiseAlert) -> None:
        self._alerts.append(alert)
        del self._alerts[:-200]
        level = {AlertLevel.INFO: log.info, AlertLevel.WARNING: log.warning, AlertLevel.CRITICAL: log.critical}
        level[alert.level]("alert", rule=alert.rule, account=alert.account, reason=alert.reason, action_id=alert.id)
        for listener in self.alert_listeners:
            listener(alert)

    @property
    def recent_alerts(self) -> list[RaiseAlert]:
        return list(self._alerts)


async def _until_done(attempt: Callable[[], Awaitable[bool]]) -> None:
    """Try until `attempt` says it is done, waiting 1 s, then twice as long each time, up to 30 s."""
    delay = 1.0
    while not await attempt():
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
