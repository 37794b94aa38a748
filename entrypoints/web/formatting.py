"""How pages write dates and money: in the library's time zone, cents as decimal amounts.

Filters for the templates (``|day``, ``|moment``, ``|amount``); parsing an amount typed at the
desk back into cents is here too, so both directions agree.
"""

from __future__ import annotations

import re
from datetime import datetime

from dependency_injector.wiring import Provide, inject
from flask import Flask

from domain.calendar import time_zone
from domain.errors import InvalidValue
from entrypoints.container import Container
from entrypoints.settings import Settings

_AMOUNT = re.compile(r"^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*$")


@inject
def _local(instant: datetime, settings: Settings = Provide[Container.settings]) -> datetime:
    return instant.astimezone(time_zone(settings.timezone))


def day(instant: datetime | None) -> str:
    """``Fri 25 Dec 2026``, the library's local date."""
    return "" if instant is None else _local(instant).strftime("%a %d %b %Y")


def moment(instant: datetime | None) -> str:
    """``Fri 25 Dec 2026, 17:05``, the library's local time."""
    return "" if instant is None else _local(instant).strftime("%a %d %b %Y, %H:%M")


def amount(cents: int) -> str:
    """``12.50`` for 1250 cents; ``-0.75`` for a credit."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def parse_amount(text: str, field: str = "amount") -> int:
    """Cents of an amount typed as ``12.50`` (or ``12,50``, or ``12``); positive."""
    found = _AMOUNT.match(text or "")
    if found is None:
        raise InvalidValue(field, "enter an amount such as 2.50")
    cents = int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))
    if cents <= 0:
        raise InvalidValue(field, "enter an amount greater than zero")
    return cents


def register(app: Flask) -> None:
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(amount, "amount")
