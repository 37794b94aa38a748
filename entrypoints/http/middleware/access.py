"""Who may call each route: one declared rule per endpoint, enforced before any view runs.

Every route states its rule where it is declared (``operation(..., access=...)``) or, for the
few routes that are not API operations (probes, metrics, documentation), in ``guard.py``.
``enforce`` runs before every view and refuses a route that has no rule: a route added without
one is closed, and ``tests/api/test_api_access.py`` fails until it gets one.

A rule names the scope the operation needs and narrows it:

- ``public_catalogue``: no credentials needed while the ``public_catalogue`` setting is on;
- ``staff``: only callers who act for every member (librarians, admins, API keys and service
  clients, whose scopes an admin chose), not a member acting for themselves;
- ``owner``: where the member the request concerns is named (path, body or query). A member may
  only name themselves; naming anyone else is answered exactly as an unknown member would be
  (404 ``MEMBER_NOT_FOUND``), so asking reveals nothing about who is registered. ``RECORD``
  marks operations on a loan or hold by id: the view loads it and calls ``require_record_owner``.

Refusals: 401 (no, or refused, credentials; ``WWW-Authenticate`` says how to authenticate), 403
``INSUFFICIENT_SCOPE`` (a known caller without the right), 404 (another member's records).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any

from flask import request

from domain.access import Principal, Scope, require_member_access, require_scope
from domain.errors import (
    AuthenticationRequired,
    InsufficientScope,
    MemberNotFound,
    NotFound,
)
from domain.members import Role
from entrypoints.http.middleware.caller import credential_refusal, current_caller, require_caller
from entrypoints.http.request_context import current_request
from entrypoints.logs import get_logger

log = get_logger("circulate.access")

NO_RULE = "NO_ACCESS_RULE"


class Owner(Enum):
    PATH = "path"  # the ``member_id`` path parameter
    BODY = "body"  # ``member_id`` in the JSON body
    QUERY = "query"  # an optional ``member_id`` query parameter (lists force it for members)
    RECORD = "record"  # a loan or hold by id: the view checks whose it is


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """What a caller needs to call one endpoint."""

    scope: Scope | None = None  # None: no scope (open, or any authenticated caller)
    authenticated: bool = True  # False: anyone, with or without credentials
    public_catalogue: bool = False  # anyone while the catalogue is public
    staff: bool = False
    owner: Owner | None = None
    reads_credentials: bool = True  # False: the Authorization header is not ours to read
    rate_limited: bool = True


# --- the kinds of rule ---------------------------------------------------------------------


def requires(scope: Scope, *, owner: Owner | None = None, staff: bool = False) -> Rule:
    """Callers holding ``scope``; a member only for their own records (``owner``), or not at
    all (``staff``)."""
    return Rule(scope=scope, owner=owner, staff=staff)


def catalogue_read(*, owner: Owner | None = None) -> Rule:
    """Reading the catalogue: anyone while it is public, else callers with ``books:read``."""
    return Rule(scope=Scope.BOOKS_READ, public_catalogue=True, owner=owner)


def authenticated() -> Rule:
    """Any caller with valid credentials, whatever its scopes."""
    return Rule()


def open_to_all() -> Rule:
    """No credentials needed; credentials given are still checked (a bad token is a 401)."""
    return Rule(authenticated=False)


def credentials_elsewhere() -> Rule:
    """No credentials needed, and the Authorization header is not read: sign-in and refresh
    (a stale access token sent along must not stop a refresh), the client-credentials token
    endpoint (its Authorization is HTTP Basic) and the published keys."""
    return Rule(authenticated=False, reads_credentials=False)


def operations() -> Rule:
    """Probes, metrics and documentation: no credentials read, and no rate limit."""
    return Rule(authenticated=False, reads_credentials=False, rate_limited=False)


# --- the registry --------------------------------------------------------------------------

_RULES: dict[str, Rule] = {}


def register(endpoint: str, rule: Rule) -> None:
    known = _RULES.get(endpoint)
    if known is not None and known != rule:
        raise ValueError(f"endpoint {endpoint!r} already has another access rule")
    _RULES[endpoint] = rule


def rule_for(endpoint: str | None) -> Rule | None:
    return _RULES.get(endpoint) if endpoint is not None else None


# --- enforcement ---------------------------------------------------------------------------


def _member_id_named(owner: Owner) -> Any:
    if owner is Owner.PATH:
        return (request.view_args or {}).get("member_id")
    if owner is Owner.BODY:
        body = request.get_json(silent=True) if request.is_json else None
        return body.get("member_id") if isinstance(body, dict) else None
    if owner is Owner.QUERY:
        return request.args.get("member_id")
    return None


def check(rule: Rule, caller: Principal | None, *, public_catalogue: bool) -> None:
    """Raise the refusal ``rule`` gives ``caller`` (``None``: anonymous), if any.
    ``public_catalogue``: whether the library lets anyone read its catalogue."""
    if rule.public_catalogue and caller is None and public_catalogue:
        if rule.owner is Owner.QUERY and _member_id_named(rule.owner) is not None:
            # Whether some member could borrow is that member's business, not the public's.
            raise AuthenticationRequired("asking about a member needs credentials")
        return
    if not rule.authenticated and rule.scope is None:
        return
    caller = require_caller() if caller is None else caller
    if rule.scope is not None and not (rule.public_catalogue and public_catalogue):
        require_scope(caller, rule.scope)
    if rule.staff and not caller.acts_for_everyone:
        raise InsufficientScope("this operation is for library staff", required="staff")
    if rule.owner is not None and rule.owner is not Owner.RECORD:
        member_id = _member_id_named(rule.owner)
        if isinstance(member_id, str):
            require_member_access(caller, member_id)


def enforcer(*, public_catalogue: bool) -> Callable[[], None]:
    """The ``before_request`` hook that refuses what the endpoint's rule does not allow."""

    def enforce() -> None:
        _enforce(public_catalogue)

    return enforce


