"""Exchange-health breakers: seed 003's thresholds and timeouts, 429s never trip, one half-open trial."""

from __future__ import annotations

from riskguard.daemon.health import Breaker, BreakerState, HealthBoard
from riskguard.venues.base import CallClass, RateLimited, VenueUnavailable

OUTAGE = VenueUnavailable("502 Bad Gateway")


def test_breaker_when_two_of_three_order_failures_then_still_closed_and_third_opens_it() -> None:
    board = HealthBoard("hl")
    for t in (0.0, 1.0):
        board.record(CallClass.ORDER_SUBMISSION, OUTAGE, t)
    assert not board.blocks_orders(1.5)
    board.record(CallClass.ORDER_SUBMISSION, OUTAGE, 2.0)
    assert board.blocks_orders(2.0)
    assert board.states(2.0)[1] == {
        "name": "hl_trade",
        "state": "OPEN",
        "failures": 3,
        "threshold": 3,
        "timeout_seconds": 30.0,
        "seconds_until_half_open": 30.0,
        "trips": 1,
    }


def test_breaker_when_a_success_comes_between_failures_then_the_count_starts_again() -> None:
    breaker = Breaker("hl_trade", 3, 30.0)
    for error in (OUTAGE, OUTAGE, None, OUTAGE, OUTAGE):
        breaker.record(error, 0.0)
    assert breaker.current(0.0) is BreakerState.CLOSED


def test_breaker_when_any_number_of_429s_then_never_trips() -> None:
    breaker = Breaker("hl_trade", 3, 30.0)
    for n in range(50):
        breaker.record(RateLimited("429 Too Many Requests"), float(n))
    assert breaker.current(50.0) is BreakerState.CLOSED
    assert breaker.allow(50.0)


def test_breaker_when_open_then_short_circuits_until_the_timeout_then_allows_exactly_one_trial() -> None:
    breaker = Breaker("hl_price", 5, 20.0)
    for _ in range(5):
        breaker.record(OUTAGE, 100.0)
    assert not breaker.allow(119.9)  # 19.9 s after opening: still open
    assert breaker.allow(120.0)  # 20 s: half-open, the trial goes out
    assert not breaker.allow(120.1)  # a second call waits for the trial's outcome
    assert breaker.current(120.1) is BreakerState.HALF_OPEN


def test_breaker_when_the_half_open_trial_fails_then_open_again_at_once_for_a_full_timeout() -> None:
    breaker = Breaker("hl_account", 4, 25.0)
    for _ in range(4):
        breaker.record(OUTAGE, 0.0)
    assert breaker.allow(25.0)
    breaker.record(OUTAGE, 25.5)  # one failure is enough in half-open
    assert breaker.current(25.5) is BreakerState.OPEN
    assert breaker.seconds_left(30.5) == 20.0
    assert breaker.trips == 2


def test_breaker_when_the_half_open_trial_succeeds_then_closed_with_no_failures() -> None:
    breaker = Breaker("hl_account", 4, 25.0)
    for _ in range(4):
        breaker.record(OUTAGE, 0.0)
    assert breaker.allow(25.0)
    breaker.record(None, 25.2)
    assert (breaker.current(25.2), breaker.failures) == (BreakerState.CLOSED, 0)


def test_breaker_when_a_call_fails_while_already_open_then_no_new_trip_but_the_timeout_restarts() -> None:
    breaker = Breaker("hl_trade", 3, 30.0)
    for _ in range(3):
        breaker.record(OUTAGE, 0.0)
    breaker.record(OUTAGE, 10.0)  # an emergency close, sent despite the open breaker, failed too
    assert (breaker.trips, breaker.current(35.0)) == (1, BreakerState.OPEN)  # open until 40 s now
    assert breaker.current(40.0) is BreakerState.HALF_OPEN
