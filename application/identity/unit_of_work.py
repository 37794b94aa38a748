"""The identity slice's unit of work: members and their credentials, in one transaction.

Identity reads members (to sign them in, and to check on each refresh that they may still have
a session) and owns the credentials: refresh tokens, API keys and service clients. It shares the
transaction machinery of ``application.unit_of_work.BaseUnitOfWork``, so the audit records and
outbox messages its changes cause are written in the same transaction as the change. The
adapters open it on the same database (or the same in-memory store) as the library's unit of
work: both slices see the same rows, each through the repositories it needs.
"""

from __future__ import annotations

from typing import Protocol

from application.identity.ports import (
    ApiKeyRepository,
    RefreshTokenRepository,
    ServiceClientRepository,
)
from application.ports import MemberRepository
from application.unit_of_work import BaseUnitOfWork


class IdentityUnitOfWork(BaseUnitOfWork):
    """``with uow: load -> change -> uow.commit()`` over members and credentials."""

    members: MemberRepository
    refresh_tokens: RefreshTokenRepository
    api_keys: ApiKeyRepository
    service_clients: ServiceClientRepository


class IdentityUnitOfWorkFactory(Protocol):
    def __call__(self) -> IdentityUnitOfWork: ...
