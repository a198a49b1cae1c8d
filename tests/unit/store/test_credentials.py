"""Passwords kept only as scrypt hashes, tokens only as digests; the first start's credentials."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from riskguard.api.auth import ADMIN_PASSWORD_FILE, VIEWER_TOKEN_FILE, Authenticator
from riskguard.store.credentials import CredentialStore, Role, WeakPassword
from riskguard.store.passwords import hash_password, verify_password
from riskguard.store.schema import api_tokens, users

NOW = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    return CredentialStore.open(f"sqlite+pysqlite:///{tmp_path / 'riskguard.db'}")


def test_password_when_hashed_then_scrypt_with_a_fresh_salt_and_only_the_right_password_verifies() -> None:
    # Act
    first, second = hash_password("hunter2hunter2"), hash_password("hunter2hunter2")
    # Assert
    assert first.split("$")[:4] == ["scrypt", "16384", "8", "1"]
    assert first != second  # a fresh salt each time
    assert "hunter2" not in first
    assert (verify_password("hunter2hunter2", first), verify_password("hunter2hunter3", first)) == (True, False)
    assert verify_password("anything", "md5$abc") is False
    assert verify_password("anything", "scrypt$not$a$hash") is False


def test_store_when_a_user_and_a_token_are_added_then_the_database_holds_neither_secret(store: CredentialStore) -> None:
    # Act
    store.add_user("admin", Role.ADMIN, "a long passphrase", NOW)
    info, token = store.create_token("cli", Role.VIEWER, "admin", NOW)
    with store.db.connect() as connection:
        user_rows = [tuple(row) for row in connection.execute(sa.select(users))]
        token_rows = [tuple(row) for row in connection.execute(sa.select(api_tokens))]
    # Assert
    assert "a long passphrase" not in repr(user_rows)
    assert token not in repr(token_rows)
    assert token_rows[0][3] == hashlib.sha256(token.encode()).hexdigest()
    assert store.check_password("admin", "a long passphrase") is Role.ADMIN
    assert store.check_password("admin", "a long passphrasE") is None
    assert store.check_password("nobody", "a long passphrase") is None
    assert store.token(token) == info
    assert store.token(token + "x") is None


def test_store_when_a_password_is_short_or_a_bot_gets_one_then_refused_and_nothing_stored(
    store: CredentialStore,
) -> None:
    # Act / Assert
    with pytest.raises(WeakPassword, match="at least 10 characters"):
        store.add_user("admin", Role.ADMIN, "short", NOW)
    with pytest.raises(ValueError, match="a bot signs in with an API token"):
        store.add_user("bot", Role.BOT, "a long passphrase", NOW)
    assert (store.has_user("admin"), store.has_user("bot")) == (False, False)


def test_bootstrap_when_first_started_then_admin_and_a_viewer_token_in_private_files_and_never_again(
    store: CredentialStore, tmp_path: Path
) -> None:
    # Arrange
    auth = Authenticator(store, wall_clock=lambda: NOW)
    # Act
    said = auth.bootstrap(tmp_path, {})
    password = (tmp_path / ADMIN_PASSWORD_FILE).read_text().strip()
    token = (tmp_path / VIEWER_TOKEN_FILE).read_text().strip()
    again = auth.bootstrap(tmp_path, {})
    # Assert
    assert [(tmp_path / name).stat().st_mode & 0o777 for name in (ADMIN_PASSWORD_FILE, VIEWER_TOKEN_FILE)] == [
        0o600,
        0o600,
    ]
    assert store.check_password("admin", password) is Role.ADMIN
    assert auth.identify_token(token) is not None
    assert auth.identify_token(token).role is Role.VIEWER  # type: ignore[union-attr]
    assert len(said) == 2
    assert password not in " ".join(said)
    assert again == []


def test_bootstrap_when_the_admin_password_is_in_the_environment_then_no_password_file(
    store: CredentialStore, tmp_path: Path
) -> None:
    # Act
    said = Authenticator(store, wall_clock=lambda: NOW).bootstrap(
        tmp_path, {"RISKGUARD_ADMIN_PASSWORD": "from the env var"}
    )
    # Assert
    assert not (tmp_path / ADMIN_PASSWORD_FILE).exists()
    assert store.check_password("admin", "from the env var") is Role.ADMIN
    assert said[0] == "user admin created with the password from RISKGUARD_ADMIN_PASSWORD"
