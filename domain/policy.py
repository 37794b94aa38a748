"""The circulation policy: every number a library may tune, with sensible defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from domain.errors import InvalidValue
from domain.ledger import FoundReplacementFee
from domain.loans import started_days_late


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    loan_period: timedelta = timedelta(days=21)
    max_open_loans: int = 5
    max_renewals: int = 2
    fine_per_day_cents: int = 25
    fine_cap_cents: int = 1000
    debt_limit_cents: int = 500
    max_holds: int = 5
    pickup_window: timedelta = timedelta(days=7)
    membership_period: timedelta = timedelta(days=365)
    time_zone: str = "UTC"  # the library's IANA time zone: loans fall due at its day's end
    # A loan this many days overdue is aged to lost by the daily job; 0: never.
    lost_after_days_overdue: int = 0
    found_replacement_fee: FoundReplacementFee = FoundReplacementFee.REFUND
    overdue_notice_opt_out: bool = False  # whether members may turn overdue notices off

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, timedelta):
                if value <= timedelta(0):
                    raise InvalidValue(field.name, f"{field.name} must be positive")
            elif isinstance(value, int) and value < 0:
                raise InvalidValue(field.name, f"{field.name} must not be negative")

    # The loan terms a rule sets that the policy settings never had (see ``domain.rules``).
    @property
    def renewal_period(self) -> timedelta:
        return self.loan_period

    @property
    def grace_days(self) -> int:
        return 0

    def overdue_days(self, due_at: datetime, until: datetime) -> int:
        return started_days_late(due_at, until)
