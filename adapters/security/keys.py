"""Signing keys: Ed25519 generation, the JSON key file, and keys given inline.

The key set is JSON, the same in a file and in ``CIRCULATE_SIGNING_KEYS``::

    {"format": 1, "keys": [{"kid": "...", "algorithm": "EdDSA", "created_at": "...",
      "current": true, "retired_at": null, "private_key": "-----BEGIN PRIVATE KEY-----..."}]}

The file is written whole to a temporary file (mode 0600) and renamed over the old one, under
an exclusive lock, so a reader never sees half a key set and two rotations never interleave.
Every process notices a rotation at its next use of the keys (the file's identity changed).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from application.identity.keyset import KeySet, SigningKey
from application.identity.ports import KeyGenerator
from application.ports import Clock

ALGORITHM = "EdDSA"
FORMAT = 1
log = logging.getLogger(__name__)


class SigningKeysUnavailable(RuntimeError):
    """No usable key set: missing where it may not be made, malformed, or read-only."""


# --- keys ----------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The RFC 8037 JWK members of an Ed25519 public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256): a key id derived from the key itself."""
    canonical = json.dumps(public_jwk(public_key), sort_keys=True, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("a signing key must be an Ed25519 private key")
    return key


class Ed25519KeyGenerator(KeyGenerator):
    def generate(self, now: datetime) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return SigningKey(kid=thumbprint(private.public_key()), private_key=pem, created_at=now)


# --- the JSON form -------------------------------------------------------------------------


def dump_keyset(keys: KeySet) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "keys": [
                {
                    "kid": key.kid,
                    "algorithm": ALGORITHM,
                    "created_at": key.created_at.isoformat(),
                    "current": key.is_current,
                    "retired_at": key.retired_at.isoformat() if key.retired_at else None,
                    "private_key": key.private_key,
                }
                for key in keys.keys
            ],
        },
        indent=2,
    )


def parse_keyset(text: str, source: str) -> KeySet:
    """The key set in ``text``; ``SigningKeysUnavailable`` naming ``source`` if it is not one.

    The error never quotes the text: it holds private keys.
    """
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise ValueError(f"unknown format {document.get('format')!r}")
        keys = tuple(_parse_key(entry) for entry in document["keys"])
        return KeySet(keys)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        problem = error.args[0] if isinstance(error, ValueError) and error.args else "malformed"
        raise SigningKeysUnavailable(f"{source} does not hold a valid key set: {problem}") from None


def _instant(value: Any) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError("times must carry a UTC offset")
    return instant.astimezone(UTC)


def _parse_key(entry: dict[str, Any]) -> SigningKey:
    if entry.get("algorithm", ALGORITHM) != ALGORITHM:
        raise ValueError(f"unsupported algorithm {entry.get('algorithm')!r}")
    kid = entry["kid"]
    if not isinstance(kid, str) or not kid:
        raise ValueError("every key needs a kid")
    retired = entry.get("retired_at")
    if bool(entry["current"]) == (retired is not None):
        raise ValueError(f"key {kid}: a key is current exactly when it has no retired_at")
    pem = entry["private_key"]
    try:
        load_private_key(pem)
    except (ValueError, TypeError):
        raise ValueError(f"key {kid}: private_key is not an Ed25519 PEM private key") from None
    return SigningKey(
        kid=kid,
        private_key=pem,
        created_at=_instant(entry["created_at"]),
        retired_at=None if retired is None else _instant(retired),
    )


# --- stores --------------------------------------------------------------------------------


class StaticKeyStore:
    """Keys given in the configuration (``CIRCULATE_SIGNING_KEYS``): read-only."""

    def __init__(self, keys: KeySet, source: str) -> None:
        self._keys = keys
        self._source = source

    def load(self) -> KeySet:
        return self._keys

    def update(self, change: Callable[[KeySet | None], KeySet]) -> KeySet:  # noqa: ARG002
        raise SigningKeysUnavailable(
            f"the signing keys come from {self._source}, which this process cannot change: "
            "rotate them in a key file (CIRCULATE_SIGNING_KEYS_FILE) and set the variable to "
            "its new contents"
        )


class FileKeyStore:
    """The key set in a JSON file, re-read whenever the file is replaced."""

    def __init__(
        self, path: Path, generator: KeyGenerator, clock: Clock, *, create_missing: bool
    ) -> None:
        self._path = path
        self._generator = generator
        self._clock = clock
        self._create_missing = create_missing
        self._lock = threading.RLock()
        self._cached: KeySet | None = None
        self._identity: tuple[int, int, int] | None = None

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> KeySet:
        with self._lock:
            identity = self._stat()
            if identity is None:
                if not self._create_missing:
                    raise SigningKeysUnavailable(
                        f"no signing keys: {self._path} does not exist; create it with "
                        "`circulate keys rotate` or set CIRCULATE_SIGNING_KEYS"
                    )
                # Development: the first use makes the first key (another process may have
                # made it meanwhile; ``update`` then keeps theirs).
                return self.update(lambda keys: keys or KeySet.first(self._new_key()))
            if self._cached is None or identity != self._identity:
                self._cached, self._identity = self._read(), identity
            return self._cached

    def update(self, change: Callable[[KeySet | None], KeySet]) -> KeySet:
        with self._lock, self._exclusive():
            current = self._read() if self._stat() is not None else None
            keys = change(current)
            if keys is not current:
                self._write(keys)
            self._cached, self._identity = keys, self._stat()
            return keys

    def _new_key(self) -> SigningKey:
        return self._generator.generate(self._clock.now())

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = self._path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _read(self) -> KeySet:
        info = self._path.stat()
        if stat.S_IMODE(info.st_mode) & 0o077:
            log.warning("signing key file %s is readable by other users; chmod 600 it", self._path)
        return parse_keyset(self._path.read_text(encoding="utf-8"), str(self._path))

    def _write(self, keys: KeySet) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_name(f".{self._path.name}.{secrets.token_hex(4)}.tmp")
        # Created 0600 from the start: the private keys are never readable by others, not
        # even for a moment between writing and a chmod.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(dump_keyset(keys))
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold an exclusive lock (shared with other processes) on ``<file>.lock``."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self._path.with_name(self._path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock


def key_store_for(
    *,
    inline: str | None,
    path: str,
    generator: KeyGenerator,
    clock: Clock,
    create_missing: bool,
) -> StaticKeyStore | FileKeyStore:
    """Inline keys when given (containers), else the key file."""
    if inline is not None:
        source = "CIRCULATE_SIGNING_KEYS"
        return StaticKeyStore(parse_keyset(inline, source), source)
    return FileKeyStore(Path(path), generator, clock, create_missing=create_missing)
