"""Flask-Limiter with each endpoint's limits resolved once.

Before every request Flask-Limiter works out again which limits apply: the view's qualified
name, decorator hints, blueprint limits and exemptions (walking the blueprint's ancestors), the
application and default limits, an ordered set to drop those already counted, and only then the
counting itself. On a catalogue read that was most of the limiter's time, and its answer never
changes for an endpoint: which definitions apply is configuration (``limits.py``), and what
depends on the request (a key, an ``exempt_when``, a method) is asked again on every request
below.

``PlannedLimiter`` keeps Flask-Limiter for everything else: configuration, storage, the strategy,
the keys it counts under (``RequestLimit``, the same arguments, so counters in Redis are shared
with any Flask-Limiter of the same configuration), ``current_limit`` for the headers, and the
fallback to counters in this process when Redis stops answering (``_storage_dead``: the whole
request then takes Flask-Limiter's own path, which also notices when Redis is back).

An endpoint keeps Flask-Limiter's own path when anything about it needs more than the counting
done here: limits by decorator, meta limits, or a limit that deducts on its response. Its
application and default limits must be fixed strings (what ``limits.py`` gives): a limit
computed by a callable on each request could not be kept per endpoint.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from flask import Response, current_app
from flask.globals import request_ctx
from flask_limiter import Limit, Limiter, RequestLimit
from flask_limiter._extension import LimiterContext
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_qualified_name
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats

from entrypoints.http.middleware.memory_limits import InlineExpiryMemoryStorage
from entrypoints.http.request_context import current_request
from entrypoints.logs import get_logger

if TYPE_CHECKING:
    from flask_limiter._limits import RuntimeLimit

log = get_logger("circulate.limits")

# An endpoint's limits, in the order Flask-Limiter tests them, or None: its own path.
Plan = tuple["RuntimeLimit", ...] | None


class PlannedLimiter(Limiter):
    """A ``Limiter`` whose per-request check resolves an endpoint's limits once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A plan is kept per endpoint: a limit computed per request could not be.
        for name in ("application_limits", "default_limits"):
            for limit in kwargs.get(name) or ():
                if callable(limit.limit_provider if isinstance(limit, Limit) else limit):
                    raise TypeError(f"{name}: a planned limiter takes fixed limits only")
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, str | None], Plan] = {}

    @property
    def context(self) -> LimiterContext:
        """The request's limiter state, where Flask-Limiter keeps it (on the request context,
        one per limiter), found with one context lookup instead of three. Asked five times
        per request: by the count, the headers, and Flask-Limiter's own after-request and
        teardown hooks."""
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        try:
            contexts: dict[Limiter, LimiterContext] = ctx._limiter_request_context
        except AttributeError:
            contexts = ctx._limiter_request_context = defaultdict(LimiterContext)
        return contexts[self]

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if callable_name is not None or not in_middleware or self._storage_dead:
            super()._check_request_limit(callable_name, in_middleware)
            return
        endpoint = self.identify_request()
        if (
            not endpoint
            or not (self.enabled and self.initialized)
            or endpoint.rsplit(".", 1)[-1] == "static"
            or any(exempt() for exempt in self._request_filters)
        ):
            return
        current = current_request()
        plan = self._plan(endpoint, current.blueprint)
        if plan is None:
            super()._check_request_limit(callable_name, in_middleware)
            return
        try:
            breach = self._count(endpoint, plan, current.method)
        except Exception:
            # What Flask-Limiter does when its storage fails: count in this process from now on
            # (its own path, which also tries the storage again now and then).
            if not (self._in_memory_fallback_enabled and not self._storage_dead):
                if not self._swallow_errors:
                    raise
                log.exception("rate limit storage failed; the request is not counted")
                return
            log.warning("rate limit storage unreachable; counting in this process")
            self._storage_dead = True
            self.context.seen_limits.clear()
            super()._check_request_limit(callable_name, in_middleware)
            return
        if breach is not None:
            self._refuse(*breach)

    def _plan(self, endpoint: str, blueprint: str | None) -> Plan:
        try:
            return self._plans[endpoint, blueprint]
        except KeyError:
            # Two threads may both resolve it; they find the same plan.
            plan = self._plans[endpoint, blueprint] = self._resolve(endpoint, blueprint)
            return plan

    def _resolve(self, endpoint: str, blueprint: str | None) -> Plan:
        """The limits Flask-Limiter resolves for ``endpoint``, when they are all this class
        counts; None when the endpoint needs Flask-Limiter's own path."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        view = app.view_functions.get(endpoint)
        name = get_qualified_name(view) if view else ""
        manager = self.limit_manager
        if not self._fail_on_first_breach or self._meta_limits:
            return None
        if name in self._marked_for_limiting or manager.has_hints(endpoint):
            return None
        defaults, decorated = manager.resolve_limits(app, endpoint, blueprint, name, True, False)
        limits = [*dict.fromkeys(defaults), *decorated]
        if any(limit.deduct_when or limit.meta_limits for limit in limits):
            return None
        return tuple(sorted(limits, key=lambda limit: limit.limit))

    def _count(
        self, endpoint: str, plan: tuple[RuntimeLimit, ...], method: str
    ) -> tuple[RuntimeLimit, RequestLimit] | None:
        """Count the request (``method`` on ``endpoint``) against ``plan`` as Flask-Limiter's
        evaluation does; the limit it breached, if it did (the first: no later limit is
        counted)."""
        strategy = self.limiter
        storage = strategy.storage
        # Counted in this process with a moving window: the count also reads the window the
        # headers show (``memory_limits``), instead of a second pass over it.
        memory = (
            storage
            if isinstance(strategy, MovingWindowRateLimiter)
            and isinstance(storage, InlineExpiryMemoryStorage)
            else None
        )
        counted: list[RequestLimit] = []
        breached: RuntimeLimit | None = None
        for limit in plan:
            if limit.is_exempt or limit.method_exempt:
                continue
            key, scope = limit.key_func(), limit.scope_for(endpoint, method)
            if not (key and scope):
                log.error("rate limit skipped: an empty key or scope", limit=str(limit.limit))
                continue
            args = [self._key_prefix, key, scope] if self._key_prefix else [key, scope]
            item = limit.limit
            if memory is not None:
                expiry = item.get_expiry()
                allowed, start, entries = memory.acquire_entry_and_window(
                    item.key_for(*args), item.amount, expiry, limit.deduction_amount
                )
                window = WindowStats(start + expiry, item.amount - entries)
            else:
                allowed = strategy.hit(item, *args, cost=limit.deduction_amount)
                window = None
            request_limit = RequestLimit(self, item, args, not allowed, limit.shared)
            request_limit._window = window  # what ``RequestLimit.window`` would read again
            counted.append(request_limit)
            if not allowed:
                breached = limit
                break
        context = self.context
        context.view_rate_limits = counted
        if breached is not None:
            context.view_rate_limit = counted[-1]
            return breached, counted[-1]
        if counted:
            # The hint a client can use best: a limit of its own over a shared one.
            explicit = [limit for limit in counted if not limit.shared]
            context.view_rate_limit = explicit[0] if explicit else counted[0]
        return None

    def _refuse(self, limit: RuntimeLimit, counted: RequestLimit) -> None:
        response = None
        for on_breach in dict.fromkeys([self._on_breach, limit.on_breach]):
            if on_breach is None:
                continue
            try:
                answer = on_breach(counted)
            except Exception:
                if not self._swallow_errors:
                    raise
                log.exception("a rate limit's breach callback failed")
                continue
            if isinstance(answer, Response):
                response = answer
        raise RateLimitExceeded(limit, response=response)
