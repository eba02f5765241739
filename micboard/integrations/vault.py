"""Outputs' secrets at rest: encrypted with a key derived from SECRET_KEY.

A database dump or backup alone does not give away a webhook's signing secret or a
broker's password. Changing SECRET_KEY makes stored secrets unreadable: each output then
asks for its secrets again (`open_secrets` returns none, and the page says so).
"""

from __future__ import annotations

import base64
import hashlib

import orjson
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_PURPOSE = b"micboard.integrations.vault/1"


def _fernet() -> Fernet:
    digest = hashlib.sha256(_PURPOSE + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_secrets(values: dict[str, str]) -> str:
    """Return the stored form of an output's secrets (empty when there are none)."""
    if not values:
        return ""
    return _fernet().encrypt(orjson.dumps(values)).decode()


def open_secrets(sealed: str) -> dict[str, str]:
    """Return an output's secrets; none when nothing is stored or the key changed."""
    if not sealed:
        return {}
    try:
        values = orjson.loads(_fernet().decrypt(sealed.encode()))
    except (InvalidToken, orjson.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}
