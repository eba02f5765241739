"""Webhooks: one signed JSON POST per event.

Headers: X-Micboard-Event (the kind), X-Micboard-Delivery (the event id, the same on
every retry), X-Micboard-Timestamp (Unix seconds) and X-Micboard-Signature, the hex
HMAC-SHA256 of "<timestamp>.<body>" keyed with the output's secret, so a receiver can
check both who sent it and that it is not a replay of an old body. Any 2xx is delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
import orjson
from django import forms

from micboard.integrations.types import DeliveryResult, OutputConfig, OutputEvent

# Short: a slow receiver costs its own queue a few seconds, never anyone else anything.
TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Micboard POSTs one JSON body per event here.",
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the X-Micboard-Signature of a body sent at `timestamp`."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class WebhookDriver:
    kind: ClassVar[str] = "webhook"
    label: ClassVar[str] = "Webhook (HTTP POST)"
    config_form: ClassVar[type[forms.Form]] = WebhookForm
    secret_fields: ClassVar[dict[str, bool]] = {"secret": True}

    def __init__(self) -> None:
        # One pool for every webhook: connections to a receiver are kept and reused.
        self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)

    async def deliver(self, event: OutputEvent, output: OutputConfig) -> DeliveryResult:
        secret = output.secrets.get("secret")
        if not secret:  # unreadable since SECRET_KEY changed: never send unsigned
            return DeliveryResult(False, error="no signing secret stored: edit the output")
        body = orjson.dumps(event.as_json())
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Micboard-Webhook/1",
            "X-Micboard-Event": event.kind,
            "X-Micboard-Delivery": str(event.id),
            "X-Micboard-Timestamp": timestamp,
            "X-Micboard-Signature": sign(secret, timestamp, body),
        }
        url = str(output.config["url"])
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return DeliveryResult(False, error=f"{_host(url)} did not answer in time")
        except httpx.HTTPError as error:
            return DeliveryResult(False, error=f"could not reach {_host(url)}: {_reason(error)}")
        if response.is_success:
            return DeliveryResult(True, response.status_code)
        phrase = response.reason_phrase or "no reason given"
        return DeliveryResult(
            False, response.status_code, f"{_host(url)} answered {response.status_code} {phrase}"
        )

    async def close(self) -> None:
        await self._client.aclose()


def _host(url: str) -> str:
    """Name the receiver without its path or query (which may hold a token)."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or "the receiver"


def _reason(error: httpx.HTTPError) -> str:
    cause = error.__cause__ or error.__context__
    text = str(cause or error) or type(error).__name__
    return text[:200]
