"""VenueErrorRate (seed 002): stop new risk across the portfolio while the venue fails too many calls.

A venue call is counted from the venue's order updates, for now: an order's first update that
says `working` or `filled` is a call that succeeded, every `rejected` is one that failed. Later
updates of an order already counted (partial fills, its fill, a repeated report) are not new
calls, and `new` and `cancelled` are not counted. The daemon will feed richer call outcomes
later (cancels and modifications, timeouts, connection errors); this is the measure until then.

The window at `now` holds the calls with now - `window_minutes` < ts <= now (a call's time is
the engine's time when its update arrives). Once it holds at least `min_calls` calls, an error
rate above `max_error_rate_pct` of them trips the breaker — exactly the limit does not: 1
rejection in 100 calls is 1 % and passes, 1 in 99 trips — so one rejection among two orders is
not "50 %". A trip raises a critical alert and refuses new risk across the portfolio (a
lockout of scope portfolio) for `cooldown_minutes`; exits stay allowed and nothing is closed
or cancelled. The count starts afresh at the trip; while the cooldown runs calls are counted but
the breaker does not trip again. When it ends (or an operator clears the lockout) the breaker
re-arms. The state keeps `tripped`, `tripped_at` and `cooldown_until` for the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from riskguard.core.actions import Action, AlertLevel, LockOut, RaiseAlert
from riskguard.core.errors import InvalidInput
from riskguard.core.events import ClockTicked, Event, OrderStatus, OrderUpdated, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.rules._amounts import fmt
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = ["VenueCall", "VenueErrorRate", "VenueErrorRateParams", "VenueErrorRateState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueErrorRateParams(RuleParams):
    window_minutes: int = 5  # the window venue calls are counted over, minutes
    max_error_rate_pct: Decimal = Decimal(1)  # failed calls above this % of the window's calls trip it (seed 002: 1)
    min_calls: int = 20  # fewest calls in the window before the rate can trip it
    cooldown_minutes: int = 15  # how long new risk is refused after a trip, minutes


class VenueCall(NamedTuple):
    """One venue call: when its outcome arrived, for which order, and whether it failed."""

    ts: datetime
    order_id: str
    failed: bool


@dataclass(frozen=True, slots=True)
class VenueErrorRateState:
    calls: tuple[VenueCall, ...] = ()  # the calls in the window, oldest first
    live: dict[str, None] = field(default_factory=dict)  # ids counted as accepted and still working
    tripped: bool = False
    tripped_at: datetime | None = None
    cooldown_until: datetime | None = None


class VenueErrorRate(Rule[VenueErrorRateParams, VenueErrorRateState]):
    name = "venue_error_rate"
    reactive = True

    def __init__(self, params: VenueErrorRateParams) -> None:
        for name in ("window_minutes", "min_calls", "cooldown_minutes"):
            value = getattr(params, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(name, value, "must be a whole number, 1 or more")
        if not 0 <= params.max_error_rate_pct < 100:
            raise InvalidInput("max_error_rate_pct", str(params.max_error_rate_pct), "must be 0 or more and below 100")
        super().__init__(params)
        self.window = timedelta(minutes=params.window_minutes)
        self.cooldown = timedelta(minutes=params.cooldown_minutes)

    def initial_state(self) -> VenueErrorRateState:
        return VenueErrorRateState()

    def react(
        self, event: Event, view: AccountView, state: VenueErrorRateState
    ) -> tuple[VenueErrorRateState, Sequence[Action]]:
        if not isinstance(event, OrderUpdated | ClockTicked | ResetRequested):
            return state, ()
        if state.tripped and state.cooldown_until is not None and view.now >= state.cooldown_until:
            state = replace(state, tripped=False)  # the cooldown is over: re-armed
        if isinstance(event, ResetRequested):
            mine = any(lockout.rule == self.name for lockout in view.lockouts.all())
            if state.tripped and not mine and event.rule in (None, self.name):
                state = replace(state, calls=(), tripped=False)  # an operator cleared the lockout
            return state, ()
        if not isinstance(event, OrderUpdated):
            return state, ()
        calls = self._in_window(state.calls, view.now)
        failed = _outcome(event, calls, state.live)
        live = state.live
        if event.order_id in live and not event.status.is_open:
            live = {order_id: None for order_id in live if order_id != event.order_id}
        elif failed is False and event.status is OrderStatus.WORKING:
            live = {**live, event.order_id: None}
        if failed is not None:
            calls = (*calls, VenueCall(view.now, event.order_id, failed))
        state = replace(state, calls=calls, live=live)
        if failed is None or state.tripped:
            return state, ()
        errors = _errors(calls)
        if len(calls) < self.params.min_calls or errors * 100 <= self.params.max_error_rate_pct * len(calls):
            return state, ()
        until = view.now + self.cooldown
        reason = self._sentence(errors, len(calls), event, until)
        tripped = replace(state, calls=(), tripped=True, tripped_at=view.now, cooldown_until=until)
        return tripped, (
            RaiseAlert(rule=self.name, reason=reason, level=AlertLevel.CRITICAL),
            LockOut(rule=self.name, reason=reason, scope=Scope(), until=until),
        )

    def _in_window(self, calls: tuple[VenueCall, ...], now: datetime) -> tuple[VenueCall, ...]:
        """The calls in the window at `now`: now - window_minutes < ts <= now."""
        start = now - self.window
        return tuple(call for call in calls if call.ts > start)

    def headroom(self, view: AccountView, state: VenueErrorRateState) -> Sequence[Headroom]:
        """The error rate of the window's calls, in % to 0.01, against `max_error_rate_pct`,
        portfolio-wide; none while the window holds fewer than `min_calls` calls (no rate is judged)."""
        calls = self._in_window(state.calls, view.now)
        if len(calls) < self.params.min_calls:
            return []
        rate = _rate(_errors(calls), len(calls))
        return [Headroom(self.name, "venue error rate", Scope(), rate, self.params.max_error_rate_pct, "%")]

    def _sentence(self, errors: int, calls: int, event: OrderUpdated, until: datetime) -> str:
        rate = _rate(errors, calls)
        latest = ""
        if event.status is OrderStatus.REJECTED:
            detail = f": {event.reason}" if event.reason else ""
            latest = f" (the latest: order {event.order_id} on {event.account} rejected{detail})"
        return (
            f"Venue error rate {errors} of {calls} calls ({fmt(rate)} %) in the last {self.params.window_minutes} min "
            f"is over the {fmt(self.params.max_error_rate_pct)} % limit{latest}; new risk is refused across the "
            f"portfolio until {until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, exits still allowed"
        )

    def next_deadline(self, view: AccountView, state: VenueErrorRateState) -> datetime | None:
        """The end of the cooldown, when the breaker re-arms."""
        return state.cooldown_until if state.tripped else None


def _outcome(event: OrderUpdated, calls: tuple[VenueCall, ...], live: dict[str, None]) -> bool | None:
    """Is this update a new call, and did it fail? None: not a new call (or one already counted)."""
    if event.status is OrderStatus.REJECTED:
        failed = True
    elif event.status in (OrderStatus.WORKING, OrderStatus.FILLED) and event.order_id not in live:
        failed = False
    else:
        return None
    seen = any(call.order_id == event.order_id and call.failed is failed for call in calls)
    return None if seen else failed


def _errors(calls: tuple[VenueCall, ...]) -> int:
    return sum(1 for call in calls if call.failed)


def _rate(errors: int, calls: int) -> Decimal:
    """`errors` of `calls` in %, to 0.01 (half-even)."""
    return (Decimal(errors * 100) / calls).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
