"""The audit trail: every committed event becomes a record of who did what, in its transaction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import cast

import pytest

from adapters.memory import MemoryUnitOfWork
from adapters.memory.jobs import MemoryJobRunStore
from application.audit import (
    Actor,
    AuditFilter,
    AuditRecord,
    AuditTrail,
    acting_as,
    action_of,
    current_actor,
    details_of,
    subject_of,
)
from application.identity.api_keys import ApiKeys
from application.identity.clients import ServiceClients
from application.identity.ports import TokenIssuer
from application.jobs import Job, JobRegistry, Scheduler
from application.members import MemberChanges
from application.queries import PageRequest
from domain.access import Scope
from domain.errors import InvalidValue, LoanLimitReached
from domain.events import (
    BookLent,
    CirculationRulesChanged,
    Event,
    HoldReady,
    MembersImported,
)
from domain.members import Role
from domain.policy import Policy
from tests.unit.support import DAY, App, build_app

REQUEST = "req-7f3a"


@dataclass(frozen=True, slots=True)
class ChargeWaived(Event):
    """An event the trail has never heard of, as another part of the system may add."""

    charge_id: str
    member_id: str
    amount_cents: int


class TestFromEvents:
    def test_the_action_is_the_event_type_and_the_entity_its_first_id(self, app: App) -> None:
        event = BookLent(app.now(), loan_id="L", copy_id="C", member_id="M")
        assert action_of(event) == "book_lent"
        assert subject_of(event) == ("loan", "L")
        assert details_of(event) == {"loan_id": "L", "copy_id": "C", "member_id": "M"}

    def test_an_event_may_name_its_subject(self, app: App) -> None:
        event = CirculationRulesChanged(app.now(), "member_category", "child")
        assert action_of(event) == "circulation_rules_changed"
        assert subject_of(event) == ("member_category", "child")
        assert details_of(event) == {}

    def test_an_event_without_ids_has_no_entity(self, app: App) -> None:
        assert subject_of(MembersImported(app.now(), 3)) == (None, None)

    def test_instants_are_iso_strings(self, app: App) -> None:
        pickup = app.now() + DAY
        event = HoldReady(app.now(), hold_id="H", copy_id="C", member_id="M", pickup_by=pickup)
        assert details_of(event)["pickup_by"] == pickup.isoformat()

    def test_an_unknown_event_is_audited_without_registering_it(self, app: App) -> None:
        with acting_as(Actor("api_key:K", REQUEST)), app.uow() as uow:
            uow.emit(ChargeWaived(app.now(), charge_id="CH", member_id="M", amount_cents=250))
            uow.commit()
        [record] = app.audit_records()
        assert (record.action, record.entity_type, record.entity_id) == (
            "charge_waived",
            "charge",
            "CH",
        )
        assert (record.actor, record.request_id) == ("api_key:K", REQUEST)
        assert record.details == {"charge_id": "CH", "member_id": "M", "amount_cents": 250}
        assert record.occurred_at == app.now()

    def test_a_transaction_rolled_back_leaves_no_record(self, app: App) -> None:
        with app.uow() as uow:
            uow.emit(ChargeWaived(app.now(), charge_id="CH", member_id="M", amount_cents=1))
        assert app.audit_records() == []


class TestWhoActed:
    def test_use_cases_record_the_actor_and_request_they_run_for(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        with acting_as(Actor("member:desk", REQUEST)):
            loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        [lent] = app.audit_records(action="book_lent")
        assert (lent.actor, lent.request_id, lent.entity_id) == ("member:desk", REQUEST, loan.id)

    def test_without_an_entrypoint_the_system_acted(self, app: App) -> None:
        assert current_actor() == Actor("system")
        ada = app.add_member()
        [registered] = app.audit_records(entity_id=ada.id)
        assert (registered.actor, registered.request_id) == ("system", None)

    def test_acting_as_ends_with_its_block(self) -> None:
        with acting_as(Actor("cli:alice")):
            with acting_as(Actor("job:holds-expire")):
                assert current_actor().id == "job:holds-expire"
            assert current_actor().id == "cli:alice"
        assert current_actor().id == "system"

    def test_scheduled_and_operator_runs_act_as_the_job(self, app: App) -> None:
        jobs = JobRegistry()
        jobs.add(Job("members-touch", DAY, lambda: app.add_member()))
        scheduler = Scheduler(jobs, MemoryJobRunStore(), app.now)
        with acting_as(Actor("cli:alice")):
            scheduler.run_now("members-touch")
        scheduler.run_due("worker-1")
        actors = [r.actor for r in app.audit_records(action="member_registered")]
        assert actors == ["job:members-touch", "job:members-touch"]

    def test_a_refusal_records_nothing(self) -> None:
        app = build_app(Policy(max_open_loans=1))
        ada = app.add_member()
        app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        second = app.add_book().book.id
        before = app.audit_records()
        with pytest.raises(LoanLimitReached):
            app.circulation.borrow(ada.id, book_id=second)
        assert app.audit_records() == before


class TestWhatIsAudited:
    def test_a_members_life(self, app: App) -> None:
        ada = app.membership.register(email="ada@example.org", name="Ada")
        app.membership.update(
            ada.id, MemberChanges(name="Ada L.", email="ada@example.org", role=Role.LIBRARIAN)
        )
        app.membership.suspend(ada.id)
        app.membership.suspend(ada.id)  # already suspended: nothing changes, nothing recorded
        app.membership.reactivate(ada.id)
        app.membership.set_password(ada.id, "correct horse battery")
        app.rules.create_category("child", "Child")
        app.rules.assign_category(ada.id, "child")
        app.membership.remove(ada.id)
        records = app.audit_records(entity_type="member", entity_id=ada.id)
        assert [(r.action, r.details) for r in records] == [
            ("member_registered", {"member_id": ada.id, "role": "member"}),
            ("member_updated", {"member_id": ada.id, "fields": "name"}),
            ("member_role_changed", {"member_id": ada.id, "role": "librarian"}),
            ("member_status_changed", {"member_id": ada.id, "status": "suspended"}),
            ("member_status_changed", {"member_id": ada.id, "status": "active"}),
            ("password_changed", {"member_id": ada.id}),
            ("circulation_rules_changed", {}),
            ("member_anonymised", {"member_id": ada.id}),
        ]
        everything = repr([r.details for r in app.audit_records()])
        assert "Ada" not in everything
        assert "example.org" not in everything

    def test_circulation_and_money(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=book.book.id)
        app.circulation.renew(loan.id)
        app.advance(app.policy.loan_period * 2 + DAY)
        app.circulation.return_loan(loan.id)
        owed = app.accounts.statement(ada.id).balance_cents
        app.accounts.record_payment(ada.id, owed)
        actions = [r.action for r in app.audit_records(since=app.now() - timedelta(days=365))]
        assert actions[-5:] == [
            "book_lent",
            "loan_renewed",
            "book_returned",
            "charge_posted",
            "payment_received",
        ]
        [paid] = app.audit_records(action="payment_received")
        assert (paid.entity_type, paid.entity_id, paid.details["amount_cents"]) == (
            "member",
            ada.id,
            owed,
        )

    def test_copies_taken_out_of_circulation_and_found(self, app: App) -> None:
        book = app.add_book(copies=2)
        lost, gone = book.copies
        app.catalogue.mark_copy_lost(lost.id)
        app.catalogue.withdraw_copy(gone.id)
        app.catalogue.mark_copy_found(lost.id)
        changes = [r for r in app.audit_records() if r.action == "copy_status_changed"]
        assert [(r.entity_id, r.details["status"]) for r in changes] == [
            (lost.id, "lost"),
            (gone.id, "withdrawn"),
            (lost.id, "available"),
        ]
        assert {r.action for r in app.audit_records()} == {"book_added", "copy_status_changed"}

    def test_rules_name_what_changed(self, app: App) -> None:
        app.rules.create_item_type("dvd", "DVD")
        rule = app.rules.create_rule(None, "dvd", loan_days=7)
        app.rules.remove_rule(rule.id)
        subjects = [(r.entity_type, r.entity_id) for r in app.audit_records()]
        assert subjects == [("item_type", "dvd"), ("rule", rule.id), ("rule", rule.id)]

    def test_api_keys_and_service_clients(self, app: App) -> None:
        keys = ApiKeys(uow=app.identity_uow, clock=app.clock, ids=app.ids)
        clients = ServiceClients(
            uow=app.identity_uow, clock=app.clock, ids=app.ids, issuer=cast(TokenIssuer, None)
        )
        key = keys.create("desk", [Scope.LOANS_WRITE, Scope.BOOKS_READ]).key
        keys.revoke(key.id)
        keys.revoke(key.id)  # revoking again changes nothing
        client = clients.create("sync", [Scope.BOOKS_READ]).client
        clients.revoke(client.id)
        clients.revoke(client.id)
        assert [(r.action, r.entity_type, r.entity_id, r.details) for r in app.audit_records()] == [
            (
                "api_key_issued",
                "api_key",
                key.id,
                {"api_key_id": key.id, "scopes": "books:read loans:write"},
            ),
            ("api_key_revoked", "api_key", key.id, {"api_key_id": key.id}),
            (
                "service_client_issued",
                "service_client",
                client.id,
                {"service_client_id": client.id, "scopes": "books:read"},
            ),
            (
                "service_client_revoked",
                "service_client",
                client.id,
                {"service_client_id": client.id},
            ),
        ]
        assert "circ_" not in repr(app.audit_records())  # no secret is ever recorded


class TestReading:
    def test_filters(self, app: App) -> None:
        ada, bob = app.add_member(), app.add_member()
        with acting_as(Actor("cli:alice")):
            app.membership.suspend(ada.id)
        start = app.advance(DAY)
        app.membership.suspend(bob.id)
        assert [r.entity_id for r in app.audit_records(actor="cli:alice")] == [ada.id]
        assert [r.entity_id for r in app.audit_records(since=start)] == [bob.id]
        assert len(app.audit_records(until=start)) == 3
        assert len(app.audit_records(action="member_status_changed")) == 2
        assert [r.action for r in app.audit_records(entity_type="member", entity_id=bob.id)] == [
            "member_registered",
            "member_status_changed",
        ]

    def test_a_time_range_must_run_forward(self, app: App) -> None:
        with pytest.raises(InvalidValue) as refused:
            AuditFilter(since=app.now(), until=app.now())
        assert refused.value.field == "until"

    def test_records_are_newest_first_and_paged(self, app: App) -> None:
        for _ in range(5):
            app.add_member()
        page = app.audit.list(AuditFilter(), PageRequest(page=2, per_page=2))
        assert page.total == 5
        everything = app.audit_records()
        assert [r.id for r in page.items] == [everything[2].id, everything[1].id]


def test_the_trail_maker_is_one_of_the_units_records(app: App) -> None:
    """The same mechanism as the outbox: records made from events at commit, by the uow."""
    uow = MemoryUnitOfWork(app.db, records_for_events=AuditTrail(app.ids))
    with uow:
        uow.emit(MembersImported(app.now(), 2))
        uow.commit()
    [record] = app.audit_records()
    assert (record.action, record.details) == ("members_imported", {"count": 2})


def test_a_record_as_a_dict_holds_every_field_and_plain_details() -> None:
    record = AuditRecord(
        id="A",
        occurred_at=build_app().now(),
        actor="system",
        action="book_lent",
        entity_type="loan",
        entity_id="L",
        request_id=None,
        details={"copy_id": "C"},
    )
    as_dict = record.as_dict()
    assert list(as_dict) == [field.name for field in fields(AuditRecord)]
    assert {name: value for name, value in as_dict.items() if name != "details"} == {
        field.name: getattr(record, field.name)
        for field in fields(AuditRecord)
        if field.name != "details"
    }
    assert type(as_dict["details"]) is dict
    assert as_dict["details"] == {"copy_id": "C"}
