"""The composition root: the one place that decides which adapter serves which port.

Nothing is built at import time. ``build_container(settings)`` returns a container whose shared
objects (engine, clock, id generator, hasher, policy) are created on first use, once, under a lock.
The application services are singletons too: they keep no per-request state, and each call they
make opens a fresh unit of work through the factory they were given.

``settings.storage`` picks the storage adapters: ``sql`` (SQLAlchemy over ``database_url``) or
``memory`` (one ``MemoryDatabase`` for the life of the process). Every other provider is the same
in both modes. The use cases live in two slices (``entrypoints/containers/``): ``identity``
(tokens, sessions, API keys, service clients) and ``library`` (catalogue, members, circulation,
accounts, rules). Tests swap any provider with ``container.<name>.override(...)``, or
``container.library.circulation.override(...)`` for a slice's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.ids import UuidV7Generator
from application.audit import AuditEvents, AuditTrail
from application.jobs import Scheduler
from application.notices import (
    NoticeChoices,
    NoticeDelivery,
    NoticeLog,
    NoticeRouter,
    PickupReminders,
    Reminders,
)
from application.outbox import OutboxHousekeeping
from application.unit_of_work import records_from
from application.webhooks import Webhooks
from entrypoints.containers.deferred import Deferred
from entrypoints.containers.identity import Identity
from entrypoints.containers.library import Library
from entrypoints.jobs import Worker, scheduled_jobs
from entrypoints.settings import Settings
from entrypoints.startup import SchemaNotAtHead

if TYPE_CHECKING:
    from cachelib import NullCache, RedisCache
    from redis import Redis
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from adapters.caching import (
        CatalogueCache,
        InProcessStore,
        InvalidateOnEvents,
        MemoryGeneration,
        RedisGeneration,
    )
    from adapters.credential_cache import ForgetRevokedKeys, LocalFirstGeneration
    from adapters.memory import MemoryDatabase, MemoryIdentityUnitOfWork, MemoryUnitOfWork
    from adapters.memory.audit import MemoryAuditLog
    from adapters.memory.idempotency import MemoryIdempotencyStore
    from adapters.memory.jobs import MemoryJobRunStore
    from adapters.memory.outbox import MemoryOutboxStore
    from adapters.metrics import CirculationMetrics, PublishToAll
    from adapters.notices.memory import MemoryNotifier
    from adapters.notices.smtp import SmtpNotifier
    from adapters.notices.templates import NoticeTemplates
    from adapters.security import Argon2PasswordHasher
    from adapters.sqlalchemy.audit import SqlAuditLog
    from adapters.sqlalchemy.data_version import SqliteDataVersion
    from adapters.sqlalchemy.idempotency import SqlIdempotencyStore
    from adapters.sqlalchemy.identity_unit_of_work import SqlIdentityUnitOfWork
    from adapters.sqlalchemy.jobs import SqlJobRunStore
    from adapters.sqlalchemy.outbox import SqlOutboxStore
    from adapters.sqlalchemy.title_blocks import TitleBlocks
    from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
    from adapters.webhooks import (
        HttpSender,
        MemorySubscriptionStore,
        SqlSubscriptionStore,
        TargetCheck,
    )

# The modules whose ``@inject`` functions take providers (``Provide[Container.clock]``).
WIRED_PACKAGES = ["entrypoints.http", "entrypoints.cli"]

# Catalogue cache: keys in Redis start with this; the in-process cache holds at most this many.
CACHE_PREFIX = "circulate:cache:"
CREDENTIAL_GENERATION_KEY = "circulate:credentials:generation"
CACHE_ENTRIES = 10_000


# Every adapter is named here and imported when a provider first builds one
# (entrypoints/containers/deferred.py): a process imports only the adapters it uses.
_Argon2PasswordHasher: Deferred[Argon2PasswordHasher] = Deferred(
    "adapters.security:Argon2PasswordHasher"
)
_redis_client: Deferred[Redis] = Deferred("adapters.redis_store:redis_client")
_MemoryGeneration: Deferred[MemoryGeneration] = Deferred("adapters.caching:MemoryGeneration")
_InProcessStore: Deferred[InProcessStore] = Deferred("adapters.caching:InProcessStore")
_RedisCache: Deferred[RedisCache] = Deferred("cachelib:RedisCache")
_NullCache: Deferred[NullCache] = Deferred("cachelib:NullCache")
_RedisGeneration: Deferred[RedisGeneration] = Deferred("adapters.caching:RedisGeneration")
_SqliteDataVersion: Deferred[SqliteDataVersion] = Deferred(
    "adapters.sqlalchemy.data_version:SqliteDataVersion"
)
_CatalogueCache: Deferred[CatalogueCache] = Deferred("adapters.caching:CatalogueCache")
_LocalFirstGeneration: Deferred[LocalFirstGeneration] = Deferred(
    "adapters.credential_cache:LocalFirstGeneration"
)
_PublishToAll: Deferred[PublishToAll] = Deferred("adapters.metrics:PublishToAll")
_CirculationMetrics: Deferred[CirculationMetrics] = Deferred("adapters.metrics:CirculationMetrics")
_InvalidateOnEvents: Deferred[InvalidateOnEvents] = Deferred("adapters.caching:InvalidateOnEvents")
_ForgetRevokedKeys: Deferred[ForgetRevokedKeys] = Deferred(
    "adapters.credential_cache:ForgetRevokedKeys"
)
_TitleBlocks: Deferred[TitleBlocks] = Deferred("adapters.sqlalchemy.title_blocks:TitleBlocks")
_create_engine_for: Deferred[Engine] = Deferred("adapters.sqlalchemy.engine:create_engine_for")
_make_session_factory: Deferred[sessionmaker[Session]] = Deferred(
    "adapters.sqlalchemy.engine:session_factory"
)
_MemoryDatabase: Deferred[MemoryDatabase] = Deferred("adapters.memory:MemoryDatabase")
_MemoryIdempotencyStore: Deferred[MemoryIdempotencyStore] = Deferred(
    "adapters.memory.idempotency:MemoryIdempotencyStore"
)
_SqlUnitOfWork: Deferred[SqlUnitOfWork] = Deferred("adapters.sqlalchemy.unit_of_work:SqlUnitOfWork")
_MemoryUnitOfWork: Deferred[MemoryUnitOfWork] = Deferred("adapters.memory:MemoryUnitOfWork")
_SqlIdentityUnitOfWork: Deferred[SqlIdentityUnitOfWork] = Deferred(
    "adapters.sqlalchemy.identity_unit_of_work:SqlIdentityUnitOfWork"
)
_MemoryIdentityUnitOfWork: Deferred[MemoryIdentityUnitOfWork] = Deferred(
    "adapters.memory:MemoryIdentityUnitOfWork"
)
_SqlAuditLog: Deferred[SqlAuditLog] = Deferred("adapters.sqlalchemy.audit:SqlAuditLog")
_MemoryAuditLog: Deferred[MemoryAuditLog] = Deferred("adapters.memory.audit:MemoryAuditLog")
_SqlOutboxStore: Deferred[SqlOutboxStore] = Deferred("adapters.sqlalchemy.outbox:SqlOutboxStore")
_MemoryOutboxStore: Deferred[MemoryOutboxStore] = Deferred(
    "adapters.memory.outbox:MemoryOutboxStore"
)
_SqlIdempotencyStore: Deferred[SqlIdempotencyStore] = Deferred(
    "adapters.sqlalchemy.idempotency:SqlIdempotencyStore"
)
_NoticeTemplates: Deferred[NoticeTemplates] = Deferred("adapters.notices.templates:NoticeTemplates")
_SmtpNotifier: Deferred[SmtpNotifier] = Deferred("adapters.notices.smtp:SmtpNotifier")
_MemoryNotifier: Deferred[MemoryNotifier] = Deferred("adapters.notices.memory:MemoryNotifier")
_TargetCheck: Deferred[TargetCheck] = Deferred("adapters.webhooks:TargetCheck")
_SqlSubscriptionStore: Deferred[SqlSubscriptionStore] = Deferred(
    "adapters.webhooks:SqlSubscriptionStore"
)
_MemorySubscriptionStore: Deferred[MemorySubscriptionStore] = Deferred(
    "adapters.webhooks:MemorySubscriptionStore"
)
_HttpSender: Deferred[HttpSender] = Deferred("adapters.webhooks:HttpSender")
_SqlJobRunStore: Deferred[SqlJobRunStore] = Deferred("adapters.sqlalchemy.jobs:SqlJobRunStore")
_MemoryJobRunStore: Deferred[MemoryJobRunStore] = Deferred("adapters.memory.jobs:MemoryJobRunStore")


class Container(containers.DeclarativeContainer):
    wiring_config = containers.WiringConfiguration(
        packages=WIRED_PACKAGES,
        # Wiring happens explicitly (build_container / create_app), not as a side effect of
        # instantiating the class, so a test can build a container without touching globals.
        auto_wire=False,
        warn_unresolved=True,
    )

    # The validated settings object, and the same values as configuration options so that
    # providers (and ``Provide[Container.config.port]``) can refer to single options.
    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration(strict=True)

    # --- shared, process-wide objects ------------------------------------------------------
    clock = providers.ThreadSafeSingleton(SystemClock)
    ids = providers.ThreadSafeSingleton(UuidV7Generator)
    hasher = providers.ThreadSafeSingleton(_Argon2PasswordHasher)
    policy = providers.ThreadSafeSingleton(Settings.policy, settings)

    # --- after a commit: metrics and the catalogue cache --------------------------------------
    redis = providers.ThreadSafeSingleton(_redis_client, config.redis_url)
    cache_kind = providers.Callable(Settings.cache_kind, settings)
    memory_generation = providers.ThreadSafeSingleton(_MemoryGeneration)
    memory_cache_store = providers.ThreadSafeSingleton(
        _InProcessStore, threshold=CACHE_ENTRIES, default_timeout=config.cache_ttl_seconds
    )
    cache_store = providers.Selector(
        cache_kind,
        memory=memory_cache_store,
        sqlite=memory_cache_store,
        redis=providers.ThreadSafeSingleton(
            _RedisCache,
            host=redis,
            key_prefix=CACHE_PREFIX,
            default_timeout=config.cache_ttl_seconds,
        ),
        none=providers.ThreadSafeSingleton(_NullCache),
    )
    cache_generation = providers.Selector(
        cache_kind,
        memory=memory_generation,
        redis=providers.ThreadSafeSingleton(_RedisGeneration, redis),
        # Every commit to the file, from any process, replaces it (no Redis needed).
        sqlite=providers.ThreadSafeSingleton(_SqliteDataVersion, config.database_url),
        none=memory_generation,
    )
    catalogue_cache = providers.ThreadSafeSingleton(
        _CatalogueCache, cache_store, cache_generation, config.cache_ttl_seconds
    )
    # API keys checked once and trusted for a few seconds (adapters/credential_cache.py); a
    # revocation replaces the generation, in Redis when configured so every process sees it.
    credential_generation = providers.Selector(
        providers.Callable(Settings.credential_generation_kind, settings),
        memory=providers.ThreadSafeSingleton(_MemoryGeneration),
        redis=providers.ThreadSafeSingleton(
            _LocalFirstGeneration,
            providers.ThreadSafeSingleton(_RedisGeneration, redis, CREDENTIAL_GENERATION_KEY),
        ),
    )
    # Told of each committed transaction's domain events, by every unit of work.
    events = providers.ThreadSafeSingleton(
        _PublishToAll,
        providers.ThreadSafeSingleton(_CirculationMetrics),
        providers.ThreadSafeSingleton(_InvalidateOnEvents, catalogue_cache),
        providers.ThreadSafeSingleton(_ForgetRevokedKeys, credential_generation),
    )

    # --- storage ----------------------------------------------------------------------------
    engine = providers.ThreadSafeSingleton(_create_engine_for, config.database_url)
    session_factory = providers.ThreadSafeSingleton(_make_session_factory, engine)
    memory_database = providers.ThreadSafeSingleton(_MemoryDatabase)
    # Responses kept for Idempotency-Key retries (the HTTP API's, not a use case's); a key is
    # used up in the transaction of the change it guards, so the unit of work writes to it.
    memory_idempotency = providers.ThreadSafeSingleton(_MemoryIdempotencyStore)

    # What a transaction's events cause, written in that transaction: outbox messages and an
    # audit record each (``application.audit``).
    notice_router = providers.ThreadSafeSingleton(NoticeRouter, ids)
    audit_trail = providers.ThreadSafeSingleton(AuditTrail, ids)
    records_for_events = providers.ThreadSafeSingleton(records_from, notice_router, audit_trail)

    uow = providers.Selector(
        config.storage,
        sql=providers.Factory(
            _SqlUnitOfWork, session_factory, publisher=events, records_for_events=records_for_events
        ),
        memory=providers.Factory(
            _MemoryUnitOfWork,
            memory_database,
            publisher=events,
            idempotency=memory_idempotency,
            records_for_events=records_for_events,
        ),
    )
    # The identity slice's own unit of work, over the same database or in-memory store (so
    # both slices see the same rows) and writing the same records with its commits.
    identity_uow = providers.Selector(
        config.storage,
        sql=providers.Factory(
            _SqlIdentityUnitOfWork,
            session_factory,
            publisher=events,
            records_for_events=records_for_events,
        ),
        memory=providers.Factory(
            _MemoryIdentityUnitOfWork,
            memory_database,
            publisher=events,
            idempotency=memory_idempotency,
            records_for_events=records_for_events,
        ),
    )
    audit_log = providers.Selector(
        config.storage,
        sql=providers.ThreadSafeSingleton(_SqlAuditLog, engine),
        memory=providers.ThreadSafeSingleton(_MemoryAuditLog, memory_database),
    )
    audit = providers.ThreadSafeSingleton(AuditEvents, audit_log)
    outbox = providers.Selector(
        config.storage,
        sql=providers.ThreadSafeSingleton(_SqlOutboxStore, engine),
        memory=providers.ThreadSafeSingleton(_MemoryOutboxStore, memory_database),
    )
    idempotency = providers.Selector(
        config.storage,
        sql=providers.ThreadSafeSingleton(_SqlIdempotencyStore, engine),
        memory=memory_idempotency,
    )

    # --- the two slices: who is calling, and the library itself ---------------------------
    # ``uow.provider`` passes the provider itself: a callable that makes a new unit of work
    # each time a service calls it.
    identity = providers.Container(
        Identity,
        settings=settings,
        clock=clock,
        ids=ids,
        hasher=hasher,
        uow=identity_uow.provider,
        engine=engine,
        redis=redis,
        credential_generation=credential_generation,
        credential_cache_seconds=config.credential_cache_seconds,
    )
    library = providers.Container(
        Library,
        settings=settings,
        clock=clock,
        ids=ids,
        hasher=hasher,
        policy=policy,
        uow=uow.provider,
        catalogue_cache=catalogue_cache,
        sessions=identity.session_endings,
    )

    # --- notices: the outbox's delivery and the reminder runs -----------------------------
    notice_templates = providers.ThreadSafeSingleton(
        _NoticeTemplates, config.notice_templates_dir, config.language
    )
    notifier = providers.Selector(
        providers.Callable(Settings.notifier_kind, settings),
        smtp=providers.ThreadSafeSingleton(
            _SmtpNotifier, providers.Callable(Settings.smtp_settings, settings), notice_templates
        ),
        memory=providers.ThreadSafeSingleton(_MemoryNotifier, notice_templates),
        none=providers.Object(None),
    )
    reminders = providers.ThreadSafeSingleton(
        Reminders,
        uow=uow.provider,
        outbox=outbox,
        clock=clock,
        ids=ids,
        policy=policy,
        schedule=providers.Callable(Settings.reminder_schedule, settings),
    )
    pickup_reminders = providers.ThreadSafeSingleton(
        PickupReminders,
        uow=uow.provider,
        outbox=outbox,
        clock=clock,
        ids=ids,
        before=providers.Callable(Settings.hold_expiry_notice, settings),
    )
    outbox_housekeeping = providers.ThreadSafeSingleton(
        OutboxHousekeeping,
        outbox=outbox,
        clock=clock,
        keep=providers.Callable(Settings.outbox_retention, settings),
    )
    notice_choices = providers.ThreadSafeSingleton(
        NoticeChoices, uow=uow.provider, clock=clock, policy=policy
    )
    # Webhooks: subscriptions, and the sender that refuses non-public targets (SSRF).
    webhook_targets = providers.ThreadSafeSingleton(_TargetCheck, config.webhook_allow_private)
    webhook_subscriptions = providers.Selector(
        config.storage,
        sql=providers.ThreadSafeSingleton(_SqlSubscriptionStore, engine),
        memory=providers.ThreadSafeSingleton(_MemorySubscriptionStore),
    )
    webhook_sender = providers.ThreadSafeSingleton(_HttpSender, webhook_targets)
    webhooks = providers.ThreadSafeSingleton(
        Webhooks, webhook_subscriptions, webhook_targets, clock, ids, outbox
    )
    notice_delivery = providers.ThreadSafeSingleton(
        NoticeDelivery,
        uow=uow.provider,
        outbox=outbox,
        notifier=notifier,
        clock=clock,
        policy=policy,
        lease=providers.Callable(Settings.worker_lease, settings),
        subscriptions=webhook_subscriptions,
        sender=webhook_sender,
    )
    notices = providers.ThreadSafeSingleton(NoticeLog, uow=uow.provider, outbox=outbox)

    # --- the worker: scheduled jobs (once per period on any number of hosts) and delivery ----
    job_runs = providers.Selector(
        config.storage,
        sql=providers.ThreadSafeSingleton(_SqlJobRunStore, engine),
        memory=providers.ThreadSafeSingleton(_MemoryJobRunStore),
    )
    keep_title_blocks = providers.Selector(
        config.storage,
        sql=providers.ThreadSafeSingleton(_TitleBlocks, engine).provided.keep_shape,
        memory=providers.Object(None),  # the in-memory catalogue has no blocks to keep
    )
    jobs = providers.ThreadSafeSingleton(
        scheduled_jobs,
        keep_title_blocks=keep_title_blocks,
        expire_holds=library.circulation.provided.expire_pickups,
        send_reminders=reminders.provided.run,
        send_pickup_reminders=pickup_reminders.provided.run,
        purge_sessions=identity.sessions.provided.purge_expired,
        age_to_lost=library.lost_items.provided.age_to_lost,
        anonymise_loans=library.loan_retention.provided.anonymise_loans,
        purge_outbox=outbox_housekeeping.provided.purge,
    )
    scheduler = providers.ThreadSafeSingleton(Scheduler, jobs, job_runs, clock.provided.now)
    worker = providers.Factory(
        Worker, scheduler, notice_delivery, poll_seconds=config.worker_poll_seconds
    )


def build_container(settings: Settings | None = None, *, wire: bool = True) -> Container:
    """A container for ``settings`` (read from the environment when not given).

    ``wire`` binds the ``@inject`` functions of the HTTP and CLI packages to this container; the
    binding is per process, so the last container wired is the one those functions use.
    """
    settings = settings if settings is not None else Settings()
    container = Container()
    container.settings.override(providers.Object(settings))
    container.config.from_pydantic(settings)
    if wire:
        container.wire()
    return container


def dispose(container: Container) -> None:
    """Release what the container holds (the SQL engine's pooled connections) and forget it.

    Safe to call more than once; the next use of a provider builds its object afresh.
    """
    if container.config.storage() == "sql":
        from sqlalchemy.exc import ArgumentError  # with SQL storage only

        try:
            # The engine provider cannot say whether it has built one yet; asking for it costs
            # nothing (an engine connects lazily), and a URL that cannot make an engine never
            # made one, and neither did a schema check that refused, so there is nothing to release.
            engine = container.engine()
        except (ValueError, ArgumentError, SchemaNotAtHead):
            engine = None
        if engine is not None:
            engine.dispose()
    if container.config.redis_url() is not None:
        container.redis().close()  # its pooled connections; a client connects lazily too
    container.reset_singletons()
