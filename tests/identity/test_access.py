"""Roles as scopes, the caller, and the ownership rules."""

from __future__ import annotations

import pytest

from domain.access import (
    ROLE_SCOPES,
    Principal,
    PrincipalKind,
    Scope,
    can_act_on_member,
    format_scopes,
    parse_scope,
    require_member_access,
    require_scope,
    scopes_for,
)
from domain.errors import (
    AuthenticationRequired,
    ErrorKind,
    InsufficientScope,
    LoanNotFound,
    MemberNotFound,
)
from domain.members import Role


def member(role: Role = Role.MEMBER, member_id: str = "m-1") -> Principal:
    return Principal(kind=PrincipalKind.MEMBER, id=member_id, role=role, scopes=scopes_for(role))


def integration(kind: PrincipalKind, *scopes: Scope) -> Principal:
    return Principal(kind=kind, id="k-1", scopes=frozenset(scopes))


def test_each_role_holds_at_least_the_scopes_of_the_roles_below() -> None:
    assert ROLE_SCOPES[Role.MEMBER] < ROLE_SCOPES[Role.LIBRARIAN] < ROLE_SCOPES[Role.ADMIN]
    assert ROLE_SCOPES[Role.ADMIN] == frozenset(Scope)
    assert Scope.BOOKS_WRITE not in ROLE_SCOPES[Role.MEMBER]
    assert Scope.ADMIN not in ROLE_SCOPES[Role.LIBRARIAN]


def test_scopes_have_the_names_clients_send() -> None:
    assert {scope.value for scope in Scope} == {
        "books:read",
        "books:write",
        "loans:read",
        "loans:write",
        "members:read",
        "members:write",
        "admin",
    }
    assert parse_scope("loans:write") is Scope.LOANS_WRITE
    assert parse_scope("LOANS:WRITE") is None  # scopes are case-sensitive (RFC 6749 3.3)
    assert format_scopes([Scope.LOANS_READ, Scope.ADMIN]) == "admin loans:read"


def test_no_caller_is_authentication_required_and_a_missing_scope_is_forbidden() -> None:
    with pytest.raises(AuthenticationRequired) as missing:
        require_scope(None, Scope.BOOKS_READ)
    assert (missing.value.code, missing.value.kind) == (
        "AUTHENTICATION_REQUIRED",
        ErrorKind.UNAUTHENTICATED,
    )

    with pytest.raises(InsufficientScope) as lacking:
        require_scope(member(), Scope.BOOKS_WRITE)
    assert (lacking.value.code, lacking.value.kind) == ("INSUFFICIENT_SCOPE", ErrorKind.FORBIDDEN)
    assert lacking.value.details == {"required": "books:write"}

    librarian = member(Role.LIBRARIAN)
    assert require_scope(librarian, Scope.BOOKS_WRITE) is librarian


@pytest.mark.parametrize(
    ("principal", "own", "others"),
    [
        (member(Role.MEMBER), True, False),
        (member(Role.LIBRARIAN), True, True),
        (member(Role.ADMIN), True, True),
        (integration(PrincipalKind.API_KEY, Scope.LOANS_READ), False, True),
        (integration(PrincipalKind.SERVICE_CLIENT, Scope.LOANS_READ), False, True),
    ],
)
def test_members_act_on_their_own_records_staff_and_integrations_on_anyones(
    principal: Principal, own: bool, others: bool
) -> None:
    assert can_act_on_member(principal, "m-1") is (own or others)
    assert can_act_on_member(principal, "m-2") is others


def test_another_members_records_look_exactly_like_missing_ones() -> None:
    with pytest.raises(MemberNotFound) as hidden:
        require_member_access(member(), "m-2")
    assert str(hidden.value) == str(MemberNotFound("m-2"))
    assert hidden.value.details == MemberNotFound("m-2").details

    with pytest.raises(LoanNotFound):
        require_member_access(member(), "m-2", hidden_as=LoanNotFound("loan-9"))
    require_member_access(member(), "m-1")
    require_member_access(member(Role.LIBRARIAN), "m-2")
