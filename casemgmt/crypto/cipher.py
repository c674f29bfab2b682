"""Field encryption (AES-256-GCM) and keyed blind indexes, on `cryptography`.

Token format: ``v1.<kid>.<base64url(nonce || ciphertext || tag)>`` (no padding). The associated data binds
every token to its table, column and row UUID, so a token copied to another row or column fails to decrypt.
Decryption failure raises :class:`DecryptionError`; there is no fallback to the stored text.

Keys come from their own settings (``FIELD_ENCRYPTION_KEYS`` / ``FIELD_ENCRYPTION_ACTIVE_KEY`` /
``BLIND_INDEX_KEY``), never from ``SECRET_KEY``. Several keys may be configured at once so that
``rotate_field_keys`` can move ciphertext from old keys to the active one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_VERSION = "v1"  # noqa: S105  (a format tag, not a secret)
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
TOKEN_PATTERN = re.compile(r"^v1\.([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]+)$")


class KeyConfigurationError(ValueError):
    """The key settings are missing or malformed."""


class DecryptionError(ValueError):
    """A token could not be decrypted: wrong key, wrong row/column, tampered, or not a token."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    active: str
    blind_index_key: bytes

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active]


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"{what} is not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise KeyConfigurationError(f"{what} must be {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def parse_keyring(keys_spec: str, active: str, blind_index_key: str) -> KeyRing:
    """Parse ``"kid:base64,kid2:base64"`` plus the active key id and the blind-index key."""
    if not keys_spec.strip():
        raise KeyConfigurationError("FIELD_ENCRYPTION_KEYS is not set")
    keys: dict[str, bytes] = {}
    for item in keys_spec.split(","):
        kid, sep, material = item.strip().partition(":")
        if not sep or not KEY_ID_PATTERN.match(kid):
            raise KeyConfigurationError("FIELD_ENCRYPTION_KEYS entries must look like 'kid:base64key'")
        if kid in keys:
            raise KeyConfigurationError(f"key id {kid!r} is configured twice")
        keys[kid] = _decode_key(material, f"field key {kid!r}")
    if active not in keys:
        raise KeyConfigurationError("FIELD_ENCRYPTION_ACTIVE_KEY must name one of FIELD_ENCRYPTION_KEYS")
    if not blind_index_key:
        raise KeyConfigurationError("BLIND_INDEX_KEY is not set")
    blind = _decode_key(blind_index_key, "BLIND_INDEX_KEY")
    if blind in keys.values():
        raise KeyConfigurationError("BLIND_INDEX_KEY must differ from every field key")
    return KeyRing(keys=keys, active=active, blind_index_key=blind)


@lru_cache(maxsize=1)
def _cached_keyring(keys_spec: str, active: str, blind: str) -> KeyRing:
    return parse_keyring(keys_spec, active, blind)


def get_keyring() -> KeyRing:
    from django.conf import settings

    return _cached_keyring(
        settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_ENCRYPTION_ACTIVE_KEY, settings.BLIND_INDEX_KEY
    )


def new_key() -> str:
    """A fresh random 256-bit key, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def associated_data(table: str, column: str, row_uuid: object) -> bytes:
    return f"{table}\x1f{column}\x1f{row_uuid}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt(
    plaintext: str,
    *,
    table: str,
    column: str,
    row_uuid: object,
    ring: KeyRing | None = None,
    nonce: bytes | None = None,
) -> str:
    """Encrypt *plaintext* under the active key. *nonce* is for fixed test vectors only."""
    ring = ring or get_keyring()
    nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise ValueError("nonce must be 12 bytes")
    sealed = AESGCM(ring.active_key).encrypt(nonce, plaintext.encode("utf-8"), associated_data(table, column, row_uuid))
    return f"{TOKEN_VERSION}.{ring.active}.{_b64(nonce + sealed)}"


class BulkSealer:
    """``encrypt`` and ``blind_index`` for bulk loaders: one cipher and one keyed HMAC for many values.

    Produces exactly the tokens and indexes of the functions above (same format, same associated data); it only
    avoids building an AES-GCM object and an HMAC key schedule per value, which dominates when a loader seals
    hundreds of thousands of fields.
    """

    def __init__(self, ring: KeyRing | None = None) -> None:
        ring = ring or get_keyring()
        self._aead = AESGCM(ring.active_key)
        self._prefix = f"{TOKEN_VERSION}.{ring.active}."
        self._hmac = hmac.new(ring.blind_index_key, digestmod=hashlib.sha256)
        self._nonces: list[bytes] = []

    def encrypt(self, plaintext: str, *, table: str, column: str, row_uuid: object) -> str:
        if not self._nonces:
            pool = os.urandom(NONCE_BYTES * 4096)  # one system call for many nonces
            self._nonces = [pool[i : i + NONCE_BYTES] for i in range(0, len(pool), NONCE_BYTES)]
        nonce = self._nonces.pop()
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), associated_data(table, column, row_uuid))
        return self._prefix + _b64(nonce + sealed)

    def blind_index(self, value: str, *, purpose: str, hex_length: int | None = None) -> str:
        mac = self._hmac.copy()
        mac.update(f"{purpose}\x1f{normalize_for_index(value)}".encode())
        digest = mac.hexdigest()
        return digest[:hex_length] if hex_length else digest


def token_key_id(token: str) -> str:
    match = TOKEN_PATTERN.match(token)
    if not match:
        raise DecryptionError("not an encryption token")
    return match.group(1)


def decrypt(token: str, *, table: str, column: str, row_uuid: object, ring: KeyRing | None = None) -> str:
    ring = ring or get_keyring()
    match = TOKEN_PATTERN.match(token)
    if not match:
        raise DecryptionError(f"{table}.{column}: stored value is not an encryption token")
    kid, body = match.groups()
    key = ring.keys.get(kid)
    if key is None:
        raise DecryptionError(f"{table}.{column}: key id {kid!r} is not configured")
    try:
        raw = _unb64(body)
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data(table, column, row_uuid))
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise DecryptionError(f"{table}.{column}: token does not decrypt with key {kid!r} for this row") from exc
    return plain.decode("utf-8")


def normalize_for_index(value: str) -> str:
    """Fold width, case and spaces so that equal identifiers give equal blind indexes."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()


def blind_index(value: str, *, purpose: str, hex_length: int | None = None, ring: KeyRing | None = None) -> str:
    """Keyed HMAC-SHA256 of the normalized value, separated by *purpose*; truncated when *hex_length* is set.

    Truncated indexes deliberately collide, so each lookup returns a few candidates that are decrypted and
    compared; the full-length index (national ID) is unique.
    """
    ring = ring or get_keyring()
    digest = hmac.new(
        ring.blind_index_key, f"{purpose}\x1f{normalize_for_index(value)}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:hex_length] if hex_length else digest
