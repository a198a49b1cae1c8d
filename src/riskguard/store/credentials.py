"""Who may use the API: users with passwords (admin, viewer) and API tokens (admin, viewer, bot).

Passwords are kept only as KDF hashes (`riskguard.store.passwords`); tokens only as SHA-256
digests — a token is 32 random bytes, so a fast hash is enough, and a stolen database gives
neither back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from riskguard.store.journal import Journal
from riskguard.store.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from riskguard.store.schema import api_tokens, users

__all__ = ["CredentialStore", "Role", "TokenInfo", "WeakPassword"]


class Role(StrEnum):
    ADMIN = "admin"  # reads and changes anything
    VIEWER = "viewer"  # reads only
    BOT = "bot"  # reads, and asks the pre-trade gate (a token only: bots have no password)


class WeakPassword(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    created_at: str
    created_by: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _when(now: datetime) -> str:
    return now.isoformat()


class CredentialStore:
    """Users and tokens in the daemon's (or the controller's) database."""

    def __init__(self, db: sa.Engine) -> None:
        self.db = db

    @classmethod
    def open(cls, url: str) -> CredentialStore:
        """The store in the database at `url`, migrated to the newest schema first."""
        return cls(Journal.open(url).db)

    # -- users -----------------------------------------------------------------------------

    def has_user(self, name: str) -> bool:
        with self.db.connect() as connection:
            return connection.execute(sa.select(users.c.name).where(users.c.name == name)).first() is not None

    def add_user(self, name: str, role: Role, password: str, now: datetime) -> None:
        if role is Role.BOT:
            raise ValueError("a bot signs in with an API token, not a password")
        _require_strong(password)
        with self.db.begin() as connection:
            connection.execute(
                users.insert().values(
                    name=name,
                    role=role.value,
                    password_hash=hash_password(password),
                    created_at=_when(now),
                    updated_at=_when(now),
                )
            )

    def set_password(self, name: str, password: str, now: datetime) -> None:
        _require_strong(password)
        with self.db.begin() as connection:
            done = connection.execute(
                users.update()
                .where(users.c.name == name)
                .values(password_hash=hash_password(password), updated_at=_when(now))
            )
            if done.rowcount != 1:
                raise KeyError(name)

    def check_password(self, name: str, password: str) -> Role | None:
        """The user's role if `password` is theirs; None otherwise (unknown user or wrong password)."""
        with self.db.connect() as connection:
            row = connection.execute(sa.select(users.c.role, users.c.password_hash).where(users.c.name == name)).first()
        if row is None:
            verify_password(
                password, hash_password("not a user")
            )  # the same work either way: no user enumeration by timing
            return None
        return Role(row.role) if verify_password(password, row.password_hash) else None

    # -- tokens ----------------------------------------------------------------------------

    def create_token(self, name: str, role: Role, created_by: str, now: datetime) -> tuple[TokenInfo, str]:
        """A new token; the secret is returned this once and kept only as its digest."""
        token_id = secrets.token_hex(8)
        token = f"rg_{secrets.token_urlsafe(32)}"
        info = TokenInfo(token_id, name, role, _when(now), created_by)
        with self.db.begin() as connection:
            connection.execute(
                api_tokens.insert().values(
                    id=token_id,
                    name=name,
                    role=role.value,
                    digest=_digest(token),
                    created_at=info.created_at,
                    created_by=created_by,
                )
            )
        return info, token

    def token(self, token: str) -> TokenInfo | None:
        """The token's record, or None for a token that is not (or no longer) valid."""
        with self.db.connect() as connection:
            row = connection.execute(sa.select(api_tokens).where(api_tokens.c.digest == _digest(token))).first()
        return None if row is None else TokenInfo(row.id, row.name, Role(row.role), row.created_at, row.created_by)

    def tokens(self) -> list[TokenInfo]:
        with self.db.connect() as connection:
            rows = connection.execute(sa.select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)).all()
        return [TokenInfo(row.id, row.name, Role(row.role), row.created_at, row.created_by) for row in rows]

    def revoke_token(self, token_id: str) -> bool:
        with self.db.begin() as connection:
            return connection.execute(api_tokens.delete().where(api_tokens.c.id == token_id)).rowcount == 1


def _require_strong(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password must be at least {MIN_PASSWORD_LENGTH} characters long")
