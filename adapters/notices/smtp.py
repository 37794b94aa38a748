"""Email over SMTP (``smtplib``): plain text with an HTML alternative.

The ``Message-ID`` is made from the outbox message's id, so a notice delivered twice (a worker
died after sending, before recording it) carries the same id both times.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from adapters.notices.templates import NoticeTemplates
from application.notices import Notice


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 25
    security: str = "none"  # none, starttls or ssl
    username: str | None = None
    password: str | None = None
    sender: str = "library@localhost"
    timeout: float = 30.0


class SmtpNotifier:
    def __init__(self, settings: SmtpSettings, templates: NoticeTemplates | None = None) -> None:
        self._settings = settings
        self._templates = templates or NoticeTemplates()

    def send(self, notice: Notice) -> None:
        rendered = self._templates.render(notice)
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = rendered.to
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(usegmt=True)
        domain = self._settings.sender.rpartition("@")[2] or "circulate"
        message["Message-ID"] = f"<{rendered.message_id}@{domain}>"
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        s = self._settings
        if s.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with client:
            if s.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if s.username:
                client.login(s.username, s.password or "")
            client.send_message(message)
