"""How long the daemon takes to get its state back after a restart, with a large journal.

The journal is written as the daemon writes it (`Guard.handle`, one transaction per batch of 100
events) from the gate benchmark's event mix (marks, fills, order updates, account snapshots) on
the gate benchmark's rules, with a snapshot every `snapshot_every` entries as in service. Then:

- ``restart_from_snapshot_s``: a new `Guard` on that database: the newest snapshot plus the
  journal after it — what `riskguard run` does on start.
- beside it, in the same run, the baseline ``full replay``: the same journal replayed from the
  first entry, as if there were no snapshots (what a snapshot saves).

Both end in the same state (checked: the same positions, PnL and lockouts), or no figure is given.
`events` is the journal's length: 1,000,000 events is about a month of a busy account at the gate
benchmark's pace (four fills a second, six hours a day, plus the marks and order updates).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.gate import GATE_CONFIG, INSTRUMENTS, LatencyFigure, build_events, events_warmup
from bench.ledger import Figure
from riskguard.config import parse_config
from riskguard.core.engine import RiskEngine
from riskguard.daemon.guard import Guard
from riskguard.store.journal import Journal, sqlite_url
from riskguard.testing.factories import T0

__all__ = ["RestartMismatch", "run"]

_BATCH = 100
_WALL = datetime(2026, 11, 22, tzinfo=UTC)


class RestartMismatch(Exception):
    """The restored engine is not the one that wrote the journal."""


def _engine() -> RiskEngine:
    return RiskEngine(parse_config(GATE_CONFIG, "bench/gate.py", env={}).build_rules(), INSTRUMENTS)


def _fingerprint(engine: RiskEngine) -> tuple[object, ...]:
    ledger = engine.ledger
    return (engine.sequence, ledger.totals(), ledger.open_positions(), engine.lockouts.all(), ledger.fills_seen())


def _write_journal(path: Path, events: int, snapshot_every: int, seed: int, log: Callable[[str], None]) -> Guard:
    guard = Guard(_engine, Journal.open(sqlite_url(path)), lambda: _WALL, snapshot_every=snapshot_every)
    guard.restore(time.perf_counter)
    stream = [*events_warmup(), *build_events(seed, events, T0 + timedelta(minutes=1))]
    started = time.perf_counter()
    for index in range(0, len(stream), _BATCH):
        guard.handle(stream[index : index + _BATCH])
    log(f"restart setup: wrote {len(stream):,} journal entries in {time.perf_counter() - started:.1f} s")
    return guard


def run(
    events: int, snapshot_every: int = 5000, seed: int = 20260306, log: Callable[[str], None] = print
) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="riskguard-restart-") as folder:
        path = Path(folder) / "riskguard.db"
        writer = _write_journal(path, events, snapshot_every, seed, log)
        expected = _fingerprint(writer.engine)
        writer.journal.close()

        journal = Journal.open(sqlite_url(path))
        from_snapshot = Guard(_engine, journal, lambda: _WALL, snapshot_every=snapshot_every)
        restored = from_snapshot.restore(time.perf_counter)
        full = Guard(_engine, journal, lambda: _WALL, snapshot_every=snapshot_every)
        replayed = full.restore(time.perf_counter, use_snapshot=False)  # the baseline: replay everything
        journal.close()
    for name, guard in (("from the snapshot", from_snapshot), ("by full replay", full)):
        if _fingerprint(guard.engine) != expected:
            raise RestartMismatch(f"the state restored {name} differs from the state that wrote the journal")
    log(
        f"restart: snapshot at entry {restored.snapshot_seq:,}, {restored.replayed:,} entries replayed after it; "
        f"full replay: {replayed.replayed:,} entries"
    )
    return [
        LatencyFigure(
            "restart_from_snapshot_s",
            restored.seconds,
            "s",
            "full replay of the same journal (same run)",
            replayed.seconds,
        )
    ]
