"""The journal: what the engine saw and asked for, written before anything is acknowledged or done.

One `write` is one transaction: the inputs of a batch (events, order checks with their
decisions) and the actions they produced, all `pending`. SQLite runs in WAL mode with
``synchronous=FULL``, so a committed batch survives `kill -9` and power loss. The executor then
moves each action to `done` or `failed`; after a crash, the actions still `pending` are resumed
and those `done` are never sent again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from riskguard.audit._format import to_jsonable
from riskguard.codec import decode_action, encode_action
from riskguard.core.actions import Action
from riskguard.store.schema import actions, journal, settings, snapshots

__all__ = ["ActionStatus", "Entry", "Journal", "sqlite_url"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_KEEP_SNAPSHOTS = 2


class ActionStatus:
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    RECORDED = "recorded"  # applied by the engine itself (lockouts, halts): nothing to send


@dataclass(frozen=True, slots=True)
class Entry:
    """One journaled input: ``kind`` "event" (body: a codec event) or "check" (body: the order
    under "order" and the decision under "decision")."""

    seq: int
    kind: str
    body: dict[str, Any]


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def _dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def _wall(ts: datetime) -> str:
    return str(to_jsonable(ts))


class Journal:
    """The daemon's store. Open it with `Journal.open(url)`: the schema is migrated first."""

    def __init__(self, db: sa.Engine) -> None:
        self.db = db

    @classmethod
    def open(cls, url: str) -> Journal:
        db = sa.create_engine(url)
        if db.dialect.name == "sqlite":
            sa.event.listen(db, "connect", _sqlite_pragmas)
        store = cls(db)
        store.migrate()
        return store

    def close(self) -> None:
        self.db.dispose()

    # -- schema ----------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest revision (versioned Alembic migrations)."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.db.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def schema_version(self) -> str | None:
        with self.db.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    # -- the journal -----------------------------------------------------------------------

    def last_seq(self) -> int:
        with self.db.connect() as connection:
            return int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(journal.c.seq), 0))).scalar_one())

    def write(self, entries: Sequence[Entry], produced: Sequence[tuple[int, Action]], now: datetime) -> None:
        """Journal `entries` and their actions (as pending) in one transaction."""
        wall = _wall(now)
        with self.db.begin() as connection:
            if entries:
                connection.execute(
                    journal.insert(),
                    [{"seq": e.seq, "recorded_at": wall, "kind": e.kind, "body": _dumps(e.body)} for e in entries],
                )
            if produced:
                connection.execute(
                    actions.insert(),
                    [
                        {
                            "id": action.id,
                            "seq": seq,
                            "name": action.name,
                            "rule": action.rule,
                            "body": _dumps(encode_action(action)),
                            "status": ActionStatus.PENDING,
                            "attempts": 0,
                            "last_error": None,
                            "updated_at": wall,
                        }
                        for seq, action in produced
                    ],
                )

    def entries(self, after: int = 0) -> Iterator[Entry]:
        """The journal after `after`, oldest first, read in pages so a month fits in little memory."""
        last = after
        while True:
            with self.db.connect() as connection:
                rows = connection.execute(
                    sa.select(journal.c.seq, journal.c.kind, journal.c.body)
                    .where(journal.c.seq > last)
                    .order_by(journal.c.seq)
                    .limit(5000)
                ).all()
            if not rows:
                return
            for seq, kind, body in rows:
                yield Entry(int(seq), kind, json.loads(body))
            last = int(rows[-1][0])

    # -- actions ---------------------------------------------------------------------------

    def set_action_status(
        self, action_id: str, status: str, now: datetime, *, attempts: int | None = None, error: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status, "updated_at": _wall(now), "last_error": error}
        if attempts is not None:
            values["attempts"] = attempts
        with self.db.begin() as connection:
            connection.execute(actions.update().where(actions.c.id == action_id).values(**values))

    def action_status(self, action_id: str) -> str | None:
        with self.db.connect() as connection:
            status = connection.execute(sa.select(actions.c.status).where(actions.c.id == action_id)).scalar()
        return None if status is None else str(status)

    def actions_in(self, status: str) -> list[tuple[Action, int]]:
        """The actions with `status`, in the order they were asked for, with their attempts so far."""
        with self.db.connect() as connection:
            rows = connection.execute(
                sa.select(actions.c.body, actions.c.attempts)
                .where(actions.c.status == status)
                .order_by(actions.c.seq, actions.c.id)
            ).all()
        return [(decode_action(json.loads(body)), int(attempts)) for body, attempts in rows]

    def action_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest `limit` actions, newest first, with their status (the enforcement log)."""
        with self.db.connect() as connection:
            rows = connection.execute(
                sa.select(actions).order_by(actions.c.seq.desc(), actions.c.id.desc()).limit(limit)
            ).mappings()
            return [dict(row) for row in rows]

    # -- snapshots -------------------------------------------------------------------------

    def save_snapshot(self, seq: int, code_version: str, body: bytes, now: datetime) -> None:
        """Keep the engine's state after `seq`; older snapshots beyond the last two are dropped."""
        with self.db.begin() as connection:
            connection.execute(
                snapshots.insert().values(seq=seq, created_at=_wall(now), code_version=code_version, body=body)
            )
            keep = sa.select(snapshots.c.seq).order_by(snapshots.c.seq.desc()).limit(_KEEP_SNAPSHOTS).scalar_subquery()
            connection.execute(snapshots.delete().where(snapshots.c.seq.not_in(keep)))

    def latest_snapshot(self, code_version: str) -> tuple[int, bytes] | None:
        """The newest snapshot written by this version of the engine's code (another version's
        objects may not mean the same thing: the journal is replayed instead)."""
        with self.db.connect() as connection:
            row = connection.execute(
                sa.select(snapshots.c.seq, snapshots.c.body)
                .where(snapshots.c.code_version == code_version)
                .order_by(snapshots.c.seq.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    # -- settings --------------------------------------------------------------------------

    def setting(self, key: str) -> Any:
        with self.db.connect() as connection:
            value = connection.execute(sa.select(settings.c.value).where(settings.c.key == key)).scalar()
        return None if value is None else json.loads(value)

    def put_setting(self, key: str, value: Any) -> None:
        with self.db.begin() as connection:
            connection.execute(settings.delete().where(settings.c.key == key))
            connection.execute(settings.insert().values(key=key, value=_dumps(value)))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
