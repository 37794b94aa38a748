"""Books, their copies and their availability."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from application.catalogue import BookDetails
from application.circulation import Availability
from application.queries import BookSort
from domain.catalogue import MAX_AUTHORS, MAX_NAME, MAX_SUBJECTS, MAX_TITLE, Book, Copy, CopyStatus
from entrypoints.schemas.common import (
    BodyModel,
    CursorPageMeta,
    CursorPageQuery,
    JsonInt,
    PageMeta,
    PathModel,
    QueryBool,
    QueryModel,
    ResourceId,
    omitted,
)
from entrypoints.schemas.direct import DirectPage

Isbn = Annotated[
    str,
    Field(
        min_length=10,
        max_length=17,
        pattern=r"^[0-9][0-9 -]*[0-9Xx]$",
        description="ISBN-13, or ISBN-10 (converted); hyphens and spaces allowed.",
        json_schema_extra={"example": "978-0-13-110362-7"},
    ),
]
Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Names = Annotated[list[Name], Field(max_length=MAX_AUTHORS)]
Subjects = Annotated[list[Name], Field(max_length=MAX_SUBJECTS)]
Year = Annotated[JsonInt, Field(ge=1, le=9999)]
Barcode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Letters, digits, dots, dashes or underscores; starts with a letter or digit.",
        json_schema_extra={"example": "C-0001"},
    ),
]

BOOK_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d",
    "isbn": "9780131103627",
    "title": "The C Programming Language",
    "authors": ["Brian W. Kernighan", "Dennis M. Ritchie"],
    "publisher": "Prentice Hall",
    "year": 1988,
    "subjects": ["Programming"],
    "item_type": "book",
    "created_at": "2030-01-01T09:00:00Z",
    "updated_at": "2030-01-01T09:00:00Z",
    "version": 1,
}
COPY_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-aaaaaaaaaaaa",
    "book_id": BOOK_EXAMPLE["id"],
    "barcode": "C-0001",
    "status": "available",
    "item_type": "book",
    "created_at": "2030-01-01T09:00:00Z",
    "updated_at": "2030-01-01T09:00:00Z",
    "version": 1,
}


# --- requests -------------------------------------------------------------------------------


class BookPath(PathModel):
    book_id: ResourceId


class CopyPath(PathModel):
    copy_id: ResourceId


class BookCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {
                "isbn": "0-13-110362-8",
                "title": "The C Programming Language",
                "authors": ["Brian W. Kernighan", "Dennis M. Ritchie"],
                "publisher": "Prentice Hall",
                "year": 1988,
                "subjects": ["Programming"],
                "barcodes": ["C-0001", "C-0002"],
            }
        }
    )

    isbn: Isbn
    title: Title
    authors: Names = Field(default_factory=list)
    publisher: Name | None = None
    year: Year | None = None
    subjects: Subjects = Field(default_factory=list)
    barcodes: list[Barcode] = Field(
        default_factory=list, max_length=100, description="Copies to add with the book."
    )

    def details(self) -> BookDetails:
        return BookDetails(
            isbn=self.isbn,
            title=self.title,
            authors=self.authors,
            publisher=self.publisher,
            year=self.year,
            subjects=self.subjects,
        )


class BookReplace(BodyModel):
    """Every field of the book: those left out are cleared."""

    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {
                "isbn": "9780131103627",
                "title": "The C Programming Language (2nd edition)",
                "authors": ["Brian W. Kernighan", "Dennis M. Ritchie"],
                "publisher": "Prentice Hall",
                "year": 1988,
                "subjects": ["Programming", "C"],
            }
        }
    )

    isbn: Isbn
    title: Title
    authors: Names = Field(default_factory=list)
    publisher: Name | None = None
    year: Year | None = None
    subjects: Subjects = Field(default_factory=list)

    def details(self) -> BookDetails:
        return BookDetails(**self.model_dump())


class BookPatch(BodyModel):
    """Only the fields given change; `null` clears publisher or year."""

    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"title": "The C Programming Language (2nd edition)", "year": 1988}
        }
    )

    # A field left out keeps its value; `null` is refused where the book needs a value.
    isbn: Isbn = omitted()
    title: Title = omitted()
    authors: Names = omitted()
    publisher: Name | None = None
    year: Year | None = None
    subjects: Subjects = omitted()

    def given(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class BookQuery(CursorPageQuery):
    q: str | None = Field(
        None, min_length=1, max_length=200, description="Words to find in title or authors."
    )
    author: str | None = Field(None, min_length=1, max_length=MAX_NAME)
    isbn: str | None = Field(None, min_length=10, max_length=17, description="Exact ISBN.")
    available: QueryBool | None = Field(
        None, description="`true`: only books with a copy on the shelf; `false`: only without."
    )
    sort: BookSort = Field(BookSort.TITLE, description="`-` sorts descending.")


class CopyCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={"example": {"barcode": "C-0003"}}  # type: ignore[typeddict-unknown-key]
    )

    barcode: Barcode


class CopyChange(BodyModel):
    """Take a copy out of circulation (`lost`, `withdrawn`) or back in (`available`, when found)."""

    model_config = ConfigDict(
        openapi_extra={"example": {"status": "lost"}}  # type: ignore[typeddict-unknown-key]
    )

    status: Literal["lost", "withdrawn", "available"] = Field(
        description="`lost`, `withdrawn`, or `available` for a lost copy that was found "
        "(`on_loan` and `on_hold_shelf` are set by lending and holds only)."
    )


class AvailabilityQuery(QueryModel):
    member_id: ResourceId | None = Field(
        None, description="Ask whether this member could borrow (default: the caller)."
    )


# --- responses ------------------------------------------------------------------------------


class BookOut(BaseModel):
    id: str
    isbn: str = Field(description="ISBN-13.")
    title: str
    authors: list[str]
    publisher: str | None
    year: int | None
    subjects: list[str]
    item_type: str = Field(description="The item type its new copies get.")
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Bumped by every change.")

    @classmethod
    def of(cls, book: Book) -> BookOut:
        # Every field is the book's attribute of that name: read in one pass by pydantic.
        return cls.model_validate(book, from_attributes=True)


class BookPage(CursorPageMeta):
    items: list[BookOut]


# A page of books written straight from the domain's books (direct.py): the catalogue's list.
BOOK_PAGE = DirectPage(BookPage, BookOut, Book)


class CopyOut(BaseModel):
    id: str
    book_id: str
    barcode: str
    status: CopyStatus
    item_type: str = Field(description="Which circulation rules its loans follow.")
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, copy: Copy) -> CopyOut:
        return cls(
            id=copy.id,
            book_id=copy.book_id,
            barcode=copy.barcode,
            status=copy.status,
            item_type=copy.item_type,
            created_at=copy.created_at,
            updated_at=copy.updated_at,
            version=copy.version,
        )


class CopyPage(PageMeta):
    items: list[CopyOut]


class Reason(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class AvailabilityOut(BaseModel):
    book_id: str
    copies: int = Field(description="Copies that circulate (neither lost nor withdrawn).")
    available: int = Field(description="Copies on the shelf now.")
    on_loan: int
    on_hold_shelf: int
    holds_waiting: int
    member_id: str | None = Field(description="Whom `can_borrow` is about (null: nobody).")
    can_borrow: bool | None = Field(description="Whether that member could borrow a copy now.")
    reasons: list[Reason] = Field(description="Why not, when `can_borrow` is false.")

    @classmethod
    def of(cls, availability: Availability, member_id: str | None) -> AvailabilityOut:
        return cls(
            book_id=availability.book_id,
            copies=availability.copies,
            available=availability.available,
            on_loan=availability.on_loan,
            on_hold_shelf=availability.on_hold_shelf,
            holds_waiting=availability.holds_waiting,
            member_id=member_id,
            can_borrow=availability.can_borrow,
            reasons=[
                Reason(code=r.code, message=r.message, details=r.details)
                for r in availability.reasons
            ],
        )


AVAILABILITY_EXAMPLE: dict[str, Any] = {
    "book_id": BOOK_EXAMPLE["id"],
    "copies": 2,
    "available": 0,
    "on_loan": 2,
    "on_hold_shelf": 0,
    "holds_waiting": 1,
    "member_id": "0190f1e2-7c4d-7a8b-9c0d-bbbbbbbbbbbb",
    "can_borrow": False,
    "reasons": [
        {
            "code": "NO_COPY_AVAILABLE",
            "message": "no copy of this book is available; place a hold to queue for it",
            "details": {},
        }
    ],
}
