"""The Origin check in front of every WebSocket route.

Channels' AllowedHostsOriginValidator refuses a bad origin before the handshake, which a
browser only sees as a failed connection. The contract wants the close code 4408, and a
code reaches the browser only after the socket is accepted, so this guard accepts and
closes at once: nothing is sent, and nothing else runs, for a refused origin.
"""

from __future__ import annotations

from urllib.parse import ParseResult, urlparse

from django.conf import settings
from django.http.request import validate_host

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
    """Return True for a page of this very site: scheme, host and port included.

    The origin is either one of CSRF_TRUSTED_ORIGINS exactly (as the forms need behind a
    TLS proxy, where the socket itself arrives as plain ws), or the socket's own
    scheme://Host with the host in ALLOWED_HOSTS. Matching the host alone, as Channels'
    validator does, let a page on another port or scheme of the same name in.
    """
    origin = _origin(scope)
    if origin is None or origin.scheme not in {"http", "https"} or not origin.netloc:
        return False
    if f"{origin.scheme}://{origin.netloc}" in settings.CSRF_TRUSTED_ORIGINS:
        return True
    page_scheme = "https" if scope.get("scheme") == "wss" else "http"
    host = _header(scope, b"host")
    return (
        origin.scheme == page_scheme
        and host is not None
        and origin.netloc == host
        and validate_host(origin.hostname or "", _allowed_hosts())
    )


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    return _DEBUG_HOSTS if settings.DEBUG and not hosts else hosts


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin1"))
    return None


def _origin(scope: Scope) -> ParseResult | None:
    value = _header(scope, b"origin")
    if value is None:
        return None
    try:
        return urlparse(value)
    except ValueError:
        return None


async def _refuse(receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": ORIGIN_REFUSED})
