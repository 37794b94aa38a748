"""A cache of catalogue reads that a write can never leave stale.

Invalidation is by *generation*, not by deleting keys. Every cache key contains the current
catalogue generation, a random token; any write that may change a catalogue read (books, copies,
loans, holds) replaces the token. From then on every read builds keys nobody has used, so it
misses and reads the database; the entries of older generations are never asked for again and
expire by themselves (``CIRCULATE_CACHE_TTL_SECONDS``).

Why a generation rather than deleting the affected keys: a book list's keys depend on the filter,
sort and page, so the keys a write touches cannot be enumerated (a new book can enter any page of
any search); and deleting keys races with readers: a reader that read the database just before
the write commits may store its (now old) result just after the deletion. With a generation the
reader reads the token *before* it reads the database, so whatever it stores is filed under the
token that was current then, which the write has replaced by the time it answers its client. A
read that follows a write therefore always misses, in every worker and host that shares the
generation (Redis), and the token is random rather than a counter so a generation lost with a
restarted Redis can never come back and revive old entries.

Writes are caught once, where they are certain: ``InvalidateOnEvents`` is told of every committed
transaction's domain events (every unit of work publishes them after its commit, whichever use
case or process made the change) and replaces the generation when they show a change to the
catalogue, its copies, loans or holds. The reads themselves are wrapped by composition
(``CachedCatalogueReads``): the use cases know nothing of the cache, and a write added to them
later needs nothing here, only the domain event it records.

Reads that depend on who asks (availability for a member) or on the time are never cached.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from cachelib.base import BaseCache
from cachelib.serializers import SimpleSerializer
from cachelib.simple import SimpleCache

from application.catalogue import Catalogue
from application.circulation import Availability, Circulation
from application.queries import BookFilter, Page, PageRequest
from domain.catalogue import Book, Copy
from domain.events import (
    ApiKeyIssued,
    ApiKeyRevoked,
    ChargeCancelled,
    ChargePosted,
    ChargeWaived,
    Event,
    LoanAnonymised,
    MemberAnonymised,
    MemberRegistered,
    MemberRoleChanged,
    MembersImported,
    MemberStatusChanged,
    MemberUpdated,
    PasswordChanged,
    PaymentReceived,
    PaymentRefunded,
    ServiceClientIssued,
    ServiceClientRevoked,
    SessionsRevoked,
)

if TYPE_CHECKING:  # only annotations: commands that use no Redis do not import it
    from redis import Redis

log = logging.getLogger(__name__)

T = TypeVar("T")

GENERATION_KEY = "circulate:cache:generation"


class Generation(Protocol):
    def current(self) -> str: ...

    def bump(self) -> None: ...


def _token() -> str:
    return uuid.uuid4().hex


class MemoryGeneration:
    """The generation of one process's own cache."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token = _token()

    def current(self) -> str:
        with self._lock:
            return self._token

    def bump(self) -> None:
        with self._lock:
            self._token = _token()


class RedisGeneration:
    """The generation shared through Redis by every worker and host (and the CLI)."""

    def __init__(self, client: Redis, key: str = GENERATION_KEY) -> None:
        self._client = client
        self._key = key

    def current(self) -> str:
        token: bytes | str | None = self._client.get(self._key)
        if token is None:
            # None yet (or lost with Redis's data): start one; a concurrent starter may win.
            self._client.set(self._key, _token(), nx=True)
            token = self._client.get(self._key)
            if token is None:
                raise RuntimeError("the cache generation vanished as it was set")
        return token.decode() if isinstance(token, bytes) else token

    def bump(self) -> None:
        self._client.set(self._key, _token())


class _AsIs(SimpleSerializer):
    """No serialisation: the store keeps the value itself."""

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> Any:
        del protocol
        return value

    def loads(self, bvalue: Any) -> Any:
        return bvalue


class InProcessStore(SimpleCache):
    """cachelib's in-process store (a bounded dictionary with expiry), keeping the values
    themselves rather than pickles of them: a hit is a dictionary lookup, not the rebuilding of
    every object of a page. Values are shared by every reader of the process, so what is kept
    must not be changed afterwards: ``CachedCatalogueReads`` keeps only its own answers, which
    the catalogue's readers only read (``application.catalogue_reads``)."""

    serializer = _AsIs()


# Distinct arguments whose digests are remembered: the searches, pages and books read often.
_REMEMBERED_DIGESTS = 1024


