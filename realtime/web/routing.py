"""WebSocket routes of the live path (mounted by micboard/asgi.py)."""

from __future__ import annotations

from django.urls import path

from realtime.web.consumers import GroupConsumer, KioskConsumer

websocket_urlpatterns = [
    path("ws/groups/<id:group_id>/", GroupConsumer.as_asgi()),
    path("ws/kiosk/<str:token>/", KioskConsumer.as_asgi()),
]
