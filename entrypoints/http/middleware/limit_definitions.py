"""Flask-Limiter limit definitions that cost nothing on requests they do not concern.

Flask-Limiter turns each definition into its runtime limits on every request: it parses the
limit string again (``limits.parse_many``) and builds new ``RuntimeLimit`` objects, for every
default limit, whether or not the request's endpoint has anything to do with it. On a list
read that was most of the limiter's time. The definitions here parse their string once, on
first use (after ``Limiter.init_app`` has bound them), and hand out the same runtime limits
after that; ``EndpointLimit`` hands out none at all outside its endpoints, so the sign-in
limits are not even considered on a catalogue read.

Handing out the same objects is what Flask-Limiter does in effect: the runtime limits of one
definition are equal (dataclass equality) from one request to the next, and it keeps no state
on them beyond the request's context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from flask import request
from flask_limiter import ApplicationLimit, Limit

if TYPE_CHECKING:
    from flask_limiter._limits import RuntimeLimit


class _ParsedOnce(Limit):
    """The limit string of a fixed-string definition, parsed at its first use only."""

    @cached_property
    def _runtime_limits(self) -> tuple[RuntimeLimit, ...]:
        return tuple(super().__iter__())

    def __iter__(self) -> Iterator[RuntimeLimit]:
        if callable(self.limit_provider):
            return super().__iter__()  # a provider may answer differently per request
        return iter(self._runtime_limits)


class AppLimit(_ParsedOnce, ApplicationLimit):
    """An application-wide limit (every request counts against it), parsed once."""


@dataclasses.dataclass(kw_only=True, unsafe_hash=True)
class EndpointLimit(_ParsedOnce, Limit):
    """A limit that applies on ``endpoints`` only, parsed once.

    A default limit with ``exempt_when`` is still parsed, built and tested on every request;
    this one yields nothing on any other endpoint, so the request never sees it.
    """

    endpoints: frozenset[str] = frozenset()

    def __iter__(self) -> Iterator[RuntimeLimit]:
        if request.endpoint not in self.endpoints:
            return iter(())
        return super().__iter__()
