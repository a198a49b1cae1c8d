"""Exchange-health circuit breakers (seed 003): one per call class, CLOSED → OPEN → HALF_OPEN.

A breaker counts consecutive failures of its class: at `threshold` it opens, and calls are
short-circuited for `timeout` seconds; then it is half-open and lets one trial call through,
whose success closes it and whose failure opens it again at once. Only outages count (5xx,
timeouts, dropped connections): a rate limit (429) is retried by the caller and never trips a
breaker, so the emergency-close path stays alive during a burst. Time is given, not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from riskguard.venues.base import CallClass, RateLimited, VenueError

__all__ = ["DEFAULT_BREAKERS", "Breaker", "BreakerState", "HealthBoard"]


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


#: Seed 003's defaults: (failures that trip it, seconds it stays open).
DEFAULT_BREAKERS: dict[CallClass, tuple[int, float]] = {
    CallClass.PRICE_READS: (5, 20.0),
    CallClass.ORDER_SUBMISSION: (3, 30.0),
    CallClass.ACCOUNT_READS: (4, 25.0),
}


@dataclass(slots=True)
class Breaker:
    name: str
    threshold: int
    timeout: float
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False
    trips: int = 0

    def current(self, now: float) -> BreakerState:
        """The state at `now`: an open breaker whose timeout has passed reads as half-open."""
        if self.state is BreakerState.OPEN and self.opened_at is not None and now - self.opened_at >= self.timeout:
            self.state = BreakerState.HALF_OPEN
            self.trial_in_flight = False
        return self.state

    def allow(self, now: float) -> bool:
        """May a call of this class go out now? Half-open lets exactly one trial through."""
        state = self.current(now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def record(self, error: VenueError | None, now: float) -> None:
        """The outcome of one call: None for success."""
        if isinstance(error, RateLimited):
            return  # a rate limit is not an outage
        state = self.current(now)
        if error is None:
            self.state, self.failures, self.opened_at, self.trial_in_flight = BreakerState.CLOSED, 0, None, False
            return
        self.failures += 1
        if state is BreakerState.OPEN:  # a call that went out anyway (a close) failed: stay open, longer
            self.opened_at = now
            return
        if state is BreakerState.HALF_OPEN or self.failures >= self.threshold:
            self.state, self.opened_at, self.trial_in_flight = BreakerState.OPEN, now, False
            self.trips += 1

    def seconds_left(self, now: float) -> float:
        if self.current(now) is not BreakerState.OPEN or self.opened_at is None:
            return 0.0
        return max(self.timeout - (now - self.opened_at), 0.0)


class HealthBoard:
    """The venue's breakers by call class, named as seed 003 shows them (``<prefix>_trade`` …)."""

    def __init__(self, prefix: str, limits: dict[CallClass, tuple[int, float]] | None = None) -> None:
        short = {
            CallClass.PRICE_READS: "price",
            CallClass.ORDER_SUBMISSION: "trade",
            CallClass.ACCOUNT_READS: "account",
        }
        self.breakers = {
            call_class: Breaker(f"{prefix}_{short[call_class]}", threshold, timeout)
            for call_class, (threshold, timeout) in (limits or DEFAULT_BREAKERS).items()
        }

    def record(self, call_class: CallClass, error: VenueError | None, now: float) -> None:
        self.breakers[call_class].record(error, now)

    def blocks_orders(self, now: float) -> bool:
        """Is the order-submission breaker open (new risk refused with ``venue_unavailable``)?"""
        return self.breakers[CallClass.ORDER_SUBMISSION].current(now) is BreakerState.OPEN

    def states(self, now: float) -> list[dict[str, object]]:
        return [
            {
                "name": b.name,
                "state": b.current(now).value,
                "failures": b.failures,
                "threshold": b.threshold,
                "timeout_seconds": b.timeout,
                "seconds_until_half_open": round(b.seconds_left(now), 3),
                "trips": b.trips,
            }
            for b in self.breakers.values()
        ]
