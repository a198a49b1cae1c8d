"""Exchange-health breakers: seed 003's thresholds and timeouts, 429s never trip, one half-open
trial, and a record with wall-clock times that gives them back after a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from riskguard.core.errors import InvalidInput
from riskguard.daemon.health import Breaker, BreakerState, HealthBoard
from riskguard.venues.base import CallClass, RateLimited, VenueUnavailable

OUTAGE = VenueUnavailable("502 Bad Gateway")
TRADE = CallClass.ORDER_SUBMISSION
WALL = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)


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


def tripped_board(opened_at: float) -> HealthBoard:
    """The order breaker opened by its third failure at monotonic `opened_at` (30 s timeout)."""
    board = HealthBoard("hl")
    for _ in range(3):
        board.record(TRADE, OUTAGE, opened_at)
    return board


def test_board_when_restored_10_s_after_its_order_breaker_opened_then_open_with_20_s_left() -> None:
    # Arrange: opened at monotonic 500.0, saved then (wall 14:00:00); the new process's clock reads 7.0
    record = json.loads(json.dumps(tripped_board(500.0).to_record(500.0, WALL)))  # through JSON, as stored
    board = HealthBoard("hl")
    # Act: back up 10 s later by the wall clock
    board.restore(record, 7.0, WALL + timedelta(seconds=10))
    # Assert: 30 s timeout - 10 s down = 20 s left; failures and trips as they were
    trade = board.breakers[TRADE]
    assert (trade.current(7.0), trade.failures, trade.trips) == (BreakerState.OPEN, 3, 1)
    assert trade.seconds_left(7.0) == 20.0
    assert board.blocks_orders(26.9)
    assert not board.blocks_orders(27.0)  # 20 s after the restart: half-open


def test_board_when_an_open_timeout_ran_out_while_down_then_restored_half_open_with_one_trial() -> None:
    record = tripped_board(500.0).to_record(505.0, WALL)  # saved 5 s after it opened (13:59:55)
    board = HealthBoard("hl")
    # Act: back up at 14:00:26, 31 s after it opened: the 30 s timeout ran out while down
    board.restore(record, 3.0, WALL + timedelta(seconds=26))
    # Assert
    trade = board.breakers[TRADE]
    assert trade.current(3.0) is BreakerState.HALF_OPEN
    assert trade.allow(3.0)
    assert not trade.allow(3.0)


def test_board_when_saved_half_open_with_a_trial_out_then_restored_half_open_allowing_a_new_trial() -> None:
    before = tripped_board(0.0)
    assert before.breakers[TRADE].allow(30.0)  # the trial went out, and the process died with it
    record = before.to_record(31.0, WALL)
    board = HealthBoard("hl")
    board.restore(record, 0.0, WALL + timedelta(seconds=60))
    trade = board.breakers[TRADE]
    assert (trade.current(0.0), trade.trial_in_flight) == (BreakerState.HALF_OPEN, False)
    assert trade.allow(0.0)


def test_board_when_exported_then_every_breaker_is_json_with_the_wall_time_it_opened() -> None:
    record = tripped_board(500.0).to_record(510.0, WALL)
    assert json.loads(json.dumps(record)) == {
        "version": 1,
        "saved_at": "2026-06-10T14:00:00+00:00",
        "breakers": {
            "hl_price": {"state": "CLOSED", "failures": 0, "trips": 0, "opened_at": None},
            "hl_trade": {"state": "OPEN", "failures": 3, "trips": 1, "opened_at": "2026-06-10T13:59:50+00:00"},
            "hl_account": {"state": "CLOSED", "failures": 0, "trips": 0, "opened_at": None},
        },
    }


def test_board_when_restored_from_nothing_or_another_venues_record_then_every_breaker_stays_closed() -> None:
    other = tripped_board(0.0).to_record(1.0, WALL)
    board = HealthBoard("lighter")
    board.restore(None, 0.0, WALL)
    board.restore(other, 0.0, WALL)
    assert [b.current(0.0) for b in board.breakers.values()] == [BreakerState.CLOSED] * 3


def test_board_when_the_wall_clock_went_back_while_down_then_the_open_breaker_gets_its_full_timeout() -> None:
    record = tripped_board(500.0).to_record(500.0, WALL)
    board = HealthBoard("hl")
    board.restore(record, 0.0, WALL - timedelta(seconds=5))
    assert board.breakers[TRADE].seconds_left(0.0) == 30.0


@pytest.mark.parametrize(
    "record",
    [
        {"version": 2, "breakers": {}},
        {"version": 1, "breakers": []},
        {"version": 1, "breakers": {"hl_trade": {"state": "AJAR", "failures": 0, "trips": 0, "opened_at": None}}},
        {"version": 1, "breakers": {"hl_trade": {"state": "OPEN", "failures": 3, "trips": 1, "opened_at": None}}},
        {"version": 1, "breakers": {"hl_trade": {"state": "CLOSED", "failures": -1, "trips": 0, "opened_at": None}}},
        {"version": 1, "breakers": {"hl_trade": {"state": "OPEN", "failures": 3, "trips": 1, "opened_at": "noon"}}},
    ],
)
def test_board_when_the_record_cannot_be_read_then_refused_and_nothing_changes(record: dict[str, Any]) -> None:
    board = tripped_board(0.0)
    with pytest.raises(InvalidInput):
        board.restore(record, 1.0, WALL)
    trade = board.breakers[TRADE]
    assert (trade.state, trade.failures, trade.trips, trade.opened_at) == (BreakerState.OPEN, 3, 1, 0.0)


def test_board_when_breakers_change_then_on_change_is_called_but_not_for_a_success_that_changes_nothing() -> None:
    saved: list[dict[str, Any]] = []
    board = HealthBoard("hl", on_change=lambda b: saved.append(b.to_record(0.0, WALL)))
    # Act and assert: successes and 429s on a healthy breaker change nothing, so nothing is saved
    board.record(TRADE, None, 0.0)
    board.record(TRADE, RateLimited("429 Too Many Requests"), 0.0)
    assert saved == []
    for _ in range(3):  # each failure is saved; the third opens the breaker
        board.record(TRADE, OUTAGE, 0.0)
    assert [r["breakers"]["hl_trade"]["failures"] for r in saved] == [1, 2, 3]
    assert saved[-1]["breakers"]["hl_trade"]["state"] == "OPEN"
    assert board.blocks_orders(10.0)  # still open: no change, no save
    assert len(saved) == 3
    assert not board.blocks_orders(30.0)  # open -> half-open is a change
    assert len(saved) == 4
    board.record(TRADE, None, 30.5)  # the trial succeeds: closed
    assert len(saved) == 5
    assert saved[-1]["breakers"]["hl_trade"] == {"state": "CLOSED", "failures": 0, "trips": 1, "opened_at": None}


def test_board_when_saving_fails_then_the_breaker_still_counts_and_the_call_is_not_broken() -> None:
    def disk_full(_board: HealthBoard) -> None:
        raise OSError(28, "No space left on device")

    board = HealthBoard("hl", on_change=disk_full)
    for _ in range(3):
        board.record(TRADE, OUTAGE, 0.0)
    assert board.blocks_orders(0.0)
