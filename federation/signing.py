"""Ed25519 signatures of published batches (issue 17 §5).

A province instance holds its private key (``FEDERATION_SIGNING_KEY``, base64 of the 32-byte seed, usually from a
``*_FILE`` secret); the national instance holds only the provinces' public keys (``FEDERATION_PROVINCE_KEYS``:
``code:base64`` items). A signature covers the exact bytes of the request body, so nothing in the batch can be
changed in transit, and a province's key signs for that province only (the receiver checks the codes).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from django.conf import settings

SIGNATURE_HEADER = "X-Federation-Signature"
PROVINCE_HEADER = "X-Federation-Province"


class FederationKeyError(ValueError):
    """A key setting is missing or malformed; the message is for the operator."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FederationKeyError(f"{what} is not base64") from None
    if len(raw) != 32:
        raise FederationKeyError(f"{what} must be 32 bytes, got {len(raw)}")
    return raw


def new_key_pair() -> tuple[str, str]:
    """A fresh (private seed, public key), both base64."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(seed).decode(), base64.b64encode(public).decode()


def public_key_of(seed_b64: str) -> str:
    private = Ed25519PrivateKey.from_private_bytes(_b64decode(seed_b64, "FEDERATION_SIGNING_KEY"))
    return base64.b64encode(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def sign(body: bytes, seed_b64: str | None = None) -> str:
    seed = seed_b64 if seed_b64 is not None else str(settings.FEDERATION_SIGNING_KEY)
    if not seed:
        raise FederationKeyError("FEDERATION_SIGNING_KEY is not set")
    private = Ed25519PrivateKey.from_private_bytes(_b64decode(seed, "FEDERATION_SIGNING_KEY"))
    return base64.b64encode(private.sign(body)).decode()


def province_keys() -> dict[str, Ed25519PublicKey]:
    """The national instance's trusted keys by province code (2 digits)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for item in settings.FEDERATION_PROVINCE_KEYS:
        code, _, key = str(item).partition(":")
        code = code.strip()
        if len(code) != 2 or not code.isdigit():
            raise FederationKeyError(f"FEDERATION_PROVINCE_KEYS: bad province code {code!r}")
        keys[code] = Ed25519PublicKey.from_public_bytes(_b64decode(key, f"FEDERATION_PROVINCE_KEYS[{code}]"))
    return keys


def verify(body: bytes, signature_b64: str, province: str) -> bool:
    """Whether *signature_b64* is *province*'s signature of *body* (False for an unknown province)."""
    key = province_keys().get(province)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), body)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
