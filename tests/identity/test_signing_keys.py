"""Signing keys: rotation keeps old tokens valid until they expire; the key file and inline keys."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.clock import ManualClock
from adapters.security.keys import (
    Ed25519KeyGenerator,
    FileKeyStore,
    SigningKeysUnavailable,
    StaticKeyStore,
    dump_keyset,
    key_store_for,
    parse_keyset,
    thumbprint,
)
from adapters.security.tokens import DEFAULT_LEEWAY, JwtTokenService
from application.identity.keyset import KeySet
from domain.access import Scope
from domain.errors import TokenExpired, TokenInvalid
from domain.members import Role
from tests.identity.conftest import AUDIENCE, ISSUER, LIFETIME, Identity

SCOPES = frozenset({Scope.BOOKS_READ})


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


def test_rotation_keeps_old_tokens_valid_until_they_expire_then_prunes_the_key(
    identity: Identity,
) -> None:
    old = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    old_kid = kid_of(old.token)

    identity.clock.advance(timedelta(minutes=5))
    rotated = identity.signing_keys.rotate()
    assert rotated.is_current
    assert rotated.kid != old_kid
    new = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    assert kid_of(new.token) == rotated.kid  # the new key signs from now on

    # The retired key still verifies what it signed, and is still published.
    identity.clock.advance(timedelta(minutes=9))
    assert identity.tokens.verify(old.token).subject == "m"
    assert {key["kid"] for key in identity.signing_keys.jwks()["keys"]} == {old_kid, rotated.kid}
    listed = identity.signing_keys.list()
    assert [key.kid for key in listed] == [rotated.kid, old_kid]
    assert listed[1].verifies_until == listed[1].retired_at + LIFETIME + DEFAULT_LEEWAY  # type: ignore[operator]

    # Past its lifetime the old token is refused for its age, not for its key.
    identity.clock.advance(timedelta(minutes=2))
    with pytest.raises(TokenExpired):
        identity.tokens.verify(old.token)

    # A rotation once every token of the retired key has expired prunes it.
    identity.clock.advance(timedelta(minutes=10))
    recent = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    newest = identity.signing_keys.rotate()
    kids = [key.kid for key in identity.signing_keys.list()]
    assert kids == [newest.kid, rotated.kid]
    assert kid_of(recent.token) == rotated.kid
    assert identity.tokens.verify(recent.token).subject == "m"  # a retired key that is kept
    with pytest.raises(TokenInvalid):
        identity.tokens.verify(old.token)  # its key is gone


def test_a_retired_key_is_kept_while_a_token_it_signed_may_still_be_accepted(
    identity: Identity,
) -> None:
    identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    first = identity.key_store.load().current.kid
    identity.signing_keys.rotate()
    # Just inside lifetime + leeway after retirement: the key must survive another rotation.
    identity.clock.advance(LIFETIME + DEFAULT_LEEWAY - timedelta(seconds=1))
    identity.signing_keys.rotate()
    assert first in [key.kid for key in identity.signing_keys.list()]


def test_the_first_use_in_development_creates_a_private_key_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "keys.json"
    store = FileKeyStore(path, Ed25519KeyGenerator(), ManualClock(), create_missing=True)

    keys = store.load()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parse_keyset(path.read_text(), "file").current == keys.current
    document = json.loads(path.read_text())
    assert document["keys"][0]["current"] is True
    assert document["keys"][0]["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert store.load() is keys  # read once, then from memory while the file is unchanged


def test_a_missing_key_file_is_an_error_where_keys_may_not_be_made(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    store = FileKeyStore(path, Ed25519KeyGenerator(), ManualClock(), create_missing=False)

    with pytest.raises(SigningKeysUnavailable, match="circulate keys rotate"):
        store.load()
    assert not path.exists()


def test_a_rotation_creates_the_key_file_even_in_production(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    store = FileKeyStore(path, Ed25519KeyGenerator(), ManualClock(), create_missing=False)
    generator = Ed25519KeyGenerator()
    now = ManualClock().now()

    created = store.update(lambda keys: keys or KeySet.first(generator.generate(now)))

    assert store.load() == created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_every_process_sees_a_rotation_made_by_another(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "keys.json"
    server = FileKeyStore(path, Ed25519KeyGenerator(), clock, create_missing=True)
    tokens = JwtTokenService(server, clock, issuer=ISSUER, audience=AUDIENCE, lifetime=LIFETIME)
    before = tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)

    # `circulate keys rotate` in another process: its own store over the same file.
    cli = FileKeyStore(path, Ed25519KeyGenerator(), clock, create_missing=True)
    generator = Ed25519KeyGenerator()
    new_key = generator.generate(clock.now())
    rotated = cli.update(
        lambda keys: keys.rotated(new_key, clock.now(), LIFETIME) if keys else KeySet.first(new_key)
    )

    after = tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    assert kid_of(after.token) == rotated.current.kid
    assert tokens.verify(before.token).subject == "m"


def test_a_world_readable_key_file_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.json"
    FileKeyStore(path, Ed25519KeyGenerator(), ManualClock(), create_missing=True).load()
    os.chmod(path, 0o644)

    FileKeyStore(path, Ed25519KeyGenerator(), ManualClock(), create_missing=False).load()

    assert "readable by other users" in caplog.text


def test_inline_keys_are_used_as_given_and_cannot_be_rotated(tmp_path: Path) -> None:
    clock = ManualClock()
    keys = KeySet.first(Ed25519KeyGenerator().generate(clock.now()))
    store = key_store_for(
        inline=dump_keyset(keys),
        path=str(tmp_path / "unused.json"),
        generator=Ed25519KeyGenerator(),
        clock=clock,
        create_missing=True,
    )

    assert isinstance(store, StaticKeyStore)
    assert store.load() == keys
    with pytest.raises(SigningKeysUnavailable, match="CIRCULATE_SIGNING_KEYS"):
        store.update(lambda current: current or keys)
    assert not (tmp_path / "unused.json").exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda doc: {**doc, "format": 2},
        lambda doc: {**doc, "keys": []},
        lambda doc: {**doc, "keys": [{**doc["keys"][0], "current": False}]},
        lambda doc: {**doc, "keys": [{**doc["keys"][0], "private_key": "-----BEGIN nonsense"}]},
        lambda doc: {**doc, "keys": [{**doc["keys"][0], "algorithm": "HS256"}]},
        lambda doc: {**doc, "keys": [{**doc["keys"][0], "created_at": "2030-01-01T09:00:00"}]},
        lambda doc: {**doc, "keys": doc["keys"] * 2},
        lambda doc: [doc],
    ],
)
def test_a_malformed_key_set_is_refused_without_quoting_it(mangle: object) -> None:
    keys = KeySet.first(Ed25519KeyGenerator().generate(ManualClock().now()))
    document = json.loads(dump_keyset(keys))
    text = json.dumps(mangle(document))  # type: ignore[operator]

    with pytest.raises(SigningKeysUnavailable, match="CIRCULATE_SIGNING_KEYS") as raised:
        parse_keyset(text, "CIRCULATE_SIGNING_KEYS")
    assert "PRIVATE KEY" not in str(raised.value)
    assert keys.current.private_key[40:80] not in str(raised.value)


def test_not_json_at_all_is_refused() -> None:
    with pytest.raises(SigningKeysUnavailable):
        parse_keyset("{not json", "the key file")


def test_key_ids_are_rfc_7638_thumbprints() -> None:
    # The example key of RFC 8037 appendix A.3 has this thumbprint.
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    public = Ed25519PublicKey.from_public_bytes(raw)
    assert thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_key_set_has_exactly_one_current_key() -> None:
    now = ManualClock().now()
    generator = Ed25519KeyGenerator()
    first, second = generator.generate(now), generator.generate(now)
    with pytest.raises(ValueError, match="exactly one current key"):
        KeySet((first, second))
    with pytest.raises(ValueError, match="exactly one current key"):
        KeySet(())
    with pytest.raises(ValueError, match="must not be retired"):
        KeySet.first(first).rotated(replace(second, retired_at=now), now, timedelta(0))
    with pytest.raises(ValueError, match="distinct"):
        KeySet((first, replace(first, retired_at=now)))
