"""Exchange-health circuit breakers (seed 003): one per call class, CLOSED → OPEN → HALF_OPEN.

A breaker counts consecutive failures of its class: at `threshold` it opens, and calls are
short-circuited for `timeout` seconds; then it is half-open and lets one trial call through,
whose success closes it and whose failure opens it again at once. Only outages count (5xx,
timeouts, dropped connections): a rate limit (429) is retried by the caller and never trips a
breaker, so the emergency-close path stays alive during a burst. Time is given, not read.

Breakers run on monotonic time, which means nothing to the next process, so they survive a
restart as a record with wall-clock times (`HealthBoard.to_record` / `restore`): an open breaker
stays open for the rest of its timeout counted from when it opened, and one whose timeout ran
out while the daemon was down reads half-open. The board calls `on_change` whenever a breaker's
state, failure count or trips change (a success on a healthy breaker changes nothing), so the
shell can save the record then; a save that fails is logged and never breaks the call it follows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog

from riskguard.core._validate import require_utc
from riskguard.core.errors import InvalidInput
from riskguard.venues.base import CallClass, RateLimited, VenueError

__all__ = ["DEFAULT_BREAKERS", "HEALTH_SETTING", "Breaker", "BreakerState", "HealthBoard"]

log = structlog.get_logger("riskguard.health")

#: The journal setting the board's record is kept under.
HEALTH_SETTING = "exchange_health"
_RECORD_VERSION = 1


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

    def __init__(
        self,
        prefix: str,
        limits: dict[CallClass, tuple[int, float]] | None = None,
        *,
        on_change: Callable[[HealthBoard], None] | None = None,
    ) -> None:
        short = {
            CallClass.PRICE_READS: "price",
            CallClass.ORDER_SUBMISSION: "trade",
            CallClass.ACCOUNT_READS: "account",
        }
        self.breakers = {
            call_class: Breaker(f"{prefix}_{short[call_class]}", threshold, timeout)
            for call_class, (threshold, timeout) in (limits or DEFAULT_BREAKERS).items()
        }
        self._on_change = on_change

    def record(self, call_class: CallClass, error: VenueError | None, now: float) -> None:
        breaker = self.breakers[call_class]
        before = _fingerprint(breaker)
        breaker.record(error, now)
        self._changed(breaker, before)

    def blocks_orders(self, now: float) -> bool:
        """Is the order-submission breaker open (new risk refused with ``venue_unavailable``)?"""
        breaker = self.breakers[CallClass.ORDER_SUBMISSION]
        before = _fingerprint(breaker)
        state = breaker.current(now)
        self._changed(breaker, before)
        return state is BreakerState.OPEN

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

    # -- surviving a restart ---------------------------------------------------------------

    def to_record(self, now: float, now_wall: datetime) -> dict[str, Any]:
        """The breakers as JSON-safe data, with the monotonic `now` turned into `now_wall`:
        each keeps its state, failures, trips and the wall-clock time it opened."""
        wall = require_utc("now_wall", now_wall)
        breakers: dict[str, dict[str, Any]] = {}
        for b in self.breakers.values():
            opened = None if b.opened_at is None else wall - timedelta(seconds=now - b.opened_at)
            breakers[b.name] = {
                "state": b.current(now).value,
                "failures": b.failures,
                "trips": b.trips,
                "opened_at": None if opened is None else opened.isoformat(),
            }
        return {"version": _RECORD_VERSION, "saved_at": wall.isoformat(), "breakers": breakers}

    def restore(self, record: Mapping[str, Any] | None, now: float, now_wall: datetime) -> None:
        """Take back the breakers of `record` (None: nothing was saved), by name; thresholds and
        timeouts stay as configured now. An open breaker's timeout counts on from the wall-clock
        time it opened (a time after `now_wall`, from a clock set back, counts as now); a trial
        that was in flight died with the last process. A record that cannot be read is refused
        with `InvalidInput` and changes nothing."""
        if record is None:
            return
        wall = require_utc("now_wall", now_wall)
        saved = _parse(record)
        for breaker in self.breakers.values():
            if breaker.name not in saved:
                continue  # another venue's, or a breaker this board did not have then
            state, failures, trips, opened_wall = saved[breaker.name]
            breaker.state, breaker.failures, breaker.trips, breaker.trial_in_flight = state, failures, trips, False
            breaker.opened_at = None
            if opened_wall is not None:
                breaker.opened_at = now - max((wall - opened_wall).total_seconds(), 0.0)

    def _changed(self, breaker: Breaker, before: tuple[object, ...]) -> None:
        if self._on_change is None or _fingerprint(breaker) == before:
            return
        try:
            self._on_change(self)
        except Exception as exc:  # the breaker itself is right; only its copy on disk is behind
            log.error("could not save the exchange-health breakers", error=f"{type(exc).__name__}: {exc}")


def _fingerprint(breaker: Breaker) -> tuple[object, ...]:
    """What a restart must get back; `trial_in_flight` dies with the process."""
    return breaker.state, breaker.failures, breaker.trips, breaker.opened_at


def _parse(record: Mapping[str, Any]) -> dict[str, tuple[BreakerState, int, int, datetime | None]]:
    """Every breaker of a record, checked before any is used."""
    if not isinstance(record, Mapping) or record.get("version") != _RECORD_VERSION:
        raise InvalidInput(
            "exchange_health",
            record,
            f"is not a version {_RECORD_VERSION} breaker record; delete the setting "
            f"{HEALTH_SETTING!r} to start with every breaker closed",
        )
    breakers = record.get("breakers")
    if not isinstance(breakers, Mapping):
        raise InvalidInput("exchange_health.breakers", breakers, "must map breaker names to their state")
    parsed = {}
    for name, entry in breakers.items():
        where = f"exchange_health.breakers.{name}"
        if not isinstance(entry, Mapping):
            raise InvalidInput(where, entry, "must be a mapping with state, failures, trips, opened_at")
        raw_state = entry.get("state")
        if not isinstance(raw_state, str) or raw_state not in {s.value for s in BreakerState}:
            raise InvalidInput(f"{where}.state", raw_state, "must be CLOSED, OPEN or HALF_OPEN")
        state = BreakerState(raw_state)
        opened = entry.get("opened_at")
        opened_at = None if opened is None else require_utc(f"{where}.opened_at", opened)
        if state is not BreakerState.CLOSED and opened_at is None:
            raise InvalidInput(f"{where}.opened_at", None, f"must be given for a {state.value} breaker")
        parsed[str(name)] = (state, _count(where, "failures", entry), _count(where, "trips", entry), opened_at)
    return parsed


def _count(where: str, field: str, entry: Mapping[str, Any]) -> int:
    value = entry.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{where}.{field}", value, "must be a whole number, 0 or more")
    return value
