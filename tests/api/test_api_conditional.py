"""ETags, If-None-Match (304) and If-Match (412): a stale write never overwrites a newer one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from adapters.clock import ManualClock
from tests.api.support import add_book, assert_problem, borrow, register


def test_if_none_match_with_the_current_etag_is_304(client: FlaskClient) -> None:
    book = add_book(client, 0)
    first = client.get(f"/api/v1/books/{book['id']}")
    etag = first.headers["ETag"]

    again = client.get(f"/api/v1/books/{book['id']}", headers={"If-None-Match": etag})
    weak = client.get(f"/api/v1/books/{book['id']}", headers={"If-None-Match": f"W/{etag}"})
    other = client.get(f"/api/v1/books/{book['id']}", headers={"If-None-Match": '"other"'})

    assert etag.startswith('"')  # strong
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert again.headers["X-Request-ID"]
    assert weak.status_code == 304  # If-None-Match compares weakly
    assert other.status_code == 200


def test_the_etag_changes_with_the_book(client: FlaskClient) -> None:
    book = add_book(client, 0)
    old = client.get(f"/api/v1/books/{book['id']}").headers["ETag"]
    client.patch(f"/api/v1/books/{book['id']}", json={"title": "Changed"})

    response = client.get(f"/api/v1/books/{book['id']}", headers={"If-None-Match": old})

    assert response.status_code == 200
    assert response.headers["ETag"] != old


def test_a_write_with_a_stale_etag_is_412_and_changes_nothing(client: FlaskClient) -> None:
    book = add_book(client, 0)
    stale = client.get(f"/api/v1/books/{book['id']}").headers["ETag"]
    newer = client.patch(f"/api/v1/books/{book['id']}", json={"title": "Newer"})

    late = client.patch(
        f"/api/v1/books/{book['id']}", json={"title": "Stale"}, headers={"If-Match": stale}
    )
    late_put = client.put(
        f"/api/v1/books/{book['id']}",
        json={"isbn": book["isbn"], "title": "Stale"},
        headers={"If-Match": stale},
    )
    late_delete = client.delete(f"/api/v1/books/{book['id']}", headers={"If-Match": stale})

    for response in (late, late_put, late_delete):
        assert_problem(response, 412, "VERSION_MISMATCH")
    assert client.get(f"/api/v1/books/{book['id']}").get_json()["title"] == "Newer"
    current = newer.headers["ETag"]
    ok = client.patch(
        f"/api/v1/books/{book['id']}", json={"title": "Newest"}, headers={"If-Match": current}
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("header", ["garbage", '"unterminated', "{}", '"a" "b"'])
def test_an_if_match_that_is_no_etag_list_is_422(client: FlaskClient, header: str) -> None:
    book = add_book(client, 0)

    response = client.patch(
        f"/api/v1/books/{book['id']}", json={"title": "X"}, headers={"If-Match": header}
    )

    problem = assert_problem(response, 422, "VALIDATION_FAILED")
    assert problem["details"]["errors"][0]["field"] == "If-Match"


@pytest.mark.parametrize("header", ['"not-ours"', 'W/"1-abc"'])
def test_an_if_match_that_cannot_be_this_resource_is_412(client: FlaskClient, header: str) -> None:
    book = add_book(client, 0)

    response = client.patch(
        f"/api/v1/books/{book['id']}", json={"title": "X"}, headers={"If-Match": header}
    )

    assert_problem(response, 412, "VERSION_MISMATCH")


def test_another_resources_etag_does_not_match(client: FlaskClient) -> None:
    first, second = add_book(client, 0), add_book(client, 1)
    etag_of_first = client.get(f"/api/v1/books/{first['id']}").headers["ETag"]

    response = client.delete(f"/api/v1/books/{second['id']}", headers={"If-Match": etag_of_first})

    assert_problem(response, 412, "VERSION_MISMATCH")


def test_if_match_star_and_lists_of_tags(client: FlaskClient) -> None:
    book = add_book(client, 0)
    v1 = client.get(f"/api/v1/books/{book['id']}").headers["ETag"]
    v2 = client.patch(
        f"/api/v1/books/{book['id']}", json={"title": "Two"}, headers={"If-Match": "*"}
    ).headers["ETag"]

    listed = client.patch(
        f"/api/v1/books/{book['id']}", json={"title": "Three"}, headers={"If-Match": f"{v1}, {v2}"}
    )
    stale_list = client.patch(
        f"/api/v1/books/{book['id']}", json={"title": "Four"}, headers={"If-Match": f"{v1}, {v2}"}
    )

    assert listed.status_code == 200
    assert_problem(stale_list, 412, "VERSION_MISMATCH")


def test_members_and_copies_honour_if_match(client: FlaskClient) -> None:
    member = register(client)
    member_etag = client.get(f"/api/v1/members/{member['id']}").headers["ETag"]
    client.patch(f"/api/v1/members/{member['id']}", json={"name": "Changed"})
    book = add_book(client, 0)
    copy = client.get(f"/api/v1/books/{book['id']}/copies").get_json()["items"][0]
    copy_etag = client.get(f"/api/v1/copies/{copy['id']}").headers["ETag"]
    client.patch(f"/api/v1/copies/{copy['id']}", json={"status": "lost"})

    stale_member = client.patch(
        f"/api/v1/members/{member['id']}", json={"name": "Stale"}, headers={"If-Match": member_etag}
    )
    stale_delete = client.delete(
        f"/api/v1/members/{member['id']}", headers={"If-Match": member_etag}
    )
    stale_copy = client.patch(
        f"/api/v1/copies/{copy['id']}",
        json={"status": "available"},
        headers={"If-Match": copy_etag},
    )

    assert_problem(stale_member, 412, "VERSION_MISMATCH")
    assert_problem(stale_delete, 412, "VERSION_MISMATCH")
    assert_problem(stale_copy, 412, "VERSION_MISMATCH")
    assert client.get(f"/api/v1/members/{member['id']}").get_json()["name"] == "Changed"


def test_computed_representations_get_a_new_etag_when_they_change(
    client: FlaskClient, clock: ManualClock
) -> None:
    loan = borrow(client, register(client), add_book(client, 0))
    url = f"/api/v1/loans/{loan['id']}"
    etag = client.get(url).headers["ETag"]

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    clock.advance(timedelta(days=22))  # now overdue: status and fine change, the loan does not
    changed = client.get(url, headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed.get_json()["status"] == "overdue"


def test_cancelling_a_hold_with_a_stale_etag_is_412(client: FlaskClient) -> None:
    book = add_book(client, 0)
    borrow(client, register(client), book)
    first = client.post(
        "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": book["id"]}
    ).get_json()
    second = client.post(
        "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": book["id"]}
    ).get_json()
    etag = client.get(f"/api/v1/holds/{second['id']}").headers["ETag"]
    client.delete(f"/api/v1/holds/{first['id']}")  # the second moves up: its ETag changes

    stale = client.delete(f"/api/v1/holds/{second['id']}", headers={"If-Match": etag})
    fresh_etag = client.get(f"/api/v1/holds/{second['id']}").headers["ETag"]
    fresh = client.delete(f"/api/v1/holds/{second['id']}", headers={"If-Match": fresh_etag})

    assert_problem(stale, 412, "VERSION_MISMATCH")
    assert fresh.status_code == 204


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/members/{member}",
        "/api/v1/members/{member}/account",
        "/api/v1/books/{book}",
        "/api/v1/books/{book}/availability",
        "/api/v1/copies/{copy}",
        "/api/v1/holds/{hold}",
    ],
)
def test_every_single_resource_read_has_an_etag_and_answers_304(
    client: FlaskClient, path: str
) -> None:
    member = register(client)
    book = add_book(client, 0)
    copy = client.get(f"/api/v1/books/{book['id']}/copies").get_json()["items"][0]
    hold = client.post(
        "/api/v1/holds", json={"member_id": member["id"], "book_id": book["id"]}
    ).get_json()
    url = path.format(member=member["id"], book=book["id"], copy=copy["id"], hold=hold["id"])

    etag = client.get(url).headers["ETag"]

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
