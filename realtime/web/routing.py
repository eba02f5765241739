"""WebSocket routes of the live path (mounted by micboard/asgi.py)."""

from __future__ import annotations

from django.urls import path

from realtime.web.asgi_types import ASGIApp, Receive, Scope, Send
from realtime.web.consumers import ApiConsumer, GroupConsumer, KioskConsumer

API_PREFIX = "/ws/api/"

# Walls: a session or a kiosk token, behind the Origin check (micboard/asgi.py).
websocket_urlpatterns = [
    path("ws/groups/<id:group_id>/", GroupConsumer.as_asgi()),
    path("ws/kiosk/<str:token>/", KioskConsumer.as_asgi()),
]

# API clients: a bearer token only, with no session stack and no Origin check.
api_websocket_urlpatterns = [
    path("ws/api/groups/<id:group_id>/", ApiConsumer.as_asgi()),
]


class SocketSplit:
    """Send `/ws/api/…` to the token-only routes and every other socket to the walls.

    An API client (a script, Companion, Node-RED) sends no Origin, and needs none: the
    Origin check stops another site riding a browser's cookie, and no cookie is read
    on the API routes, only the token the client itself sends."""

    def __init__(self, *, api: ASGIApp, walls: ASGIApp) -> None:
        self.api = api
        self.walls = walls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        inner = self.api if str(scope.get("path", "")).startswith(API_PREFIX) else self.walls
        await inner(scope, receive, send)
