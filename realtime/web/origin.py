"""The Origin check in front of every WebSocket route.

Channels' AllowedHostsOriginValidator refuses a bad origin before the handshake, which a
browser only sees as a failed connection. The contract wants the close code 4408, and a
code reaches the browser only after the socket is accepted, so this guard accepts and
closes at once: nothing is sent, and nothing else runs, for a refused origin.
"""

from __future__ import annotations

from urllib.parse import ParseResult, urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings

from realtime.codes import ORIGIN_REFUSED
from realtime.web.asgi_types import ASGIApp, Receive, Scope, Send

_DEBUG_HOSTS = ["localhost", "127.0.0.1", "[::1]"]


class OriginGuard:
    """ASGI middleware: pass WebSockets from an allowed origin (ALLOWED_HOSTS) through."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if origin_allowed(scope):
            await self.application(scope, receive, send)
        else:
            await _refuse(receive, send)


def origin_allowed(scope: Scope) -> bool:
    """Return True when the Origin header names one of ALLOWED_HOSTS (as Channels does)."""
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = _DEBUG_HOSTS
    return bool(OriginValidator(None, hosts).valid_origin(_origin(scope)))


def _origin(scope: Scope) -> ParseResult | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            try:
                return urlparse(value.decode("latin1"))
            except ValueError:
                return None
    return None


async def _refuse(receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": ORIGIN_REFUSED})
