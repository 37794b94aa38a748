"""Notice bodies from Jinja2 templates: ``<topic>.subject.txt``, ``<topic>.txt``, ``<topic>.html``.

A directory given as ``override`` is searched first, so an administrator replaces any template by
putting a file of the same name there, without touching the code; its ``<language>/`` folder
comes before it, so one directory can hold the translations of several languages. Dates are
shown in the library's time zone and language (the ``local`` filter, through Babel's CLDR data),
amounts with the ``money`` filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from application.notices import Notice


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    message_id: str
    to: str
    subject: str
    text: str
    html: str


_BUNDLED = Path(__file__).parent / "templates"
# Named formats of the ``local`` filter, as CLDR patterns: the names of days and months come
# in the notice's language. A pattern of one's own works too (``local("d MMM y")``), and so
# does a strftime format (``local("%d/%m/%Y")``, always in English).
DATE_FORMATS = {"date": "EEEE dd MMMM y", "datetime": "EEEE dd MMMM y, HH:mm"}


class NoticeTemplates:
    def __init__(self, override: Path | None = None, language: str = "en") -> None:
        self._locale = Locale.parse(language.replace("-", "_"))
        # ``fr_CA`` looks in fr_CA/ then fr/ before the untranslated templates.
        folders = list(dict.fromkeys([str(self._locale), self._locale.language]))
        roots = [override, _BUNDLED] if override is not None else [_BUNDLED]
        loaders: list[FileSystemLoader | PackageLoader] = []
        for root in roots:
            loaders.extend(FileSystemLoader(root / folder) for folder in folders)
            if root is override:
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
            env.filters["money"] = self._money

    def _money(self, cents: int | None) -> str:
        amount = Decimal(cents or 0) / 100  # exact: cents never pass through a float
        return format_decimal(amount, format="#,##0.00", locale=self._locale)

    def render(self, notice: Notice) -> RenderedNotice:
        zone = ZoneInfo(notice.time_zone)

        def local(value: str, fmt: str = "date") -> str:
            moment = datetime.fromisoformat(value).astimezone(zone)
            if "%" in fmt:
                return moment.strftime(fmt)
            pattern = DATE_FORMATS.get(fmt, fmt)
            return format_datetime(moment, pattern, tzinfo=zone, locale=self._locale)

        context = {
            "name": notice.name,
            "email": notice.to,
            "language": self._locale.language,
            **notice.context,
        }
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
