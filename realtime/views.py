"""HTTP endpoints of the live path."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from realtime.health import report
from realtime.redis_client import sync_client


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 with the health report when all is well, 503 otherwise (for probes)."""
    body = report(sync_client())
    return JsonResponse(body, status=200 if body["healthy"] else 503)
