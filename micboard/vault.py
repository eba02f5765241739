"""Secrets at rest (an output's signing secret or broker password, the Planning Center
token): Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under a key derived from
SECRET_KEY by HKDF-SHA256, one key per purpose, so a copied database alone gives nothing
away. Changing SECRET_KEY makes what is stored unreadable: the page then asks for the
secret again, it never guesses."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class UnreadableSecret(Exception):
    """What is stored was sealed under another SECRET_KEY (or was tampered with)."""


def _fernet(purpose: bytes) -> Fernet:
    # A purpose of our own: a key derived for it never equals one Django derives.
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"micboard " + purpose)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(settings.SECRET_KEY.encode())))


def seal(secret: str, purpose: bytes) -> str:
    """Return the stored form of `secret`, sealed for `purpose`."""
    return _fernet(purpose).encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str, purpose: bytes) -> str:
    """Return what `seal(…, purpose)` sealed, or raise UnreadableSecret."""
    try:
        return _fernet(purpose).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise UnreadableSecret("The stored secret cannot be read; enter it again.") from None
