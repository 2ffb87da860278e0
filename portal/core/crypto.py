"""Field encryption for personal numbers: Fernet (AES + HMAC) for the value, and a keyed hash
(HMAC-SHA256) beside it so an exact lookup needs no decryption. Both keys derive from FIELD_KEY.
The same Fernet key seals whole files at rest (SealedBytes)."""
import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator


@lru_cache(maxsize=8)
def _keys(field_key: str) -> tuple[Fernet, bytes]:
    enc = hashlib.sha256(b"portal-enc:" + field_key.encode()).digest()
    mac = hashlib.sha256(b"portal-mac:" + field_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(enc)), mac


def _field_key() -> str:
    return current_app.config["FIELD_KEY"]


def encrypt(value: str) -> str:
    return _keys(_field_key())[0].encrypt(value.encode()).decode()


def decrypt(token: str) -> str | None:
    try:
        return _keys(_field_key())[0].decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def keyed_hash(value: str) -> str:
    return hmac.new(_keys(_field_key())[1], value.encode(), hashlib.sha256).hexdigest()


def seal_bytes(data: bytes) -> bytes:
    return _keys(_field_key())[0].encrypt(data)


def open_bytes(token: bytes) -> bytes | None:
    """The plain bytes, or None when the token is not ours (damaged, another key)."""
    try:
        return _keys(_field_key())[0].decrypt(bytes(token))
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
