"""The crash test: `riskguard run` against the paper venue in a process of its own, under a steady
flow of fills from a trader trading beside it, killed with SIGKILL at random moments (during
start-up too), restarted, and at last stopped with SIGTERM. Then its state must equal a replay of
everything the venue says happened: no fill lost or counted twice, no lockout forgotten, no
enforcement order sent twice or sent without being journaled first.

The kill moments come from a seed printed in every failure message; set RISKGUARD_CRASH_SEED to
run the same rounds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from riskguard.codec import decode_action, parse_event
from riskguard.config import load_config
from riskguard.config.schema import RiskConfig
from riskguard.core.actions import LockOut
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import OrderType, Side
from riskguard.core.events import ClockTicked
from riskguard.core.fills import Fill
from riskguard.core.orders import OrderRequest
from riskguard.daemon.guard import Guard
from riskguard.store.journal import Journal, sqlite_url
from riskguard.venues.base import VenueError
from riskguard.venues.paper.remote import RemotePaperVenue

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

ROUNDS = 5
SEED = int(os.environ.get("RISKGUARD_CRASH_SEED") or random.SystemRandom().randrange(1, 2**31))
RISKGUARD = [sys.executable, "-m", "riskguard"]
MARKETS = (("PAPER-USD", "MNQ", ("1", "2")), ("PAPER-USDC", "BTC-PERP", ("0.001", "0.002")))

CONFIG = """\
venue: {{kind: paper-remote, url: "{url}", call_timeout_seconds: 5, dead_mans_switch_seconds: 0}}
rules:
  max_contracts: {{limit: 3, close_all: false}}
  daily_realized_loss: {{limit: -150, reset_time: "00:00", timezone: UTC}}
accounts:
  PAPER-USD: {{currency: USD}}
  PAPER-USDC: {{currency: USDC}}
"""


async def spawn(log: Path, *args: str) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            *RISKGUARD, *args, stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )


async def logged(log: Path, event: str, process: asyncio.subprocess.Process, seconds: float = 60.0) -> None:
    """Wait until the JSON log at `log` has a line whose event is `event` (counting from the
    last start in the file)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        starts = [i for i, r in enumerate(lines) if r.get("event") == "state restored"] or [0]
        if any(r.get("event") == event for r in lines[starts[-1] :]):
            return
        if process.returncode is not None:
            raise AssertionError(f"the process exited ({process.returncode}) before {event!r}:\n{log.read_text()}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event!r} within {seconds} s:\n{log.read_text()[-4000:]}")


@pytest_asyncio.fixture
async def venue(tmp_path: Path) -> AsyncIterator[tuple[str, RemotePaperVenue]]:
    """The paper venue process (prices step every 0.2 s) and an operator's link to it."""
    port_file = tmp_path / "venue.port"
    process = await spawn(
        tmp_path / "venue.log", "paper-venue", "--port", "0", "--port-file", str(port_file),
        "--step-seconds", "0.2", "--seed", str(SEED % 1000), "--json-logs",
    )  # fmt: skip
    try:
        await logged(tmp_path / "venue.log", "paper venue serving", process, seconds=30)
        url = f"ws://127.0.0.1:{int(port_file.read_text())}"
        control = RemotePaperVenue(url + "/control", name="control")
        await control.connect()
        yield url, control
        await control.close()
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


async def trade(url: str, rng: random.Random, stop: asyncio.Event) -> int:
    """A trader beside riskguard, on its own link: a market order every ~30 ms; refusals ignored."""
    trader = RemotePaperVenue(url, name="trader")
    await trader.connect()
    placed = 0
    try:
        while not stop.is_set():
            account, symbol, sizes = rng.choice(MARKETS)
            order = OrderRequest(
                f"t{placed}", account, "manual", symbol, rng.choice((Side.BUY, Side.SELL)),
                OrderType.MARKET, Decimal(rng.choice(sizes)), datetime.now(UTC),
            )  # type: ignore[arg-type]  # fmt: skip
            with contextlib.suppress(VenueError):
                await trader.place_order(order)
                placed += 1
            await asyncio.sleep(0.03)
    finally:
        await trader.close()
    return placed


