"""Loan retention: closed loans stop naming their borrower once the retention period has passed.

The library keeps every loan (what circulates, how often, for how long, what fines it made) but
not, for longer than it needs, who borrowed what: a loan returned more than the retention period
ago is handed to the anonymous borrower (``domain.members.ANONYMOUS_BORROWER_ID``), as FOLIO's
loan anonymisation and Koha's ``batch_anonymise`` do. Ledger lines are the library's money
records and stay as they are. The job is idempotent: an anonymised loan is never picked again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from application.ports import Clock, UnitOfWorkFactory
from application.retry import retry_on_conflict
from domain.events import LoanAnonymised
from domain.members import ANONYMOUS_BORROWER_ID, Member

BATCH = 500  # loans per transaction: short locks, and one failure rolls back little


class LoanRetention:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        period: timedelta | None,
        batch: int = BATCH,
    ) -> None:
        """``period``: how long a returned loan keeps its borrower; ``None`` keeps it for good
        (the job then does nothing)."""
        self._uow = uow
        self._clock = clock
        self._period = period
        self._batch = batch

    def anonymise_loans(self) -> int:
        """The daily job: anonymise every loan returned more than the period ago; how many."""
        if self._period is None:
            return 0
        cutoff = self._clock.now() - self._period
        done = 0
        while True:
            count = self._anonymise_batch(cutoff)
            done += count
            if count < self._batch:
                return done

    @retry_on_conflict
    def _anonymise_batch(self, cutoff: datetime) -> int:
        now = self._clock.now()
        with self._uow() as uow:
            loans = uow.loans.returned_before(
                cutoff, not_of=ANONYMOUS_BORROWER_ID, limit=self._batch
            )
            if loans and uow.members.get(ANONYMOUS_BORROWER_ID) is None:
                uow.members.add(Member.anonymous_borrower(now))
            for loan in loans:
                if loan.anonymise(ANONYMOUS_BORROWER_ID):
                    uow.emit(LoanAnonymised(now, loan.id, loan.book_id))
            uow.commit()
            return len(loans)
