"""The Planning Center secret at rest: Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`)
keyed from SECRET_KEY through HKDF-SHA256, so a copied database alone does not give the
token away. Changing SECRET_KEY makes stored secrets unreadable: the page then asks for
the token again (it never guesses)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# A separate purpose string: a key derived for this never equals one Django derives.
PURPOSE = b"micboard.rosters planning-center secret v1"


class UnreadableSecret(Exception):
    """The stored secret was encrypted under another SECRET_KEY (or was tampered with)."""


def _fernet() -> Fernet:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE)
    key = kdf.derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise UnreadableSecret("The stored token cannot be read; connect again.") from None
