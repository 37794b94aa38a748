"""Settings come from CIRCULATE_* variables and refuse bad values before anything starts."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.policy import Policy
from entrypoints.settings import Settings, describe_validation_error

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (only passed around, never bound)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from the defaults, whatever the developer's shell exports."""
    for name in list(os.environ):
        if name.startswith("CIRCULATE_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = Settings()

    assert settings.database_url == "sqlite:///circulate.db"
    assert settings.storage == "sql"
    assert settings.environment == "development"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.log_level == "INFO"
    assert settings.policy() == Policy()


def test_values_come_from_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCULATE_DATABASE_URL", "postgresql+psycopg://app@db/circulate")
    monkeypatch.setenv("CIRCULATE_STORAGE", "memory")
    monkeypatch.setenv("CIRCULATE_ENVIRONMENT", "test")
    monkeypatch.setenv("CIRCULATE_PORT", "9001")
    monkeypatch.setenv("CIRCULATE_HOST", ALL_INTERFACES)
    monkeypatch.setenv("CIRCULATE_LOG_LEVEL", "debug")
    monkeypatch.setenv("CIRCULATE_LOAN_PERIOD_DAYS", "14")
    monkeypatch.setenv("CIRCULATE_FINE_PER_DAY_CENTS", "10")
    monkeypatch.setenv("PORT", "1")  # unprefixed variables are not ours

    settings = Settings()

    assert settings.database_url == "postgresql+psycopg://app@db/circulate"
    assert settings.storage == "memory"
    assert settings.environment == "test"
    assert (settings.host, settings.port) == (ALL_INTERFACES, 9001)
    assert settings.log_level == "DEBUG"
    assert settings.loan_period_days == 14
    assert settings.fine_per_day_cents == 10


def test_policy_carries_every_policy_setting() -> None:
    settings = Settings(
        loan_period_days=10,
        max_open_loans=3,
        max_renewals=1,
        fine_per_day_cents=50,
        fine_cap_cents=2000,
        debt_limit_cents=300,
        max_holds=2,
        pickup_window_days=3,
        membership_period_days=30,
        timezone="Europe/Paris",
    )

    assert settings.policy() == Policy(
        loan_period=timedelta(days=10),
        max_open_loans=3,
        max_renewals=1,
        fine_per_day_cents=50,
        fine_cap_cents=2000,
        debt_limit_cents=300,
        max_holds=2,
        pickup_window=timedelta(days=3),
        membership_period=timedelta(days=30),
        time_zone="Europe/Paris",
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CIRCULATE_STORAGE", "redis"),
        ("CIRCULATE_ENVIRONMENT", "staging"),
        ("CIRCULATE_PORT", "0"),
        ("CIRCULATE_PORT", "65536"),
        ("CIRCULATE_PORT", "eighty"),
        ("CIRCULATE_LOG_LEVEL", "LOUD"),
        ("CIRCULATE_LOAN_PERIOD_DAYS", "0"),
        ("CIRCULATE_PICKUP_WINDOW_DAYS", "-1"),
        ("CIRCULATE_MEMBERSHIP_PERIOD_DAYS", "0"),
        ("CIRCULATE_MAX_OPEN_LOANS", "-1"),
        ("CIRCULATE_FINE_PER_DAY_CENTS", "2.5"),
        ("CIRCULATE_DATABASE_URL", ""),
        ("CIRCULATE_TIMEZONE", "Mars/Olympus_Mons"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError) as caught:
        Settings()

    message = describe_validation_error(caught.value)
    assert variable in message
    assert "\n" not in message


def test_memory_storage_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="not allowed in production"):
        Settings(storage="memory", environment="production")


def test_unknown_keyword_settings_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(loan_days=3)  # type: ignore[call-arg]


def test_settings_are_immutable() -> None:
    settings = Settings()

    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_the_database_url_stays_out_of_reprs_and_error_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql+psycopg://app:hunter2@db/circulate"
    assert "hunter2" not in repr(Settings(database_url=url))

    monkeypatch.setenv("CIRCULATE_PORT", "hunter2")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "hunter2" not in describe_validation_error(caught.value)


@pytest.mark.parametrize(
    ("storage", "database_url", "redis_url", "expected"),
    [
        # Another process may write PostgreSQL unseen; only a shared cache can see those writes.
        ("sql", "postgresql://db.example.org/circulate", None, "none"),
        ("sql", "postgresql://db.example.org/circulate", "redis://127.0.0.1:6379/0", "redis"),
        # A SQLite file tells every commit of every process (its data version).
        ("sql", "sqlite:///circulate.db", None, "sqlite"),
        ("sql", "sqlite:///circulate.db", "redis://127.0.0.1:6379/0", "redis"),
        ("sql", "sqlite://", None, "none"),
        # Nothing outside this process can write in-memory storage.
        ("memory", "sqlite:///circulate.db", None, "memory"),
    ],
)
def test_the_automatic_cache_is_never_private_over_a_shared_database(
    storage: str, database_url: str, redis_url: str | None, expected: str
) -> None:
    settings = Settings(storage=storage, database_url=database_url, redis_url=redis_url)  # type: ignore[arg-type]
    assert settings.cache_kind() == expected