def _digest(arguments: tuple[Any, ...]) -> str:
    """The arguments' part of a key: a digest of their ``repr``, the same in every process
    (and so shared through Redis), and short whatever the arguments."""
    return hashlib.sha256(repr(arguments).encode()).hexdigest()[:32]


# The arguments are hashable value objects (frozen dataclasses, strings), so a repeated read
# finds its digest by one hash instead of rendering and hashing its arguments again. Equal
# arguments ask for the same answer, so sharing the first one's digest is sound.
_remembered_digest = lru_cache(maxsize=_REMEMBERED_DIGESTS)(_digest)


def _arguments_digest(arguments: tuple[Any, ...]) -> str:
    try:
        return _remembered_digest(arguments)
    except TypeError:  # an unhashable argument: computed every time
        return _digest(arguments)


class CatalogueCache:
    """Values filed under (kind, arguments, generation), kept ``ttl`` seconds."""

    def __init__(self, store: BaseCache, generation: Generation, ttl_seconds: int) -> None:
        self._store = store
        self._generation = generation
        self._ttl = ttl_seconds

    def get_or_compute(self, kind: str, arguments: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The cached value, or ``compute()`` stored for next time.

        The cache is an optimisation: when its store fails the value is computed, never
        refused.
        """
        try:
            generation = self._generation.current()  # before the database is read
        except Exception:
            log.warning("cache generation unavailable; reading through", exc_info=True)
            return compute()
        key = f"{kind}:{generation}:{_arguments_digest(arguments)}"
        try:
            found = self._store.get(key)
        except Exception:
            log.warning("cache read failed; reading through", exc_info=True)
            found = None
        if found is not None:
            return found  # type: ignore[no-any-return]
        value = compute()
        try:
            self._store.set(key, value, timeout=self._ttl)
        except Exception:
            log.warning("cache write failed", exc_info=True)
        return value

    def invalidate(self) -> None:
        """Make every cached value unreachable (called after a write has committed)."""
        try:
            self._generation.bump()
        except Exception:
            # The write has committed and must be reported as done; entries of the old
            # generation live at most the TTL.
            log.error("cache invalidation failed", exc_info=True)


class InvalidateOnEvents:
    """An ``EventPublisher``: a committed change to what a catalogue read shows (books, copies,
    loans, holds, item types) invalidates the cache, once per transaction. Any event not listed
    as irrelevant invalidates: a new kind errs on the side of a needless miss, never a stale
    read."""

    # Events that change nothing a catalogue read shows: money, members and credentials, and
    # loans that only stop naming their borrower.
    IRRELEVANT: tuple[type[Event], ...] = (
        PaymentReceived,
        ChargePosted,
        ChargeWaived,
        ChargeCancelled,
        PaymentRefunded,
        MemberRegistered,
        MembersImported,
        MemberUpdated,
        MemberRoleChanged,
        MemberStatusChanged,
        PasswordChanged,
        MemberAnonymised,
        SessionsRevoked,
        ApiKeyIssued,
        ApiKeyRevoked,
        ServiceClientIssued,
        ServiceClientRevoked,
        LoanAnonymised,
    )

    def __init__(self, cache: CatalogueCache) -> None:
        self._cache = cache

    def publish(self, events: Sequence[Event]) -> None:
        if any(not isinstance(event, self.IRRELEVANT) for event in events):
            self._cache.invalidate()


class CachedCatalogueReads:
    """``CatalogueReads`` answered from the cache, else by the use cases (and kept)."""

    def __init__(
        self, catalogue: Catalogue, circulation: Circulation, cache: CatalogueCache
    ) -> None:
        self._catalogue = catalogue
        self._circulation = circulation
        self._cache = cache

    def get_book(self, book_id: str) -> Book:
        return self._cache.get_or_compute(
            "book", (book_id,), lambda: self._catalogue.get_book(book_id)
        )

    def search_books(self, query: BookFilter, page: PageRequest) -> Page[Book]:
        return self._cache.get_or_compute(
            "books", (query, page), lambda: self._catalogue.search_books(query, page)
        )

    def list_copies(self, book_id: str) -> list[Copy]:
        return self._cache.get_or_compute(
            "copies", (book_id,), lambda: self._catalogue.list_copies(book_id)
        )

    def availability(self, book_id: str, member_id: str | None = None) -> Availability:
        if member_id is not None:
            # Depends on the member's standing, which changes with payments and with time.
            return self._circulation.availability(book_id, member_id)
        return self._cache.get_or_compute(
            "availability", (book_id,), lambda: self._circulation.availability(book_id)
        )
