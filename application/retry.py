"""Retry an operation that lost a race with a concurrent transaction."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from domain.errors import ConcurrentUpdate

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 5


def retry_on_conflict(operation: Callable[P, R]) -> Callable[P, R]:
    """Run ``operation`` again (from a fresh transaction) when it hit ``ConcurrentUpdate``.

    Safe because each attempt re-reads everything and decides anew: the loser of a race for
    the last copy gets the domain's answer (no copy available), not a spurious conflict.
    """

    @wraps(operation)
    def attempt(*args: P.args, **kwargs: P.kwargs) -> R:
        for _ in range(ATTEMPTS - 1):
            try:
                return operation(*args, **kwargs)
            except ConcurrentUpdate:
                continue
        return operation(*args, **kwargs)

    return attempt
