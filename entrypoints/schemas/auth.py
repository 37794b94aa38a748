"""Signing in, tokens, published keys, API keys and service clients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from application.identity.api_keys import CreatedApiKey
from application.identity.clients import CreatedServiceClient
from application.identity.sessions import TokenPair
from application.passwords import MAX_PASSWORD_LENGTH
from domain.access import Scope, format_scopes
from domain.credentials import MAX_NAME, ApiKey, ServiceClient
from domain.members import MAX_EMAIL
from entrypoints.schemas.common import BodyModel, PageMeta, PathModel, ResourceId, UtcDateTime

# Long enough for any refresh token this service issues (43 characters), and then some.
MAX_REFRESH_TOKEN = 512

# Examples for the documentation, not credentials of anything.
_ACCESS_TOKEN_EXAMPLE = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOi4uLn0.c2ln"  # noqa: S105
)
_REFRESH_TOKEN_EXAMPLE = "q8Zr3mJ0w1yVb5cX7nK2sT4uE6hG9aD1fL0pO3iM8wQ"  # noqa: S105
_MEMBER_SCOPES = "books:read loans:read loans:write members:read members:write"


# --- sessions ------------------------------------------------------------------------------


class LoginBody(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"email": "ada@example.org", "password": "correct horse battery staple"}
        }
    )

    email: str = Field(min_length=1, max_length=MAX_EMAIL)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class RefreshBody(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"refresh_token": _REFRESH_TOKEN_EXAMPLE}
        }
    )

    refresh_token: str = Field(min_length=1, max_length=MAX_REFRESH_TOKEN)


class LogoutBody(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"refresh_token": _REFRESH_TOKEN_EXAMPLE}
        }
    )

    refresh_token: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_REFRESH_TOKEN,
        description="Also end the session of this refresh token (it must be the caller's).",
    )


class TokenPairOut(BaseModel):
    access_token: str = Field(description="An EdDSA-signed JWT (RFC 9068); send it as Bearer.")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str = Field(description="Trade it once at /api/v1/auth/refresh for a new pair.")
    scope: str = Field(description="The access token's scopes, space-separated.")

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairOut:
        return cls(
            access_token=pair.access_token,
            token_type="Bearer",  # noqa: S106 (a token type, not a secret)
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
            scope=format_scopes(pair.scopes),
        )


TOKEN_PAIR_EXAMPLE: dict[str, Any] = {
    "access_token": _ACCESS_TOKEN_EXAMPLE,
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": _REFRESH_TOKEN_EXAMPLE,
    "scope": _MEMBER_SCOPES,
}


# --- OAuth 2.0 client credentials (RFC 6749 sections 4.4, 5.1 and 5.2) ---------------------


class ClientTokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token is valid.")
    scope: str = Field(description="The token's scopes, space-separated.")


CLIENT_TOKEN_EXAMPLE: dict[str, Any] = {
    "access_token": _ACCESS_TOKEN_EXAMPLE,
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "books:read loans:read",
}

OAuthErrorCode = Literal[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "temporarily_unavailable",
]


class OAuthErrorOut(BaseModel):
    """An error of the token endpoint, as RFC 6749 section 5.2 shapes it."""

    error: OAuthErrorCode
    error_description: str = Field(description="For the developer; never parse it.")


# --- published keys (RFC 7517, RFC 8037) ---------------------------------------------------


class Jwk(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str = Field(description="The public key, base64url.")
    kid: str = Field(description="Key id (RFC 7638 thumbprint), as in a token's header.")
    use: Literal["sig"]
    alg: Literal["EdDSA"]


class JwkSet(BaseModel):
    keys: list[Jwk] = Field(description="Every key that still verifies tokens, current first.")


JWKS_EXAMPLE: dict[str, Any] = {
    "keys": [
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
            "use": "sig",
            "alg": "EdDSA",
        }
    ]
}


# --- API keys and service clients (admin) --------------------------------------------------

Name = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME, json_schema_extra={"example": "catalogue sync"})
]
Scopes = Annotated[
    list[Scope],
    Field(min_length=1, max_length=len(Scope), description="Scopes granted; at least one."),
]


class ApiKeyPath(PathModel):
    key_id: ResourceId


class ServiceClientPath(PathModel):
    client_id: ResourceId


class ApiKeyCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"name": "catalogue sync", "scopes": ["books:read", "books:write"]}
        }
    )

    name: Name
    scopes: Scopes
    expires_at: UtcDateTime | None = Field(None, description="Default: never.")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The visible part of the key: circ_<prefix>_...")
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    version: int

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=list(key.scopes),
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            version=key.version,
        )


class CreatedApiKeyOut(ApiKeyOut):
    key: str = Field(description="The key itself. Shown this once: only its digest is stored.")

    @classmethod
    def of_created(cls, created: CreatedApiKey) -> CreatedApiKeyOut:
        return cls(**ApiKeyOut.of(created.key).model_dump(), key=created.plaintext)


class ApiKeyPage(PageMeta):
    items: list[ApiKeyOut]


API_KEY_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-111111111111",
    "name": "catalogue sync",
    "prefix": "3f9a1c2b7d4e",
    "scopes": ["books:read", "books:write"],
    "created_at": "2030-01-01T09:00:00Z",
    "expires_at": None,
    "revoked_at": None,
    "version": 1,
}
CREATED_API_KEY_EXAMPLE: dict[str, Any] = {
    **API_KEY_EXAMPLE,
    "key": "circ_3f9a1c2b7d4e_Yk2vR8mQ0sN4pL6tW1xZ3bC5dF7gH9jK0aE2iO4uS6y",
}


class ServiceClientCreate(BodyModel):
    model_config = ConfigDict(
        openapi_extra={  # type: ignore[typeddict-unknown-key]
            "example": {"name": "discovery portal", "scopes": ["books:read"]}
        }
    )

    name: Name
    scopes: Scopes


class ServiceClientOut(BaseModel):
    id: str = Field(description="The client id (client_id in RFC 6749).")
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None
    version: int

    @classmethod
    def of(cls, client: ServiceClient) -> ServiceClientOut:
        return cls(
            id=client.id,
            name=client.name,
            scopes=list(client.scopes),
            created_at=client.created_at,
            revoked_at=client.revoked_at,
            version=client.version,
        )


class CreatedServiceClientOut(ServiceClientOut):
    client_secret: str = Field(
        description="The client secret. Shown this once: only its digest is stored."
    )

    @classmethod
    def of_created(cls, created: CreatedServiceClient) -> CreatedServiceClientOut:
        return cls(**ServiceClientOut.of(created.client).model_dump(), client_secret=created.secret)


class ServiceClientPage(PageMeta):
    items: list[ServiceClientOut]


SERVICE_CLIENT_EXAMPLE: dict[str, Any] = {
    "id": "0190f1e2-7c4d-7a8b-9c0d-222222222222",
    "name": "discovery portal",
    "scopes": ["books:read"],
    "created_at": "2030-01-01T09:00:00Z",
    "revoked_at": None,
    "version": 1,
}
CREATED_SERVICE_CLIENT_EXAMPLE: dict[str, Any] = {
    **SERVICE_CLIENT_EXAMPLE,
    "client_secret": "Vb7nM2qX9kR4tY1uI8oP3aS6dF0gH5jL2zC4xE7wQ1r",
}
