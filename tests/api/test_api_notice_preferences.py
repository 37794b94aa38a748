"""Notice preferences over HTTP: a member chooses their own, staff anyone's."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.api.conftest import TEST_RATE_LIMIT
from tests.api.support import Users, add_book, assert_problem, borrow


def _url(member_id: str) -> str:
    return f"/api/v1/members/{member_id}/notice-preferences"


def test_a_member_opts_in_to_receipts_and_gets_one_at_check_out(
    client: FlaskClient, users: Users, container: Container
) -> None:
    ada = users.ada
    assert client.get(_url(ada.id), headers=ada.headers).get_json() == {
        "member_id": ada.id,
        "receipts": False,
        "overdue": True,
    }

    chosen = client.put(_url(ada.id), json={"receipts": True}, headers=ada.headers)
    assert chosen.status_code == 200
    assert chosen.get_json() == {"member_id": ada.id, "receipts": True, "overdue": True}
    borrow(client, {"id": ada.id}, add_book(client, 0))
    container.worker().tick()

    [receipt] = container.notifier().sent
    assert (receipt.to, receipt.subject.startswith("Receipt: ")) == (ada.email, True)


def test_staff_choose_for_a_member_but_a_member_not_for_another(
    client: FlaskClient, users: Users
) -> None:
    ada, grace = users.ada, users.grace
    by_staff = client.put(_url(ada.id), json={"receipts": True}, headers=users.librarian.headers)
    assert by_staff.status_code == 200

    assert_problem(
        client.put(_url(ada.id), json={"receipts": False}, headers=grace.headers),
        404,
        "MEMBER_NOT_FOUND",
    )
    assert client.get(_url(ada.id)).get_json()["receipts"] is True


def test_overdue_notices_stay_on_unless_the_library_allows_opting_out(
    client: FlaskClient, users: Users
) -> None:
    ada = users.ada
    refused = client.put(
        _url(ada.id), json={"receipts": True, "overdue": False}, headers=ada.headers
    )

    assert_problem(refused, 409, "OVERDUE_NOTICES_REQUIRED")
    assert client.get(_url(ada.id)).get_json() == {
        "member_id": ada.id,
        "receipts": False,
        "overdue": True,
    }


def test_bad_bodies_and_stale_versions_change_nothing(client: FlaskClient, users: Users) -> None:
    ada = users.ada
    current = client.get(_url(ada.id))
    for body in ({}, {"receipts": "yes"}, {"receipts": True, "sms": True}):
        assert_problem(client.put(_url(ada.id), json=body), 422, "VALIDATION_FAILED")
    client.put(_url(ada.id), json={"receipts": True}, headers={"If-Match": current.headers["ETag"]})

    stale = client.put(
        _url(ada.id), json={"receipts": False}, headers={"If-Match": current.headers["ETag"]}
    )

    assert_problem(stale, 412, "VERSION_MISMATCH")
    assert client.get(_url(ada.id)).get_json()["receipts"] is True
    assert_problem(client.get(_url("nobody")), 404, "MEMBER_NOT_FOUND")


class TestWhereTheLibraryAllowsOptingOut:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(
            storage="memory",
            environment="test",
            rate_limit_default=TEST_RATE_LIMIT,
            overdue_notice_opt_out=True,
        )

    def test_a_member_turns_overdue_notices_off(self, client: FlaskClient, users: Users) -> None:
        ada = users.ada
        chosen = client.put(
            _url(ada.id), json={"receipts": False, "overdue": False}, headers=ada.headers
        )

        assert chosen.status_code == 200
        assert chosen.get_json()["overdue"] is False
