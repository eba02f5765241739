"""The API tokens page for admins: list, create (the secret is shown once) and revoke."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from dashboard import lookups
from dashboard.forms import ApiTokenForm, show_service_errors
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.services import ApiTokenService

PAGE = "dashboard/api_tokens.html"


@login_required
@require_GET
def api_token_list(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    return render(request, PAGE, _context(request))


@login_required
@require_POST
def api_token_create(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    form = _form(request, data=request.POST)
    secret = None
    if form.is_valid():
        try:
            made = ApiTokenService.create_token(
                form.cleaned_data["name"], list(form.cleaned_data["groups"]), by_user=request.user
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            form, secret = _form(request), made.secret
    return _part(request, token_form=form, new_secret=secret)


@login_required
@require_POST
def api_token_revoke(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    token = lookups.get_api_token_for_admin(request.user, token_id)
    ApiTokenService.revoke_token(token, by_user=request.user)
    return _part(request)


def _form(request: HtmxHttpRequest, **kwargs: Any) -> ApiTokenForm:
    return ApiTokenForm(groups=access.administered_groups(request.user), **kwargs)


def _context(request: HtmxHttpRequest, **overrides: Any) -> dict[str, Any]:
    tokens = access.administered_api_tokens(request.user)
    context = {
        "tokens": tokens.select_related("created_by").prefetch_related("groups"),
        "token_form": _form(request),
        "new_secret": None,
        "api_url": request.build_absolute_uri("/api/v1/"),
    }
    context.update(overrides)
    return context


def _part(request: HtmxHttpRequest, **overrides: Any) -> HttpResponse:
    """Answer htmx with the tokens section; a plain form post gets the whole page."""
    template = f"{PAGE}#api-tokens" if request.htmx else PAGE
    return render(request, template, _context(request, **overrides))
