"""``circulate members ...``: register members and staff, change, suspend and remove them."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from dependency_injector.wiring import Provide, inject

from application.accounts import Accounts
from application.catalogue import Catalogue
from application.circulation import Circulation
from application.members import MemberChanges, MemberImportReport, Membership
from application.queries import LoanFilter, MemberFilter, PageRequest
from domain.errors import EmailAlreadyRegistered
from domain.loans import LoanState
from domain.members import Member, MemberStatus, Role
from domain.values import UNSET
from entrypoints.cli import lookup
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.importing import FileFormat, read_member_records
from entrypoints.cli.loading import (
    DEFAULT_BATCH,
    MAX_BATCH,
    chosen_format,
    load_file,
    print_rejections,
)
from entrypoints.cli.names import Names
from entrypoints.cli.output import (
    json_option,
    money,
    page_json,
    page_options,
    print_fields,
    print_json,
    print_page_footer,
    print_table,
)
from entrypoints.cli.views import loan_json, member_import_report_json, member_json
from entrypoints.container import Container

ROLES = click.Choice([role.value for role in Role], case_sensitive=False)
STATUSES = click.Choice([status.value for status in MemberStatus], case_sensitive=False)
DATE = click.DateTime(formats=["%Y-%m-%d"])
FORMATS = click.Choice([f.value for f in FileFormat], case_sensitive=False)


def start_of_day(date: datetime | None) -> datetime | None:
    """A date given on the command line, as the instant it starts in UTC."""
    return None if date is None else date.replace(tzinfo=UTC)


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at a hidden prompt.

    Never a command-line argument, which would end up in the shell history and in ``ps``.
    """
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.UsageError("--password-stdin: standard input held no password")
        return line
    typed = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    return str(typed)


def describe(member: Member) -> str:
    return (
        f"{member.name} <{member.email}> ({member.role}, {member.status}) "
        f"card {member.card_number}, id {member.id}"
    )


@click.group(cls=ServiceGroup)
def members() -> None:
    """Register, list, change and remove members and staff."""


