"""Carrying out the engine's actions on the venue: bounded retries, each action id at most once.

An action arrives already journaled as `pending` (see `Guard`). The executor sends it, retrying a
rate limit (HTTP 429) or an unavailable venue (5xx, timeout, disconnect) with exponential backoff
(0.5 s doubling up to 4 s, `max_attempts` in all), and records the outcome: `done`, or `failed`
with the venue's reason, which goes back to the engine as an `ActionFailed` (a kill switch records
its failed close and alerts as critical). A refusal by the venue itself (`OrderRejected`) is not
retried. Each order-making command carries the action id as the venue's idempotency key, so an
action resumed after a crash is not carried out twice even if the venue had done it already. Closes are never held back by a breaker: trying to take risk off is always right.

Actions that change only riskguard's own state (lockouts, halts) were applied by the engine; they
are marked `recorded`. Alerts go to the alert sinks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import structlog

from riskguard.core.actions import (
    Action,
    CancelAllOrders,
    CancelOrder,
    ClosePosition,
    MoveStop,
    RaiseAlert,
    ReducePosition,
)
from riskguard.core.enums import Side
from riskguard.core.events import ActionFailed
from riskguard.store.journal import ActionStatus
from riskguard.venues.base import (
    OrderNotWorking,
    OrderRejected,
    RateLimited,
    VenueAdapter,
    VenueError,
    VenueUnavailable,
)

__all__ = ["Executor", "LatencyLog", "RetryPolicy"]

log = structlog.get_logger("riskguard.executor")

_VENUE_ACTIONS = (ClosePosition, ReducePosition, CancelOrder, CancelAllOrders, MoveStop)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay: float = 0.5  # seconds before the second attempt
    max_delay: float = 4.0  # the backoff doubles up to this
    call_timeout: float = 10.0  # an attempt unanswered this long fails as the venue unavailable

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.first_delay * 2 ** (attempt - 1), self.max_delay))


@dataclass(slots=True)
class LatencyLog:
    """Event received -> first venue command sent, in seconds, for each enforcement."""

    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)
        if len(self.samples) > 10_000:
            del self.samples[:5_000]

    def percentile(self, share: float) -> float | None:
        if not self.samples:
            return None
        ranked = sorted(self.samples)
        return ranked[round(share * (len(ranked) - 1))]


class Executor:
    """Runs each venue action as its own task, so one slow close does not hold back another."""

    def __init__(
        self,
        venue: VenueAdapter,
        journal_status: Callable[[str, str, int, str | None], None],
        report_failure: Callable[[ActionFailed], Awaitable[None]],
        position_of: Callable[[str, str], Decimal],
        alert: Callable[[RaiseAlert], None],
        wall_clock: Callable[[], datetime],
        *,
        policy: RetryPolicy | None = None,
        on_call: Callable[[VenueError | None], None] | None = None,
    ) -> None:
        self.venue = venue
        self._status = journal_status
        self._report_failure = report_failure
        self._position_of = position_of
        self._alert = alert
        self._wall = wall_clock
        self.policy = policy or RetryPolicy()
        self._on_call = on_call or (lambda _error: None)
        self._started: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.latency = LatencyLog()

    def submit(
        self, actions: list[Action], received_at: float | None = None, attempts: dict[str, int] | None = None
    ) -> None:
        """Start carrying out `actions` (journaled as pending). An id already started is ignored."""
        for action in actions:
            if action.id in self._started:
                continue
            self._started.add(action.id)
            if isinstance(action, RaiseAlert):
                self._alert(action)
                self._status(action.id, ActionStatus.DONE, 0, None)
            elif not isinstance(action, _VENUE_ACTIONS):
                self._status(action.id, ActionStatus.RECORDED, 0, None)
            else:
                already = (attempts or {}).get(action.id, 0)
                task = asyncio.get_running_loop().create_task(self._carry_out(action, received_at, already))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every action under way (on shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _carry_out(self, action: Action, received_at: float | None, already: int) -> None:
        attempt = already
        first = True
        while True:
            attempt += 1
            if first and received_at is not None:
                self.latency.add(time.perf_counter() - received_at)
            first = False
            try:
                await self._send_within(action)
            except OrderRejected as exc:
                self._on_call(None)  # the venue answered: it is up
                await self._fail(action, attempt, f"refused by the venue: {exc}")
                return
            except VenueError as exc:
                self._on_call(exc)
                if attempt >= self.policy.max_attempts:
                    await self._fail(action, attempt, f"{type(exc).__name__} after {attempt} attempts: {exc}")
                    return
                delay = self.policy.delay(attempt)
                kind = "rate limited" if isinstance(exc, RateLimited) else "venue unavailable"
                log.warning(kind + ", retrying", action_id=action.id, attempt=attempt, delay=delay, error=str(exc))
                self._status(action.id, ActionStatus.PENDING, attempt, str(exc))
                await asyncio.sleep(delay)
                continue
            self._on_call(None)
            self._status(action.id, ActionStatus.DONE, attempt, None)
            log.info("action done", action_id=action.id, action=action.name, rule=action.rule, attempts=attempt)
            return

    async def _fail(self, action: Action, attempts: int, reason: str) -> None:
        self._status(action.id, ActionStatus.FAILED, attempts, reason)
        log.error("action failed", action_id=action.id, action=action.name, rule=action.rule, reason=reason)
        account = getattr(action, "account", "") or ""
        await self._report_failure(
            ActionFailed(
                action.id,
                action.rule,
                action.name,
                account,
                reason,
                self._wall(),
                symbol=getattr(action, "symbol", None),
            )
        )

    async def _send_within(self, action: Action) -> None:
        """One attempt, bounded: a slow venue counts as an unavailable one. The venue may still
        carry out an attempt given up on; the retry carries the same idempotency key."""
        try:
            await asyncio.wait_for(self._send(action), self.policy.call_timeout)
        except TimeoutError:
            raise VenueUnavailable(
                f"{self.venue.name} did not answer {action.name} within {self.policy.call_timeout:g} s"
            ) from None

    async def _send(self, action: Action) -> None:
        venue = self.venue
        if isinstance(action, ClosePosition):
            await venue.close_position(action.account, action.symbol, client_id=action.id)
        elif isinstance(action, ReducePosition):
            await venue.close_position(action.account, action.symbol, action.qty, client_id=action.id)
        elif isinstance(action, CancelOrder):
            try:
                await venue.cancel_order(action.account, action.order_id)
            except OrderNotWorking as exc:  # filled or cancelled meanwhile: nothing left to cancel
                log.info("cancel: the order is no longer working", action_id=action.id, venue_said=str(exc))
        elif isinstance(action, CancelAllOrders):
            await venue.cancel_all(action.account, action.symbol)
        elif isinstance(action, MoveStop):
            if action.order_id is not None:
                await venue.modify_stop(action.account, action.order_id, action.stop_price)
                return
            held = self._position_of(action.account, action.symbol)
            if held == 0:
                raise OrderRejected(f"no {action.symbol} position on {action.account} to protect")
            side = Side.SELL if held > 0 else Side.BUY
            await venue.place_stop(
                action.account, action.symbol, side, abs(held), action.stop_price, client_id=action.id
            )
