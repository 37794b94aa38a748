"""SQL repositories of credentials (with their row mappers), and the SQL revocation store."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy.engine import read_only_transaction
from adapters.sqlalchemy.models import ApiKeyRow, RefreshTokenRow, RevokedTokenRow, ServiceClientRow
from adapters.sqlalchemy.repositories import _SqlStore
from application.ports import Clock
from domain.access import Scope
from domain.credentials import ApiKey, RefreshToken, ServiceClient


class SqlRefreshTokenRepository(_SqlStore[RefreshToken, RefreshTokenRow]):
    row = RefreshTokenRow

    def _to_entity(self, row: RefreshTokenRow) -> RefreshToken:
        return RefreshToken(
            id=row.id,
            family_id=row.family_id,
            member_id=row.member_id,
            token_hash=row.token_hash,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
            version=row.version,
        )

    def _to_values(self, entity: RefreshToken) -> dict[str, Any]:
        return {
            "id": entity.id,
            "family_id": entity.family_id,
            "member_id": entity.member_id,
            "token_hash": entity.token_hash,
            "issued_at": entity.issued_at,
            "expires_at": entity.expires_at,
            "used_at": entity.used_at,
            "revoked_at": entity.revoked_at,
            "version": entity.version,
        }

    def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        return self._first(select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash))

    def active_in_family(self, family_id: str) -> list[RefreshToken]:
        return self._all(
            select(RefreshTokenRow)
            .where(
                RefreshTokenRow.family_id == family_id,
                RefreshTokenRow.used_at.is_(None),
                RefreshTokenRow.revoked_at.is_(None),
            )
            .order_by(RefreshTokenRow.id)
        )

    def for_member(self, member_id: str) -> list[RefreshToken]:
        return self._all(
            select(RefreshTokenRow)
            .where(RefreshTokenRow.member_id == member_id)
            .order_by(RefreshTokenRow.id)
        )

    def expired(self, now: datetime, limit: int) -> list[RefreshToken]:
        return self._all(
            select(RefreshTokenRow)
            .where(RefreshTokenRow.expires_at < now)
            .order_by(RefreshTokenRow.expires_at, RefreshTokenRow.id)
            .limit(limit)
        )


def _scopes(values: list[str]) -> tuple[Scope, ...]:
    return tuple(Scope(value) for value in values)


class SqlApiKeyRepository(_SqlStore[ApiKey, ApiKeyRow]):
    row = ApiKeyRow

    def _to_entity(self, row: ApiKeyRow) -> ApiKey:
        return ApiKey(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            key_hash=row.key_hash,
            scopes=_scopes(row.scopes),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            version=row.version,
        )

    def _to_values(self, entity: ApiKey) -> dict[str, Any]:
        return {
            "id": entity.id,
            "name": entity.name,
            "prefix": entity.prefix,
            "key_hash": entity.key_hash,
            "scopes": [scope.value for scope in entity.scopes],
            "created_at": entity.created_at,
            "expires_at": entity.expires_at,
            "revoked_at": entity.revoked_at,
            "version": entity.version,
        }

    def get_by_prefix(self, prefix: str) -> ApiKey | None:
        read_only_transaction(self._session)  # only authentication looks keys up by prefix
        return self._first(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))

    def list(self) -> list[ApiKey]:
        return self._all(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))


class SqlServiceClientRepository(_SqlStore[ServiceClient, ServiceClientRow]):
    row = ServiceClientRow

    def _to_entity(self, row: ServiceClientRow) -> ServiceClient:
        return ServiceClient(
            id=row.id,
            name=row.name,
            secret_hash=row.secret_hash,
            scopes=_scopes(row.scopes),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            version=row.version,
        )

    def _to_values(self, entity: ServiceClient) -> dict[str, Any]:
        return {
            "id": entity.id,
            "name": entity.name,
            "secret_hash": entity.secret_hash,
            "scopes": [scope.value for scope in entity.scopes],
            "created_at": entity.created_at,
            "revoked_at": entity.revoked_at,
            "version": entity.version,
        }

    def list(self) -> list[ServiceClient]:
        return self._all(
            select(ServiceClientRow).order_by(ServiceClientRow.created_at, ServiceClientRow.id)
        )


class SqlRevocationStore:
    """Revocations in the database every worker uses: the default shared store."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def revoke(self, identifier: str, expires_at: datetime) -> None:
        now = self._clock.now()
        if expires_at <= now:
            return  # what it names is refused as expired already
        table = cast(Table, RevokedTokenRow.__table__)
        try:
            with self._engine.begin() as connection:
                row = {"identifier": identifier, "expires_at": expires_at}
                connection.execute(insert(table), row)
        except IntegrityError:
            # Revoked before: keep whichever revocation lasts longer.
            with self._engine.begin() as connection:
                connection.execute(
                    update(table)
                    .where(table.c.identifier == identifier, table.c.expires_at < expires_at)
                    .values(expires_at=expires_at)
                )
        with self._engine.begin() as connection:
            # The expired rows go as new ones come: the table stays as small as the set of
            # tokens that are both revoked and still unexpired.
            connection.execute(delete(table).where(table.c.expires_at <= now))

    def any_revoked(self, identifiers: Collection[str]) -> bool:
        if not identifiers:
            return False
        now = self._clock.now()
        table = cast(Table, RevokedTokenRow.__table__)
        statement = select(
            exists().where(table.c.identifier.in_(list(identifiers)), table.c.expires_at > now)
        )
        with self._engine.connect() as connection:
            return bool(connection.execute(statement).scalar())