@members.command()
@click.option("--email", required=True, help="Sign-in email, unique regardless of case.")
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--role", type=ROLES, default=Role.MEMBER.value, show_default=True, help="What they may do."
)
@click.option(
    "--no-password",
    is_flag=True,
    help="Register without a password: the member cannot sign in until one is set.",
)
@click.option(
    "--expires-on",
    type=DATE,
    metavar="YYYY-MM-DD",
    help="Date (UTC) the membership ends [default: one period].",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.option(
    "--card",
    "card_number",
    help="The number of a card already printed [default: a new one in the library's format].",
)
@json_option
@inject
def create(
    email: str,
    name: str,
    role: str,
    no_password: bool,
    expires_on: datetime | None,
    password_stdin: bool,
    card_number: str | None,
    as_json: bool,
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Register a member; the password is asked for twice at a hidden prompt.

    \b
    Example (the first administrator):
      circulate members create --email ada@example.org --name "Ada Lovelace" --role admin
      printf '%s\\n' "$PASSWORD" | circulate members create \\
          --email desk@example.org --name "Front Desk" --role librarian --password-stdin
    """
    if no_password and password_stdin:
        raise click.UsageError("--no-password and --password-stdin exclude each other")
    if membership.find_by_email(email) is not None:
        # Refused before the password is typed, not after.
        raise EmailAlreadyRegistered(f"{email} is already registered", email=email)
    password = None if no_password else read_password(password_stdin)
    member = membership.register(
        email=email,
        name=name,
        role=Role(role.lower()),
        password=password,
        membership_expires_at=start_of_day(expires_on),
        card_number=card_number,
    )
    if as_json:
        print_json(member_json(member))
    else:
        click.echo(f"created {describe(member)}")


@members.command("list")
@click.option("--search", "q", help="Match name or email (any case).")
@click.option("--card", "card_number", help="Only the member with this card number.")
@click.option("--role", type=ROLES, help="Only this role.")
@click.option("--status", type=STATUSES, help="Only this status.")
@page_options
@json_option
@inject
def list_members(
    q: str | None,
    card_number: str | None,
    role: str | None,
    status: str | None,
    page: int,
    per_page: int,
    as_json: bool,
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """List members, oldest registration first.

    \b
    Example:
      circulate members list --role librarian
      circulate members list --search smith --json
    """
    query = MemberFilter(
        q=q,
        card_number=card_number,
        role=Role(role.lower()) if role else None,
        status=MemberStatus(status.lower()) if status else None,
    )
    result = membership.list(query, PageRequest(page, per_page))
    if as_json:
        print_json(page_json(result, member_json))
        return
    print_table(
        ["ID", "CARD", "NAME", "EMAIL", "ROLE", "STATUS", "EXPIRES"],
        (
            [
                m.id,
                m.card_number,
                m.name,
                m.email,
                m.role,
                m.status,
                m.membership_expires_at.date(),
            ]
            for m in result.items
        ),
        empty="No members match.",
    )
    print_page_footer(result, "members")


@members.command()
@click.argument("member_ref", metavar="MEMBER")
@json_option
@inject
def show(
    member_ref: str,
    as_json: bool,
    membership: Membership = Provide[Container.library.membership],
    circulation: Circulation = Provide[Container.library.circulation],
    accounts: Accounts = Provide[Container.library.accounts],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Show a member (by id, email or card number) with their open loans and what they owe.

    \b
    Example:
      circulate members show ada@example.org
      circulate members show 20000000000018
    """
    member = lookup.member(membership, member_ref)
    loans = circulation.list_loans(
        LoanFilter(member_id=member.id, state=LoanState.OPEN), PageRequest(1, 100)
    )
    owed = accounts.statement(member.id).balance_cents
    if as_json:
        print_json(
            {
                "member": member_json(member),
                "open_loans": [loan_json(loan) for loan in loans.items],
                "balance_cents": owed,
            }
        )
        return
    print_fields(
        [
            ("id", member.id),
            ("name", member.name),
            ("email", member.email),
            ("card number", member.card_number),
            ("role", member.role),
            ("status", member.status),
            ("membership ends", member.membership_expires_at),
            ("password set", "yes" if member.password_hash else "no"),
            ("open loans", loans.total),
            ("owes", money(owed)),
            ("registered", member.created_at),
        ]
    )
    if loans.items:
        click.echo()
        names = Names(membership, catalogue)
        print_table(
            ["LOAN", "BOOK", "COPY", "LOANED", "DUE", "RENEWALS", "STATE"],
            (
                [
                    view.loan.id,
                    names.title(view.loan.book_id),
                    names.barcode(view.loan.copy_id),
                    view.loan.loaned_at,
                    view.loan.due_at,
                    view.loan.renewals,
                    view.state,
                ]
                for view in loans.items
            ),
        )


@members.command()
@click.argument("member_ref", metavar="MEMBER")
@click.option("--email", help="New email.")
@click.option("--name", help="New name.")
@click.option("--card", "card_number", help="New card number (a replacement card).")
@click.option(
    "--expires-on", type=DATE, metavar="YYYY-MM-DD", help="New date (UTC) the membership ends."
)
@json_option
@inject
def update(
    member_ref: str,
    email: str | None,
    name: str | None,
    card_number: str | None,
    expires_on: datetime | None,
    as_json: bool,
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Change a member's email, name, card number or membership end date.

    \b
    Example:
      circulate members update ada@example.org --name "Ada King" --expires-on 2031-12-31
      circulate members update ada@example.org --card 20000000000026
    """
    if email is None and name is None and card_number is None and expires_on is None:
        raise click.UsageError("give at least one of --email, --name, --card and --expires-on")
    member = lookup.member(membership, member_ref)
    expiry = start_of_day(expires_on)
    updated = membership.update(
        member.id,
        MemberChanges(
            email=UNSET if email is None else email,
            name=UNSET if name is None else name,
            card_number=UNSET if card_number is None else card_number,
            membership_expires_at=UNSET if expiry is None else expiry,
        ),
    )
    _report(updated, "updated", as_json)


@members.command()
@click.argument("member_ref", metavar="MEMBER")
@json_option
@inject
def suspend(
    member_ref: str, as_json: bool, membership: Membership = Provide[Container.library.membership]
) -> None:
    """Suspend a member: they may not borrow or place holds until reactivated.

    \b
    Example:
      circulate members suspend ada@example.org
    """
    member = lookup.member(membership, member_ref)
    _report(membership.suspend(member.id), "suspended", as_json)


@members.command()
@click.argument("member_ref", metavar="MEMBER")
@json_option
@inject
def reactivate(
    member_ref: str, as_json: bool, membership: Membership = Provide[Container.library.membership]
) -> None:
    """Lift a suspension.

    \b
    Example:
      circulate members reactivate ada@example.org
    """
    member = lookup.member(membership, member_ref)
    _report(membership.reactivate(member.id), "reactivated", as_json)


@members.command("set-role")
@click.argument("member_ref", metavar="MEMBER")
@click.argument("role", type=ROLES)
@json_option
@inject
def set_role(
    member_ref: str,
    role: str,
    as_json: bool,
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Make a member a member, librarian or admin.

    \b
    Example:
      circulate members set-role grace@example.org librarian
    """
    member = lookup.member(membership, member_ref)
    _report(membership.change_role(member.id, Role(role.lower())), "changed", as_json)


@members.command("reset-password")
@click.argument("member_ref", metavar="MEMBER")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@inject
def reset_password(
    member_ref: str,
    password_stdin: bool,
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Set a new password for a member (asked for twice at a hidden prompt).

    \b
    Example:
      circulate members reset-password ada@example.org
    """
    member = lookup.member(membership, member_ref)
    membership.set_password(member.id, read_password(password_stdin))
    click.echo(f"password changed for {member.email}")


@members.command()
@click.argument("member_ref", metavar="MEMBER")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@inject
def remove(
    member_ref: str, yes: bool, membership: Membership = Provide[Container.library.membership]
) -> None:
    """Remove a member: anonymise them, keeping their loans and ledger lines; refused while
    they have loans out or owe money. Removing them again changes nothing.

    \b
    Example:
      circulate members remove grace@example.org --yes
    """
    member = lookup.member(membership, member_ref)
    if not yes:
        click.confirm(f"Remove {describe(member)}, erasing their personal data?", abort=True)
    membership.remove(member.id)
    click.echo(f"removed {member.email} (anonymised as member {member.id})")


def _report(member: Member, done: str, as_json: bool) -> None:
    if as_json:
        print_json(member_json(member))
    else:
        click.echo(f"{done} {describe(member)}")


@members.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "file_format",
    type=FORMATS,
    help="csv or jsonl [default: from the file name's extension].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Rows loaded per transaction.",
)
@json_option
@inject
def import_members(
    file: str,
    file_format: str | None,
    batch_size: int,
    as_json: bool,
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Register members from a CSV or JSON Lines file (- for standard input).

    Every row is checked; bad rows are reported with their line numbers and reasons, and the
    good ones are loaded in batches, one transaction each (an interrupted import keeps the
    batches it finished, never part of one). Members whose email is already registered are
    skipped, so importing a file twice adds nothing the second time. Exits with status 1 if
    any row was rejected.

    The file holds no passwords: imported members cannot sign in until one is set
    (circulate members reset-password).

    \b
    CSV columns (header row required, any order): email, name, role (member, librarian or
    admin; default member), expires_on (YYYY-MM-DD; default one membership period).
    JSON Lines: one object per line with the same keys.

    \b
    Example:
      circulate members import patrons.csv
      circulate members import patrons.jsonl --json
    """
    report = load_file(
        file,
        chosen_format(file, file_format),
        batch_size,
        read_member_records,
        membership.prepare_members,
        membership.store_members,
        MemberImportReport(),
    )
    if as_json:
        print_json(member_import_report_json(report))
    else:
        click.echo(
            f"added {report.added} members; {report.already_present} already registered; "
            f"{len(report.rejected)} rows rejected"
        )
        print_rejections(report.rejected)
    if report.rejected:
        raise click.exceptions.Exit(1)
