"""My notice preferences: receipts (opt in) and, where the library lets members choose,
overdue notices. Notices of due dates and holds always go.

The rule is the API's (``PUT /members/{id}/notice-preferences``): ``NoticeChoices.choose``
refuses to turn overdue notices off unless the library allows it
(``CIRCULATE_OVERDUE_NOTICE_OPT_OUT``); the page offers that choice only where it exists.
"""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, redirect, render_template, request, url_for

from application.notices import NoticeChoices
from domain.errors import DomainError
from domain.members import NoticePreferences
from domain.policy import Policy
from entrypoints.container import Container
from entrypoints.web.audience import member_required
from entrypoints.web.my import me, outcome


@member_required
@inject
def notices(
    choices: NoticeChoices = Provide[Container.notice_choices],
    policy: Policy = Provide[Container.policy],
) -> str:
    member = choices.get(me.member_id())
    return render_template(
        "web/my/notices.html",
        member=member,
        overdue_opt_out=policy.overdue_notice_opt_out,
        outcome=outcome.take(),
    )


def _version() -> int | None:
    given = request.form.get("version", "")
    return int(given) if given.isdigit() and len(given) < 12 else None


@member_required
@inject
def choose(
    choices: NoticeChoices = Provide[Container.notice_choices],
    policy: Policy = Provide[Container.policy],
) -> Response:
    # An unticked box is not sent. Where members may not opt out the page has no such box, and
    # overdue notices stay on whatever was posted.
    overdue = "overdue" in request.form if policy.overdue_notice_opt_out else True
    wanted = NoticePreferences(receipts="receipts" in request.form, overdue=overdue)
    try:
        choices.choose(me.member_id(), wanted, expected_version=_version())
    except DomainError as refusal:
        outcome.refused(refusal)
    else:
        outcome.done("Your notice preferences are saved.")
    return redirect(url_for("web.my.notices"), 303)  # type: ignore[return-value]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/notices", "notices", notices)
    bp.add_url_rule("/notices", "choose_notices", choose, methods=["POST"])
