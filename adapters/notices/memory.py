"""A notifier that keeps what it would send (tests, and the in-memory mode)."""

from __future__ import annotations

import threading

from adapters.notices.templates import NoticeTemplates, RenderedNotice
from application.notices import Notice


class MemoryNotifier:
    def __init__(self, templates: NoticeTemplates | None = None) -> None:
        self._templates = templates or NoticeTemplates()
        self._lock = threading.Lock()
        self.sent: list[RenderedNotice] = []

    def send(self, notice: Notice) -> None:
        rendered = self._templates.render(notice)  # a template error fails here as over SMTP
        with self._lock:
            self.sent.append(rendered)
