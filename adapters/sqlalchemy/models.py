"""The relational schema, as typed ORM models.

These classes describe tables; they are not the domain's entities. ``mappers`` converts between
the two, so the domain's dataclasses stay plain (and frozen where the domain wants them frozen).

Ids are made by the application (UUIDv7 text). Every table but the ledger carries a ``version``
that each update checks and bumps (optimistic concurrency). Constraint and index names follow
``NAMING_CONVENTION``, so they are the same on every database and in every migration, and the
unit of work can tell which rule a rejected write broke.

Book search uses case-folded copies of the title and the authors (``title_key``,
``authors_key``), written with the row, so matching and sorting ignore case the same way the
domain does on every dialect. ``title_key`` compares by code point (collation "C" on
PostgreSQL), like Python's string order.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    desc,
    false,
    literal_column,
    nulls_last,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from adapters.sqlalchemy.types import StrEnumType, StringList, UtcDateTime, values_check
from application.idempotency import KeyState
from application.jobs import RunOutcome
from application.outbox import Channel, MessageStatus
from domain.catalogue import CopyStatus
from domain.holds import HoldStatus
from domain.ledger import ChargeType, EntryKind
from domain.loans import LoanStatus
from domain.members import MemberStatus, Role
from domain.rules import DEFAULT_CATEGORY, DEFAULT_ITEM_TYPE

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 36  # UUID text: 8-4-4-4-12 hex digits

# Names the unit of work translates into domain errors.
UQ_BOOK_ISBN = "uq_books_isbn"
UQ_COPY_BARCODE = "uq_copies_barcode"
UQ_MEMBER_EMAIL = "uq_members_email"
UQ_MEMBER_CARD_NUMBER = "uq_members_card_number"
UQ_OPEN_LOAN_PER_COPY = "uq_loans_open_copy_id"
YEAR_DESC_INDEX = "ix_books_year_desc_id_desc"

_OPEN_LOAN = text("returned_at IS NULL")
_NOTHING_AVAILABLE = text("available_copies < 1")

# JSON lists on SQLite; JSONB on PostgreSQL.
_StringList = StringList().with_variant(postgresql.JSONB(), "postgresql")
# Case-folded sort and search keys: code-point order everywhere.
_Key = Text().with_variant(Text(collation="C"), "postgresql")


def _id() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=True)


def _ref(target: str, *, nullable: bool = False) -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), ForeignKey(target), nullable=nullable)


def _version() -> Mapped[int]:
    return mapped_column(Integer, nullable=False)


CODE_LENGTH = 32
ANY_CODE = "*"  # a rule's "any" member category or item type (NULL would defeat the unique key)


def _code(default: str) -> Mapped[str]:
    """A member category or item type code. The default lets rows written before rules were
    data (migration 0006) keep working; the codes are checked by the use cases, not by foreign
    keys, so adding the columns rebuilt no table."""
    return mapped_column(String(CODE_LENGTH), server_default=text(f"'{default}'"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute as given)
        datetime: UtcDateTime(),
        str: String(),
    }


class BookRow(Base):
    __tablename__ = "books"

    id: Mapped[str] = _id()
    isbn: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    authors: Mapped[list[str]] = mapped_column(_StringList)
    publisher: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int | None] = mapped_column(Integer)
    subjects: Mapped[list[str]] = mapped_column(_StringList)
    title_key: Mapped[str] = mapped_column(_Key)
    authors_key: Mapped[str] = mapped_column(_Key)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = _version()
    item_type: Mapped[str] = _code(DEFAULT_ITEM_TYPE)
    # How many of the book's copies are on the shelf (status available), for the availability
    # filter: kept by triggers on ``copies`` (migration 0005_book_availability), never written
    # by the application and not part of the domain's ``Book``.
    available_copies: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "title_key", "id"),
        Index(None, "year", "id"),
        Index(None, "created_at", "id"),
        # ``sort=-year`` keeps books without a year last, which a backward scan of (year, id)
        # gives on SQLite (NULLs sort first there) but not on PostgreSQL (NULLs sort last).
        Index(
            YEAR_DESC_INDEX,
            nulls_last(desc(literal_column("year"))),
            desc(literal_column("id")),
        ).ddl_if(dialect="postgresql"),
        # Availability: the counts read this narrow index alone; books with a copy on the shelf
        # (most of them) are paged by walking the sort indexes above, and books with none have
        # a small partial index per sort key. ``< 1`` rather than ``= 0``, here and in the
        # query: SQLite without statistics takes an equality on ``available_copies`` for a
        # nearly unique key and would sort every match instead of walking the partial index.
        Index(None, "available_copies"),
        *(
            Index(
                f"ix_books_unavailable_{key}_id",
                key,
                "id",
                sqlite_where=_NOTHING_AVAILABLE,
                postgresql_where=_NOTHING_AVAILABLE,
            )
            for key in ("title_key", "year", "created_at")
        ),
    )


class BookTitleBlockRow(Base):
    """The books in title order cut into blocks of about a thousand, each with how many books
    it holds, so that a page by number finds where it starts without walking every book before
    it (``adapters.sqlalchemy.title_blocks``).

    A block runs from its first ``(title_key, id)`` to the next block's first; the block of
    ``('', '')`` comes before every book. Counts are kept by triggers on ``books`` in the
    writing transaction, so a reader sees counts and books of one moment; the blocks themselves
    are redrawn by a job when writes have made some too large or too small."""

    __tablename__ = "book_title_blocks"

    first_title_key: Mapped[str] = mapped_column(_Key, primary_key=True)
    first_book_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    books: Mapped[int] = mapped_column(Integer)


class BookWordRow(Base):
    """The words a book search looks up (``adapters.sqlalchemy.search``): one row per book and
    distinct word of its title and authors (``kind`` ``w``), and per book and phrase of an
    author's name from each of its words to the end (``kind`` ``a``, for the author filter).

    Each row carries the book's ``title_key``, so the primary key lists a word's books in title
    order: a page of a search reads its first entries and stops, at any catalogue size.
    Written by the book repository and the bulk loader with the book, never by triggers: the
    words are split by ``application.queries.search_words``, the same rule the query uses."""

    __tablename__ = "book_words"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    word: Mapped[str] = mapped_column(_Key, primary_key=True)
    title_key: Mapped[str] = mapped_column(_Key, primary_key=True)
    book_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)

    __table_args__ = (
        # A book's rows, to replace or remove them, and to test the other words of a search
        # on a candidate book.
        Index(None, "book_id", "kind", "word"),
        # Without a rowid, the table is its key: one B-tree to write, not a table and an index.
        {"sqlite_with_rowid": False},
    )


class CopyRow(Base):
    __tablename__ = "copies"

    id: Mapped[str] = _id()
    book_id: Mapped[str] = _ref("books.id")
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[CopyStatus] = mapped_column(StrEnumType(CopyStatus))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = _version()
    item_type: Mapped[str] = _code(DEFAULT_ITEM_TYPE)

    __table_args__ = (
        CheckConstraint(values_check("status", CopyStatus), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "book_id", "status"),
    )


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[str] = _id()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    card_number: Mapped[str] = mapped_column(String(32), unique=True)
    name_key: Mapped[str] = mapped_column(_Key)
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    status: Mapped[MemberStatus] = mapped_column(StrEnumType(MemberStatus))
    membership_expires_at: Mapped[datetime]
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = _version()
    category: Mapped[str] = _code(DEFAULT_CATEGORY)
    # Notice preferences (``domain.members.NoticePreferences``); the defaults are what members
    # had before they could choose (migration 0010d): no receipts, overdue notices.
    notice_receipts: Mapped[bool] = mapped_column(Boolean, server_default=false())
    notice_overdue: Mapped[bool] = mapped_column(Boolean, server_default=true())

    __table_args__ = (
        CheckConstraint(values_check("role", Role), name="role"),
        CheckConstraint(values_check("status", MemberStatus), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "created_at", "id"),
    )


class LoanRow(Base):
    __tablename__ = "loans"

    id: Mapped[str] = _id()
    copy_id: Mapped[str] = _ref("copies.id")
    book_id: Mapped[str] = _ref("books.id")
    member_id: Mapped[str] = _ref("members.id")
    loaned_at: Mapped[datetime]
    due_at: Mapped[datetime]
    renewals: Mapped[int] = mapped_column(Integer)
    returned_at: Mapped[datetime | None]
    fine_cents: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = _version()
    item_type: Mapped[str] = _code(DEFAULT_ITEM_TYPE)
    # ``returned_at`` is when the loan closed, returned or lost; ``status`` says which.
    status: Mapped[LoanStatus] = mapped_column(
        StrEnumType(LoanStatus), server_default=text(f"'{LoanStatus.OPEN}'")
    )
    claimed_returned_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(values_check("status", LoanStatus), name="status"),
        CheckConstraint("renewals >= 0", name="renewals_not_negative"),
        CheckConstraint("fine_cents >= 0", name="fine_cents_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
        # A copy is on at most one open loan: the database refuses a second one even when two
        # transactions race past the application's checks.
        Index(
            UQ_OPEN_LOAN_PER_COPY,
            "copy_id",
            unique=True,
            sqlite_where=_OPEN_LOAN,
            postgresql_where=_OPEN_LOAN,
        ),
        Index(
            "ix_loans_open_member_id",
            "member_id",
            sqlite_where=_OPEN_LOAN,
            postgresql_where=_OPEN_LOAN,
        ),
        Index(None, "member_id", "loaned_at"),
        Index(None, "book_id"),
        Index(None, "copy_id"),
        Index(None, "loaned_at", "id"),
        Index(None, "returned_at"),  # the retention job's oldest returns
    )


class HoldRow(Base):
    __tablename__ = "holds"

    id: Mapped[str] = _id()
    book_id: Mapped[str] = _ref("books.id")
    member_id: Mapped[str] = _ref("members.id")
    copy_id: Mapped[str | None] = _ref("copies.id", nullable=True)
    placed_at: Mapped[datetime]
    status: Mapped[HoldStatus] = mapped_column(StrEnumType(HoldStatus))
    ready_at: Mapped[datetime | None]
    pickup_by: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = _version()
    member_category: Mapped[str] = _code(DEFAULT_CATEGORY)
    suspended: Mapped[bool] = mapped_column(Boolean, server_default=false())
    not_needed_after: Mapped[date | None] = mapped_column(Date)
    # The queue's order: placed_at unless staff moved the hold (migration 0006c filled it in).
    queued_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(values_check("status", HoldStatus), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "book_id", "status", "placed_at", "id"),
        Index(None, "book_id", "status", "queued_at", "id"),
        Index(None, "queued_at", "id"),
        Index(None, "member_id", "status"),
        Index(None, "status", "pickup_by"),
        Index(None, "placed_at", "id"),
        Index(None, "copy_id"),
    )


class LedgerEntryRow(Base):
    """Entries are never changed, so they carry no version."""

    __tablename__ = "ledger_entries"

    id: Mapped[str] = _id()
    member_id: Mapped[str] = _ref("members.id")
    kind: Mapped[EntryKind] = mapped_column(StrEnumType(EntryKind))
    amount_cents: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # A reference only, with no foreign key: a fine outlives the loan history of a removed book.
    loan_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    note: Mapped[str] = mapped_column(Text)
    charge_type: Mapped[ChargeType | None] = mapped_column(StrEnumType(ChargeType))
    # The charge a waiver or cancellation is for; the payment a refund gives back.
    target_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))

    __table_args__ = (
        CheckConstraint(values_check("kind", EntryKind), name="kind"),
        CheckConstraint(values_check("charge_type", ChargeType), name="charge_type"),
        CheckConstraint("amount_cents > 0", name="amount_cents_positive"),
        CheckConstraint(
            "(kind = 'charge') = (charge_type IS NOT NULL)", name="charge_type_on_charges"
        ),
        Index(None, "member_id", "created_at"),
    )


class LedgerAllocationRow(Base):
    """The part of a credit (payment, waiver, cancellation) or refund that went to one charge,
    in the order the line allocated them (``position``)."""

    __tablename__ = "ledger_allocations"

    entry_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("ledger_entries.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    charge_id: Mapped[str] = _ref("ledger_entries.id")
    amount_cents: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_cents_positive"),
        Index(None, "charge_id"),
    )


# --- circulation rules ---------------------------------------------------------------------

UQ_RULE_PAIR = "uq_circulation_rules_member_category_item_type"


class MemberCategoryRow(Base):
    __tablename__ = "member_categories"

    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    loan_limit: Mapped[int | None] = mapped_column(Integer)
    debt_limit_cents: Mapped[int | None] = mapped_column(Integer)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = _version()

    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)


class ItemTypeRow(Base):
    __tablename__ = "item_types"

    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = _version()

    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)


class CirculationRuleRow(Base):
    """One cell of the rules matrix; ``*`` stands for any member category or item type."""

    __tablename__ = "circulation_rules"

    id: Mapped[str] = _id()
    member_category: Mapped[str] = mapped_column(String(CODE_LENGTH))
    item_type: Mapped[str] = mapped_column(String(CODE_LENGTH))
    loan_days: Mapped[int | None] = mapped_column(Integer)
    fixed_due_date: Mapped[date | None] = mapped_column(Date)
    max_loans: Mapped[int | None] = mapped_column(Integer)
    max_renewals: Mapped[int] = mapped_column(Integer)
    renew_too_soon_days: Mapped[int] = mapped_column(Integer)
    renewal_days: Mapped[int] = mapped_column(Integer)
    fine_per_day_cents: Mapped[int] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    fine_cap_cents: Mapped[int] = mapped_column(Integer)
    holds_allowed: Mapped[bool] = mapped_column(Boolean)
    max_holds: Mapped[int] = mapped_column(Integer)
    pickup_window_days: Mapped[int] = mapped_column(Integer)
    replacement_fee_cents: Mapped[int] = mapped_column(Integer)
    processing_fee_cents: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    version: Mapped[int] = _version()

    __table_args__ = (
        # No two rules for one pair (the default rule is the pair (*, *)).
        UniqueConstraint("member_category", "item_type", name=UQ_RULE_PAIR),
        CheckConstraint("(loan_days IS NULL) <> (fixed_due_date IS NULL)", name="one_loan_period"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class ClosureRow(Base):
    """A day the library is closed: one date, or a weekday every week (0 = Monday)."""

    __tablename__ = "closures"

    id: Mapped[str] = _id()
    day: Mapped[date | None] = mapped_column(Date, unique=True)
    weekday: Mapped[int | None] = mapped_column(Integer, unique=True)
    note: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = _version()

    __table_args__ = (
        CheckConstraint("(day IS NULL) <> (weekday IS NULL)", name="day_or_weekday"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


# --- identity and access -------------------------------------------------------------------
# Secrets are stored as SHA-256 hex digests (64 characters), never in the clear.
DIGEST_LENGTH = 64
UQ_REFRESH_TOKEN_HASH = "uq_refresh_tokens_token_hash"  # noqa: S105 (a constraint name)
UQ_API_KEY_PREFIX = "uq_api_keys_prefix"


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = _id()
    family_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    member_id: Mapped[str] = _ref("members.id")
    token_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    version: Mapped[int] = _version()

    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "family_id"),
        Index(None, "member_id"),
        Index(None, "expires_at"),
    )


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    scopes: Mapped[list[str]] = mapped_column(_StringList)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    version: Mapped[int] = _version()

    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "created_at", "id"),
    )


class ServiceClientRow(Base):
    __tablename__ = "service_clients"

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    scopes: Mapped[list[str]] = mapped_column(_StringList)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    version: Mapped[int] = _version()

    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "created_at", "id"),
    )


class RevokedTokenRow(Base):
    """Access tokens (``jti:<id>``) and sessions (``sid:<id>``) refused until ``expires_at``.

    Written by the revocation store, not through the unit of work; rows past their expiry are
    deleted as new ones arrive.
    """

    __tablename__ = "revoked_tokens"

    identifier: Mapped[str] = mapped_column(String(80), primary_key=True)
    expires_at: Mapped[datetime]

    __table_args__ = (Index(None, "expires_at"),)


class IdempotencyKeyRow(Base):
    """A request an ``Idempotency-Key`` was used for, and (once completed) its result: the bytes
    the edge stores to answer a retry with, kept in ``body``."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256, hex
    state: Mapped[KeyState] = mapped_column(StrEnumType(KeyState))
    # Identifies one claim of the key, so taking over an abandoned claim is a compare-and-swap.
    token: Mapped[str] = mapped_column(String(32))
    # Written only by releases that stored the HTTP response in three parts; nothing reads them
    # (such a row's result does not decode, and a retry is told the request was applied).
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[list[list[str]] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(values_check("state", KeyState), name="state"),
        Index(None, "expires_at"),
    )


