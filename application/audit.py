"""The audit trail: who changed what, when, and from which request.

Every domain event a transaction records becomes one audit record, written in that same
transaction (``AuditTrail`` is one of the unit of work's ``records_for_events``, as the outbox's
``NoticeRouter`` is), so a change never commits without its record nor a record without its
change. The mapping is generic: the action is the event's type (``BookLent`` -> ``book_lent``),
the entity is the one its fields name, the details are its other fields. An event added later
is audited without further work.

Who acted comes from the entrypoint, not from each use case's arguments: the HTTP edge, the CLI
and the scheduler each run their work ``acting_as(...)`` the caller, and the trail reads it at
commit. Records are only ever added: no port, route or command changes or deletes one, and the
database refuses UPDATE and DELETE on their table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Protocol

from application.ports import IdGenerator
from application.queries import ListOrder, Page, PageRequest
from application.unit_of_work import BaseUnitOfWork
from domain.access import Principal
from domain.errors import InvalidValue
from domain.events import Event

# Detail values are JSON scalars; datetimes are ISO 8601 strings in UTC.
Details = Mapping[str, str | int | bool | None]

MAX_ACTOR = 200
# Who acted when no entrypoint said (a use case called directly, as in a script or a test).
SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: ``member:<id>``, ``api_key:<id>``, ``service_client:<id>``,
    ``cli:<os user>``, ``job:<name>``, ``anonymous`` (an unauthenticated request, such as a
    refresh) or ``system``; and the request it acts through, when there is one."""

    id: str
    request_id: str | None = None

    @classmethod
    def of(cls, principal: Principal | None, request_id: str | None) -> Actor:
        """The caller of an HTTP request."""
        if principal is None:
            return cls("anonymous", request_id)
        return cls(f"{principal.kind.value}:{principal.id}", request_id)


_ACTOR: ContextVar[Actor | None] = ContextVar("circulate_actor", default=None)
_NOBODY_SAID = Actor(SYSTEM)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Attribute the changes committed inside the block to ``actor``."""
    token = start_acting(actor)
    try:
        yield actor
    finally:
        stop_acting(token)


def start_acting(actor: Actor) -> Token[Actor | None]:
    """``acting_as`` for an edge whose work is no one block (a request's before and teardown
    hooks): hand the token to ``stop_acting`` when the work ends."""
    return _ACTOR.set(actor)


def stop_acting(token: Token[Actor | None]) -> None:
    _ACTOR.reset(token)


def current_actor() -> Actor:
    return _ACTOR.get() or _NOBODY_SAID


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    id: str
    occurred_at: datetime
    actor: str
    action: str  # the event's type in snake case: ``book_lent``, ``member_anonymised``
    entity_type: str | None  # what it is about: ``loan``, ``member``, ``api_key``, ...
    entity_id: str | None
    request_id: str | None
    details: Details

    def as_dict(self) -> dict[str, object]:
        """Every field by name, the details as a plain dict (to store or print)."""
        return {
            "id": self.id,
            "occurred_at": self.occurred_at,
            "actor": self.actor,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "request_id": self.request_id,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidValue("until", "until must be later than since")

    def matches(self, record: AuditRecord) -> bool:
        """The filter as a predicate (the in-memory store's query; SQL says the same)."""
        return (
            (self.entity_type is None or record.entity_type == self.entity_type)
            and (self.entity_id is None or record.entity_id == self.entity_id)
            and (self.actor is None or record.actor == self.actor)
            and (self.action is None or record.action == self.action)
            and (self.since is None or record.occurred_at >= self.since)
            and (self.until is None or record.occurred_at < self.until)
        )


# Newest first: ids are made in time order.
AUDIT_ORDER: ListOrder[AuditRecord] = ListOrder("audit-events:-id", descending=True)


class AuditLog(Protocol):
    """Reading the trail (records are *written* by the unit of work of their change)."""

    def list(self, query: AuditFilter, page: PageRequest) -> Page[AuditRecord]:
        """Records matching ``query``, newest first."""
        ...


# --- events -> records ------------------------------------------------------------------------

_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the trail reads of one kind of event, worked out once per kind: every change's
    commit audits its events, and walking a dataclass's fields costs more than reading them."""

    action: str
    subject_named: bool  # it has ``subject_type``/``subject_id`` fields
    id_fields: tuple[str, ...]  # its ``<entity>_id`` fields, in order
    detail_fields: tuple[str, ...]


_SHAPES: dict[type[Event], _Shape] = {}
_NOT_DETAILS = frozenset({"occurred_at", "subject_type", "subject_id"})


def _shape_of(kind: type[Event]) -> _Shape:
    shape = _SHAPES.get(kind)
    if shape is None:
        names = tuple(f.name for f in fields(kind))
        shape = _SHAPES[kind] = _Shape(
            action=_WORD_START.sub("_", kind.__name__).lower(),
            subject_named="subject_type" in names,
            id_fields=tuple(name for name in names if name.endswith("_id")),
            detail_fields=tuple(name for name in names if name not in _NOT_DETAILS),
        )
    return shape


def action_of(event: Event) -> str:
    return _shape_of(type(event)).action


def _scalar(value: object) -> str | int | bool | None:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return _scalar(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def subject_of(event: Event) -> tuple[str | None, str | None]:
    """The entity an event is about: its ``subject_type``/``subject_id`` when it names one,
    else its first ``<entity>_id`` field that has a value (``loan_id`` before ``member_id`` in
    ``BookLent``: events list the thing that changed first)."""
    shape = _shape_of(type(event))
    if shape.subject_named:
        subject_id = getattr(event, "subject_id", None)
        return str(getattr(event, "subject_type")), None if subject_id is None else str(subject_id)  # noqa: B009
    for name in shape.id_fields:
        value = getattr(event, name)
        if value is not None:
            return name.removesuffix("_id"), str(value)
    return None, None


def details_of(event: Event) -> dict[str, str | int | bool | None]:
    return {name: _scalar(getattr(event, name)) for name in _shape_of(type(event)).detail_fields}


class AuditTrail:
    """The audit records of a transaction's events (a unit of work's ``records_for_events``)."""

    def __init__(self, ids: IdGenerator) -> None:
        self._ids = ids

    def __call__(self, events: Sequence[Event], uow: BaseUnitOfWork) -> list[AuditRecord]:
        del uow  # the events say all an audit record holds
        actor = current_actor()
        records = []
        for event in events:
            entity_type, entity_id = subject_of(event)
            records.append(
                AuditRecord(
                    id=self._ids.new_id(),
                    occurred_at=event.occurred_at,
                    actor=actor.id[:MAX_ACTOR],
                    action=action_of(event),
                    entity_type=entity_type,
                    entity_id=entity_id,
                    request_id=actor.request_id,
                    details=details_of(event),
                )
            )
        return records


class AuditEvents:
    """Staff reading the trail."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def list(self, query: AuditFilter, page: PageRequest) -> Page[AuditRecord]:
        return self._log.list(query, page)
