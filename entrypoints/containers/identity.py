"""The identity slice: signing keys, access tokens, revocations, sessions, API keys and
service clients.

The token machinery (cryptography, PyJWT) and the stores are imported when first asked for,
not with the container: most CLI commands never sign or check a token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from application.identity.api_keys import ApiKeys
from application.identity.clients import ServiceClients
from application.identity.ports import KeyGenerator, KeyStore
from application.identity.session_endings import SessionEndings
from application.identity.sessions import Sessions
from application.identity.signing_keys import SigningKeys
from application.identity.unit_of_work import IdentityUnitOfWorkFactory
from application.ports import Clock, IdGenerator, PasswordHasher
from entrypoints.containers.deferred import Deferred
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from redis import Redis
    from sqlalchemy import Engine

    from adapters.caching import Generation
    from adapters.credential_cache import CachedApiKeys
    from adapters.memory.identity import MemoryRevocationStore
    from adapters.redis_store import RedisRevocationStore
    from adapters.security.keys import Ed25519KeyGenerator, FileKeyStore, StaticKeyStore
    from adapters.security.tokens import JwtTokenService
    from adapters.sqlalchemy.identity import SqlRevocationStore


_MemoryRevocationStore: Deferred[MemoryRevocationStore] = Deferred(
    "adapters.memory.identity:MemoryRevocationStore"
)
_SqlRevocationStore: Deferred[SqlRevocationStore] = Deferred(
    "adapters.sqlalchemy.identity:SqlRevocationStore"
)
_RedisRevocationStore: Deferred[RedisRevocationStore] = Deferred(
    "adapters.redis_store:RedisRevocationStore"
)
_CachedApiKeys: Deferred[CachedApiKeys] = Deferred("adapters.credential_cache:CachedApiKeys")


def key_generator() -> Ed25519KeyGenerator:
    from adapters.security.keys import Ed25519KeyGenerator

    return Ed25519KeyGenerator()


def key_store(
    settings: Settings, generator: KeyGenerator, clock: Clock
) -> StaticKeyStore | FileKeyStore:
    """Keys from ``CIRCULATE_SIGNING_KEYS`` if set, else from the key file.

    Outside production a missing key file is created with a first key on first use, so a fresh
    clone signs tokens with no set-up; in production it is an error (``circulate keys rotate``
    makes it), because keys made silently on one host would not be the other hosts' keys.
    """
    from adapters.security.keys import key_store_for

    inline = settings.signing_keys.get_secret_value() if settings.signing_keys else None
    return key_store_for(
        inline=inline,
        path=settings.signing_keys_file,
        generator=generator,
        clock=clock,
        create_missing=settings.environment != "production",
    )


def token_service(settings: Settings, keys: KeyStore, clock: Clock) -> JwtTokenService:
    from adapters.security.tokens import JwtTokenService

    return JwtTokenService(
        keys,
        clock,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime=settings.access_token_lifetime(),
    )


class Identity(containers.DeclarativeContainer):
    # What the slice shares with the rest of the service, given by the composition root.
    settings = providers.Dependency(instance_of=Settings)
    clock: providers.Dependency[Clock] = providers.Dependency()
    ids: providers.Dependency[IdGenerator] = providers.Dependency()
    hasher: providers.Dependency[PasswordHasher] = providers.Dependency()
    # The slice's own unit of work: members and credentials (application/identity/unit_of_work).
    uow: providers.Dependency[IdentityUnitOfWorkFactory] = providers.Dependency()
    engine: providers.Dependency[Engine] = providers.Dependency()
    redis: providers.Dependency[Redis] = providers.Dependency()
    # Where revocations of API keys are told to every process, and how long a key checked is
    # trusted (adapters/credential_cache.py).
    credential_generation: providers.Dependency[Generation] = providers.Dependency()
    credential_cache_seconds: providers.Dependency[float] = providers.Dependency()

    # One key set and one token service per process; the key file is re-read when it changes.
    key_generator = providers.ThreadSafeSingleton(key_generator)
    key_store = providers.ThreadSafeSingleton(key_store, settings, key_generator, clock)
    tokens = providers.ThreadSafeSingleton(token_service, settings, key_store, clock)
    # Revoked tokens: in process with memory storage, else shared by every worker.
    revocations = providers.Selector(
        providers.Callable(Settings.revocation_backend, settings),
        memory=providers.ThreadSafeSingleton(_MemoryRevocationStore, clock),
        sql=providers.ThreadSafeSingleton(_SqlRevocationStore, engine, clock),
        redis=providers.ThreadSafeSingleton(_RedisRevocationStore, redis, clock),
    )
    sessions = providers.ThreadSafeSingleton(
        Sessions,
        uow=uow,
        clock=clock,
        ids=ids,
        hasher=hasher,
        issuer=tokens,
        verifier=tokens,
        revocations=revocations,
        refresh_token_lifetime=providers.Callable(Settings.refresh_token_lifetime, settings),
    )
    # What the library's Membership asks when a member's role changes or they are removed.
    session_endings = providers.ThreadSafeSingleton(
        SessionEndings, uow=uow, clock=clock, revoker=sessions
    )
    api_keys = providers.ThreadSafeSingleton(ApiKeys, uow=uow, clock=clock, ids=ids)
    # What the request path checks keys with: the same answers, from memory for a few seconds.
    verified_api_keys = providers.ThreadSafeSingleton(
        _CachedApiKeys, api_keys, clock, credential_generation, credential_cache_seconds
    )
    service_clients = providers.ThreadSafeSingleton(
        ServiceClients, uow=uow, clock=clock, ids=ids, issuer=tokens
    )
    signing_keys = providers.ThreadSafeSingleton(
        SigningKeys,
        store=key_store,
        generator=key_generator,
        issuer=tokens,
        publisher=tokens,
        clock=clock,
    )
