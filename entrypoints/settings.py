"""Settings, read from ``CIRCULATE_*`` environment variables and validated once at start-up."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.notices import ReminderSchedule
from domain.calendar import time_zone
from domain.cards import DEFAULT_CARD_NUMBER_FORMAT, CardNumberFormat
from domain.errors import InvalidValue
from domain.ledger import FoundReplacementFee
from domain.policy import Policy

if TYPE_CHECKING:
    from adapters.notices.smtp import SmtpSettings

ENV_PREFIX = "CIRCULATE_"

Storage = Literal["sql", "memory"]
RevocationBackend = Literal["database", "redis"]
Environment = Literal["development", "production", "test"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["json", "console"]
CacheBackend = Literal["auto", "memory", "redis", "none"]
SmtpSecurity = Literal["none", "starttls", "ssl"]
WorkerMode = Literal["auto", "in-process", "off"]

DEFAULT_DATABASE_URL = "sqlite:///circulate.db"
# Values that mark a secret nobody has set yet (compared ignoring case).
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "password", "placeholder", "example", "xxx"}
)

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
        DEFAULT_DATABASE_URL,
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
    timezone: str = Field(
        "UTC",
        min_length=1,
        max_length=64,
        description="The library's IANA time zone: loans fall due at the end of its days.",
    )
    lost_after_days_overdue: int = Field(
        0,
        ge=0,
        le=_TEN_YEARS,
        description="The daily job ages loans this many days overdue to lost; 0: never.",
    )
    found_replacement_fee: FoundReplacementFee = Field(
        FoundReplacementFee.REFUND,
        description="A lost copy found: 'refund' gives back what was paid of its replacement "
        "fee and cancels the rest; 'cancel' cancels only what is unpaid.",
    )

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
    self_service_by_book: bool = Field(
        False,
        description="Members may borrow by book (the server picks the copy), not only the copy "
        "they scanned; staff always may.",
    )

    # --- the desk ---
    card_number_format: str = Field(
        DEFAULT_CARD_NUMBER_FORMAT,
        max_length=16,
        description="New card numbers: PREFIX{DIGITS}, a serial of DIGITS digits, a check digit.",
    )

    # --- the web desk and member pages (entrypoints/web) ---
    web_idle_timeout_minutes: int = Field(
        30,
        ge=1,
        le=24 * 60,
        description="A browser session unused this long is signed out (server-side).",
    )

    # --- rate limits (http/middleware/limits.py): "N per second|minute|hour|day", ";" between ---
    rate_limit_enabled: bool = Field(True, description="Off only where limits get in the way.")
    rate_limit_default: str = Field(
        "300 per minute", description="Each caller (principal, else address), across the API."
    )
    rate_limit_auth_per_ip: str = Field(
        "20 per minute; 200 per hour",
        description="Sign-in, refresh and client-credentials requests from one address.",
    )
    rate_limit_auth_per_account: str = Field(
        "10 per minute; 50 per hour",
        description="Sign-in attempts for one email (token requests for one client id) from "
        "one address.",
    )
    rate_limit_auth_account_ceiling: str = Field(
        "100 per minute; 1000 per hour",
        description="Sign-in attempts for one email (token requests for one client id) from "
        "every address together.",
    )

    @field_validator(
        "rate_limit_default",
        "rate_limit_auth_per_ip",
        "rate_limit_auth_per_account",
        "rate_limit_auth_account_ceiling",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parsed = parse_many(value)
        except ValueError:
            parsed = []
        if not parsed:
            raise ValueError(f"{value!r} is not a rate limit such as '300 per minute'")
        return value

    # --- operations (logs, metrics, caching, HTTP hardening, gunicorn) ---
    log_format: LogFormat | None = Field(
        None, description="'json' or 'console'; default json in production, console otherwise."
    )
    workers: int = Field(2, ge=1, le=64, description="gunicorn worker processes.")
    threads: int = Field(4, ge=1, le=256, description="Threads per gunicorn worker.")
    timeout_seconds: int = Field(30, ge=1, le=3600, description="A silent worker is restarted.")
    graceful_timeout_seconds: int = Field(30, ge=0, le=3600)
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed by CORS; empty: no CORS headers at all."
    )
    proxy_hops: int = Field(
        0, ge=0, le=10, description="Trusted proxies in front (X-Forwarded-* headers honoured)."
    )
    trusted_hosts: str = Field(
        "",
        description="Comma-separated host names the API answers to (others get 400), which its "
        "links may then name; empty: any host, and links are paths without one.",
    )
    cache_backend: CacheBackend = "auto"
    cache_ttl_seconds: int = Field(300, ge=1, le=86_400)
    credential_cache_seconds: int = Field(
        5,
        ge=0,
        le=60,
        description="How long a checked API key is trusted without reading it again; without "
        "Redis, the longest another process may still accept a key revoked elsewhere. 0: off.",
    )
    metrics_token: SecretStr | None = Field(
        None, description="When set, GET /metrics needs 'Authorization: Bearer <token>'."
    )

    # --- notices and the worker ---
    smtp_host: str | None = Field(
        None, description="SMTP server for notices; unset: notices wait in the outbox."
    )
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_security: SmtpSecurity = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = Field("library@localhost", min_length=3, max_length=254)
    notice_templates_dir: Path | None = Field(
        None, description="Directory whose templates replace the bundled ones of the same name."
    )
    language: str = Field(
        "en",
        min_length=2,
        max_length=35,
        description="Language of notices: templates of <dir>/<language>/ first, dates in it.",
    )
    due_soon_days: int = Field(3, ge=0, le=60)
    overdue_notice_interval_days: int = Field(7, ge=1, le=365)
    overdue_notice_opt_out: bool = Field(
        False, description="Let members turn overdue notices off (receipts are always optional)."
    )
    hold_expiry_notice_hours: int = Field(
        24, ge=1, le=24 * 14, description="Warn a member this long before a hold's pickup deadline."
    )
    outbox_retention_days: int = Field(
        30, ge=1, le=3650, description="Delivered and cancelled messages are purged after this."
    )
    worker_poll_seconds: float = Field(5.0, gt=0, le=3600)
    worker_lease_seconds: int = Field(300, ge=1, le=86_400)
    webhook_allow_private: bool = Field(
        False, description="Let webhooks reach loopback, link-local and private addresses."
    )
    loan_retention_days: int | None = Field(
        None,
        ge=1,
        le=_TEN_YEARS,
        description="Loans returned longer ago than this stop naming their borrower (the "
        "'loans-anonymise' job); unset: kept for good.",
    )
    worker_in_serve: WorkerMode = Field(
        "auto",
        description="Whether 'circulate serve' runs the worker in its own process: 'auto' does "
        "on the SQLite default (a fresh clone needs nothing more), never under gunicorn.",
    )

    @field_validator("card_number_format")
    @classmethod
    def _card_number_format(cls, value: str) -> str:
        try:
            CardNumberFormat.parse(value)
        except InvalidValue as error:
            raise ValueError(error.message) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            time_zone(value)
        except InvalidValue as error:
            raise ValueError(error.message) from None
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from babel import Locale, UnknownLocaleError  # with the notice machinery, when used

        try:
            Locale.parse(value.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            raise ValueError(f"{value!r} is not a language such as 'en' or 'fr'") from None
        return value

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
        if self.cache_backend == "redis" and self.redis_url is None:
            raise ValueError("cache_backend 'redis' needs CIRCULATE_REDIS_URL")
        for origin in self.cors_origin_list():
            if origin == "*" or not re.fullmatch(r"https?://[^/\s*]+", origin):
                raise ValueError(
                    f"cors_origins: {origin!r} is not an origin (scheme://host[:port]); "
                    "list each allowed origin, wildcards are refused"
                )
        return self

    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "console"

    def cache_kind(self) -> str:
        """Where catalogue reads are cached: ``redis``, ``memory`` (this process), ``sqlite``
        (this process, its generation read from the SQLite file) or ``none``.

        ``auto`` is Redis when one is configured. Without Redis it caches in this process when
        this process can tell every write that matters: in-memory storage, which no other
        process can write, and a SQLite file, whose data version changes with every commit of
        any process (``adapters.sqlalchemy.data_version``). Over PostgreSQL without Redis,
        another process (a CLI command, another worker) may write at any moment unseen, and a
        private cache could then serve a stale read: none.
        """
        if self.cache_backend != "auto":
            return self.cache_backend
        if self.redis_url is not None:
            return "redis"
        if self.storage == "memory":
            return "memory"
        # Here rather than at the top: the settings are read by commands that load no database.
        from sqlalchemy.engine import make_url

        from adapters.sqlalchemy.engine import is_memory_sqlite

        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and not is_memory_sqlite(url):
            return "sqlite"
        return "none"

    def notifier_kind(self) -> str:
        """How notices go out: ``smtp`` once a server is set; ``memory`` (kept in the process)
        with in-memory storage; otherwise ``none``, and they wait in the outbox."""
        if self.smtp_host:
            return "smtp"
        return "memory" if self.storage == "memory" else "none"

    def worker_in_this_process(self) -> bool:
        """Whether the development server runs the worker in a thread of its own process."""
        if self.worker_in_serve != "auto":
            return self.worker_in_serve == "in-process"
        return self.storage == "memory" or self.database_url.startswith("sqlite")

    def worker_lease(self) -> timedelta:
        return timedelta(seconds=self.worker_lease_seconds)

    def reminder_schedule(self) -> ReminderSchedule:
        return ReminderSchedule(
            due_soon=timedelta(days=self.due_soon_days),
            overdue_every=timedelta(days=self.overdue_notice_interval_days),
        )

    def loan_retention(self) -> timedelta | None:
        days = self.loan_retention_days
        return None if days is None else timedelta(days=days)

    def hold_expiry_notice(self) -> timedelta:
        return timedelta(hours=self.hold_expiry_notice_hours)

    def outbox_retention(self) -> timedelta:
        return timedelta(days=self.outbox_retention_days)

    def smtp_settings(self) -> SmtpSettings:
        from adapters.notices.smtp import SmtpSettings  # with the mail machinery, when used

        return SmtpSettings(
            host=self.smtp_host or "localhost",
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            sender=self.mail_from,
        )

    def trusted_host_list(self) -> list[str]:
        return [host.strip().lower() for host in self.trusted_hosts.split(",") if host.strip()]

    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def production_problems(self) -> list[str]:
        """What keeps these settings from serving in production (empty when nothing does).

        Checked when a server starts, not when settings load: ``circulate keys rotate`` must
        work in production before any key exists.
        """
        problems = []
        if self.database_url == DEFAULT_DATABASE_URL:
            problems.append("CIRCULATE_DATABASE_URL is the default SQLite file")
        password = _url_password(self.database_url)
        if password is not None and password.lower() in PLACEHOLDER_SECRETS:
            problems.append("CIRCULATE_DATABASE_URL has a placeholder password")
        if self.redis_url is not None:
            password = _url_password(self.redis_url)
            if password is not None and password.lower() in PLACEHOLDER_SECRETS:
                problems.append("CIRCULATE_REDIS_URL has a placeholder password")
        if self.signing_keys is not None:
            if self.signing_keys.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                problems.append("CIRCULATE_SIGNING_KEYS is a placeholder")
        elif not Path(self.signing_keys_file).is_file():
            problems.append(
                f"no signing keys: set CIRCULATE_SIGNING_KEYS or create "
                f"{self.signing_keys_file} with 'circulate keys rotate'"
            )
        smtp_password = self.smtp_password.get_secret_value() if self.smtp_password else ""
        if smtp_password.lower() in PLACEHOLDER_SECRETS:
            problems.append("CIRCULATE_SMTP_PASSWORD is a placeholder")
        if self.metrics_token is not None and self.metrics_token.get_secret_value():
            token = self.metrics_token.get_secret_value()
            if token.lower() in PLACEHOLDER_SECRETS or len(token) < 16:
                problems.append("CIRCULATE_METRICS_TOKEN is a placeholder or shorter than 16")
        return problems

    def web_idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.web_idle_timeout_minutes)

    def access_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self.access_token_ttl_seconds)

    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.refresh_token_ttl_days)

    def credential_generation_kind(self) -> str:
        """Where revocations of API keys are announced to the credential cache: ``redis``
        (every process sharing it) when one is configured, else ``memory`` (this process)."""
        return "redis" if self.redis_url is not None else "memory"

    def revocation_backend(self) -> str:
        """Where revoked tokens are kept: with the data in memory mode, else as configured."""
        if self.storage == "memory":
            return "memory"
        return "redis" if self.revocation_store == "redis" else "sql"

    def card_numbers(self) -> CardNumberFormat:
        return CardNumberFormat.parse(self.card_number_format)

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
            time_zone=self.timezone,
            lost_after_days_overdue=self.lost_after_days_overdue,
            found_replacement_fee=self.found_replacement_fee,
            overdue_notice_opt_out=self.overdue_notice_opt_out,
        )


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad ``CIRCULATE_*`` variable, without echoing its value."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = ENV_PREFIX + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if item["loc"] else message)
    return "invalid settings: " + "; ".join(problems)
