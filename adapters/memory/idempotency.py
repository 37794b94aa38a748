"""Idempotency keys kept in process memory (single-process runs and tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from application.idempotency import IdempotencyKeyTaken, IdempotencyRecord, KeyState, KeyUsed

_SWEEP_EVERY = 1000


class MemoryIdempotencyStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], IdempotencyRecord] = {}
        self._claims = 0

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
        with self._lock:
            held = self._records.get((scope, key))
            if held is not None and held.holds_key(now, lease):
                return held
            self._records[(scope, key)] = IdempotencyRecord(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                state=KeyState.IN_FLIGHT,
                created_at=now,
                expires_at=now + ttl,
                token=token,
            )
            self._claims += 1
            if self._claims % _SWEEP_EVERY == 0:
                # Expired records would otherwise pile up for the life of the process.
                for stale in [k for k, r in self._records.items() if now >= r.expires_at]:
                    del self._records[stale]
            return None

    def use_key(self, used: KeyUsed) -> Callable[[], None]:
        """Mark the claim ``used.token`` completed (``MemoryUnitOfWork`` calls this inside its
        transaction); returns what undoes it, should the transaction roll back."""
        with self._lock:
            record = self._records.get((used.scope, used.key))
            if record is None or record.token != used.token or record.state is KeyState.COMPLETED:
                raise IdempotencyKeyTaken(
                    "the Idempotency-Key was taken over by a retry of this request; "
                    "nothing was changed"
                )
            self._records[(used.scope, used.key)] = replace(record, state=KeyState.COMPLETED)

        def undo() -> None:
            with self._lock:
                current = self._records.get((used.scope, used.key))
                if current is not None and current.token == used.token:
                    self._records[(used.scope, used.key)] = record

        return undo

    def complete(self, *, scope: str, key: str, token: str, result: bytes) -> None:
        with self._lock:
            record = self._records.get((scope, key))
            if record is not None and record.token == token:
                self._records[(scope, key)] = replace(
                    record, state=KeyState.COMPLETED, result=result
                )

    def release(self, *, scope: str, key: str, token: str) -> None:
        with self._lock:
            record = self._records.get((scope, key))
            if record is not None and record.token == token and record.state is KeyState.IN_FLIGHT:
                del self._records[(scope, key)]
