"""Identity's SQL unit of work: members and credentials, over the library's database.

It takes the same session factory as the library's ``SqlUnitOfWork`` (so the same engine and
the same rows), and the transaction machinery of ``SqlTransaction``: an audit record or an
outbox message caused by a credential change is written in that change's transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from adapters.sqlalchemy.identity import (
    SqlApiKeyRepository,
    SqlRefreshTokenRepository,
    SqlServiceClientRepository,
)
from adapters.sqlalchemy.repositories import SqlMemberRepository
from adapters.sqlalchemy.unit_of_work import SqlTransaction
from application.identity.unit_of_work import IdentityUnitOfWork
from application.unit_of_work import ChangeTracker


class SqlIdentityUnitOfWork(SqlTransaction, IdentityUnitOfWork):
    def _bind(self, tracker: ChangeTracker, session: Session) -> None:
        self.members = SqlMemberRepository(tracker, session)
        self.refresh_tokens = SqlRefreshTokenRepository(tracker, session)
        self.api_keys = SqlApiKeyRepository(tracker, session)
        self.service_clients = SqlServiceClientRepository(tracker, session)
