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
from riskguard.config import load_config
from riskguard.core.engine import RiskEngine
from riskguard.core.instruments import Instrument
from riskguard.core.orders import OrderRequest
from riskguard.daemon.guard import Guard
from riskguard.store.journal import ActionStatus, Journal, sqlite_url
from riskguard.testing.engine_state import engine_state

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
    assert second.seq == len(inputs)
    assert restored.replayed == (len(inputs) if snapshot_every > len(inputs) else len(inputs) % snapshot_every)


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
