"""ASGI entry point: HTTP goes to Django, WebSockets to the Channels routes."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "micboard.settings")
django_asgi_app = get_asgi_application()

# These need Django set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from micboard.webserver import RequestBodyLimit  # noqa: E402
from realtime.web.origin import OriginGuard  # noqa: E402
from realtime.web.routing import (  # noqa: E402
    SocketSplit,
    api_websocket_urlpatterns,
    websocket_urlpatterns,
)

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": SocketSplit(
            api=URLRouter(api_websocket_urlpatterns),
            walls=OriginGuard(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        ),
    }
)
