"""Field encryption for personal numbers: Fernet (AES + HMAC) for the value, and a keyed hash
(HMAC-SHA256) beside it so an exact lookup needs no decryption. Both keys derive from FIELD_KEY."""
import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


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