def _enforce(public_catalogue: bool) -> None:
    """Refuse what the endpoint's rule does not allow (fail closed)."""
    current = current_request()
    endpoint = current.endpoint
    if endpoint is None:
        return  # no route matched: the 404 or 405 follows
    if current.method == "OPTIONS":
        return  # CORS preflights carry no credentials, and Flask answers them without a view
    rule = _RULES.get(endpoint)
    if rule is None:
        log.error("route without an access rule refused", endpoint=endpoint)
        raise InsufficientScope("this route is closed: it has no access rule", required=NO_RULE)
    refused = credential_refusal()
    if refused is not None:
        raise refused
    try:
        check(rule, current_caller(), public_catalogue=public_catalogue)
    except InsufficientScope as refusal:
        caller = current_caller()
        log.info(
            "access refused",
            reason=refusal.code,
            required=refusal.details.get("required"),
            caller_kind=caller.kind.value if caller else None,
            caller_id=caller.id if caller else None,
        )
        raise


# --- ownership, for views ------------------------------------------------------------------


def require_record_owner(member_id: str, hidden_as: NotFound) -> None:
    """Refuse a loan or hold of another member as if it did not exist (``hidden_as``)."""
    require_member_access(require_caller(), member_id, hidden_as=hidden_as)


def visible_member(member_id: str | None) -> str | None:
    """The member a list is narrowed to: members see only their own records, whatever they
    ask for (naming another member was already refused by ``enforce``)."""
    caller = current_caller()
    if caller is None or caller.acts_for_everyone:
        return member_id
    if caller.member_id is None:  # a member principal always has a member id
        raise MemberNotFound(member_id or "me")
    if member_id is not None and member_id != caller.member_id:
        raise MemberNotFound(member_id)
    return caller.member_id


# --- lending: who may lend what to whom -----------------------------------------------------


def is_member_caller() -> bool:
    """The caller is a member acting for themselves (not staff, not an integration)."""
    caller = require_caller()
    return not caller.acts_for_everyone


def require_self_service(
    member_id: str | None,
    *,
    by_book: bool,
    self_service_by_book: bool,
    hidden_as: NotFound | None = None,
) -> None:
    """Staff lend to anyone, any way. A member borrows only for themselves (another member's
    card is answered as an unknown member), and by book (the server picks the copy) only where
    the library allows it (``self_service_by_book``): otherwise the copy in hand, by id or
    barcode."""
    caller = require_caller()
    if caller.acts_for_everyone:
        return
    if member_id is not None:
        require_member_access(caller, member_id, hidden_as=hidden_as)
    if by_book and not self_service_by_book:
        raise InsufficientScope(
            "members borrow the copy in hand (copy_id or barcode); borrowing by book_id is "
            "for library staff",
            required="staff",
        )


# --- member records: who may set which fields -------------------------------------------------

