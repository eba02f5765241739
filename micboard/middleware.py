"""Request and response rules every page shares.

- Refuse requests whose query string or form body is not UTF-8: Django decodes such bytes
  with replacement characters, so a mangled name would be saved as if it had been typed;
  a browser never sends them, so answer 400 instead.
- Keep every page out of shared and disk caches: pages, fragments and exports carry
  performers' names and contact details (static files are served before this, cached).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

FORM = "application/x-www-form-urlencoded"


class RequireUtf8Middleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if not _is_utf8(query.encode("latin-1", "replace")):
            return HttpResponseBadRequest("The query string is not valid UTF-8.")
        if request.content_type == FORM and not _is_utf8(request.body):
            return HttpResponseBadRequest("The form data is not valid UTF-8.")
        return self.get_response(request)


def _is_utf8(encoded: bytes) -> bool:
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response
