"""Settings, read from ``CIRCULATE_*`` environment variables and validated once at start-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import Policy

ENV_PREFIX = "CIRCULATE_"

Storage = Literal["sql", "memory"]
RevocationBackend = Literal["database", "redis"]
Environment = Literal["development", "production", "test"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

_TEN_YEARS = 3650


class Settings(BaseSettings):
    """Every knob of a Circulate process. Unknown or malformed values stop the process early."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="forbid",
        validate_default=True,
    )

    database_url: str = Field(
        "sqlite:///circulate.db",
        min_length=1,
        repr=False,  # a PostgreSQL URL may carry a password; keep it out of logs and reprs
        description="SQLAlchemy URL; the default is a SQLite file in the working directory.",
    )
    storage: Storage = Field(
        "sql", description="'sql' (database_url) or 'memory' (in-process, lost on exit)."
    )
    environment: Environment = "development"

    # --- circulation policy (see domain.policy.Policy) ---
    loan_period_days: int = Field(21, ge=1, le=_TEN_YEARS)
    max_open_loans: int = Field(5, ge=0, le=1000)
    max_renewals: int = Field(2, ge=0, le=100)
    fine_per_day_cents: int = Field(25, ge=0, le=1_000_000)
    fine_cap_cents: int = Field(1000, ge=0, le=100_000_000)
    debt_limit_cents: int = Field(500, ge=0, le=100_000_000)
    max_holds: int = Field(5, ge=0, le=1000)
    pickup_window_days: int = Field(7, ge=1, le=365)
    membership_period_days: int = Field(365, ge=1, le=_TEN_YEARS)

    # --- serving ---
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8000, ge=1, le=65535)
    log_level: LogLevel = "INFO"

    # --- identity and access ---
    token_issuer: str = Field("circulate", min_length=1, max_length=200)
    token_audience: str = Field("circulate-api", min_length=1, max_length=200)
    access_token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_days: int = Field(30, ge=1, le=365)
    signing_keys_file: str = Field(
        "circulate-keys.json",
        min_length=1,
        description="JSON key set (private keys!): created 0600 in the working directory.",
    )
    signing_keys: SecretStr | None = Field(
        None, description="The key set itself, as JSON; wins over signing_keys_file."
    )
    revocation_store: RevocationBackend = "database"
    redis_url: str | None = Field(
        None,
        min_length=1,
        repr=False,  # may carry a password
        description="Redis shared by the workers (revocations when revocation_store=redis).",
    )
    public_catalogue: bool = Field(True, description="Catalogue reads need no credentials.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.environment == "production" and self.storage == "memory":
            # In-memory storage forgets everything on restart and is not shared between workers.
            raise ValueError("storage 'memory' is not allowed in production")
        if self.revocation_store == "redis" and self.redis_url is None:
            raise ValueError("revocation_store 'redis' needs CIRCULATE_REDIS_URL")
        return self

    def access_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self.access_token_ttl_seconds)

    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.refresh_token_ttl_days)

    def revocation_backend(self) -> str:
        """Where revoked tokens are kept: with the data in memory mode, else as configured."""
        if self.storage == "memory":
            return "memory"
        return "redis" if self.revocation_store == "redis" else "sql"

    def policy(self) -> Policy:
        return Policy(
            loan_period=timedelta(days=self.loan_period_days),
            max_open_loans=self.max_open_loans,
            max_renewals=self.max_renewals,
            fine_per_day_cents=self.fine_per_day_cents,
            fine_cap_cents=self.fine_cap_cents,
            debt_limit_cents=self.debt_limit_cents,
            max_holds=self.max_holds,
            pickup_window=timedelta(days=self.pickup_window_days),
            membership_period=timedelta(days=self.membership_period_days),
        )


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad ``CIRCULATE_*`` variable, without echoing its value."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = ENV_PREFIX + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if item["loc"] else message)
    return "invalid settings: " + "; ".join(problems)
