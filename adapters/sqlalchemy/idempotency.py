"""Idempotency keys in the database, shared by every worker and host.

Claiming a key is one ``INSERT ... ON CONFLICT DO NOTHING``: of two concurrent claims the database
lets exactly one insert, and the other reads the winner's row. A row that no longer holds its key
(expired, or left in flight past the lease by a worker that died) is taken over by a
compare-and-swap on the claim's random token, so two retries cannot both take it.

The key is used up (``COMPLETED``) by ``use_key``, in the transaction of the change it guards
(``SqlUnitOfWork`` calls it for a ``KeyUsed`` record), and only while the claim is still the
request's own: a request whose claim was taken over commits nothing. On PostgreSQL that is a part of
the change's own write statement (``adapters.sqlalchemy.records``).

Everything else here is one statement per transaction, atomic on its own. On PostgreSQL it is sent
in autocommit: one round trip, where BEGIN, the statement and COMMIT were three. (Not on SQLite,
where every transaction of the engine begins with ``BEGIN IMMEDIATE``, see ``engine``.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy.models import IdempotencyKeyRow
from application.idempotency import IdempotencyKeyTaken, IdempotencyRecord, KeyState, KeyUsed

TABLE = cast(Table, IdempotencyKeyRow.__table__)
# Every this many claims a process also deletes the expired rows of every key.
_SWEEP_EVERY = 1000
# Rounds of insert / read / take over before giving up on a key that keeps changing hands.
_ATTEMPTS = 5


def _record(row: Any) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=row.scope,
        key=row.key,
        fingerprint=row.fingerprint,
        state=KeyState(row.state),
        created_at=row.created_at,
        expires_at=row.expires_at,
        result=row.body if row.state == KeyState.COMPLETED else None,
        token=row.token,
    )


def use_key(connection: Connection, used: KeyUsed) -> None:
    """Mark the claim ``used.token`` completed, in ``connection``'s (the change's) transaction."""
    result = connection.execute(
        update(TABLE)
        .where(
            (TABLE.c.scope == used.scope)
            & (TABLE.c.key == used.key)
            & (TABLE.c.token == used.token)
            & (TABLE.c.state == KeyState.IN_FLIGHT.value)
        )
        .values(state=KeyState.COMPLETED.value)
    )
    if result.rowcount != 1:
        raise taken()


def taken() -> IdempotencyKeyTaken:
    """The refusal of a commit whose claim was taken over."""
    return IdempotencyKeyTaken(
        "the Idempotency-Key was taken over by a retry of this request; nothing was changed"
    )


class SqlIdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._alone = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._claims = count(1)

    def _insert_if_absent(self, values: dict[str, Any]) -> bool:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(TABLE)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(TABLE.c.token)  # a row comes back only when this insert won
        )
        with self._alone.begin() as connection:
            return connection.execute(statement).first() is not None

    def claim(
        self,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        now: datetime,
        ttl: timedelta,
        lease: timedelta,
        token: str,
    ) -> IdempotencyRecord | None:
        if next(self._claims) % _SWEEP_EVERY == 0:
            with self._alone.begin() as connection:
                connection.execute(delete(TABLE).where(TABLE.c.expires_at <= now))
        where = (TABLE.c.scope == scope) & (TABLE.c.key == key)
        held: IdempotencyRecord | None = None
        for _ in range(_ATTEMPTS):
            fresh = {
                "fingerprint": fingerprint,
                "state": KeyState.IN_FLIGHT.value,
                "token": token,
                "body": None,
                "created_at": now,
                "expires_at": now + ttl,
            }
            if self._insert_if_absent({"scope": scope, "key": key, **fresh}):
                return None
            with self._alone.begin() as connection:
                row = connection.execute(select(TABLE).where(where)).first()
            if row is None:
                continue  # given up meanwhile: insert again
            held = _record(row)
            if held.holds_key(now, lease):
                return held
            with self._alone.begin() as connection:
                taken = connection.execute(
                    update(TABLE)
                    .where(where & (TABLE.c.token == row.token))
                    .values(**fresh)
                    .returning(TABLE.c.token)
                ).first()
            if taken is not None:
                return None
        if held is None:
            raise RuntimeError(f"could not claim idempotency key {key!r}")
        return held

    def complete(self, *, scope: str, key: str, token: str, result: bytes) -> None:
        with self._alone.begin() as connection:
            connection.execute(
                update(TABLE)
                .where((TABLE.c.scope == scope) & (TABLE.c.key == key) & (TABLE.c.token == token))
                .values(state=KeyState.COMPLETED.value, body=result)
            )

    def release(self, *, scope: str, key: str, token: str) -> None:
        with self._alone.begin() as connection:
            connection.execute(
                delete(TABLE).where(
                    (TABLE.c.scope == scope)
                    & (TABLE.c.key == key)
                    & (TABLE.c.token == token)
                    & (TABLE.c.state == KeyState.IN_FLIGHT.value)
                )
            )