class OutboxMessageRow(Base):
    """A message to deliver (``application.outbox``), written with the change that caused it.

    ``locked_by``/``locked_until`` are the lease of the worker delivering it: claimed with
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, under the write lock on SQLite.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[str] = _id()
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel))
    topic: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    member_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    subject_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    payload: Mapped[dict[str, str | int | None]] = mapped_column(JSON)
    status: Mapped[MessageStatus] = mapped_column(StrEnumType(MessageStatus))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(values_check("status", MessageStatus), name="status"),
        CheckConstraint(values_check("channel", Channel), name="channel"),
        # The worker's question: pending messages by when they are due.
        Index(None, "status", "next_attempt_at"),
        Index(None, "member_id", "id"),
    )


class JobRunRow(Base):
    """One scheduled job's run for one period: the primary key lets one worker claim it."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[RunOutcome] = mapped_column(StrEnumType(RunOutcome))
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint(values_check("outcome", RunOutcome), name="outcome"),)


class WebhookSubscriptionRow(Base):
    """A URL subscribed to event types (``application.webhooks``)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = _id()
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class AuditEventRow(Base):
    """One audit record (``application.audit``), written with the change it records.

    Append-only: the migration adds triggers that refuse UPDATE and DELETE on this table, on
    PostgreSQL and on SQLite alike.
    """

    __tablename__ = "audit_events"

    id: Mapped[str] = _id()  # UUIDv7: in the order written
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, str | int | bool | None]] = mapped_column(JSON)

    __table_args__ = (
        # The reader's questions: one entity's history, one actor's doings, one kind of change,
        # a stretch of time; each newest first.
        Index(None, "entity_type", "entity_id", "id"),
        Index(None, "actor", "id"),
        Index(None, "action", "id"),
        Index(None, "occurred_at"),
    )


metadata = Base.metadata

__all__ = [
    "UQ_API_KEY_PREFIX",
    "UQ_BOOK_ISBN",
    "UQ_COPY_BARCODE",
    "UQ_MEMBER_CARD_NUMBER",
    "UQ_MEMBER_EMAIL",
    "UQ_OPEN_LOAN_PER_COPY",
    "UQ_REFRESH_TOKEN_HASH",
    "UQ_RULE_PAIR",
    "YEAR_DESC_INDEX",
    "ApiKeyRow",
    "AuditEventRow",
    "Base",
    "BookRow",
    "BookWordRow",
    "CirculationRuleRow",
    "ClosureRow",
    "CopyRow",
    "HoldRow",
    "IdempotencyKeyRow",
    "ItemTypeRow",
    "LedgerAllocationRow",
    "LedgerEntryRow",
    "LoanRow",
    "MemberCategoryRow",
    "MemberRow",
    "RefreshTokenRow",
    "RevokedTokenRow",
    "ServiceClientRow",
    "metadata",
]