SELF_SERVICE_FIELDS = frozenset({"name", "email"})
# A member's email is changed by staff: a change a member made themselves would answer
# EMAIL_ALREADY_REGISTERED for an address someone else uses (telling them who is a member), and
# would take an address without proving it is theirs (that needs a message sent to it).
# A card number is changed by staff too: the card is issued at the desk, and a member choosing
# another member's number would learn it is taken.
STAFF_FIELDS = frozenset({"status", "membership_expires_at", "email", "card_number"})
ADMIN_FIELDS = frozenset({"role"})


def require_member_changes_allowed(
    member_id: str, member_role: Role, fields: Collection[str]
) -> None:
    """Members change their own name; staff also email, status and membership expiry; only
    admins change roles, or change or remove the account of another librarian or admin."""
    caller = require_caller()
    if ADMIN_FIELDS & set(fields):
        require_scope(caller, Scope.ADMIN)
    if STAFF_FIELDS & set(fields) and not caller.acts_for_everyone:
        raise InsufficientScope(
            "only library staff change a member's email or card number, or a membership's "
            "status or expiry",
            required="staff",
        )
    require_staff_account_access(member_id, member_role)


def require_staff_account_access(member_id: str, member_role: Role) -> None:
    """Only admins act on a staff account other than their own."""
    caller = require_caller()
    if member_role is not Role.MEMBER and caller.member_id != member_id:
        require_scope(caller, Scope.ADMIN)


def require_role_allowed(role: Role) -> None:
    """Registering a librarian or an admin is an admin's decision."""
    if role is not Role.MEMBER:
        require_scope(require_caller(), Scope.ADMIN)


# --- documentation -------------------------------------------------------------------------

BEARER_SCHEME = "bearerAuth"
API_KEY_SCHEME = "apiKeyAuth"
OAUTH_SCHEME = "clientCredentials"
CLIENT_BASIC_SCHEME = "clientBasic"

SECURITY_SCHEMES: dict[str, Any] = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A member's access token from `POST /api/v1/auth/token` (or a service "
        "client's from `POST /oauth/token`): `Authorization: Bearer <token>`.",
    },
    API_KEY_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "An integration's API key, made by an admin: "
        "`Authorization: ApiKey circ_<prefix>_<secret>`.",
    },
    OAUTH_SCHEME: {
        "type": "oauth2",
        "description": "OAuth 2.0 client credentials (RFC 6749 section 4.4) for service clients "
        "an admin registered.",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "/oauth/token",
                "scopes": {
                    Scope.BOOKS_READ.value: "Read the catalogue.",
                    Scope.BOOKS_WRITE.value: "Change the catalogue and its copies.",
                    Scope.LOANS_READ.value: "Read loans and holds.",
                    Scope.LOANS_WRITE.value: "Lend, return, renew; place and cancel holds.",
                    Scope.MEMBERS_READ.value: "Read members and their accounts.",
                    Scope.MEMBERS_WRITE.value: "Register and change members; record payments.",
                    Scope.ADMIN.value: "Roles, API keys and service clients.",
                },
            }
        },
    },
    CLIENT_BASIC_SCHEME: {
        "type": "http",
        "scheme": "basic",
        "description": "A service client's id and secret, at the token endpoint only.",
    },
}


def statuses(rule: Rule) -> set[int]:
    """The refusals a rule can answer with (documented with each operation)."""
    found = {429} if rule.rate_limited else set()
    if rule.reads_credentials:
        found.add(401)  # credentials given are checked even where none are needed
    if rule.scope is not None or rule.staff:
        found.add(403)
    if rule.owner is not None:
        found.add(404)
    return found


def security(rule: Rule) -> list[dict[str, list[str]]] | None:
    """The operation's OpenAPI ``security``: ``None`` where no credentials are read."""
    if not rule.authenticated:
        return None
    scopes = [rule.scope.value] if rule.scope is not None else []
    required = [{BEARER_SCHEME: scopes}, {API_KEY_SCHEME: scopes}, {OAUTH_SCHEME: scopes}]
    return [{}, *required] if rule.public_catalogue else required


def describe(rule: Rule) -> str:
    """One sentence on who may call, for the operation's description."""
    if not rule.authenticated:
        return "anyone; no credentials needed."
    needs = f"the `{rule.scope.value}` scope" if rule.scope is not None else "any valid credentials"
    text = f"needs {needs}"
    if rule.public_catalogue:
        text = f"anyone while the catalogue is public (the default); otherwise {text}"
    if rule.staff:
        text += ", and library staff (librarian or admin) or an integration, not a member"
    elif rule.owner is Owner.QUERY:
        text += "; members see only their own records (the `member_id` filter is theirs)"
    elif rule.owner is not None:
        text += "; a member only for themselves (another member's records answer 404)"
    return text + "."
