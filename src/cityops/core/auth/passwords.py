"""Password hashing (argon2) and opaque secrets (session tokens, API keys)."""

from __future__ import annotations

import hashlib
import hmac
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


_pepper = b""


def configure(secret_key: str) -> None:
    """Key token and API-key digests with CITYOPS_SECRET_KEY (a leaked table alone is useless).

    Changing the key logs every user out and invalidates every API key.
    """
    global _pepper
    _pepper = secret_key.encode()


def digest(secret: str) -> str:
    """Digest a high-entropy secret for lookup (HMAC-SHA256 keyed with the secret key)."""
    return hmac.new(_pepper, secret.encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    """Make a new session/bearer token."""
    return secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """Make a new API key; return (key, its public prefix)."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(30)}", prefix
