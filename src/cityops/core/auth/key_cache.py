"""API key -> Principal, cached per app for machine clients that call many times a second.

Resolving a key is a SELECT, a digest and the principal's scope; devices, gateways and
integrators send the same key on every request. Revoking a key, or disabling or changing a
user, in this process drops every cached principal at once (credentials_generation); an
expired key, or a change made by another process, takes effect within PRINCIPAL_TTL_S.
Bearer tokens and cookies are not cached.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from cityops.core.auth.passwords import API_KEY_PREFIX
from cityops.core.auth.service import credentials_generation, resolve_token
from cityops.core.policy import Principal

PRINCIPAL_TTL_S = 3.0
_MAX = 4096


def _resolve(state: Any, token: str) -> Principal:
    with state.db.session() as session:
        return resolve_token(session, token)


def key_principal(state: Any, token: str) -> Principal:
    """Return the principal of a token (401 if invalid), an API key's from the app's cache,
    else resolved in a session of its own and kept. Blocking: call it in a worker thread."""
    if not token.startswith(API_KEY_PREFIX):
        return _resolve(state, token)
    hit = cached(state, token)
    if hit is not None:
        return hit
    now, generation = time.monotonic(), credentials_generation()  # before reading the key
    principal = _resolve(state, token)
    cache: dict[bytes, tuple[float, int, Principal]] | None = getattr(state, "key_principals", None)
    if cache is None or len(cache) >= _MAX:
        cache = state.key_principals = {}
    cache[_digest(token)] = (now + PRINCIPAL_TTL_S, generation, principal)
    return principal


def cached(state: Any, token: str) -> Principal | None:
    """Return a still valid cached principal for this API key, without resolving."""
    cache = getattr(state, "key_principals", None)
    if not cache or not token.startswith(API_KEY_PREFIX):
        return None
    hit = cache.get(_digest(token))
    if hit is not None and hit[0] > time.monotonic() and hit[1] == credentials_generation():
        return hit[2]
    return None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
