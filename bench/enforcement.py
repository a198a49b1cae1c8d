"""Fill → enforcement latency through the daemon, beside a loopback round trip on the same machine.

The daemon runs as `riskguard run` does (journal in a temporary SQLite file, WAL, fsync on every
commit) on the paper venue, with `max_contracts: {limit: 5, close_all: true}`. Each round buys 6
MNQ at the venue directly (not through the gate, as a trader clicking in the broker's own
platform would): the fill reaches the daemon, is journaled with the close it calls for, and the
close goes out. The figure is the time from the fill event taken off the venue's stream to the
close command handed to the venue (`Executor.latency`), median and 99th percentile.

Beside it, in the same run: the round trip of a 64-byte message to an asyncio TCP echo server
on 127.0.0.1 — what one request to a venue next door would cost at the least. Riskguard's path
includes an fsync'd SQLite commit, so it is expected to be slower than a bare round trip; the
figure says by how much.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bench.gate import LatencyFigure
from riskguard.config import parse_config
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import OrderType, Side
from riskguard.core.orders import OrderRequest
from riskguard.daemon.guard import Guard
from riskguard.daemon.service import Daemon
from riskguard.store.journal import Journal, sqlite_url
from riskguard.venues.paper.venue import PaperConfig, PaperVenue

__all__ = ["run"]

_RULES = "rules:\n  max_contracts: {limit: 5, close_all: true}\n"
_ACCOUNT = "PAPER-USD"


def _now() -> datetime:
    return datetime.now(UTC)


def _percentile(samples: list[float], share: float) -> float:
    ranked = sorted(samples)
    return ranked[round(share * (len(ranked) - 1))]


async def _enforcement(rounds: int, folder: Path) -> list[float]:
    config = parse_config(_RULES, "bench/enforcement.py", env={})
    journal = Journal.open(sqlite_url(folder / "riskguard.db"))
    guard = Guard(lambda: RiskEngine(config.build_rules(), config.instruments.values()), journal, _now)
    venue = PaperVenue(PaperConfig(step_interval=None))
    daemon = Daemon(guard, venue)
    await daemon.start()
    try:
        for n in range(rounds):
            order = OrderRequest(f"b{n}", _ACCOUNT, "s1", "MNQ", Side.BUY, OrderType.MARKET, Decimal(6), _now())  # type: ignore[arg-type]
            await venue.place_order(order)
            while len(daemon.executor.latency.samples) <= n or venue.simulator.net_qty(_ACCOUNT, "MNQ") != 0:
                await asyncio.sleep(0)
        return list(daemon.executor.latency.samples)
    finally:
        await daemon.stop()
        journal.close()


async def _loopback(rounds: int) -> list[float]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(64):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    message = b"x" * 64
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        writer.write(message)
        await writer.drain()
        await reader.readexactly(64)
        samples.append(time.perf_counter() - started)
    writer.close()
    server.close()
    await server.wait_closed()
    return samples


def run(rounds: int) -> list[LatencyFigure]:
    with tempfile.TemporaryDirectory(prefix="riskguard-enforcement-") as folder:
        enforced = asyncio.run(_enforcement(rounds, Path(folder)))
    loopback = asyncio.run(_loopback(rounds))
    peer = "loopback TCP round trip, 64 bytes, asyncio (same run)"
    return [
        LatencyFigure(
            "fill_to_enforcement_p50_us", _percentile(enforced, 0.5) * 1e6, "us", peer, _percentile(loopback, 0.5) * 1e6
        ),
        LatencyFigure(
            "fill_to_enforcement_p99_us",
            _percentile(enforced, 0.99) * 1e6,
            "us",
            peer,
            _percentile(loopback, 0.99) * 1e6,
        ),
    ]
