"""The CSRF failure page, rendered like the site's other error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a refused form with the site's 403 page for it.

    Django's own failure view renders its template without the request, so the base
    template could not show the nav; the reason stays out of the page (it names the check
    that failed, which helps an attacker more than a user).
    """
    response = TemplateResponse(request, "403_csrf.html", status=403)
    return response.render()
