"""Notice templates: an administrator's files win, by language first; dates in the language."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.notices.templates import NoticeTemplates
from application.notices import DUE_SOON, OVERDUE, Notice
from entrypoints.settings import Settings

# 23:59:59 on Friday 4 December 2026 in Paris.
DUE = "2026-12-04T22:59:59+00:00"


def _notice(topic: str = DUE_SOON) -> Notice:
    return Notice(
        message_id="m-1",
        topic=topic,
        to="ada@example.org",
        name="Ada",
        context={"title": "K&R", "due_at": DUE, "fine_cents": 125050},
        time_zone="Europe/Paris",
    )


def test_english_by_default_in_the_library_s_time_zone() -> None:
    rendered = NoticeTemplates().render(_notice(OVERDUE))

    assert rendered.subject == 'Overdue: "K&R" was due on Friday 04 December 2026'
    assert "The fine so far is 1,250.50." in rendered.text
    assert '<html lang="en">' in rendered.html


def test_another_language_writes_dates_and_amounts_in_it() -> None:
    rendered = NoticeTemplates(language="fr").render(_notice(OVERDUE))

    assert rendered.subject == 'Overdue: "K&R" was due on vendredi 04 décembre 2026'
    assert "1\u202f250,50" in rendered.text
    assert '<html lang="fr">' in rendered.html


def test_an_administrator_s_templates_win_by_language_then_by_name(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "due_soon.subject.txt").write_text("À rendre le {{ due_at | local }}")
    (tmp_path / "due_soon.txt").write_text("Hello {{ name }}, by {{ due_at | local('%d/%m') }}")

    french = NoticeTemplates(tmp_path, language="fr_CA").render(_notice())
    english = NoticeTemplates(tmp_path).render(_notice())

    assert french.subject == "À rendre le vendredi 04 décembre 2026"
    assert french.text == english.text == "Hello Ada, by 04/12"
    assert english.subject == '"K&R" is due on Friday 04 December 2026'  # the bundled one
    assert "Please return or renew it" in french.html  # not overridden: bundled


def test_an_unknown_language_stops_the_process() -> None:
    with pytest.raises(ValidationError, match="not a language"):
        Settings(language="xx-nowhere")
