"""Passwords kept only as scrypt hashes (a memory-hard KDF from the standard library).

The stored form is ``scrypt$N$r$p$salt$hash`` (salt and hash in base64), so the cost can be
raised later and old hashes still verify. Verification compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "verify_password"]

MIN_PASSWORD_LENGTH = 10

_N, _R, _P = 2**14, 8, 1  # about 16 MiB and a few tens of ms per try: slow for a guesser, fine for a login
_SALT_BYTES = 16
_HASH_BYTES = 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _kdf(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=_HASH_BYTES
    )


def hash_password(password: str) -> str:
    """The stored form of `password`, with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(_kdf(password, salt, _N, _R, _P))}"


def verify_password(password: str, stored: str) -> bool:
    """Does `password` match `stored`? False (never an error) for a malformed stored form."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _kdf(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
