"""Access tokens: JWTs signed with Ed25519 (EdDSA) by PyJWT.

Tokens follow RFC 9068 (JWT access tokens): header ``typ: at+jwt`` and ``kid``; claims ``sub``,
``iss``, ``aud``, ``exp``, ``iat``, ``nbf``, ``jti`` and ``scope`` (space-separated), plus
``role`` and ``sid`` for members and ``client_id`` for service clients.

Verification takes nothing from the token on trust (RFC 8725): the key is looked up by ``kid``
in our own key set, the algorithm list is pinned to EdDSA (so ``alg: none`` and HS256 signed
with the public key are refused), issuer and audience must match, and every claim above must be
present. The time claims are checked against the ``Clock`` port rather than by PyJWT, which
reads the system clock directly: the application's time has one source, and tests can move it.

Lifetimes are bounded whoever signed: a token whose ``exp - iat`` passes the configured lifetime
is refused, so a leaked key cannot mint long-lived tokens. A retired key verifies only what it
signed before its retirement, and only until ``retired_at + lifetime + leeway`` (what
``circulate keys list`` shows as "verifies until"): after that it verifies nothing.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.security.keys import ALGORITHM, load_private_key, public_jwk
from application.identity.keyset import SigningKey
from application.identity.ports import AccessToken, AccessTokenClaims, KeyStore
from application.ports import Clock
from domain.access import Scope, format_scopes, parse_scope
from domain.errors import TokenExpired, TokenInvalid
from domain.members import Role

TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type, not a secret)
REQUIRED_CLAIMS = ["sub", "iss", "aud", "exp", "iat", "nbf", "jti", "scope"]
# Tolerated difference between the clocks of the issuing and the verifying host.
DEFAULT_LEEWAY = timedelta(seconds=30)
_ROLES = frozenset(role.value for role in Role)


class JwtTokenService:
    """Issues and verifies access tokens and publishes the keys that verify them."""

    def __init__(
        self,
        keys: KeyStore,
        clock: Clock,
        *,
        issuer: str,
        audience: str,
        lifetime: timedelta,
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> None:
        if lifetime <= timedelta(0):
            raise ValueError("the access-token lifetime must be positive")
        self._keys = keys
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._leeway = leeway
        self._parsed: dict[tuple[str, str], Ed25519PrivateKey] = {}
        self._parsed_lock = threading.Lock()

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    @property
    def max_token_age(self) -> timedelta:
        return self._lifetime + self._leeway

    # --- issuing ---------------------------------------------------------------------------

    def issue(
        self,
        *,
        subject: str,
        scopes: frozenset[Scope],
        role: Role | None = None,
        client_id: str | None = None,
        session_id: str | None = None,
    ) -> AccessToken:
        key = self._keys.load().current
        issued = int(self._clock.now().timestamp())
        expires = issued + int(self._lifetime.total_seconds())
        token_id = str(uuid.uuid4())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": expires,
            "jti": token_id,
            "scope": format_scopes(scopes),
        }
        if role is not None:
            claims["role"] = role.value
        if client_id is not None:
            claims["client_id"] = client_id
        if session_id is not None:
            claims["sid"] = session_id
        token = jwt.encode(
            claims,
            self._private(key),
            algorithm=ALGORITHM,
            headers={"kid": key.kid, "typ": TOKEN_TYPE},
        )
        return AccessToken(
            token=token,
            token_id=token_id,
            scopes=scopes,
            expires_at=datetime.fromtimestamp(expires, UTC),
            expires_in=expires - issued,
        )

    # --- verifying -------------------------------------------------------------------------

    def verify(self, token: str) -> AccessTokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenInvalid("the access token is malformed") from None
        kid = header.get("kid")
        key = self._keys.load().get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenInvalid("the access token was not signed by a known key")
        if header.get("typ") != TOKEN_TYPE:
            raise TokenInvalid("the token is not an access token")
        try:
            payload = jwt.decode(
                token,
                self._private(key).public_key(),
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": REQUIRED_CLAIMS,
                    "strict_aud": True,
                    # Checked below against the Clock port (see the module's docstring).
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError:
            # One answer for a bad signature, issuer, audience or a missing claim: which one it
            # was helps only someone forging tokens.
            raise TokenInvalid("the access token is not valid here") from None
        return self._claims(payload, key)

    def _claims(self, payload: dict[str, Any], key: SigningKey) -> AccessTokenClaims:
        now = self._clock.now().timestamp()
        leeway = self._leeway.total_seconds()
        expires, not_before, issued = (_number(payload, name) for name in ("exp", "nbf", "iat"))
        if expires <= now - leeway:
            raise TokenExpired("the access token has expired")
        if not_before > now + leeway or issued > now + leeway:
            raise TokenInvalid("the access token is not valid yet")
        if expires - issued > self._lifetime.total_seconds():
            raise TokenInvalid("the access token lives longer than this service issues")
        if key.retired_at is not None:
            retired = key.retired_at.timestamp()
            if issued > retired + leeway:
                raise TokenInvalid("the access token was signed by a retired key")
            if now >= retired + self.max_token_age.total_seconds():
                raise TokenExpired("the access token's key no longer verifies")
        scopes = {parse_scope(name) for name in str(payload["scope"]).split()}
        if None in scopes:
            raise TokenInvalid("the access token carries an unknown scope")
        role = _optional_text(payload, "role")
        if role is not None and role not in _ROLES:
            raise TokenInvalid("the access token carries an unknown role")
        return AccessTokenClaims(
            subject=payload["sub"],
            scopes=frozenset(scope for scope in scopes if scope is not None),
            token_id=payload["jti"],
            issued_at=datetime.fromtimestamp(issued, UTC),
            expires_at=datetime.fromtimestamp(expires, UTC),
            role=None if role is None else Role(role),
            client_id=_optional_text(payload, "client_id"),
            session_id=_optional_text(payload, "sid"),
        )

    # --- publishing ------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        """Every key that still verifies, current first; private halves never leave here."""
        return {
            "keys": [
                {
                    **public_jwk(self._private(key).public_key()),
                    "kid": key.kid,
                    "use": "sig",
                    "alg": ALGORITHM,
                }
                for key in self._keys.load().keys
            ]
        }

    def _private(self, key: SigningKey) -> Ed25519PrivateKey:
        # Parsing PEM costs more than signing: keep each key parsed (keyed by its PEM too, so a
        # key file edited by hand under the same kid is not mistaken for the old key).
        cache_key = (key.kid, key.private_key)
        with self._parsed_lock:
            parsed = self._parsed.get(cache_key)
            if parsed is None:
                parsed = self._parsed[cache_key] = load_private_key(key.private_key)
            return parsed


def _number(payload: dict[str, Any], name: str) -> float:
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenInvalid(f"the access token's {name} is not a number")
    return float(value)


def _optional_text(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise TokenInvalid(f"the access token's {name} is not text")
    return value
