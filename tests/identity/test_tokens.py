"""The JWT access-token service: what it signs, and every kind of token it must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.security.keys import load_private_key
from adapters.security.tokens import DEFAULT_LEEWAY, REQUIRED_CLAIMS, JwtTokenService
from domain.access import Scope
from domain.errors import DomainError, ErrorKind, TokenExpired, TokenInvalid
from domain.members import Role
from tests.identity.conftest import AUDIENCE, ISSUER, LIFETIME, Identity

SCOPES = frozenset({Scope.BOOKS_READ, Scope.LOANS_WRITE})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(signature)


def refused(identity: Identity, token: str, error: type[DomainError]) -> DomainError:
    with pytest.raises(error) as raised:
        identity.tokens.verify(token)
    assert raised.value.kind is ErrorKind.UNAUTHENTICATED
    return raised.value


def test_a_token_round_trips_with_every_claim_and_the_key_id(identity: Identity) -> None:
    issued = identity.tokens.issue(
        subject="member-7", scopes=SCOPES, role=Role.LIBRARIAN, session_id="session-3"
    )

    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "at+jwt"
    assert header["kid"] == identity.key_store.load().current.kid
    payload = jwt.decode(issued.token, options={"verify_signature": False})
    now = int(identity.clock.now().timestamp())
    assert payload == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "member-7",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": issued.token_id,
        "scope": "books:read loans:write",
        "role": "librarian",
        "sid": "session-3",
    }
    assert issued.expires_in == 900
    assert issued.expires_at == identity.clock.now() + LIFETIME

    claims = identity.tokens.verify(issued.token)
    assert claims.subject == "member-7"
    assert claims.scopes == SCOPES
    assert claims.token_id == issued.token_id
    assert claims.role is Role.LIBRARIAN
    assert claims.session_id == "session-3"
    assert claims.client_id is None
    assert claims.expires_at == issued.expires_at


def test_every_token_has_its_own_id(identity: Identity) -> None:
    first = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    second = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    assert first.token_id != second.token_id


def test_a_client_token_carries_the_client_id(identity: Identity) -> None:
    issued = identity.tokens.issue(subject="client-1", scopes=SCOPES, client_id="client-1")
    claims = identity.tokens.verify(issued.token)
    assert claims.client_id == "client-1"
    assert claims.role is None


def test_an_expired_token_is_refused_once_the_leeway_has_passed(identity: Identity) -> None:
    issued = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)

    identity.clock.advance(LIFETIME + DEFAULT_LEEWAY - timedelta(seconds=1))
    identity.tokens.verify(issued.token)  # within the leeway for clock skew
    identity.clock.advance(timedelta(seconds=1))
    error = refused(identity, issued.token, TokenExpired)
    assert error.code == "TOKEN_EXPIRED"


def test_a_token_not_valid_yet_is_refused(identity: Identity) -> None:
    later = int(identity.clock.now().timestamp()) + 120
    token = identity.sign(identity.claims(nbf=later))
    error = refused(identity, token, TokenInvalid)
    assert error.code == "TOKEN_INVALID"

    identity.clock.advance(timedelta(seconds=120))
    assert identity.tokens.verify(token).subject == "member-1"


def test_a_token_issued_in_the_future_is_refused(identity: Identity) -> None:
    later = int(identity.clock.now().timestamp()) + 3600
    refused(identity, identity.sign(identity.claims(iat=later)), TokenInvalid)


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("iss", "someone-else"),
        ("aud", "another-api"),
        ("aud", [AUDIENCE, "another-api"]),  # only exactly our audience
        ("exp", "tomorrow"),
        ("scope", "books:read library:everything"),
        ("role", "superuser"),
        ("sid", 42),
    ],
)
def test_a_token_with_a_wrong_claim_is_refused(identity: Identity, claim: str, value: Any) -> None:
    error = refused(identity, identity.sign(identity.claims(**{claim: value})), TokenInvalid)
    assert error.code == "TOKEN_INVALID"


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_a_token_missing_a_required_claim_is_refused(identity: Identity, claim: str) -> None:
    refused(identity, identity.sign(identity.claims(**{claim: None})), TokenInvalid)


def test_alg_none_is_refused(identity: Identity) -> None:
    kid = identity.key_store.load().current.kid
    token = unsigned({"alg": "none", "typ": "at+jwt", "kid": kid}, identity.claims())
    refused(identity, token, TokenInvalid)


@pytest.mark.parametrize("encoding", ["pem", "raw"])
def test_hs256_signed_with_the_public_key_is_refused(identity: Identity, encoding: str) -> None:
    # The classic confusion attack: the public key is public, so an HMAC made with it as the
    # secret must never pass for a signature.
    key = identity.key_store.load().current
    public = load_private_key(key.private_key).public_key()
    secret = (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if encoding == "pem"
        else public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    signing_input = unsigned(header, identity.claims()).rsplit(".", 1)[0]
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    refused(identity, signing_input + "." + b64(signature), TokenInvalid)


def test_an_unknown_key_id_is_refused(identity: Identity) -> None:
    stranger = Ed25519PrivateKey.generate()
    token = jwt.encode(
        identity.claims(),
        stranger,
        algorithm="EdDSA",
        headers={"kid": "not-one-of-ours", "typ": "at+jwt"},
    )
    refused(identity, token, TokenInvalid)


def test_a_token_without_a_key_id_is_refused(identity: Identity) -> None:
    token = jwt.encode(
        identity.claims(),
        load_private_key(identity.key_store.load().current.private_key),
        algorithm="EdDSA",
        headers={"typ": "at+jwt"},
    )
    refused(identity, token, TokenInvalid)


def test_a_stranger_key_claiming_our_key_id_is_refused(identity: Identity) -> None:
    kid = identity.key_store.load().current.kid
    token = jwt.encode(
        identity.claims(),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": kid, "typ": "at+jwt"},
    )
    refused(identity, token, TokenInvalid)


def test_a_tampered_payload_or_signature_is_refused(identity: Identity) -> None:
    issued = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    header, payload, signature = issued.token.split(".")

    raised = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raised["scope"] = "admin"
    forged = b64(json.dumps(raised).encode())
    refused(identity, f"{header}.{forged}.{signature}", TokenInvalid)

    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    refused(identity, f"{header}.{payload}.{flipped}", TokenInvalid)


def test_a_token_of_another_type_is_refused(identity: Identity) -> None:
    # e.g. an ID token signed by the same keys must not pass for an access token
    refused(identity, identity.sign(identity.claims(), typ="JWT"), TokenInvalid)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "a.b", "ApiKey circ_x"])
def test_garbage_is_refused(identity: Identity, garbage: str) -> None:
    refused(identity, garbage, TokenInvalid)


def test_the_jwks_publishes_public_keys_only(identity: Identity) -> None:
    key = identity.key_store.load().current
    jwks = identity.tokens.jwks()

    assert jwks == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": jwks["keys"][0]["x"],
                "kid": key.kid,
                "use": "sig",
                "alg": "EdDSA",
            }
        ]
    }
    # A standard JOSE library can verify our tokens with the published key alone.
    public = jwt.PyJWK(jwks["keys"][0])
    issued = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    decoded = jwt.decode(
        issued.token,
        public,
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert decoded["sub"] == "m"
    assert "d" not in jwks["keys"][0]  # the private part of an OKP JWK


def test_a_lifetime_must_be_positive(identity: Identity) -> None:
    with pytest.raises(ValueError, match="positive"):
        JwtTokenService(
            identity.key_store,
            identity.clock,
            issuer=ISSUER,
            audience=AUDIENCE,
            lifetime=timedelta(0),
        )


def test_a_token_living_longer_than_the_configured_lifetime_is_refused(
    identity: Identity,
) -> None:
    now = int(identity.clock.now().timestamp())
    lifetime = int(LIFETIME.total_seconds())

    assert identity.tokens.verify(identity.sign(identity.claims(exp=now + lifetime))).subject
    refused(identity, identity.sign(identity.claims(exp=now + lifetime + 1)), TokenInvalid)
    refused(identity, identity.sign(identity.claims(exp=now + 365 * 86_400)), TokenInvalid)


def _sign_with(identity: Identity, kid: str, claims: dict[str, Any]) -> str:
    key = identity.key_store.load().get(kid)
    assert key is not None
    return jwt.encode(
        claims,
        load_private_key(key.private_key),
        algorithm="EdDSA",
        headers={"kid": kid, "typ": "at+jwt"},
    )


def test_a_retired_key_verifies_only_what_it_signed_before_retiring(identity: Identity) -> None:
    old = identity.key_store.load().current.kid
    before = identity.tokens.issue(subject="m", scopes=SCOPES, role=Role.MEMBER)
    identity.signing_keys.rotate()
    identity.clock.advance(timedelta(minutes=5))

    assert identity.tokens.verify(before.token).subject == "m"
    # Signed after the retirement, with the retired key (a host that kept it, or a thief).
    refused(identity, _sign_with(identity, old, identity.claims()), TokenInvalid)


def test_a_retired_key_verifies_nothing_after_its_verifies_until(identity: Identity) -> None:
    old = identity.key_store.load().current.kid
    identity.signing_keys.rotate()
    [info] = [key for key in identity.signing_keys.list() if key.kid == old]
    assert info.verifies_until is not None
    # The last token the key can have signed: at its retirement plus the clock leeway, living
    # the full lifetime (so its exp alone would still pass at "verifies until").
    issued = int((identity.clock.now() + DEFAULT_LEEWAY).timestamp())
    token = _sign_with(
        identity,
        old,
        identity.claims(iat=issued, nbf=issued, exp=issued + int(LIFETIME.total_seconds())),
    )
    assert identity.tokens.verify(token).subject == "member-1"

    identity.clock.set(info.verifies_until)

    refused(identity, token, TokenExpired)
