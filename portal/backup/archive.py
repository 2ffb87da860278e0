"""The archive's envelope: the payload compressed, then sealed with AES-256-GCM under a key derived
from a passphrase (or a key file's bytes) with scrypt. GCM authenticates every byte and the header,
so an altered archive, or a wrong passphrase, opens to nothing at all."""
import os
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"PORTAL-TENANT-ARCHIVE/1\n"
SALT, NONCE = 16, 12
MIN_PASSPHRASE = 8


class ArchiveError(Exception):
    """The archive cannot be opened: not one of ours, altered, or the wrong passphrase."""


def _key(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2 ** 15, r=8, p=1).derive(passphrase)


def check_passphrase(passphrase: bytes) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ArchiveError(f"the passphrase (or key file) must have at least {MIN_PASSPHRASE} characters")
    return passphrase


def seal(payload: bytes, passphrase: bytes) -> bytes:
    salt, nonce = os.urandom(SALT), os.urandom(NONCE)
    body = AESGCM(_key(check_passphrase(passphrase), salt)).encrypt(nonce, zlib.compress(payload, 6),
                                                                    MAGIC + salt)
    return MAGIC + salt + nonce + body


def open_sealed(data: bytes, passphrase: bytes) -> bytes:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + SALT + NONCE + 16:
        raise ArchiveError("not a tenant archive of this portal")
    salt = data[len(MAGIC):len(MAGIC) + SALT]
    nonce = data[len(MAGIC) + SALT:len(MAGIC) + SALT + NONCE]
    try:
        plain = AESGCM(_key(passphrase, salt)).decrypt(nonce, data[len(MAGIC) + SALT + NONCE:], MAGIC + salt)
    except InvalidTag:
        raise ArchiveError("the archive was altered, or the passphrase is wrong: nothing was imported")
    return zlib.decompress(plain)


def read_passphrase_file(path: str) -> bytes:
    """A passphrase file (one line) or a key file (any bytes): the trailing line end is not part of it."""
    with open(path, "rb") as f:
        return check_passphrase(f.read().rstrip(b"\r\n"))
