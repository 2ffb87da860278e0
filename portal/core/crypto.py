"""Field encryption for personal numbers: Fernet (AES + HMAC) for the value, and a keyed hash
(HMAC-SHA256) beside it so an exact lookup needs no decryption. Both keys derive from FIELD_KEY.
The same Fernet key seals whole files at rest (SealedBytes).

Key rotation (`flask keys rotate`): FIELD_KEY is the new key and FIELD_KEY_PREVIOUS the old one(s).
New values are written under the new key; reads open either, and lookups by keyed hash try the
hash under each key (`keyed_hashes`), so the portal keeps serving while the job moves every row."""
import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator


@lru_cache(maxsize=8)
def _keys(field_key: str) -> tuple[Fernet, bytes]:
    enc = hashlib.sha256(b"portal-enc:" + field_key.encode()).digest()
    mac = hashlib.sha256(b"portal-mac:" + field_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(enc)), mac


@lru_cache(maxsize=8)
def _ring(current: str, previous: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_keys(k)[0] for k in (current, *previous)])


def _field_key() -> str:
    return current_app.config["FIELD_KEY"]


def previous_keys() -> tuple[str, ...]:
    """The keys being rotated away from (FIELD_KEY_PREVIOUS, comma-separated), newest first."""
    value = current_app.config.get("FIELD_KEY_PREVIOUS") or ()
    if isinstance(value, str):
        value = tuple(k.strip() for k in value.split(",") if k.strip())
    return tuple(k for k in value if k != _field_key())


def _reader() -> MultiFernet:
    return _ring(_field_key(), previous_keys())


def encrypt(value: str) -> str:
    return _keys(_field_key())[0].encrypt(value.encode()).decode()


def decrypt(token: str) -> str | None:
    try:
        return _reader().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def keyed_hash(value: str) -> str:
    return hmac.new(_keys(_field_key())[1], value.encode(), hashlib.sha256).hexdigest()


def keyed_hashes(value: str) -> list[str]:
    """The value's keyed hash under the current key, then under each previous one: a lookup during
    a rotation finds rows the job has not reached yet."""
    out = [keyed_hash(value)]
    for key in previous_keys():
        digest = hmac.new(_keys(key)[1], value.encode(), hashlib.sha256).hexdigest()
        if digest not in out:
            out.append(digest)
    return out


def is_current(token: bytes | str) -> bool:
    """Whether a token was sealed under the current key (rotation skips those)."""
    raw = token.encode() if isinstance(token, str) else bytes(token)
    try:
        _keys(_field_key())[0].decrypt(raw)
    except (InvalidToken, ValueError, TypeError):
        return False
    return True


def reseal(token: bytes) -> bytes | None:
    """A token (of any key in the ring) sealed again under the current key; None if unreadable."""
    try:
        return _reader().rotate(bytes(token))
    except (InvalidToken, ValueError, TypeError):
        return None


def fingerprint() -> str:
    """Names the current key without revealing it (backups record which key their data needs)."""
    return hmac.new(_keys(_field_key())[1], b"portal-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def seal_bytes(data: bytes) -> bytes:
    return _keys(_field_key())[0].encrypt(data)


def open_bytes(token: bytes) -> bytes | None:
    """The plain bytes, or None when the token is not ours (damaged, another key)."""
    try:
        return _reader().decrypt(bytes(token))
    except (InvalidToken, ValueError, TypeError):
        return None


class SealedBytes(TypeDecorator):
    """A binary column stored encrypted with the field key (uploads, rendered documents): a dump of
    the database or its backups shows no personal data. Unreadable values load as None, which the
    owners of these columns treat as missing (a document renders again)."""
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else seal_bytes(bytes(value))

    def process_result_value(self, value, dialect):
        return None if value is None else open_bytes(value)
