"""Identity's unit of work on every adapter: the same rows as the library's, and the records its
changes cause committed with them or not at all."""

from __future__ import annotations

from adapters.ids import UuidV7Generator
from application.audit import Actor, AuditFilter, AuditLog, AuditRecord, AuditTrail, acting_as
from application.queries import PageRequest
from domain.events import ApiKeyRevoked
from domain.members import Role
from tests.contract.builders import T0, member, store, store_in_identity
from tests.contract.conftest import IdentityUowFactory, Stores
from tests.contract.test_identity_repositories import api_key, refresh_token

ids = UuidV7Generator()


def records(log: AuditLog) -> list[AuditRecord]:
    return list(log.list(AuditFilter(), PageRequest(per_page=100)).items)


def test_both_slices_see_the_same_members(stores: Stores) -> None:
    ada = member(email="ada@example.org")
    store(stores.library, ada)
    with stores.identity() as uow:
        assert uow.members.get(ada.id) == ada
        token = refresh_token(ada)
        uow.refresh_tokens.add(token)
        loaded = uow.members.get_by_email("ada@example.org")
        assert loaded is not None
        loaded.change_role(Role.LIBRARIAN, T0)
        uow.commit()
    with stores.library() as uow:
        stored = uow.members.get(ada.id)
        assert stored is not None
        assert stored.role is Role.LIBRARIAN
    with stores.identity() as uow:
        assert [t.id for t in uow.refresh_tokens.for_member(ada.id)] == [token.id]


def test_an_identity_change_and_its_audit_record_commit_together(stores: Stores) -> None:
    key = api_key("0123456789ab")
    store_in_identity(stores.identity, key)
    trail = AuditTrail(ids)

    with stores.identity(records_for_events=trail) as uow:
        loaded = uow.api_keys.get(key.id)
        assert loaded is not None
        loaded.revoke(T0)
        uow.emit(ApiKeyRevoked(T0, key.id))
    # Left without a commit: neither the revocation nor its record.
    assert records(stores.audit) == []
    with stores.identity() as uow:
        unchanged = uow.api_keys.get(key.id)
        assert unchanged is not None
        assert unchanged.revoked_at is None

    with acting_as(Actor("admin:a1", "req-7")), stores.identity(records_for_events=trail) as uow:
        loaded = uow.api_keys.get(key.id)
        assert loaded is not None
        loaded.revoke(T0)
        uow.emit(ApiKeyRevoked(T0, key.id))
        uow.commit()
    [record] = records(stores.audit)
    assert (record.actor, record.request_id, record.action) == (
        "admin:a1",
        "req-7",
        "api_key_revoked",
    )
    with stores.identity() as uow:
        revoked = uow.api_keys.get(key.id)
        assert revoked is not None
        assert revoked.revoked_at == T0


def test_identity_rolls_back_unless_committed(new_identity_uow: IdentityUowFactory) -> None:
    ada = member()
    with new_identity_uow() as uow:
        uow.members.add(ada)
        uow.refresh_tokens.add(refresh_token(ada))
    with new_identity_uow() as uow:
        assert uow.members.get(ada.id) is None
        assert uow.refresh_tokens.for_member(ada.id) == []
