"""The failures the paper venue injects on purpose, so retries, breakers and catch-up can be tested.

A `Faults` is a switchboard, not a value: tests and the daemon's fault drills set its fields while
the venue runs, and the venue uses the counters up, one failing call at a time. Dropping the
connection is not a field here, because it has to emit events: see `PaperVenue.disconnect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from riskguard.venues.base import CallClass, RateLimited, VenueError, VenueUnavailable

__all__ = ["Faults"]


@dataclass(slots=True)
class Faults:
    """What goes wrong next. Every field's default is "nothing"."""

    # The next N order-submission calls raise RateLimited (a burst of 429s).
    rate_limited: int = 0
    # The next N calls of a class raise VenueUnavailable (a 5xx), e.g. {CallClass.ACCOUNT_READS: 3}.
    unavailable: dict[CallClass, int] = field(default_factory=dict)
    # Every call waits this long before it is answered (a slow venue).
    delay: timedelta = timedelta(0)
    # The next K close_position calls fail; the one after succeeds.
    close_failures: int = 0
    # Every close_position call fails, until this is cleared.
    close_always_fails: bool = False
    # What a failing close raises: VenueUnavailable (retryable) or OrderRejected (the venue says no).
    close_error: type[VenueError] = VenueUnavailable

    def failure(self, call_class: CallClass, call: str, *, closing: bool = False) -> VenueError | None:
        """The error the call `call` of `call_class` should fail with, using up one count; None
        when it should go through. A rate limit comes first, then a 5xx, then a failing close."""
        if call_class is CallClass.ORDER_SUBMISSION and self.rate_limited > 0:
            self.rate_limited -= 1
            return RateLimited(f"paper venue: {call} rate limited (injected 429)", call_class)
        if self.unavailable.get(call_class, 0) > 0:
            self.unavailable[call_class] -= 1
            return VenueUnavailable(f"paper venue: {call} failed with an injected 5xx", call_class)
        if closing and self.close_always_fails:
            return self.close_error(f"paper venue: {call} failed (injected: closes always fail)", call_class)
        if closing and self.close_failures > 0:
            self.close_failures -= 1
            return self.close_error(
                f"paper venue: {call} failed (injected; {self.close_failures} more failures to come)", call_class
            )
        return None
