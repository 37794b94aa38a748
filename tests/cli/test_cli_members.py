"""``circulate members ...`` on the in-memory container."""

from __future__ import annotations

import json

from argon2 import PasswordHasher

from entrypoints.container import Container
from tests.cli.conftest import PASSWORD, Cli


def create(cli: Cli, email: str, name: str, *extra: str) -> str:
    result = cli(
        "members",
        "create",
        "--email",
        email,
        "--name",
        name,
        "--password-stdin",
        "--json",
        *extra,
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    member_id: str = json.loads(result.stdout)["id"]
    return member_id


def test_create_the_first_admin_at_a_hidden_confirmed_prompt(
    cli: Cli, container: Container
) -> None:
    result = cli(
        "members",
        "create",
        "--email",
        "Ada@Example.org",
        "--name",
        "Ada Lovelace",
        "--role",
        "admin",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "created Ada Lovelace <ada@example.org> (admin, active)" in result.stdout
    assert PASSWORD not in result.output  # the prompt does not echo
    stored = container.library.membership().find_by_email("ada@example.org")
    assert stored is not None
    assert stored.password_hash is not None
    assert PasswordHasher().verify(stored.password_hash, PASSWORD)


def test_a_mistyped_confirmation_is_asked_again(cli: Cli) -> None:
    result = cli(
        "members",
        "create",
        "--email",
        "a@example.org",
        "--name",
        "A",
        input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


def test_password_from_stdin_and_without_password(cli: Cli, container: Container) -> None:
    create(cli, "reader@example.org", "Reader")
    result = cli(
        "members", "create", "--email", "patron@example.org", "--name", "Patron", "--no-password"
    )

    assert result.exit_code == 0, result.output
    patron = container.library.membership().find_by_email("patron@example.org")
    assert patron is not None
    assert patron.password_hash is None


def test_password_is_never_an_argument(cli: Cli) -> None:
    result = cli(
        "members", "create", "--email", "a@example.org", "--name", "A", "--password", PASSWORD
    )

    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_a_short_password_is_refused_with_its_code(cli: Cli) -> None:
    result = cli(
        "members",
        "create",
        "--email",
        "a@example.org",
        "--name",
        "A",
        "--password-stdin",
        input="short\n",
    )

    assert result.exit_code == 1
    assert result.stderr == "Error: INVALID_VALUE: password must be at least 12 characters\n"


def test_a_taken_email_is_refused_before_the_password_is_asked(cli: Cli) -> None:
    create(cli, "ada@example.org", "Ada")

    result = cli("members", "create", "--email", "ADA@example.org", "--name", "Other")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: EMAIL_ALREADY_REGISTERED: ")
    assert "Password" not in result.output


def test_list_is_an_aligned_table_or_json(cli: Cli) -> None:
    create(cli, "ada@example.org", "Ada Lovelace", "--role", "admin")
    create(cli, "grace@example.org", "Grace Hopper")

    table = cli("members", "list")
    as_json = cli("members", "list", "--role", "admin", "--json")

    assert table.exit_code == 0, table.output
    header, first, second = table.stdout.splitlines()
    assert header.split() == ["ID", "CARD", "NAME", "EMAIL", "ROLE", "STATUS", "EXPIRES"]
    assert header.index("EMAIL") == first.index("ada@") == second.index("grace@")
    assert "Grace Hopper" in second
    body = json.loads(as_json.stdout)
    assert body["total"] == 1
    assert [m["email"] for m in body["items"]] == ["ada@example.org"]
    assert "password_hash" not in body["items"][0]
    assert body["items"][0]["has_password"] is True


def test_list_pages(cli: Cli) -> None:
    for n in range(3):
        create(cli, f"m{n}@example.org", f"Member {n}")

    result = cli("members", "list", "--per-page", "2")

    assert result.exit_code == 0, result.output
    assert "page 1 of 2 (3 members); --page 2 for more" in result.stdout
    assert "m2@example.org" in cli("members", "list", "--per-page", "2", "--page", "2").stdout


def test_show_by_email_or_id(cli: Cli) -> None:
    member_id = create(cli, "ada@example.org", "Ada Lovelace")

    by_email = cli("members", "show", "ada@example.org")
    by_id = json.loads(cli("members", "show", member_id, "--json").stdout)

    assert by_email.exit_code == 0, by_email.output
    assert member_id in by_email.stdout
    assert "owes" in by_email.stdout
    assert by_id["member"]["email"] == "ada@example.org"
    assert by_id["open_loans"] == []
    assert by_id["balance_cents"] == 0


def test_show_an_unknown_member_is_refused(cli: Cli) -> None:
    result = cli("members", "show", "nobody@example.org")

    assert result.exit_code == 1
    assert result.stderr == "Error: MEMBER_NOT_FOUND: member 'nobody@example.org' does not exist\n"


def test_update_suspend_reactivate_and_set_role(cli: Cli, container: Container) -> None:
    member_id = create(cli, "ada@example.org", "Ada")

    updated = cli(
        "members",
        "update",
        member_id,
        "--name",
        "Ada King",
        "--email",
        "king@example.org",
        "--expires-on",
        "2031-12-31",
    )
    suspended = cli("members", "suspend", "king@example.org")
    role = cli("members", "set-role", member_id, "LIBRARIAN", "--json")

    assert updated.exit_code == suspended.exit_code == role.exit_code == 0
    assert "updated Ada King <king@example.org>" in updated.stdout
    assert "(member, suspended)" in suspended.stdout
    assert json.loads(role.stdout)["role"] == "librarian"
    stored = container.library.membership().get(member_id)
    assert stored.membership_expires_at.isoformat() == "2031-12-31T00:00:00+00:00"

    reactivated = cli("members", "reactivate", member_id)
    assert "(librarian, active)" in reactivated.stdout


def test_update_needs_a_change(cli: Cli) -> None:
    member_id = create(cli, "ada@example.org", "Ada")

    result = cli("members", "update", member_id)

    assert result.exit_code == 2
    assert "give at least one of" in result.stderr


def test_reset_password(cli: Cli, container: Container) -> None:
    member_id = create(cli, "ada@example.org", "Ada")
    new = "another long passphrase"

    result = cli("members", "reset-password", member_id, input=f"{new}\n{new}\n")

    assert result.exit_code == 0, result.output
    stored = container.library.membership().get(member_id)
    assert stored.password_hash is not None
    assert PasswordHasher().verify(stored.password_hash, new)


def test_remove_asks_first(cli: Cli) -> None:
    create(cli, "ada@example.org", "Ada")

    declined = cli("members", "remove", "ada@example.org", input="n\n")
    assert declined.exit_code == 1
    assert cli("members", "show", "ada@example.org").exit_code == 0

    accepted = cli("members", "remove", "ada@example.org", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert cli("members", "show", "ada@example.org").exit_code == 1


def test_remove_with_yes(cli: Cli) -> None:
    member_id = create(cli, "ada@example.org", "Ada")

    result = cli("members", "remove", member_id, "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"removed ada@example.org (anonymised as member {member_id})\n"
    shown = cli("members", "show", member_id, "--json")
    assert json.loads(shown.stdout)["member"]["status"] == "anonymised"


def test_every_members_command_has_help_with_an_example(cli: Cli) -> None:
    for command in (
        "create",
        "list",
        "show",
        "update",
        "suspend",
        "reactivate",
        "remove",
        "set-role",
        "reset-password",
        "import",
    ):
        result = cli("members", command, "--help")
        assert result.exit_code == 0, command
        assert "Example" in result.stdout, command
        assert "circulate members" in result.stdout, command


def test_control_characters_in_stored_values_are_shown_escaped(
    cli: Cli, container: Container
) -> None:
    container.library.membership().register(
        email="eve@example.org", name="Eve\x1b[2J\x1b]0;owned\x07"
    )

    table = cli("members", "list")

    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.stdout
    assert "\x07" not in table.stdout
    assert "Eve\\x1b[2J\\x1b]0;owned\\x07" in table.stdout
