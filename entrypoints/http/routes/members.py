"""Members, their loans, holds and accounts."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from werkzeug.routing import BaseConverter

from application.circulation import Circulation
from application.members import MemberChanges, Membership
from application.queries import HoldFilter, LoanFilter, MemberFilter
from domain.access import Scope
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.caller import require_member_caller
from entrypoints.http.middleware.conditional import entity_etag
from entrypoints.http.middleware.idempotency import idempotent
from entrypoints.http.openapi import (
    NOT_MODIFIED,
    created,
    listed,
    no_content,
    ok,
    operation,
)
from entrypoints.http.responses.pagination import page_request, page_response
from entrypoints.http.responses.rendering import created as created_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.responses.rendering import no_content as no_content_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.loans import (
    HOLD_EXAMPLE,
    LOAN_EXAMPLE,
    RENEWALS_EXAMPLE,
    HoldOut,
    HoldPage,
    LoanOut,
    LoanPage,
    MemberHoldQuery,
    MemberLoanQuery,
    RenewalOut,
    RenewalsOut,
)
from entrypoints.schemas.members import (
    MEMBER_EXAMPLE,
    MemberCreate,
    MemberOut,
    MemberPage,
    MemberPatch,
    MemberPath,
    MemberQuery,
)

bp = APIBlueprint(
    "members",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Members", description="Members, their loans, holds and accounts.")],
)


class MemberIdConverter(BaseConverter):
    """A member id in a path: anything but ``me``, which names the caller's own record.

    Without it ``/members/me`` would also match ``/members/<member_id>`` and its PATCH and
    DELETE, so a write meant for "me" would look for a member whose id is ``me``.
    """

    regex = r"(?!me$)[^/]+"


def member_url(member_id: str) -> str:
    return f"{API_PREFIX}/members/{member_id}"


def _page_example(item: object) -> dict[str, object]:
    return {"items": [item], "page": 1, "per_page": 20, "total": 1}


@operation(
    bp,
    "GET",
    "/members",
    summary="List members",
    description="Oldest registration first. `q` matches part of the name or email; "
    "`card_number` finds the member whose card was scanned (spaces, hyphens and case do not "
    "matter).",
    replies=[listed(MemberPage, _page_example(MEMBER_EXAMPLE), "A page of members.")],
    access=access.requires(Scope.MEMBERS_READ, staff=True),
)
@inject
def list_members(query: MemberQuery, membership: Membership = Provide["membership"]) -> Response:
    found = membership.list(
        MemberFilter(
            q=query.q, card_number=query.card_number, role=query.role, status=query.status
        ),
        page_request(query),
    )
    return page_response(found, MemberOut.of, MemberPage)


@operation(
    bp,
    "POST",
    "/members",
    summary="Register a member",
    description="Register a member; emails are unique regardless of case. The membership runs "
    "one membership period unless `membership_expires_at` is given. The card number is the one "
    "given (`CARD_NUMBER_TAKEN` when another member has it) or a new one in the library's "
    "format. Members are registered by "
    "library staff (there is no self-registration); only an admin registers a librarian or an "
    "admin.",
    replies=[created(MemberOut, MEMBER_EXAMPLE, "The member was registered.")],
    errors=(409,),
    headers=("Idempotency-Key",),
    access=access.requires(Scope.MEMBERS_WRITE, staff=True),
)
@idempotent
@inject
def create_member(body: MemberCreate, membership: Membership = Provide["membership"]) -> Response:
    access.require_role_allowed(body.role)
    member = membership.register(
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        membership_expires_at=body.membership_expires_at,
        card_number=body.card_number,
    )
    return created_response(
        MemberOut.of(member), member_url(member.id), entity_etag(member.id, member.version)
    )


@operation(
    bp,
    "GET",
    "/members/me",
    summary="Get the calling member",
    description="The member the request is authenticated as (an API key or a service client "
    "is not a member: 404).",
    replies=[ok(MemberOut, MEMBER_EXAMPLE, "The calling member."), NOT_MODIFIED],
    errors=(401, 404),
    headers=("If-None-Match",),
    access=access.requires(Scope.MEMBERS_READ),
)
@inject
def get_me(membership: Membership = Provide["membership"]) -> Response:
    member = membership.get(require_member_caller())
    return conditional.read(MemberOut.of(member), entity_etag(member.id, member.version))


@operation(
    bp,
    "GET",
    "/members/<member_id:member_id>",
    summary="Get a member",
    description="One member. The password hash is never part of it.",
    replies=[ok(MemberOut, MEMBER_EXAMPLE, "The member."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=access.requires(Scope.MEMBERS_READ, owner=access.Owner.PATH),
)
@inject
def get_member(path: MemberPath, membership: Membership = Provide["membership"]) -> Response:
    member = membership.get(path.member_id)
    return conditional.read(MemberOut.of(member), entity_etag(member.id, member.version))


@operation(
    bp,
    "PATCH",
    "/members/<member_id:member_id>",
    summary="Change a member",
    description="Change the fields given, in one transaction: email, name, card number (a new "
    "card; `CARD_NUMBER_TAKEN` when another member has it), membership expiry, role, or status "
    "(`suspended` stops borrowing and holds; `active` lifts it). Members change their own name "
    "only; staff also email, card number, status and membership expiry; only admins "
    "change a role, or the account of another librarian or admin (403 `INSUFFICIENT_SCOPE`).",
    replies=[ok(MemberOut, MEMBER_EXAMPLE, "The member as changed.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.MEMBERS_WRITE, owner=access.Owner.PATH),
)
@inject
def update_member(
    path: MemberPath, body: MemberPatch, membership: Membership = Provide["membership"]
) -> Response:
    current = membership.get(path.member_id)
    changes = body.given()
    access.require_member_changes_allowed(current.id, current.role, changes.keys())
    expected = conditional.expected_version(
        path.member_id, lambda: membership.get(path.member_id).version
    )
    member = membership.update(path.member_id, MemberChanges(**changes), expected_version=expected)
    return json_response(
        MemberOut.of(member), headers={"ETag": entity_etag(member.id, member.version)}
    )


@operation(
    bp,
    "DELETE",
    "/members/<member_id:member_id>",
    summary="Remove a member",
    description="Remove the member: their name, email and password are erased and their status "
    "becomes `anonymised`, while their loans and ledger lines stay (the library's books still "
    "add up). Refused while they have loans out (`MEMBER_HAS_OPEN_LOANS`) or owe money "
    "(`MEMBER_HAS_DEBT`); their holds are cancelled and their sessions end. Removing an "
    "anonymised member again changes nothing.",
    replies=[no_content("The member was removed (anonymised).")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.MEMBERS_WRITE, staff=True),
)
@inject
def delete_member(path: MemberPath, membership: Membership = Provide["membership"]) -> Response:
    current = membership.get(path.member_id)
    access.require_staff_account_access(current.id, current.role)
    expected = conditional.expected_version(
        path.member_id, lambda: membership.get(path.member_id).version
    )
    membership.remove(path.member_id, expected_version=expected)
    return no_content_response()


@operation(
    bp,
    "POST",
    "/members/<member_id:member_id>/renewals",
    summary="Renew all of a member's loans",
    description="Try to renew each open loan of the member, each on its own: one refused "
    "renewal does not stop the others. Answers per loan whether it was renewed and, if not, "
    "the refusal's `code` and `message` (`RENEWAL_BLOCKED_BY_HOLD`, `RENEWAL_TOO_SOON`, "
    "`RENEWAL_LIMIT_REACHED`, `MEMBER_HAS_OVERDUE_LOANS`, `DEBT_LIMIT_REACHED`...).",
    replies=[ok(RenewalsOut, RENEWALS_EXAMPLE, "What happened to each loan.", etag=False)],
    access=access.requires(Scope.LOANS_WRITE, owner=access.Owner.PATH),
)
@inject
def renew_member_loans(
    path: MemberPath,
    circulation: Circulation = Provide["circulation"],
) -> Response:
    outcomes = circulation.renew_all(path.member_id)
    views = circulation.loan_views([o.loan for o in outcomes])
    return json_response(
        RenewalsOut(items=[RenewalOut.of(o, view) for o, view in zip(outcomes, views, strict=True)])
    )


@operation(
    bp,
    "GET",
    "/members/<member_id:member_id>/loans",
    summary="List a member's loans",
    description="Newest first; `status` narrows to open, overdue or returned loans.",
    replies=[listed(LoanPage, _page_example(LOAN_EXAMPLE), "A page of loans.")],
    access=access.requires(Scope.LOANS_READ, owner=access.Owner.PATH),
)
@inject
def list_member_loans(
    path: MemberPath,
    query: MemberLoanQuery,
    circulation: Circulation = Provide["circulation"],
) -> Response:
    found = circulation.list_loans(
        LoanFilter(member_id=path.member_id, state=query.status), page_request(query)
    )
    return page_response(found, LoanOut.of, LoanPage)


@operation(
    bp,
    "GET",
    "/members/<member_id:member_id>/holds",
    summary="List a member's holds",
    description="Oldest first; `status` narrows to one state.",
    replies=[listed(HoldPage, _page_example(HOLD_EXAMPLE), "A page of holds.")],
    access=access.requires(Scope.LOANS_READ, owner=access.Owner.PATH),
)
@inject
def list_member_holds(
    path: MemberPath, query: MemberHoldQuery, circulation: Circulation = Provide["circulation"]
) -> Response:
    found = circulation.list_holds(
        HoldFilter(member_id=path.member_id, status=query.status), page_request(query)
    )
    positions = circulation.positions(found.items)
    return page_response(found, lambda h: HoldOut.of(h, positions[h.id]), HoldPage)
