"""How the member pages write dates: in the library's time zone, as a person reads them.

Template globals of this blueprint only (``local_day``, ``local_time``), so they name nothing
the other screens define.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint

from domain.calendar import time_zone
from entrypoints.http.context import get_container


def _local(instant: datetime) -> datetime:
    return instant.astimezone(time_zone(get_container().settings().timezone))


def local_day(instant: datetime | None) -> str:
    """``Fri 25 Dec 2026`` in the library's time zone."""
    return "" if instant is None else _local(instant).strftime("%a %d %b %Y")


def local_time(instant: datetime | None) -> str:
    """``Fri 25 Dec 2026, 17:05`` in the library's time zone."""
    return "" if instant is None else _local(instant).strftime("%a %d %b %Y, %H:%M")


def _globals() -> dict[str, Any]:
    return {"local_day": local_day, "local_time": local_time}


def register(bp: Blueprint) -> None:
    bp.context_processor(_globals)
