"""Password hashing (argon2) and opaque secrets (session tokens, API keys)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
API_KEY_PREFIX = "cok_"


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Say whether the password matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the user does not exist, so timing does not tell.
DUMMY_HASH = hash_password("not-a-real-password-" + secrets.token_hex(8))


def digest(secret: str) -> str:
    """Hash a high-entropy secret for lookup (sha256 hex; secrets are random, not passwords)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    """Make a new session/bearer token."""
    return secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """Make a new API key; return (key, its public prefix)."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(30)}", prefix
