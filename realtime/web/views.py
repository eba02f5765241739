"""HTTP endpoints of the live path."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from micboard import access
from realtime.health import report
from realtime.redis_client import sync_client


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the live path is healthy, 503 otherwise (for probes).

    A probe learns only `{"healthy": …}`; the details name hosts and process ids, so only
    signed-in staff and admins get them.
    """
    body = report(sync_client())
    status = 200 if body["healthy"] else 503
    if not access.reads_health_details(request.user):
        body = {"healthy": body["healthy"]}
    return JsonResponse(body, status=status)
