"""The composition root: the one place that decides which adapter serves which port.

Nothing is built at import time. ``build_container(settings)`` returns a container whose shared
objects (engine, clock, id generator, hasher, policy) are created on first use, once, under a lock.
The application services are singletons too: they keep no per-request state, and each call they
make opens a fresh unit of work through the factory they were given.

``settings.storage`` picks the storage adapters: ``sql`` (SQLAlchemy over ``database_url``) or
``memory`` (one ``MemoryDatabase`` for the life of the process). Every other provider is the same
in both modes. Tests swap any provider with ``container.<name>.override(...)``.
"""

from __future__ import annotations

from dependency_injector import containers, providers
from sqlalchemy.exc import ArgumentError

from adapters.clock import SystemClock
from adapters.ids import UuidV7Generator
from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.engine import session_factory as make_session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.accounts import Accounts
from application.catalogue import Catalogue
from application.circulation import Circulation
from application.members import Membership
from entrypoints.settings import Settings

# The modules whose ``@inject`` functions take providers by string id (``Provide["circulation"]``).
WIRED_PACKAGES = ["entrypoints.http", "entrypoints.cli"]


class Container(containers.DeclarativeContainer):
    wiring_config = containers.WiringConfiguration(
        packages=WIRED_PACKAGES,
        # Wiring happens explicitly (build_container / create_app), not as a side effect of
        # instantiating the class, so a test can build a container without touching globals.
        auto_wire=False,
        warn_unresolved=True,
    )

    # The validated settings object, and the same values as configuration options so that
    # providers (and ``Provide["config.port"]``) can refer to single options.
    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration(strict=True)

    # --- shared, process-wide objects ------------------------------------------------------
    clock = providers.ThreadSafeSingleton(SystemClock)
    ids = providers.ThreadSafeSingleton(UuidV7Generator)
    hasher = providers.ThreadSafeSingleton(Argon2PasswordHasher)
    policy = providers.ThreadSafeSingleton(Settings.policy, settings)

    # --- storage ----------------------------------------------------------------------------
    engine = providers.ThreadSafeSingleton(create_engine_for, config.database_url)
    session_factory = providers.ThreadSafeSingleton(make_session_factory, engine)
    memory_database = providers.ThreadSafeSingleton(MemoryDatabase)

    uow = providers.Selector(
        config.storage,
        sql=providers.Factory(SqlUnitOfWork, session_factory),
        memory=providers.Factory(MemoryUnitOfWork, memory_database),
    )

    # --- use cases --------------------------------------------------------------------------
    # ``uow.provider`` injects the provider itself: a callable that makes a new unit of work
    # each time a service calls it.
    catalogue = providers.ThreadSafeSingleton(
        Catalogue, uow=uow.provider, clock=clock, ids=ids, policy=policy
    )
    membership = providers.ThreadSafeSingleton(
        Membership, uow=uow.provider, clock=clock, ids=ids, policy=policy, hasher=hasher
    )
    circulation = providers.ThreadSafeSingleton(
        Circulation, uow=uow.provider, clock=clock, ids=ids, policy=policy
    )
    accounts = providers.ThreadSafeSingleton(
        Accounts, uow=uow.provider, clock=clock, ids=ids, policy=policy
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
        try:
            # The engine provider cannot say whether it has built one yet; asking for it costs
            # nothing (an engine connects lazily), and a URL that cannot make an engine never
            # made one, so there is nothing to release.
            engine = container.engine()
        except (ValueError, ArgumentError):
            engine = None
        if engine is not None:
            engine.dispose()
    container.reset_singletons()
