"""The ``Session`` a unit of work runs in: its transaction is a Core ``Connection``'s.

A change's statements go to the session's connection as Core (``adapters.sqlalchemy.direct``,
``together``, ``records``); the ORM's own transaction around that connection (its state machine,
a decorated call per level on every ``connection()``, its commit's preparation and the events
at each step) cost a borrow some 250,000 instructions, twice what opening, committing and
closing the ``Connection`` itself costs. So the session opens one connection from its engine
when first asked, begins its transaction, and commits, rolls back or closes it with the session.

The repositories still get a ``Session``: a statement run through the ORM (``execute``,
``scalars``) runs on that same connection, the session's ORM transaction joining the one begun
(SQLAlchemy's "join into an external transaction": the session never commits it, and its
rollback rolls it back). The session's transaction is begun with the first ``connection()``
(execution options given then apply to it: ``engine.read_only_transaction``), and one connection
serves it to the end.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine.interfaces import CoreExecuteOptionsParameter
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session
from sqlalchemy.orm.session import _BindArguments, _SessionBind, _SessionCloseState


class UnitSession(Session):
    _own: Connection | None = None

    def connection(
        self,
        bind_arguments: _BindArguments | None = None,
        execution_options: CoreExecuteOptionsParameter | None = None,
    ) -> Connection:
        if bind_arguments is not None:
            return super().connection(bind_arguments, execution_options)
        return self._opened(execution_options)

    def _connection_for_bind(
        self,
        engine: _SessionBind,  # noqa: ARG002 (the session's engine: its connection serves instead)
        execution_options: CoreExecuteOptionsParameter | None = None,
        **kw: Any,
    ) -> Connection:
        # Where the ORM asks for a connection of its own: it joins this one's transaction.
        return super()._connection_for_bind(self._opened(execution_options), None, **kw)

    def _opened(self, execution_options: CoreExecuteOptionsParameter | None) -> Connection:
        own = self._own
        if own is None:
            if not isinstance(self.bind, Engine):
                raise InvalidRequestError("a UnitSession is made with an engine to connect to")
            own = self.bind.connect()
            if execution_options:
                own.execution_options(**execution_options)
            own.begin()
            self._own = own
        elif not own.in_transaction():
            # Its transaction ended under it (rolled back through the connection): a statement
            # now would run in a new one, outside the change it belongs to.
            raise InvalidRequestError("this session's transaction has ended; roll it back")
        return own

    def in_transaction(self) -> bool:
        return self._own is not None or super().in_transaction()

    def commit(self) -> None:
        if self._transaction is not None:
            super().commit()  # ends the ORM transaction joined to ours (it never commits ours)
        own, self._own = self._own, None
        if own is not None:
            try:
                own.commit()
            finally:
                own.close()

    def rollback(self) -> None:
        try:
            if self._transaction is not None:
                super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            # A session that began no ORM transaction and holds no ORM object has nothing of its
            # own to close; SQLAlchemy's ``close`` would still rebuild its (empty) identity map
            # and walk the detaching of no objects: some 40,000 instructions.
            if (
                self._transaction is not None
                or self._close_state is _SessionCloseState.ACTIVE
                or self.identity_map
                or self._new
                or self._deleted
            ):
                super().close()
        finally:
            self._release()

    def _release(self) -> None:
        # Closing a connection rolls back the transaction it still has.
        own, self._own = self._own, None
        if own is not None:
            own.close()
