"""The durable engine: a restart from the journal (with or without snapshots) gives back the same state."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from riskguard.codec import parse_event
from riskguard.config import load_config, parse_config
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.engine import RiskEngine
from riskguard.core.instruments import Instrument
from riskguard.core.orders import OrderRequest
from riskguard.daemon.guard import Guard
from riskguard.store.journal import ActionStatus, Journal, sqlite_url
from riskguard.testing.engine_state import engine_state
from riskguard.testing.factories import T0, make_fill

WALL = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
SAMPLES = resources.files("riskguard.samples")


def sample_engine() -> RiskEngine:
    config = load_config(Path(str(SAMPLES / "sample_config.yaml")), env={})
    return RiskEngine(config.build_rules(), config.instruments.values())


def sample_inputs() -> list[Any]:
    lines = (SAMPLES / "sample_day.jsonl").read_text(encoding="utf-8").splitlines()
    return [
        e for e in (parse_event(json.loads(line)) for line in lines if line.strip()) if not isinstance(e, Instrument)
    ]


def run(guard: Guard, inputs: list[Any]) -> list[Any]:
    actions = []
    for item in inputs:
        if isinstance(item, OrderRequest):
            guard.check(item)
        else:
            actions += guard.handle([item])
    return actions


@pytest.mark.parametrize("snapshot_every", [1_000_000, 7, 1])
def test_guard_when_restarted_on_its_journal_then_state_equals_the_uninterrupted_engine(
    tmp_path: Path, snapshot_every: int
) -> None:
    # Arrange: the sample day through a journaled engine, and through a plain one
    inputs = sample_inputs()
    plain = sample_engine()
    for item in inputs:
        plain.check(item) if isinstance(item, OrderRequest) else plain.handle(item)
    journal = Journal.open(sqlite_url(tmp_path / "rg.db"))
    first = Guard(sample_engine, journal, lambda: WALL, snapshot_every=snapshot_every)
    first.restore(lambda: 0.0)
    run(first, inputs)
    # Act: a new process on the same database ("kill -9" of the first: nothing flushed on exit)
    second = Guard(
        sample_engine, Journal.open(sqlite_url(tmp_path / "rg.db")), lambda: WALL, snapshot_every=snapshot_every
    )
    restored = second.restore(lambda: 0.0)
    # Assert
    assert engine_state(second.engine) == engine_state(plain)
    entries = len(inputs) + 1  # the journal opens with the rules in force (a `config` entry)
    assert second.seq == entries
    assert restored.replayed == (entries if snapshot_every > entries else entries % snapshot_every)


def test_guard_when_actions_are_produced_then_they_are_journaled_pending_before_being_returned(tmp_path: Path) -> None:
    journal = Journal.open(sqlite_url(tmp_path / "rg.db"))
    guard = Guard(sample_engine, journal, lambda: WALL)
    guard.restore(lambda: 0.0)
    actions = run(guard, sample_inputs())
    assert actions  # the sample day breaches limits
    pending = [action for action, _ in journal.actions_in(ActionStatus.PENDING)]
    assert pending == actions


def test_guard_when_a_snapshot_was_written_by_other_code_then_the_whole_journal_is_replayed(tmp_path: Path) -> None:
    journal = Journal.open(sqlite_url(tmp_path / "rg.db"))
    guard = Guard(sample_engine, journal, lambda: WALL)
    guard.restore(lambda: 0.0)
    run(guard, sample_inputs())
    journal.save_snapshot(guard.seq, "another-version", pickle.dumps("not an engine"), WALL)
    again = Guard(sample_engine, journal, lambda: WALL)
    restored = again.restore(lambda: 0.0)
    assert (restored.snapshot_seq, restored.replayed) == (0, guard.seq)


CAP_3 = "rules:\n  max_contracts: {limit: 3, close_all: false}\n"
CAP_1_AND_LOSS = (
    "rules:\n  max_contracts: {limit: 1, close_all: false}\n"
    "  daily_realized_loss: {limit: -10, reset_time: '00:00', timezone: UTC}\n"
)


def engine_for(text: str) -> Any:
    def build() -> RiskEngine:
        config = parse_config(text, "risk.yaml", env={})
        return RiskEngine(config.build_rules(), config.instruments.values())

    return build


def test_guard_when_restarted_with_changed_rules_then_the_new_rules_apply_and_the_change_is_journaled(
    tmp_path: Path,
) -> None:
    # Arrange: a run under a 3-contract cap holds 2 MNQ, then stops cleanly (a snapshot)
    journal = Journal.open(sqlite_url(tmp_path / "rg.db"))
    first = Guard(engine_for(CAP_3), journal, lambda: WALL)
    first.restore(lambda: 0.0)
    first.handle([AccountSnapshot("A1", "50000", "50000", T0), make_fill("f1", "buy", "2", "18000.00")])  # type: ignore[arg-type]
    first.snapshot()
    # Act: the next start has a 1-contract cap and a daily loss limit
    second = Guard(engine_for(CAP_1_AND_LOSS), journal, lambda: WALL)
    second.restore(lambda: 0.0)
    # Assert: the new rules run (not the snapshot's), the position stays, and the change is in the journal
    engine = second.engine
    assert [rule.name for rule in engine.rules] == ["max_contracts", "daily_realized_loss"]
    assert engine.rules[0].params.limit == 1
    assert engine.view().net_qty("A1", "MNQ") == 2
    entry = OrderRequest("o1", "A1", "s1", "MNQ", "buy", "market", "1", T0)  # type: ignore[arg-type]
    refused = second.check(entry)
    assert (refused.approved, refused.rule) == (False, "max_contracts")
    kinds = [entry.kind for entry in journal.entries(after=0)]
    assert kinds == ["config", "event", "event", "config", "check"]


def test_guard_when_the_rules_changed_mid_journal_then_a_full_replay_switches_where_the_run_did(tmp_path: Path) -> None:
    journal = Journal.open(sqlite_url(tmp_path / "rg.db"))
    first = Guard(engine_for(CAP_3), journal, lambda: WALL)
    first.restore(lambda: 0.0)
    # 3 contracts: within the first run's cap, so no action then
    assert first.handle([make_fill("f1", "buy", "3", "18000.00")]) == []
    second = Guard(engine_for(CAP_1_AND_LOSS), journal, lambda: WALL)
    second.restore(lambda: 0.0)
    # a sell of 1 at a 12.00 loss (6 points x 2 USD) + nothing else: -12 breaches the new -10 limit
    second.handle([make_fill("f2", "sell", "1", "17994.00", seconds=2)])
    from_snapshot = Guard(engine_for(CAP_1_AND_LOSS), journal, lambda: WALL)
    from_snapshot.restore(lambda: 0.0)
    from_start = Guard(engine_for(CAP_1_AND_LOSS), journal, lambda: WALL)
    from_start.restore(lambda: 0.0, use_snapshot=False)
    # the first fill replays under the 3-cap (no reduce), the second under the new rules (a lockout)
    assert engine_state(from_start.engine) == engine_state(from_snapshot.engine) == engine_state(second.engine)
    assert [lock.rule for lock in from_start.engine.lockouts.all()] == ["daily_realized_loss"]
