"""The tables, as SQLAlchemy Core metadata: the migrations create them, the journal reads and writes them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text

__all__ = ["actions", "api_tokens", "journal", "metadata", "settings", "snapshots", "users"]

metadata = MetaData()

#: Every input the engine saw, in order: events (``kind`` "event") and order checks ("check",
#: the order and the decision). Replaying it through a fresh engine rebuilds the state exactly.
journal = Table(
    "journal",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("recorded_at", String(40), nullable=False),  # wall-clock UTC, ISO 8601
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),  # JSON (riskguard.codec)
)

#: Every action the engine asked for, with where its execution stands. An action id is carried
#: out at most once: `pending` until the executor reports `done` or `failed` (or `recorded`: an
#: action the shell records but does not send, such as a lockout).
actions = Table(
    "actions",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), nullable=False, index=True),
    Column("name", String(40), nullable=False),
    Column("rule", String(100), nullable=False),
    Column("body", Text, nullable=False),  # JSON (riskguard.codec.encode_action)
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("updated_at", String(40), nullable=False),
)

#: The engine's state after `seq`, so a restart replays only what came after. Written by this
#: daemon into its own private data folder (it is a pickle: never load one from elsewhere).
snapshots = Table(
    "snapshots",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("created_at", String(40), nullable=False),
    Column("code_version", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)

#: People who sign in with a password; the password only as a KDF hash (riskguard.api.passwords).
users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # admin | viewer
    Column("password_hash", String(300), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

#: API tokens for programs and the trader's CLI; the token only as its SHA-256 digest.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),  # admin | viewer | bot
    Column("digest", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(64), nullable=False),
)
