"""The journal: migrated on open, one transaction per batch, actions carried out at most once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from riskguard.core.actions import ClosePosition, LockOut, ReducePosition
from riskguard.core.scope import Scope
from riskguard.store.journal import ActionStatus, Entry, Journal, sqlite_url

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Journal:
    return Journal.open(sqlite_url(tmp_path / "riskguard.db"))


def close(seq: int, index: int = 1) -> ClosePosition:
    return ClosePosition(id=f"{seq}.{index}.r.close_position", rule="r", reason="why", account="A1", symbol="MNQ")


def test_journal_when_opened_then_migrated_to_the_newest_revision_in_wal_mode(store: Journal, tmp_path: Path) -> None:
    assert store.schema_version() == "0002"
    mode = sqlite3.connect(tmp_path / "riskguard.db").execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal",)


def test_journal_when_opened_twice_then_the_second_open_keeps_the_data(store: Journal, tmp_path: Path) -> None:
    store.write([Entry(1, "event", {"type": "clock", "ts": "2026-11-22T18:00:00Z"})], [], NOW)
    again = Journal.open(sqlite_url(tmp_path / "riskguard.db"))
    assert again.last_seq() == 1
    assert again.schema_version() == "0002"


def test_journal_when_a_batch_is_written_then_entries_and_pending_actions_come_back_in_order(store: Journal) -> None:
    # Arrange
    lock = LockOut(id="2.2.r.lock_out", rule="r", reason="why", scope=Scope(account="A1"), until=None)
    reduce = ReducePosition(
        id="2.1.r.reduce_position", rule="r", reason="why", account="A1", symbol="MNQ", qty=Decimal("2")
    )
    entries = [
        Entry(1, "event", {"type": "clock", "ts": "2026-11-22T18:00:00Z"}),
        Entry(2, "check", {"order": {}, "decision": {}}),
    ]
    # Act
    store.write(entries, [(2, reduce), (2, lock)], NOW)
    # Assert
    assert list(store.entries()) == entries
    assert list(store.entries(after=1)) == entries[1:]
    assert store.actions_in(ActionStatus.PENDING) == [(reduce, 0), (lock, 0)]


def test_journal_when_an_action_is_done_then_it_is_no_longer_pending(store: Journal) -> None:
    store.write([Entry(1, "event", {})], [(1, close(1)), (1, close(1, 2))], NOW)
    store.set_action_status(close(1).id, ActionStatus.DONE, NOW, attempts=1)
    assert store.action_status(close(1).id) == "done"
    assert store.actions_in(ActionStatus.PENDING) == [(close(1, 2), 0)]
    assert store.action_status("9.9.nope") is None


def test_journal_when_an_action_id_is_written_twice_then_the_second_batch_is_refused_whole(store: Journal) -> None:
    store.write([Entry(1, "event", {})], [(1, close(1))], NOW)
    with pytest.raises(Exception, match="UNIQUE"):
        store.write([Entry(2, "event", {})], [(2, close(1))], NOW)
    assert store.last_seq() == 1  # the entry of the refused batch was not kept either


def test_journal_entries_when_more_than_a_page_then_all_come_back_in_order(store: Journal) -> None:
    entries = [Entry(n, "event", {"n": n}) for n in range(1, 12_002)]
    store.write(entries, [], NOW)
    assert [e.seq for e in store.entries()] == list(range(1, 12_002))


def test_journal_snapshots_when_three_saved_then_the_newest_two_are_kept_and_other_versions_ignored(
    store: Journal,
) -> None:
    for seq in (10, 20, 30):
        store.save_snapshot(seq, "v1", f"state-{seq}".encode(), NOW)
    assert store.latest_snapshot("v1") == (30, b"state-30")
    assert store.latest_snapshot("v2") is None
    with store.db.connect() as connection:
        kept = [row[0] for row in connection.exec_driver_sql("SELECT seq FROM snapshots ORDER BY seq")]
    assert kept == [20, 30]


def test_journal_settings_when_put_twice_then_the_last_value_is_read(store: Journal) -> None:
    assert store.setting("execution_mode") is None
    store.put_setting("execution_mode", "paper")
    store.put_setting("execution_mode", {"mode": "live", "since": NOW})
    assert store.setting("execution_mode") == {"mode": "live", "since": "2026-11-22T18:00:00Z"}
