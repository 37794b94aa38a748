"""Circulation rules: member categories, item types and the rules matrix (changed by admins)."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from werkzeug.routing import BaseConverter

from application.catalogue import Catalogue
from application.members import Membership
from application.rules import CirculationRules
from domain.access import Scope
from domain.calendar import WEEKDAYS
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.conditional import entity_etag
from entrypoints.http.openapi import NOT_MODIFIED, created, listed, no_content, ok, operation
from entrypoints.http.responses.pagination import page_request, page_response, slice_page
from entrypoints.http.responses.rendering import created as created_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.responses.rendering import no_content as no_content_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.books import BookPath, CopyPath
from entrypoints.schemas.members import MemberPath
from entrypoints.schemas.rules import (
    CATEGORY_EXAMPLE,
    CLOSURE_EXAMPLE,
    ITEM_TYPE_EXAMPLE,
    RESOLUTION_EXAMPLE,
    RULE_EXAMPLE,
    CategoryAssign,
    CategoryCreate,
    CategoryOut,
    CategoryPage,
    CategoryPatch,
    ClosureCreate,
    ClosureOut,
    ClosurePage,
    ClosurePath,
    CodePath,
    ItemTypeAssign,
    ItemTypeCreate,
    ItemTypeOut,
    ItemTypePage,
    ItemTypePatch,
    ListQuery,
    ResolutionOut,
    ResolveQuery,
    RuleCreate,
    RuleOut,
    RulePage,
    RulePatch,
    RulePath,
)

bp = APIBlueprint(
    "rules",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[
        Tag(
            name="Circulation rules",
            description="Member categories, item types and the rules matrix that decides each "
            "loan's terms: the most specific (category, item type) match wins, and the default "
            "rule always applies when nothing else does. Changed by admins; read by staff.",
        )
    ],
)
ADMIN = access.requires(Scope.ADMIN)
STAFF_READ = access.requires(Scope.LOANS_READ, staff=True)
RULES = Provide["circulation_rules"]


class RuleIdConverter(BaseConverter):
    """A rule id, but not ``resolve``: ``/circulation-rules/resolve`` is the explaining query,
    and must not also answer to the rule routes' methods."""

    regex = r"(?!resolve$)[^/]+"


def _page_example(item: object) -> dict[str, object]:
    return {"items": [item], "page": 1, "per_page": 20, "total": 1}


# --- member categories -----------------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/member-categories",
    summary="List member categories",
    description="Every category by code, retired ones included.",
    replies=[listed(CategoryPage, _page_example(CATEGORY_EXAMPLE), "A page of categories.")],
    access=STAFF_READ,
)
@inject
def list_categories(query: ListQuery, rules: CirculationRules = RULES) -> Response:
    found = slice_page(rules.list_categories(), page_request(query))
    return page_response(found, CategoryOut.of, CategoryPage)


@operation(
    bp,
    "POST",
    "/member-categories",
    summary="Create a member category",
    description="A new category with its own total loan and debt limits (null: the library "
    "defaults). Codes are unique (`CODE_ALREADY_EXISTS`).",
    replies=[created(CategoryOut, CATEGORY_EXAMPLE, "The category was created.")],
    errors=(409,),
    access=ADMIN,
)
@inject
def create_category(body: CategoryCreate, rules: CirculationRules = RULES) -> Response:
    category = rules.create_category(
        body.code, body.name, loan_limit=body.loan_limit, debt_limit_cents=body.debt_limit_cents
    )
    return created_response(
        CategoryOut.of(category),
        f"{API_PREFIX}/member-categories/{category.code}",
        entity_etag(category.code, category.version),
    )