async def test_crash_when_killed_at_random_moments_under_load_then_state_equals_a_replay_of_the_venue(
    tmp_path: Path, venue: tuple[str, RemotePaperVenue]
) -> None:
    url, control = venue
    rng = random.Random(SEED)
    config_path = tmp_path / "risk.yaml"
    config_path.write_text(CONFIG.format(url=url))
    config = load_config(config_path, env={})
    data = tmp_path / "data"
    run = ("run", "--config", str(config_path), "--data-dir", str(data), "--no-bot", "--json-logs", "--api-port", "0")
    stop_trading = asyncio.Event()
    trader = asyncio.create_task(trade(url, random.Random(SEED + 1), stop_trading))
    kills: list[str] = []

    # Act: SIGKILL at random moments, some before the daemon has finished starting
    for round_number in range(ROUNDS):
        log = tmp_path / f"daemon-{round_number}.log"
        daemon = await spawn(log, *run)
        if rng.random() < 0.3:
            delay = rng.uniform(0.3, 2.0)
            kills.append(f"{delay:.2f} s after spawn")
        else:
            await logged(log, "riskguard is running", daemon)
            delay = rng.uniform(0.2, 3.0)
            kills.append(f"{delay:.2f} s after running")
        await asyncio.sleep(delay)
        daemon.send_signal(signal.SIGKILL)
        await daemon.wait()
    log = tmp_path / "daemon-final.log"
    daemon = await spawn(log, *run)
    await logged(log, "riskguard is running", daemon)
    await asyncio.sleep(2.0)
    stop_trading.set()
    placed = await trader
    await asyncio.sleep(2.0)  # the last fills and the enforcement they call for settle
    daemon.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(daemon.wait(), 60) == 0, log.read_text()[-4000:]

    # Assert
    about = f"(seed {SEED}: kills {kills}; {placed} trader orders)"
    venue_fills = [
        parse_event(f) for account, _, _ in MARKETS for f in await control.call("audit.fills", {"account": account})
    ]
    assert len(venue_fills) > 100, about  # the kills fell on a daemon with work to do
    restored = restore(data, config, use_snapshot=True)
    from_journal = restore(data, config, use_snapshot=False)
    replayed = replay(venue_fills, config, until=restored.now)  # type: ignore[arg-type]

    # no fill lost, none counted twice: the books equal the venue's fills replayed
    assert book(restored) == book(replayed), about
    assert restored.ledger.fills_seen() == len(venue_fills), about
    assert not restored.ledger.open_positions(strategy="recovered"), about  # nothing had to be patched up
    # no lockout forgotten: the same lockouts as the replay, and every one the journal recorded still ending on time
    assert locks(restored) == locks(replayed), about
    recorded = journal_actions(data)
    for lock in (a for a in recorded if isinstance(a, LockOut)):
        if lock.until is None or lock.until > restored.now:
            assert any(k.rule == lock.rule and k.scope == lock.scope for k in restored.lockouts.all()), (lock, about)
    # the snapshot written on SIGTERM gives what the whole journal gives
    assert book(restored) == book(from_journal), about
    assert restored.lockouts.all() == from_journal.lockouts.all(), about  # reasons too
    # no enforcement order twice, none unjournaled: every order the venue made on riskguard's
    # request carries the id of an action journaled before it, and each id made one order
    action_ids = {a.id for a in recorded}
    venue_orders = [
        o for account, _, _ in MARKETS for o in await control.call("audit.venue_orders", {"account": account})
    ]
    keys = [o["client_id"] for o in venue_orders]
    assert None not in keys, about
    assert len(keys) == len(set(keys)), about
    assert set(keys) <= action_ids, (set(keys) - action_ids, about)
    assert set(await control.call("audit.repeated_client_ids")) <= action_ids, about
    statuses = {row["status"] for row in action_rows(data)}
    assert "pending" not in statuses, about  # a clean stop finishes what it started


def restore(data: Path, config: RiskConfig, *, use_snapshot: bool) -> RiskEngine:
    journal = Journal.open(sqlite_url(data / "riskguard.db"))
    try:
        guard = Guard(lambda: RiskEngine(config.build_rules(), config.instruments.values()), journal, _now)
        guard.restore(time.perf_counter, use_snapshot=use_snapshot)
        return guard.engine
    finally:
        journal.close()


def replay(fills: list[Fill], config: RiskConfig, until: datetime) -> RiskEngine:
    """A fresh engine with the same rules, fed the venue's fills in the venue's order."""
    engine = RiskEngine(config.build_rules(), config.instruments.values())
    for fill in sorted(fills, key=lambda f: f.ts):  # stable: each account's fills keep the venue's order
        engine.handle(fill)
    engine.handle(ClockTicked(until))
    return engine


def book(engine: RiskEngine) -> dict[str, Any]:
    """What the fills decide: open positions and, per currency, realized P&L and fees."""
    return {
        "open": sorted(
            (p.key, p.net_qty, p.avg_entry_price, p.realized_pnl, p.fees, p.fill_count)
            for p in engine.ledger.open_positions()
        ),
        "totals": {c: (t.realized_pnl, t.fees) for c, t in engine.ledger.totals().items()},
    }


def locks(engine: RiskEngine) -> list[tuple[object, ...]]:
    """The lockouts in force, without their sentences (the replay has no account updates, so no
    currency) or start times (an engine's time is the latest event it saw, and the daemon saw
    marks and the other account's events between the fills that the replay does not)."""
    return [(k.rule, k.scope, k.until, k.code) for k in engine.lockouts.all()]


def action_rows(data: Path) -> list[dict[str, Any]]:
    journal = Journal.open(sqlite_url(data / "riskguard.db"))
    try:
        return journal.action_log(limit=1_000_000)
    finally:
        journal.close()


def journal_actions(data: Path) -> list[Any]:
    return [decode_action(json.loads(row["body"])) for row in action_rows(data)]


def _now() -> datetime:
    return datetime.now(UTC)
