"""A daemon on a paper venue with clocks the test moves, and a crash that leaves things as `kill -9` would.

The venue is the exchange: it outlives the daemon, so a restart builds a new Guard and Daemon on
the same database file and the same `PaperVenue`. Time is a `ManualClock`: the wall clock is the
world's (venue, journal, daemon share it), the monotonic clock is one process's and starts from
another origin after a restart, as a real one does.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from riskguard.config import parse_config
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import OrderType, Side
from riskguard.core.orders import OrderRequest
from riskguard.daemon.executor import RetryPolicy
from riskguard.daemon.guard import Guard
from riskguard.daemon.service import Daemon, DaemonSettings
from riskguard.instruments_catalog import DEFAULT_INSTRUMENTS
from riskguard.store.journal import Journal, sqlite_url
from riskguard.venues.paper.venue import PaperConfig, PaperVenue

__all__ = ["ACCOUNT", "ManualClock", "Rig", "build", "crash", "market", "paper_venue", "until"]

ACCOUNT = "PAPER-USD"
_order_ids = itertools.count(1)


class ManualClock:
    """The wall clock and one process's monotonic clock, moved only by the test."""

    def __init__(self, wall: datetime, monotonic: float) -> None:
        self.wall = wall
        self.mono = monotonic

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        """Time passes: both clocks move on together."""
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def reboot(self, monotonic: float) -> None:
        """A new process: its monotonic clock has nothing to do with the last one's."""
        self.mono = monotonic


@dataclass
class Rig:
    daemon: Daemon
    venue: PaperVenue
    journal: Journal


def paper_venue(clock: ManualClock) -> PaperVenue:
    """PAPER-USD (50,000 USD) trading MNQ (start 20000.00) and MES (start 5000.00): tick 0.25,
    one tick of half spread, 0.62 a contract a side; prices move only when the test moves them."""
    config = PaperConfig(
        instruments=tuple(DEFAULT_INSTRUMENTS[s] for s in ("MNQ", "MES", "BTC-PERP")),
        start_prices={"MNQ": Decimal("20000.00"), "MES": Decimal("5000.00"), "BTC-PERP": Decimal("60000.0")},
        fee_per_unit={"MNQ": Decimal("0.62"), "MES": Decimal("0.62"), "BTC-PERP": Decimal("27")},
        step_interval=None,
    )
    return PaperVenue(config, clock=clock.now)


def build(
    db: Path, rules_yaml: str, venue: PaperVenue, clock: ManualClock, *, retry: RetryPolicy, snapshot_every: int = 5000
) -> Rig:
    """One daemon process on `db` and `venue`; its clock loop wakes often, so a moved clock is seen at once."""
    config = parse_config(f"rules:\n{rules_yaml}", "test", env={})
    journal = Journal.open(sqlite_url(db))
    guard = Guard(
        lambda: RiskEngine(config.build_rules(), config.instruments.values()),
        journal,
        clock.now,
        snapshot_every=snapshot_every,
    )
    settings = DaemonSettings(retry=retry, max_clock_sleep=0.02)
    daemon = Daemon(guard, venue, settings=settings, wall_clock=clock.now, monotonic=clock.monotonic)
    return Rig(daemon, venue, journal)


async def crash(rig: Rig) -> None:
    """`kill -9`: every task of the daemon dies where it stands (its loops and the actions under
    way); nothing is flushed, snapshotted or disarmed, and the venue is not told."""
    tasks = [*rig.daemon._tasks, *rig.daemon.executor._tasks]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    rig.journal.close()


def market(clock: ManualClock, side: Side, qty: str, symbol: str = "MNQ") -> OrderRequest:
    """A market order of strategy s1 on PAPER-USD, as the trader sends it to the venue."""
    return OrderRequest(
        f"bot-{next(_order_ids)}",
        ACCOUNT,
        "s1",
        symbol,
        side,
        OrderType.MARKET,
        Decimal(qty),  # type: ignore[arg-type]
        clock.now(),
    )


async def until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait for the daemon's tasks to make `predicate` true; fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the daemon did not get there in time")
        await asyncio.sleep(0.01)
