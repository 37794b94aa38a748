"""A compiled-statement cache for statements built once per process.

SQLAlchemy finds a statement's compiled form by its cache key: a tuple of the statement's whole
structure, worked out once per statement object (it is memoized on it) but hashed afresh on
every run, since Python does not keep a tuple's hash. For the statements of the borrow path
that hashing cost about a twelfth of the use case's instructions. A statement
built once (``functools.cache``) hands SQLAlchemy the same key object on every run, so this
cache finds its compiled form by that object's identity instead: one small dictionary lookup.

Run such statements with ``execution_options=BUILT_ONCE``; a statement built afresh for each
run would only miss, every time. The cache keeps each key object it holds alive, so an
identity it knows cannot be taken by another object; it is emptied if it ever holds more than
``LIMIT`` forms (statements built per shape of a write, say, are many but not unbounded).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine.interfaces import CompiledCacheType


class _ByKeyIdentity(dict[Any, Any]):
    """``compiled_cache`` keyed by the identity of the statement's (memoized) cache key.

    SQLAlchemy's key is ``(dialect, statement cache key, column keys, ...)``: the first two are
    taken by identity (the dialect is the engine's; the second is the memoized one), the rest
    as they are (they are small), so a hit is exactly the compiled form SQLAlchemy's own cache
    would have returned. Subclassing ``dict`` keeps the type SQLAlchemy expects of a cache; only
    ``get`` and ``__setitem__`` are used by it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        found = super().get((id(key[0]), id(key[1]), key[2:]))
        if found is None:
            return default
        kept, compiled = found
        # The identities were those of these very objects (kept alive here), not reused ones.
        return compiled if kept[0] is key[0] and kept[1] is key[1] else default

    def __setitem__(self, key: Any, compiled: Any) -> None:
        with self._lock:
            if len(self) >= LIMIT:
                self.clear()
            super().__setitem__((id(key[0]), id(key[1]), key[2:]), (key, compiled))


LIMIT = 2048


_CACHE: CompiledCacheType = _ByKeyIdentity()
BUILT_ONCE: dict[str, Any] = {"compiled_cache": _CACHE}
