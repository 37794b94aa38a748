"""The library slice: the catalogue, members, circulation, accounts, lost items and rules.

Each use case is a singleton that keeps no per-request state; every call opens a fresh unit
of work through the factory it was given. ``circulate demo`` builds a second instance of this
slice on a manual clock to play out a library's past, leaving the shared one untouched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from application.accounts import Accounts
from application.catalogue import Catalogue
from application.circulation import Circulation
from application.identity.ports import SessionEnder
from application.losses import LostItems
from application.members import Membership
from application.ports import Clock, IdGenerator, PasswordHasher, UnitOfWorkFactory
from application.retention import LoanRetention
from application.rules import CirculationRules
from domain.policy import Policy
from entrypoints.containers.deferred import Deferred
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from adapters.caching import CachedCatalogueReads, CatalogueCache

_CachedCatalogueReads: Deferred[CachedCatalogueReads] = Deferred(
    "adapters.caching:CachedCatalogueReads"
)


class Library(containers.DeclarativeContainer):
    # What the slice shares with the rest of the service, given by the composition root.
    settings = providers.Dependency(instance_of=Settings)
    clock: providers.Dependency[Clock] = providers.Dependency()
    ids: providers.Dependency[IdGenerator] = providers.Dependency()
    hasher: providers.Dependency[PasswordHasher] = providers.Dependency()
    policy: providers.Dependency[Policy] = providers.Dependency()
    uow: providers.Dependency[UnitOfWorkFactory] = providers.Dependency()
    catalogue_cache: providers.Dependency[CatalogueCache] = providers.Dependency()
    # The identity slice's ending of sessions: a role change or a removal ends the member's.
    sessions: providers.Dependency[SessionEnder] = providers.Dependency()

    catalogue = providers.ThreadSafeSingleton(
        Catalogue, uow=uow, clock=clock, ids=ids, policy=policy
    )
    circulation = providers.ThreadSafeSingleton(
        Circulation, uow=uow, clock=clock, ids=ids, policy=policy
    )
    # The catalogue reads the API serves most, read through the cache (adapters/caching.py);
    # the events of each committed write invalidate it.
    catalogue_reads = providers.ThreadSafeSingleton(
        _CachedCatalogueReads, catalogue, circulation, catalogue_cache
    )
    accounts = providers.ThreadSafeSingleton(Accounts, uow=uow, clock=clock, ids=ids, policy=policy)
    lost_items = providers.ThreadSafeSingleton(
        LostItems, uow=uow, clock=clock, ids=ids, policy=policy
    )
    circulation_rules = providers.ThreadSafeSingleton(
        CirculationRules, uow=uow, clock=clock, ids=ids, policy=policy
    )
    membership = providers.ThreadSafeSingleton(
        Membership,
        uow=uow,
        clock=clock,
        ids=ids,
        policy=policy,
        hasher=hasher,
        sessions=sessions,
        card_numbers=providers.Callable(Settings.card_numbers, settings),
    )
    loan_retention = providers.ThreadSafeSingleton(
        LoanRetention,
        uow=uow,
        clock=clock,
        period=providers.Callable(Settings.loan_retention, settings),
    )
