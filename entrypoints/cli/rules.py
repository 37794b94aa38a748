"""``circulate categories``, ``item-types`` and ``rules``: the circulation rules as data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click
from dependency_injector.wiring import Provide, inject

from application.catalogue import Catalogue
from application.members import Membership
from application.rules import CirculationRules
from domain.calendar import WEEKDAYS
from domain.rules import ANY, TERMS, CirculationRule, ItemType, MemberCategory
from entrypoints.cli import lookup
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.output import json_option, print_fields, print_json, print_table
from entrypoints.container import Container

RULES = Provide[Container.library.circulation_rules]


def category_json(category: MemberCategory) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "loan_limit": category.loan_limit,
        "debt_limit_cents": category.debt_limit_cents,
        "retired_at": category.retired_at,
        "version": category.version,
    }


def item_type_json(item_type: ItemType) -> dict[str, Any]:
    return {
        "code": item_type.code,
        "name": item_type.name,
        "retired_at": item_type.retired_at,
        "version": item_type.version,
    }


def rule_json(rule: CirculationRule) -> dict[str, Any]:
    fixed = rule.fixed_due_date
    return {
        "id": rule.id,
        "member_category": rule.member_category or ANY,
        "item_type": rule.item_type or ANY,
        **rule.terms(),
        "fixed_due_date": fixed.isoformat() if fixed is not None else None,
        "version": rule.version,
    }


def _limit(value: str | None) -> int | None:
    """``none`` (or nothing) for the library default, else a count."""
    if value is None or value.lower() == "none":
        return None
    if not value.isdigit():
        raise click.BadParameter(f"{value!r} is neither a whole number nor 'none'")
    return int(value)


def _or_default(limit: int | None) -> object:
    return "default" if limit is None else limit


# --- member categories -----------------------------------------------------------------------


@click.group(cls=ServiceGroup)
def categories() -> None:
    """Member categories: who borrows on which terms."""


@categories.command("list")
@json_option
@inject
def list_categories(as_json: bool, rules: CirculationRules = RULES) -> None:
    """List member categories, retired ones included."""
    found = rules.list_categories()
    if as_json:
        print_json([category_json(c) for c in found])
        return
    print_table(
        ["CODE", "NAME", "LOAN LIMIT", "DEBT LIMIT", "RETIRED"],
        (
            [
                c.code,
                c.name,
                _or_default(c.loan_limit),
                _or_default(c.debt_limit_cents),
                c.retired_at,
            ]
            for c in found
        ),
        empty="No categories.",
    )


@categories.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--loan-limit", help="Open loans of every type together; 'none': the default.")
@click.option("--debt-limit-cents", help="Debt that stops borrowing; 'none': the default.")
@json_option
@inject
def add_category(
    code: str,
    name: str,
    loan_limit: str | None,
    debt_limit_cents: str | None,
    as_json: bool,
    rules: CirculationRules = RULES,
) -> None:
    """Create a member category.

    \b
    Example:
      circulate categories add child --name Child --loan-limit 3 --debt-limit-cents 200
    """
    category = rules.create_category(
        code, name, loan_limit=_limit(loan_limit), debt_limit_cents=_limit(debt_limit_cents)
    )
    if as_json:
        print_json(category_json(category))
        return
    click.echo(f"member category {category.code} created")


@categories.command("change")
@click.argument("code")
@click.option("--name")
@click.option("--loan-limit", help="A count, or 'none' for the library default.")
@click.option("--debt-limit-cents", help="Cents, or 'none' for the library default.")
@json_option
@inject
def change_category(
    code: str,
    name: str | None,
    loan_limit: str | None,
    debt_limit_cents: str | None,
    as_json: bool,
    rules: CirculationRules = RULES,
) -> None:
    """Change a category's name or limits."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if loan_limit is not None:
        changes["loan_limit"] = _limit(loan_limit)
    if debt_limit_cents is not None:
        changes["debt_limit_cents"] = _limit(debt_limit_cents)
    category = rules.change_category(code, **changes)
    if as_json:
        print_json(category_json(category))
        return
    click.echo(f"member category {category.code} changed")


@categories.command("retire")
@click.argument("code")
@inject
def retire_category(code: str, rules: CirculationRules = RULES) -> None:
    """Retire a category: nobody joins it any more; its members keep its terms."""
    rules.retire_category(code)
    click.echo(f"member category {code} retired")


