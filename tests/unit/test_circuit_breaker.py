"""The circuit breaker: open after a failure, refuse at once while open, close on success."""

from __future__ import annotations

import pytest

from adapters.circuit import CircuitBreaker
from application.ports import DependencyUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _fail(breaker: CircuitBreaker) -> DependencyUnavailable:
    with pytest.raises(DependencyUnavailable) as raised, breaker.guard():
        raise ConnectionError("refused")
    return raised.value


def test_a_failure_opens_it_and_it_refuses_without_calling_until_the_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker("redis", (ConnectionError,), cool_down=5.0, clock=clock)
    calls = []

    assert _fail(breaker).retry_after_seconds == 5
    clock.now += 2
    with pytest.raises(DependencyUnavailable) as refused, breaker.guard():
        calls.append("called")

    assert calls == []
    assert refused.value.dependency == "redis"
    assert refused.value.retry_after_seconds == 3
    assert breaker.is_open


def test_after_the_cool_down_one_success_closes_it() -> None:
    clock = Clock()
    breaker = CircuitBreaker("redis", (ConnectionError,), cool_down=5.0, clock=clock)
    _fail(breaker)
    clock.now += 5

    with breaker.guard():
        pass

    assert not breaker.is_open


def test_a_failed_probe_opens_it_again() -> None:
    clock = Clock()
    breaker = CircuitBreaker("redis", (ConnectionError,), cool_down=5.0, clock=clock)
    _fail(breaker)
    clock.now += 5

    _fail(breaker)

    assert breaker.is_open


def test_other_errors_pass_through_and_do_not_open_it() -> None:
    breaker = CircuitBreaker("redis", (ConnectionError,), clock=Clock())

    with pytest.raises(KeyError), breaker.guard():
        raise KeyError("not an outage")

    assert not breaker.is_open
