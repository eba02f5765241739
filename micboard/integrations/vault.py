"""Outputs' secrets at rest, sealed by micboard/vault.py as one JSON object per output.

A database dump or backup alone does not give away a webhook's signing secret or a
broker's password. Changing SECRET_KEY makes stored secrets unreadable: each output then
asks for its secrets again (`open_secrets` returns none, and the page says so).
"""

from __future__ import annotations

import orjson

from micboard import vault

PURPOSE = b"integrations output secrets v1"


def seal_secrets(values: dict[str, str]) -> str:
    """Return the stored form of an output's secrets (empty when there are none)."""
    if not values:
        return ""
    return vault.seal(orjson.dumps(values).decode(), PURPOSE)


def open_secrets(sealed: str) -> dict[str, str]:
    """Return an output's secrets; none when nothing is stored or the key changed."""
    if not sealed:
        return {}
    try:
        values = orjson.loads(vault.unseal(sealed, PURPOSE))
    except (vault.UnreadableSecret, orjson.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}
