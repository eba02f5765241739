"""The timeline's views: a tech's marker from the wall."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dashboard import lookups
from dashboard.views.common import HtmxHttpRequest
from micboard.services import TimelineService


@login_required
@require_POST
def marker_add(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    context: dict[str, object] = {"group": group}
    try:
        context["marker"] = TimelineService.add_marker(
            group, request.POST.get("label", ""), by_user=request.user
        )
    except ValidationError as error:
        context["error"] = " ".join(error.messages)
    if request.htmx or "error" in context:
        status = 400 if "error" in context else 200
        return render(request, "dashboard/wall_parts.html#marker-status", context, status=status)
    return redirect("wall", group.pk)
