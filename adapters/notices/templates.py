"""Notice bodies from Jinja2 templates: ``<topic>.subject.txt``, ``<topic>.txt``, ``<topic>.html``.

A directory given as ``override`` is searched first, so an administrator replaces any template by
putting a file of the same name there, without touching the code. Dates are shown in the
library's time zone (the ``local`` filter), amounts with the ``money`` filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from application.notices import Notice


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    message_id: str
    to: str
    subject: str
    text: str
    html: str


def _money(cents: int | None) -> str:
    cents = cents or 0
    return f"{cents // 100}.{cents % 100:02d}"


class NoticeTemplates:
    def __init__(self, override: Path | None = None) -> None:
        loaders: list[FileSystemLoader | PackageLoader] = []
        if override is not None:
            loaders.append(FileSystemLoader(override))
        loaders.append(PackageLoader("adapters.notices", "templates"))
        self._text = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=False,  # noqa: S701 (plain text, never HTML)
        )
        self._html = Environment(
            loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=True
        )
        for env in (self._text, self._html):
            env.filters["money"] = _money

    def render(self, notice: Notice) -> RenderedNotice:
        zone = ZoneInfo(notice.time_zone)

        def local(value: str, fmt: str = "%A %d %B %Y") -> str:
            return datetime.fromisoformat(value).astimezone(zone).strftime(fmt)

        context = {"name": notice.name, "email": notice.to, **notice.context}
        for env in (self._text, self._html):
            env.filters["local"] = local
        subject = self._text.get_template(f"{notice.topic}.subject.txt").render(context)
        return RenderedNotice(
            message_id=notice.message_id,
            to=notice.to,
            subject=" ".join(subject.split()),  # one line, whatever the template's layout
            text=self._text.get_template(f"{notice.topic}.txt").render(context),
            html=self._html.get_template(f"{notice.topic}.html").render(context),
        )
