"""Token format, fixed test vectors, binding to table/column/row, and failure that raises."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casemgmt.crypto import cipher as crypto

RING = crypto.KeyRing(keys={"t1": bytes(range(32))}, active="t1", blind_index_key=bytes(range(32, 64)))
ROW = "00000000-0000-0000-0000-000000000001"
NONCE = bytes(range(1, 13))
CONTEXT: dict[str, Any] = {"table": "registry_patient", "column": "name", "row_uuid": ROW}

# Fixed vectors: key = bytes 0..31, nonce = bytes 1..12, AAD = "registry_patient␟name␟<ROW>".
VECTOR_TOKEN = "v1.t1.AQIDBAUGBwgJCgsM4Fb6MVQdoJPkLNdK0AlXJ1cULH-rVg"
VECTOR_NATIONAL_ID_INDEX = "d40632e9a6d835a0c3b1562a187954ba332ad5aeba5c52c2f1cc09af659a89ba"
VECTOR_NAME_INDEX = "a560"


def test_fixed_vector_token() -> None:
    assert crypto.encrypt("张三", ring=RING, nonce=NONCE, **CONTEXT) == VECTOR_TOKEN


def test_fixed_vector_matches_an_independent_aes_gcm_computation() -> None:
    aad = f"registry_patient\x1fname\x1f{ROW}".encode()
    sealed = AESGCM(bytes(range(32))).encrypt(NONCE, "张三".encode(), aad)
    assert "v1.t1." + base64.urlsafe_b64encode(NONCE + sealed).decode().rstrip("=") == VECTOR_TOKEN


def test_fixed_vector_blind_indexes() -> None:
    expected = hmac.new(bytes(range(32, 64)), b"national_id\x1f320508198005170011", hashlib.sha256).hexdigest()
    assert expected == VECTOR_NATIONAL_ID_INDEX
    assert crypto.blind_index("320508198005170011", purpose="national_id", ring=RING) == VECTOR_NATIONAL_ID_INDEX
    assert crypto.blind_index("张三", purpose="name", hex_length=4, ring=RING) == VECTOR_NAME_INDEX


def test_blind_index_normalizes_width_case_and_spaces() -> None:
    a = crypto.blind_index("32050819800517001x", purpose="national_id", ring=RING)
    b = crypto.blind_index(" 32050819800517001Ｘ ", purpose="national_id", ring=RING)
    assert a == b


def test_round_trip_and_fresh_nonce_each_time() -> None:
    first = crypto.encrypt("张三", ring=RING, **CONTEXT)
    second = crypto.encrypt("张三", ring=RING, **CONTEXT)
    assert first != second
    assert crypto.decrypt(first, ring=RING, **CONTEXT) == "张三"
    assert crypto.token_key_id(first) == "t1"


@pytest.mark.parametrize(
    "changed",
    [
        {"table": "registry_other"},
        {"column": "phone"},
        {"row_uuid": "00000000-0000-0000-0000-000000000002"},
    ],
)
def test_token_is_bound_to_table_column_and_row(changed: dict[str, str]) -> None:
    token = crypto.encrypt("张三", ring=RING, **CONTEXT)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, ring=RING, **{**CONTEXT, **changed})


@pytest.mark.parametrize(
    "token",
    [
        "张三",  # plaintext stored by mistake: never returned as if it were the value
        "v1.t1.AAAA",
        VECTOR_TOKEN[:-2] + ("AA" if not VECTOR_TOKEN.endswith("AA") else "BB"),  # tampered tag
        "v1.zz." + VECTOR_TOKEN.split(".", 2)[2],  # unknown key id
        "v2.t1." + VECTOR_TOKEN.split(".", 2)[2],
    ],
)
def test_failure_raises_and_never_falls_back(token: str) -> None:
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, ring=RING, **CONTEXT)


def test_wrong_key_raises() -> None:
    other = crypto.KeyRing(keys={"t1": bytes(32)}, active="t1", blind_index_key=bytes(range(32, 64)))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(VECTOR_TOKEN, ring=other, **CONTEXT)


@pytest.mark.parametrize(
    ("keys", "active", "blind", "message"),
    [
        ("", "a", "x", "FIELD_ENCRYPTION_KEYS is not set"),
        ("a:c2hvcnQ", "a", crypto.new_key(), "must be 32 bytes"),
        ("a b:" + crypto.new_key(), "a b", crypto.new_key(), "kid:base64key"),
        ("a:" + crypto.new_key(), "b", crypto.new_key(), "must name one of"),
        ("a:" + crypto.new_key(), "a", "", "BLIND_INDEX_KEY is not set"),
    ],
)
def test_key_configuration_errors(keys: str, active: str, blind: str, message: str) -> None:
    with pytest.raises(crypto.KeyConfigurationError, match=message):
        crypto.parse_keyring(keys, active, blind)


def test_blind_index_key_must_differ_from_field_keys() -> None:
    key = crypto.new_key()
    with pytest.raises(crypto.KeyConfigurationError, match="must differ"):
        crypto.parse_keyring(f"a:{key}", "a", key)
