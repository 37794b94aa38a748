"""Books: the catalogue records, their copies and their availability."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.catalogue import BookChanges, Catalogue
from application.catalogue_reads import CatalogueReads
from application.queries import BookFilter
from domain.access import Scope
from entrypoints.container import Container
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.caller import current_caller
from entrypoints.http.middleware.conditional import entity_etag
from entrypoints.http.middleware.idempotency import idempotent
from entrypoints.http.openapi import NOT_MODIFIED, created, listed, no_content, ok, operation
from entrypoints.http.responses.pagination import (
    direct_page_response,
    page_request,
    page_response,
    slice_page,
)
from entrypoints.http.responses.rendering import created as created_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.responses.rendering import no_content as no_content_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.books import (
    AVAILABILITY_EXAMPLE,
    BOOK_EXAMPLE,
    BOOK_PAGE,
    COPY_EXAMPLE,
    AvailabilityOut,
    AvailabilityQuery,
    BookCreate,
    BookOut,
    BookPage,
    BookPatch,
    BookPath,
    BookQuery,
    BookReplace,
    CopyCreate,
    CopyOut,
    CopyPage,
)
from entrypoints.schemas.common import PageQuery

bp = APIBlueprint(
    "books",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Books", description="The catalogue: books, their copies, availability.")],
)


def book_url(book_id: str) -> str:
    return f"{API_PREFIX}/books/{book_id}"


def _page_example(item: object) -> dict[str, object]:
    return {"items": [item], "page": 1, "per_page": 20, "total": 1}


@operation(
    bp,
    "GET",
    "/books",
    summary="List books",
    description="Search the catalogue. `q` matches every word against titles and authors, "
    "`author` one author's name, `isbn` an exact ISBN (ISBN-10 accepted), `available` whether a "
    "copy is on the shelf. Sorted by `sort`, ties broken by id.",
    replies=[listed(BookPage, _page_example(BOOK_EXAMPLE), "A page of books.")],
    access=access.catalogue_read(),
)
@inject
def list_books(
    query: BookQuery, reads: CatalogueReads = Provide[Container.library.catalogue_reads]
) -> Response:
    found = reads.search_books(
        BookFilter(
            q=query.q,
            author=query.author,
            isbn=query.isbn,
            available=query.available,
            sort=query.sort,
        ),
        page_request(query),
    )
    return direct_page_response(found, BOOK_PAGE)


@operation(
    bp,
    "POST",
    "/books",
    summary="Add a book",
    description="Add a book to the catalogue, optionally with copies (`barcodes`). The ISBN is "
    "stored as ISBN-13.",
    replies=[created(BookOut, BOOK_EXAMPLE, "The book was added.")],
    errors=(409,),
    headers=("Idempotency-Key",),
    access=access.requires(Scope.BOOKS_WRITE),
)
@idempotent
@inject
def create_book(
    body: BookCreate, catalogue: Catalogue = Provide[Container.library.catalogue]
) -> Response:
    book = catalogue.add_book(body.details(), body.barcodes).book
    return created_response(BookOut.of(book), book_url(book.id), entity_etag(book.id, book.version))


@operation(
    bp,
    "GET",
    "/books/<book_id>",
    summary="Get a book",
    description="One catalogue record.",
    replies=[ok(BookOut, BOOK_EXAMPLE, "The book."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=access.catalogue_read(),
)
@inject
def get_book(
    path: BookPath, reads: CatalogueReads = Provide[Container.library.catalogue_reads]
) -> Response:
    book = reads.get_book(path.book_id)
    return conditional.read(BookOut.of(book), entity_etag(book.id, book.version))


def _current_version(catalogue: Catalogue, book_id: str) -> int:
    return catalogue.get_book(book_id).version


@operation(
    bp,
    "PUT",
    "/books/<book_id>",
    summary="Replace a book",
    description="Replace every field of the record; fields left out are cleared.",
    replies=[ok(BookOut, BOOK_EXAMPLE, "The book as replaced.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.BOOKS_WRITE),
)
@inject
def replace_book(
    path: BookPath, body: BookReplace, catalogue: Catalogue = Provide[Container.library.catalogue]
) -> Response:
    expected = conditional.expected_version(
        path.book_id, lambda: _current_version(catalogue, path.book_id)
    )
    book = catalogue.update_book(
        path.book_id, BookChanges.replacing_with(body.details()), expected_version=expected
    )
    return json_response(BookOut.of(book), headers={"ETag": entity_etag(book.id, book.version)})


@operation(
    bp,
    "PATCH",
    "/books/<book_id>",
    summary="Change a book",
    description="Change the fields given; `null` clears `publisher` or `year`.",
    replies=[ok(BookOut, BOOK_EXAMPLE, "The book as changed.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.BOOKS_WRITE),
)
@inject
def update_book(
    path: BookPath, body: BookPatch, catalogue: Catalogue = Provide[Container.library.catalogue]
) -> Response:
    expected = conditional.expected_version(
        path.book_id, lambda: _current_version(catalogue, path.book_id)
    )
    book = catalogue.update_book(
        path.book_id, BookChanges(**body.given()), expected_version=expected
    )
    return json_response(BookOut.of(book), headers={"ETag": entity_etag(book.id, book.version)})


@operation(
    bp,
    "DELETE",
    "/books/<book_id>",
    summary="Remove a book",
    description="Remove the book with its copies, holds and loan history. Refused while a copy "
    "is on loan (`BOOK_HAS_OPEN_LOANS`); fines incurred on it stay on the members' accounts.",
    replies=[no_content("The book was removed.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.BOOKS_WRITE),
)
@inject
def delete_book(
    path: BookPath, catalogue: Catalogue = Provide[Container.library.catalogue]
) -> Response:
    expected = conditional.expected_version(
        path.book_id, lambda: _current_version(catalogue, path.book_id)
    )
    catalogue.remove_book(path.book_id, expected_version=expected)
    return no_content_response()


@operation(
    bp,
    "GET",
    "/books/<book_id>/copies",
    summary="List a book's copies",
    description="Every copy of the book, by barcode.",
    replies=[listed(CopyPage, _page_example(COPY_EXAMPLE), "A page of copies.")],
    access=access.catalogue_read(),
)
@inject
def list_copies(
    path: BookPath,
    query: PageQuery,
    reads: CatalogueReads = Provide[Container.library.catalogue_reads],
) -> Response:
    copies = reads.list_copies(path.book_id)
    return page_response(slice_page(copies, page_request(query)), CopyOut.of, CopyPage)


@operation(
    bp,
    "POST",
    "/books/<book_id>/copies",
    summary="Add a copy",
    description="Add a physical copy. When members wait for the book it goes straight to the "
    "hold shelf for the first of them.",
    replies=[created(CopyOut, COPY_EXAMPLE, "The copy was added.")],
    errors=(409,),
    access=access.requires(Scope.BOOKS_WRITE),
)
@inject
def add_copy(
    path: BookPath, body: CopyCreate, catalogue: Catalogue = Provide[Container.library.catalogue]
) -> Response:
    copy = catalogue.add_copy(path.book_id, body.barcode)
    return created_response(
        CopyOut.of(copy), f"{API_PREFIX}/copies/{copy.id}", entity_etag(copy.id, copy.version)
    )


@operation(
    bp,
    "GET",
    "/books/<book_id>/availability",
    summary="Get a book's availability",
    description="How many copies are on the shelf, on loan and on the hold shelf, how many "
    "holds wait, and whether a member (`member_id`, or else the caller) could borrow a copy now, "
    "with the reasons when not.",
    replies=[ok(AvailabilityOut, AVAILABILITY_EXAMPLE, "The book's availability."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=access.catalogue_read(owner=access.Owner.QUERY),
)
@inject
def get_availability(
    path: BookPath,
    query: AvailabilityQuery,
    reads: CatalogueReads = Provide[Container.library.catalogue_reads],
) -> Response:
    caller = current_caller()
    member_id = query.member_id or (caller.member_id if caller else None)
    availability = reads.availability(path.book_id, member_id)
    return conditional.read(AvailabilityOut.of(availability, member_id))
