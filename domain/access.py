"""Who may do what: scopes, the scopes of each role, the caller (``Principal``) and the rules.

Roles rank member < librarian < admin and are expressed as scopes, so that members, API keys
and service clients are all checked the same way: an operation names the scope it needs, and
ownership narrows what a plain member may touch to their own records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import AuthenticationRequired, InsufficientScope, MemberNotFound, NotFound
from domain.members import Role


class Scope(StrEnum):
    BOOKS_READ = "books:read"
    BOOKS_WRITE = "books:write"
    LOANS_READ = "loans:read"  # loans and holds
    LOANS_WRITE = "loans:write"
    MEMBERS_READ = "members:read"  # profiles and accounts
    MEMBERS_WRITE = "members:write"
    ADMIN = "admin"  # roles, API keys, service clients


_MEMBER_SCOPES = frozenset(
    {
        Scope.BOOKS_READ,
        Scope.LOANS_READ,
        Scope.LOANS_WRITE,
        Scope.MEMBERS_READ,
        Scope.MEMBERS_WRITE,
    }
)
# A member holds the same kinds of scope as a librarian but, being neither staff nor an
# integration, only over their own records (see ``can_act_on_member``).
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.MEMBER: _MEMBER_SCOPES,
    Role.LIBRARIAN: _MEMBER_SCOPES | {Scope.BOOKS_WRITE},
    Role.ADMIN: frozenset(Scope),
}


def scopes_for(role: Role) -> frozenset[Scope]:
    return ROLE_SCOPES[role]


def parse_scope(value: str) -> Scope | None:
    """The scope called ``value``, or ``None`` when there is no such scope."""
    try:
        return Scope(value)
    except ValueError:
        return None


def format_scopes(scopes: Iterable[Scope]) -> str:
    """Space-separated and sorted, as OAuth 2.0 writes a ``scope`` (RFC 6749 section 3.3)."""
    return " ".join(sorted(scope.value for scope in scopes))


class PrincipalKind(StrEnum):
    MEMBER = "member"  # signed in with email and password
    API_KEY = "api_key"  # an integration's long-lived key
    SERVICE_CLIENT = "service_client"  # an OAuth 2.0 client-credentials client


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The authenticated caller of one request."""

    kind: PrincipalKind
    id: str  # the member's, API key's or service client's id
    scopes: frozenset[Scope]
    role: Role | None = None  # members only
    # Set when the caller presented an access token: what logout revokes, and until when.
    token_id: str | None = None
    token_expires_at: datetime | None = None
    session_id: str | None = None  # the sign-in (refresh token family) a member's token is from

    @property
    def member_id(self) -> str | None:
        return self.id if self.kind is PrincipalKind.MEMBER else None

    @property
    def acts_for_everyone(self) -> bool:
        """Staff act on any member's records; so do integrations, whose scopes an admin chose."""
        if self.kind is not PrincipalKind.MEMBER:
            return True
        return self.role is not None and self.role.at_least(Role.LIBRARIAN)

    def has_scope(self, scope: Scope) -> bool:
        return scope in self.scopes


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise AuthenticationRequired("this operation needs credentials")
    return principal


def require_scope(principal: Principal | None, scope: Scope) -> Principal:
    """The caller, if it holds ``scope``; otherwise who is missing (401) or what (403)."""
    caller = require_principal(principal)
    if not caller.has_scope(scope):
        raise InsufficientScope(f"this operation needs the {scope} scope", required=scope.value)
    return caller


def can_act_on_member(principal: Principal, member_id: str) -> bool:
    return principal.acts_for_everyone or principal.member_id == member_id


def require_member_access(
    principal: Principal, member_id: str, *, hidden_as: NotFound | None = None
) -> None:
    """Refuse a member's records to anyone but that member, staff and integrations.

    The refusal is the not-found error the record would raise if it did not exist
    (``hidden_as``, by default ``MemberNotFound``): another member's records and missing ones
    look the same, so asking reveals nothing about who is registered or what they borrow.
    """
    if not can_act_on_member(principal, member_id):
        raise hidden_as if hidden_as is not None else MemberNotFound(member_id)
