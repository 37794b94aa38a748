"""Adapters named by where they live and imported when a provider first builds one.

A process pays only for the adapters it uses: ``circulate books import`` never imports Redis,
the webhook sender or the notice templates, and listing a command's help imports no adapter.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class Deferred(Generic[T]):
    """``Deferred["SqlAuditLog"]("adapters.sqlalchemy.audit:SqlAuditLog")``: a callable that
    imports the ``module:attribute`` it names on its first call and then calls that.

    The type argument, a string so that nothing is imported for it, gives the providers built
    on it their type; a test checks that it names what the target is.
    """

    def __init__(self, target: str) -> None:
        module, _, attribute = target.partition(":")
        if not module or not attribute:
            raise ValueError(f"expected 'module:attribute', got {target!r}")
        self.target = target
        self._loaded: Callable[..., Any] | None = None
        self._lock = threading.Lock()

    def load(self) -> Callable[..., Any]:
        """The named callable, imported once."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    module, _, attribute = self.target.partition(":")
                    loaded = getattr(importlib.import_module(module), attribute)
                    if not callable(loaded):
                        raise TypeError(f"{self.target} is not callable")
                    self._loaded = loaded
        return self._loaded

    def __call__(self, *args: Any, **kwargs: Any) -> T:
        return cast(T, self.load()(*args, **kwargs))

    def __repr__(self) -> str:
        return f"Deferred({self.target!r})"