@operation(
    bp,
    "GET",
    "/member-categories/<code>",
    summary="Get a member category",
    description="One category.",
    replies=[ok(CategoryOut, CATEGORY_EXAMPLE, "The category."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=STAFF_READ,
)
@inject
def get_category(path: CodePath, rules: CirculationRules = RULES) -> Response:
    category = rules.get_category(path.code)
    return conditional.read(CategoryOut.of(category), entity_etag(category.code, category.version))


@operation(
    bp,
    "PATCH",
    "/member-categories/<code>",
    summary="Change a member category",
    description="Change the name or the limits given; a limit set to null falls back to the "
    "library default.",
    replies=[ok(CategoryOut, CATEGORY_EXAMPLE, "The category as changed.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def update_category(
    path: CodePath, body: CategoryPatch, rules: CirculationRules = RULES
) -> Response:
    expected = conditional.expected_version(
        path.code, lambda: rules.get_category(path.code).version
    )
    category = rules.change_category(path.code, expected, **body.given())
    return json_response(
        CategoryOut.of(category), headers={"ETag": entity_etag(category.code, category.version)}
    )


@operation(
    bp,
    "DELETE",
    "/member-categories/<code>",
    summary="Retire a member category",
    description="No member joins it any more; its members keep its terms and it stays "
    "readable, as retired. The default category `standard` cannot be retired.",
    replies=[no_content("The category was retired.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def retire_category(path: CodePath, rules: CirculationRules = RULES) -> Response:
    expected = conditional.expected_version(
        path.code, lambda: rules.get_category(path.code).version
    )
    rules.retire_category(path.code, expected)
    return no_content_response()


# --- item types ------------------------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/item-types",
    summary="List item types",
    description="Every item type by code, retired ones included.",
    replies=[listed(ItemTypePage, _page_example(ITEM_TYPE_EXAMPLE), "A page of item types.")],
    access=STAFF_READ,
)
@inject
def list_item_types(query: ListQuery, rules: CirculationRules = RULES) -> Response:
    found = slice_page(rules.list_item_types(), page_request(query))
    return page_response(found, ItemTypeOut.of, ItemTypePage)


@operation(
    bp,
    "POST",
    "/item-types",
    summary="Create an item type",
    description="A new kind of item (DVD, reference...). Codes are unique.",
    replies=[created(ItemTypeOut, ITEM_TYPE_EXAMPLE, "The item type was created.")],
    errors=(409,),
    access=ADMIN,
)
@inject
def create_item_type(body: ItemTypeCreate, rules: CirculationRules = RULES) -> Response:
    item_type = rules.create_item_type(body.code, body.name)
    return created_response(
        ItemTypeOut.of(item_type),
        f"{API_PREFIX}/item-types/{item_type.code}",
        entity_etag(item_type.code, item_type.version),
    )


@operation(
    bp,
    "GET",
    "/item-types/<code>",
    summary="Get an item type",
    description="One item type.",
    replies=[ok(ItemTypeOut, ITEM_TYPE_EXAMPLE, "The item type."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=STAFF_READ,
)
@inject
def get_item_type(path: CodePath, rules: CirculationRules = RULES) -> Response:
    item_type = rules.get_item_type(path.code)
    return conditional.read(
        ItemTypeOut.of(item_type), entity_etag(item_type.code, item_type.version)
    )


@operation(
    bp,
    "PATCH",
    "/item-types/<code>",
    summary="Change an item type",
    description="Rename it.",
    replies=[ok(ItemTypeOut, ITEM_TYPE_EXAMPLE, "The item type as changed.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def update_item_type(
    path: CodePath, body: ItemTypePatch, rules: CirculationRules = RULES
) -> Response:
    expected = conditional.expected_version(
        path.code, lambda: rules.get_item_type(path.code).version
    )
    item_type = rules.change_item_type(path.code, expected, **body.given())
    return json_response(
        ItemTypeOut.of(item_type),
        headers={"ETag": entity_etag(item_type.code, item_type.version)},
    )


@operation(
    bp,
    "DELETE",
    "/item-types/<code>",
    summary="Retire an item type",
    description="No copy gets it any more; copies of it keep it. The default type `book` "
    "cannot be retired.",
    replies=[no_content("The item type was retired.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def retire_item_type(path: CodePath, rules: CirculationRules = RULES) -> Response:
    expected = conditional.expected_version(
        path.code, lambda: rules.get_item_type(path.code).version
    )
    rules.retire_item_type(path.code, expected)
    return no_content_response()


# --- assigning them --------------------------------------------------------------------------


@operation(
    bp,
    "PUT",
    "/members/<member_id>/category",
    summary="Set a member's category",
    description="Move the member to a current (not retired) category. Their open loans keep "
    "their due dates.",
    replies=[no_content("The member's category was set.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.MEMBERS_WRITE, staff=True),
)
@inject
def set_member_category(
    path: MemberPath,
    body: CategoryAssign,
    rules: CirculationRules = RULES,
    membership: Membership = Provide["membership"],
) -> Response:
    expected = conditional.expected_version(
        path.member_id, lambda: membership.get(path.member_id).version
    )
    rules.assign_category(path.member_id, body.category, expected)
    return no_content_response()


@operation(
    bp,
    "PUT",
    "/copies/<copy_id>/item-type",
    summary="Set a copy's item type",
    description="Loans already made keep the terms they were made under.",
    replies=[no_content("The copy's item type was set.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.BOOKS_WRITE),
)
@inject
def set_copy_item_type(
    path: CopyPath,
    body: ItemTypeAssign,
    rules: CirculationRules = RULES,
    catalogue: Catalogue = Provide["catalogue"],
) -> Response:
    expected = conditional.expected_version(
        path.copy_id, lambda: catalogue.get_copy(path.copy_id).version
    )
    rules.assign_item_type(path.copy_id, body.item_type, expected)
    return no_content_response()


@operation(
    bp,
    "PUT",
    "/books/<book_id>/item-type",
    summary="Set a book's item type",
    description="The type the book's new copies get; its existing copies keep theirs.",
    replies=[no_content("The book's item type was set.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.BOOKS_WRITE),
)
@inject
def set_book_item_type(
    path: BookPath,
    body: ItemTypeAssign,
    rules: CirculationRules = RULES,
    catalogue: Catalogue = Provide["catalogue"],
) -> Response:
    expected = conditional.expected_version(
        path.book_id, lambda: catalogue.get_book(path.book_id).version
    )
    rules.assign_book_item_type(path.book_id, body.item_type, expected)
    return no_content_response()


# --- the library calendar ------------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/closures",
    summary="List the days the library is closed",
    description="Weekdays closed every week, then single closed dates. Loans never fall due on "
    "a closed day, and closed days do not count towards fines. The time zone these dates are "
    "in is the `CIRCULATE_TIMEZONE` setting.",
    replies=[listed(ClosurePage, _page_example(CLOSURE_EXAMPLE), "A page of closures.")],
    access=STAFF_READ,
)
@inject
def list_closures(query: ListQuery, rules: CirculationRules = RULES) -> Response:
    found = slice_page(rules.list_closures(), page_request(query))
    return page_response(found, ClosureOut.of, ClosurePage)


@operation(
    bp,
    "POST",
    "/closures",
    summary="Close the library on a day",
    description="One `date`, or a `weekday` every week. Loans made from now on move their due "
    "date to the next open day; loans already made keep theirs. Closing a day twice, or every "
    "weekday, is refused (`CIRCULATION_RULE_CONFLICT`).",
    replies=[created(ClosureOut, CLOSURE_EXAMPLE, "The library is closed that day.")],
    errors=(409,),
    access=ADMIN,
)
@inject
def create_closure(body: ClosureCreate, rules: CirculationRules = RULES) -> Response:
    if body.date is not None:
        closure = rules.close_on(body.date, body.note)
    else:
        closure = rules.close_every(WEEKDAYS.index(str(body.weekday)), body.note)
    return created_response(
        ClosureOut.of(closure),
        f"{API_PREFIX}/closures/{closure.id}",
        entity_etag(closure.id, closure.version),
    )


@operation(
    bp,
    "DELETE",
    "/closures/<closure_id>",
    summary="Open the library on a closed day again",
    description="Loans already made keep their due dates.",
    replies=[no_content("The day is open again.")],
    errors=(412,),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def delete_closure(path: ClosurePath, rules: CirculationRules = RULES) -> Response:
    rules.reopen(path.closure_id, conditional.expected_version(path.closure_id, lambda: 1))
    return no_content_response()


# --- the rules matrix ------------------------------------------------------------------------


@operation(
    bp,
    "GET",
    "/circulation-rules",
    summary="List circulation rules",
    description="The default rule (`any`, `any`) first, then the others from most to least "
    "specific. Until an admin changes it, the default rule is the `CIRCULATE_*` policy "
    "settings.",
    replies=[listed(RulePage, _page_example(RULE_EXAMPLE), "A page of rules.")],
    access=STAFF_READ,
)
@inject
def list_rules(query: ListQuery, rules: CirculationRules = RULES) -> Response:
    found = slice_page(rules.list_rules(), page_request(query))
    return page_response(found, RuleOut.of, RulePage)


@operation(
    bp,
    "POST",
    "/circulation-rules",
    summary="Create a circulation rule",
    description="A rule for a (member category, item type) pair, either side possibly `any`; "
    "terms left out are the default rule's. One rule per pair "
    "(`CIRCULATION_RULE_CONFLICT`); contradictory terms are refused (422 `INVALID_VALUE`).",
    replies=[created(RuleOut, RULE_EXAMPLE, "The rule was created.")],
    errors=(404, 409),
    access=ADMIN,
)
@inject
def create_rule(body: RuleCreate, rules: CirculationRules = RULES) -> Response:
    category, item_type = body.pair()
    rule = rules.create_rule(category, item_type, **body.terms())
    return created_response(
        RuleOut.of(rule),
        f"{API_PREFIX}/circulation-rules/{rule.id}",
        entity_etag(rule.id, rule.version),
    )


@operation(
    bp,
    "GET",
    "/circulation-rules/resolve",
    summary="Explain which rule applies",
    description="The rule that governs a loan of `copy_id` to `member_id`: the member's "
    "category and the copy's item type, every rule that matches them, the one that wins and "
    "why.",
    replies=[ok(ResolutionOut, RESOLUTION_EXAMPLE, "The rule and the reason.", etag=False)],
    errors=(404,),
    access=STAFF_READ,
)
@inject
def resolve_rule(query: ResolveQuery, rules: CirculationRules = RULES) -> Response:
    return json_response(ResolutionOut.of(rules.resolve(query.member_id, query.copy_id)))


@operation(
    bp,
    "GET",
    "/circulation-rules/<rule_id:rule_id>",
    summary="Get a circulation rule",
    description="One rule; the default rule's id is `default`.",
    replies=[ok(RuleOut, RULE_EXAMPLE, "The rule."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=STAFF_READ,
)
@inject
def get_rule(path: RulePath, rules: CirculationRules = RULES) -> Response:
    rule = rules.get_rule(path.rule_id)
    return conditional.read(RuleOut.of(rule), entity_etag(rule.id, rule.version))


@operation(
    bp,
    "PATCH",
    "/circulation-rules/<rule_id:rule_id>",
    summary="Change a circulation rule",
    description="Change the terms given. Loans already made keep their due dates. Giving "
    "`loan_days` clears `fixed_due_date` and the other way round.",
    replies=[ok(RuleOut, RULE_EXAMPLE, "The rule as changed.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def update_rule(path: RulePath, body: RulePatch, rules: CirculationRules = RULES) -> Response:
    expected = conditional.expected_version(
        path.rule_id, lambda: rules.get_rule(path.rule_id).version
    )
    rule = rules.change_rule(path.rule_id, expected, **body.terms())
    return json_response(RuleOut.of(rule), headers={"ETag": entity_etag(rule.id, rule.version)})


@operation(
    bp,
    "DELETE",
    "/circulation-rules/<rule_id:rule_id>",
    summary="Remove a circulation rule",
    description="Loans it governed fall to the next most specific rule. The default rule "
    "cannot be removed (`CIRCULATION_RULE_CONFLICT`).",
    replies=[no_content("The rule was removed.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=ADMIN,
)
@inject
def delete_rule(path: RulePath, rules: CirculationRules = RULES) -> Response:
    expected = conditional.expected_version(
        path.rule_id, lambda: rules.get_rule(path.rule_id).version
    )
    rules.remove_rule(path.rule_id, expected)
    return no_content_response()
