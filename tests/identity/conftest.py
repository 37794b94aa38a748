"""Identity use cases and adapters, on the in-memory store with a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from argon2 import profiles

from adapters.clock import ManualClock
from adapters.ids import UuidV7Generator
from adapters.memory import MemoryDatabase, MemoryIdentityUnitOfWork, MemoryUnitOfWork
from adapters.memory.identity import MemoryRevocationStore
from adapters.security import Argon2PasswordHasher
from adapters.security.keys import Ed25519KeyGenerator, FileKeyStore, load_private_key
from adapters.security.tokens import JwtTokenService
from application.identity.api_keys import ApiKeys
from application.identity.clients import ServiceClients
from application.identity.session_endings import SessionEndings
from application.identity.sessions import Sessions
from application.identity.signing_keys import SigningKeys
from application.identity.unit_of_work import IdentityUnitOfWork
from application.members import Membership
from application.ports import PasswordHasher
from application.unit_of_work import UnitOfWork
from domain.policy import Policy

ISSUER = "circulate-test"
AUDIENCE = "circulate-api-test"
LIFETIME = timedelta(minutes=15)
REFRESH_LIFETIME = timedelta(days=30)
PASSWORD = "a sufficiently long passphrase"
# Argon2id, cheap enough for tests (the production parameters are tested in tests/security).
CHEAP = profiles.CHEAPEST


class SpyHasher:
    """Wraps a real hasher and records what it was asked to verify."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.verified: list[str] = []  # the hashes checked, in order
        self.hashed = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
        return self.inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return self.inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.inner.needs_rehash(password_hash)


@dataclass
class Identity:
    """The identity services over one in-memory store, one key file and one clock."""

    clock: ManualClock
    db: MemoryDatabase
    key_store: FileKeyStore
    tokens: JwtTokenService
    revocations: MemoryRevocationStore
    hasher: SpyHasher
    membership: Membership
    sessions: Sessions
    api_keys: ApiKeys
    clients: ServiceClients
    signing_keys: SigningKeys

    def uow(self) -> IdentityUnitOfWork:
        """Identity's unit of work over the services' store."""
        return MemoryIdentityUnitOfWork(self.db)

    def library_uow(self) -> UnitOfWork:
        """The library's unit of work over the same store."""
        return MemoryUnitOfWork(self.db)

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        """A token signed with the current key, with exactly these claims and headers."""
        key = self.key_store.load().current
        header = {"kid": key.kid, "typ": "at+jwt", **headers}
        return jwt.encode(
            claims, load_private_key(key.private_key), algorithm="EdDSA", headers=header
        )

    def claims(self, **changes: Any) -> dict[str, Any]:
        """Valid claims for a member token issued now, changed as asked (None removes)."""
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "member-1",
            "iat": now,
            "nbf": now,
            "exp": now + int(LIFETIME.total_seconds()),
            "jti": "token-1",
            "scope": "books:read",
            "role": "member",
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}


def build_identity(
    tmp_path: Path, hasher: PasswordHasher | None = None, db: MemoryDatabase | None = None
) -> Identity:
    """Services over ``db`` (a new store by default) and the key file in ``tmp_path``."""
    clock = ManualClock()
    ids = UuidV7Generator()
    db = db if db is not None else MemoryDatabase()
    generator = Ed25519KeyGenerator()
    key_store = FileKeyStore(tmp_path / "keys.json", generator, clock, create_missing=True)
    tokens = JwtTokenService(key_store, clock, issuer=ISSUER, audience=AUDIENCE, lifetime=LIFETIME)
    revocations = MemoryRevocationStore(clock)
    spy = SpyHasher(hasher or Argon2PasswordHasher(CHEAP))

    def uow() -> UnitOfWork:
        return MemoryUnitOfWork(db)

    def identity_uow() -> IdentityUnitOfWork:
        return MemoryIdentityUnitOfWork(db)

    sessions = Sessions(
        uow=identity_uow,
        clock=clock,
        ids=ids,
        hasher=spy,
        issuer=tokens,
        verifier=tokens,
        revocations=revocations,
        refresh_token_lifetime=REFRESH_LIFETIME,
    )
    return Identity(
        clock=clock,
        db=db,
        key_store=key_store,
        tokens=tokens,
        revocations=revocations,
        hasher=spy,
        membership=Membership(
            uow,
            clock,
            ids,
            Policy(),
            spy,
            sessions=SessionEndings(uow=identity_uow, clock=clock, revoker=sessions),
        ),
        sessions=sessions,
        api_keys=ApiKeys(uow=identity_uow, clock=clock, ids=ids),
        clients=ServiceClients(uow=identity_uow, clock=clock, ids=ids, issuer=tokens),
        signing_keys=SigningKeys(
            store=key_store, generator=generator, issuer=tokens, publisher=tokens, clock=clock
        ),
    )


@pytest.fixture
def identity(tmp_path: Path) -> Identity:
    return build_identity(tmp_path)