@categories.command("assign")
@click.argument("member_ref")
@click.argument("code")
@inject
def assign_category(
    member_ref: str,
    code: str,
    rules: CirculationRules = RULES,
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Put a member (id or email) in a category.

    \b
    Example:
      circulate categories assign ada@example.org child
    """
    member = lookup.member(membership, member_ref)
    rules.assign_category(member.id, code)
    click.echo(f"{member.email} is now in member category {code}")


# --- item types ------------------------------------------------------------------------------


@click.group("item-types", cls=ServiceGroup)
def item_types() -> None:
    """Item types: what is lent on which terms."""


@item_types.command("list")
@json_option
@inject
def list_item_types(as_json: bool, rules: CirculationRules = RULES) -> None:
    """List item types, retired ones included."""
    found = rules.list_item_types()
    if as_json:
        print_json([item_type_json(t) for t in found])
        return
    print_table(
        ["CODE", "NAME", "RETIRED"],
        ([t.code, t.name, t.retired_at] for t in found),
        empty="No item types.",
    )


@item_types.command("add")
@click.argument("code")
@click.option("--name", required=True)
@json_option
@inject
def add_item_type(code: str, name: str, as_json: bool, rules: CirculationRules = RULES) -> None:
    """Create an item type.

    \b
    Example:
      circulate item-types add dvd --name DVD
    """
    item_type = rules.create_item_type(code, name)
    if as_json:
        print_json(item_type_json(item_type))
        return
    click.echo(f"item type {item_type.code} created")


@item_types.command("change")
@click.argument("code")
@click.option("--name", required=True)
@inject
def change_item_type(code: str, name: str, rules: CirculationRules = RULES) -> None:
    """Rename an item type."""
    rules.change_item_type(code, name=name)
    click.echo(f"item type {code} changed")


@item_types.command("retire")
@click.argument("code")
@inject
def retire_item_type(code: str, rules: CirculationRules = RULES) -> None:
    """Retire an item type: no copy gets it any more; copies of it keep it."""
    rules.retire_item_type(code)
    click.echo(f"item type {code} retired")


@item_types.command("assign")
@click.option("--copy", "copy_ref", help="A copy (id or barcode).")
@click.option("--book", "book_ref", help="A book (id or ISBN): the type its new copies get.")
@click.argument("code")
@inject
def assign_item_type(
    copy_ref: str | None,
    book_ref: str | None,
    code: str,
    rules: CirculationRules = RULES,
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Give a copy, or a book's future copies, an item type.

    \b
    Example:
      circulate item-types assign --copy DVD-0001 dvd
    """
    if (copy_ref is None) == (book_ref is None):
        raise click.UsageError("give exactly one of --copy and --book")
    if copy_ref is not None:
        copy = lookup.copy(catalogue, copy_ref)
        rules.assign_item_type(copy.id, code)
        click.echo(f"copy {copy.barcode} is now of item type {code}")
    else:
        book = lookup.book(catalogue, str(book_ref))
        rules.assign_book_item_type(book.id, code)
        click.echo(f"new copies of {book.title!r} will be of item type {code}")


# --- the rules matrix ------------------------------------------------------------------------


def _terms_options(command: Any) -> Any:
    for name in reversed(TERMS):
        flag = "--" + name.replace("_", "-")
        if name == "holds_allowed":
            command = click.option(
                "--holds-allowed/--no-holds-allowed", "holds_allowed", default=None
            )(command)
        elif name == "fixed_due_date":
            command = click.option(flag, name, type=click.DateTime(["%Y-%m-%d"]))(command)
        elif name == "max_loans":
            command = click.option(flag, name, help="A count, or 'none' for no limit of its own.")(
                command
            )
        else:
            command = click.option(flag, name, type=click.IntRange(min=0))(command)
    return command


def _given_terms(options: dict[str, Any]) -> dict[str, Any]:
    terms: dict[str, Any] = {}
    for name in TERMS:
        value = options.get(name)
        if value is None:
            continue
        if name == "fixed_due_date":
            value = date(value.year, value.month, value.day)
        elif name == "max_loans":
            value = _limit(value)
        terms[name] = value
    return terms


def _code_or_any(value: str) -> str | None:
    return None if value == ANY else value


@click.group(cls=ServiceGroup)
def rules() -> None:
    """The rules matrix: loan terms per (member category, item type)."""


@rules.command("list")
@json_option
@inject
def list_rules(as_json: bool, rules: CirculationRules = RULES) -> None:
    """List the rules: the default first, then from most to least specific."""
    found = rules.list_rules()
    if as_json:
        print_json([rule_json(r) for r in found])
        return
    print_table(
        ["RULE", "CATEGORY", "ITEM TYPE", "LOAN", "RENEWALS", "FINE/DAY", "CAP", "HOLDS"],
        (
            [
                r.id,
                r.member_category or ANY,
                r.item_type or ANY,
                f"{r.loan_days} days" if r.loan_days else f"until {r.fixed_due_date}",
                r.max_renewals,
                r.fine_per_day_cents,
                r.fine_cap_cents,
                r.max_holds if r.holds_allowed else "no",
            ]
            for r in found
        ),
        empty="No rules.",
    )


@rules.command("add")
@click.option("--category", "member_category", default=ANY, show_default=True)
@click.option("--item-type", "item_type", default=ANY, show_default=True)
@_terms_options
@json_option
@inject
def add_rule(
    member_category: str,
    item_type: str,
    as_json: bool,
    rules: CirculationRules = RULES,
    **options: Any,
) -> None:
    """Add a rule for a (category, item type) pair; terms not given are the default rule's.

    \b
    Example:
      circulate rules add --item-type dvd --loan-days 7 --renewal-days 7 --max-loans 2
    """
    rule = rules.create_rule(
        _code_or_any(member_category), _code_or_any(item_type), **_given_terms(options)
    )
    if as_json:
        print_json(rule_json(rule))
        return
    click.echo(f"rule {rule.id} added")


@rules.command("change")
@click.argument("rule_id")
@_terms_options
@json_option
@inject
def change_rule(
    rule_id: str, as_json: bool, rules: CirculationRules = RULES, **options: Any
) -> None:
    """Change a rule's terms (the default rule's id is 'default'). Loans already made keep
    their due dates.

    \b
    Example:
      circulate rules change default --loan-days 28
    """
    rule = rules.change_rule(rule_id, **_given_terms(options))
    if as_json:
        print_json(rule_json(rule))
        return
    click.echo(f"rule {rule.id} changed")


@rules.command("remove")
@click.argument("rule_id")
@inject
def remove_rule(rule_id: str, rules: CirculationRules = RULES) -> None:
    """Remove a rule (not the default)."""
    rules.remove_rule(rule_id)
    click.echo(f"rule {rule_id} removed")


@rules.command("resolve")
@click.option("--member", "member_ref", required=True, help="Id or email.")
@click.option("--copy", "copy_ref", required=True, help="Id or barcode.")
@json_option
@inject
def resolve_rule(
    member_ref: str,
    copy_ref: str,
    as_json: bool,
    rules: CirculationRules = RULES,
    membership: Membership = Provide[Container.library.membership],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Explain which rule governs lending this copy to this member, and why.

    \b
    Example:
      circulate rules resolve --member ada@example.org --copy DVD-0001
    """
    member = lookup.member(membership, member_ref)
    copy = lookup.copy(catalogue, copy_ref)
    resolution = rules.resolve(member.id, copy.id)
    if as_json:
        print_json(
            {
                "member_category": resolution.criteria.member_category,
                "item_type": resolution.criteria.item_type,
                "rule": rule_json(resolution.rule),
                "reason": resolution.reason,
                "candidates": [r.id for r in resolution.candidates],
            }
        )
        return
    print_fields(
        [
            ("member category", resolution.criteria.member_category),
            ("item type", resolution.criteria.item_type),
            ("rule", resolution.rule.id),
            ("why", resolution.reason),
            ("matching", ", ".join(r.id for r in resolution.candidates)),
        ]
    )


# --- the library calendar --------------------------------------------------------------------


@click.group(cls=ServiceGroup)
def calendar() -> None:
    """The days the library is closed (in the CIRCULATE_TIMEZONE time zone)."""


@calendar.command("list")
@json_option
@inject
def list_closures(as_json: bool, rules: CirculationRules = RULES) -> None:
    """List weekly closures, then single closed dates."""
    found = rules.list_closures()
    if as_json:
        print_json(
            [
                {
                    "id": c.id,
                    "date": c.day.isoformat() if c.day is not None else None,
                    "weekday": WEEKDAYS[c.weekday] if c.weekday is not None else None,
                    "note": c.note,
                }
                for c in found
            ]
        )
        return
    print_table(
        ["CLOSURE", "CLOSED", "NOTE"],
        ([c.id, c.describes, c.note] for c in found),
        empty="The library never closes.",
    )


@calendar.command("close")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="One day.")
@click.option("--weekday", type=click.Choice(WEEKDAYS), help="Every week on this day.")
@click.option("--note", default="")
@inject
def close(
    day: datetime | None, weekday: str | None, note: str, rules: CirculationRules = RULES
) -> None:
    """Close the library on a date, or on a weekday every week.

    \b
    Example:
      circulate calendar close --date 2030-12-25 --note Christmas
      circulate calendar close --weekday sunday
    """
    if (day is None) == (weekday is None):
        raise click.UsageError("give exactly one of --date and --weekday")
    if day is not None:
        closure = rules.close_on(day.date(), note)
    else:
        closure = rules.close_every(WEEKDAYS.index(str(weekday)), note)
    click.echo(f"the library is closed {closure.describes} (closure {closure.id})")


@calendar.command("reopen")
@click.argument("closure_id")
@inject
def reopen(closure_id: str, rules: CirculationRules = RULES) -> None:
    """Open the library again on a closed day (loans already made keep their due dates)."""
    rules.reopen(closure_id)
    click.echo(f"closure {closure_id} removed")
