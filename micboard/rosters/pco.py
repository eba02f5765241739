"""A client of the Planning Center Services API (JSON:API over HTTPS, personal access token
as HTTP Basic credentials: the application id and its secret).

Synchronous httpx on purpose: it runs in a request (the dry run) and in a management
command, both synchronous Django code next to the database work, and the pages of one
plan are fetched one after another anyway (each `links.next` comes with the page before).

Facts from developer.planning.center (the Services v2 reference and the overview pages):
collections page with `per_page` (at most 100) and `offset`, and answer with `links.next`
and `meta.total_count` / `meta.next.offset`; a 429 carries `Retry-After` in seconds; a plan's
team members are `/services/v2/service_types/<id>/plans/<id>/team_members`, each with
`status` (C confirmed, U unconfirmed, D declined), `name`, `team_position_name` and the
person in `relationships.person`. Not confirmed from the docs we could read, taken from
common use: a plan's `dates` and `sort_date`, and the plans filter `filter=future`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

PER_PAGE = 100  # the API's largest page
STATUSES = {"C": "confirmed", "U": "unconfirmed", "D": "declined"}


class PcoError(Exception):
    """Planning Center could not be read; the message is for the page (it names no secret)."""


class TokenRefused(PcoError):
    """401 or 403: the token was revoked, changed or lost its access."""


class RateLimited(PcoError):
    """429 for longer than we wait."""


TOKEN_REFUSED = (
    "Planning Center refused the personal access token: it stopped working (revoked, "
    "regenerated or without access to Services). Connect again with a new token."
)


@dataclass(frozen=True)
class ServiceType:
    id: str
    name: str


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    dates: str


@dataclass(frozen=True)
class TeamMember:
    person_id: str
    name: str
    position: str
    status: str  # C, U or D

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)


class PcoClient:
    """Reads service types, plans and team members; waits out 429s up to `max_wait` s."""

    def __init__(
        self,
        app_id: str,
        secret: str,
        *,
        base_url: str | None = None,
        max_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or settings.MICBOARD_PCO_URL).rstrip("/")
        self.max_wait = settings.MICBOARD_PCO_MAX_WAIT if max_wait is None else max_wait
        self.waited = 0.0  # seconds spent honouring Retry-After, said on the page
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, auth=httpx.BasicAuth(app_id, secret), timeout=10.0
        )

    def __enter__(self) -> PcoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def service_types(self) -> list[ServiceType]:
        return [
            ServiceType(item["id"], str(item["attributes"].get("name") or ""))
            for item in self._collection("/services/v2/service_types", {"order": "name"})
        ]

    def plans(self, service_type_id: str) -> list[Plan]:
        """The service type's coming plans, soonest first."""
        path = f"/services/v2/service_types/{_id(service_type_id)}/plans"
        items = self._collection(path, {"filter": "future", "order": "sort_date"})
        return [_plan(item) for item in items]

    def team_members(self, service_type_id: str, plan_id: str) -> list[TeamMember]:
        path = (
            f"/services/v2/service_types/{_id(service_type_id)}/plans/{_id(plan_id)}/team_members"
        )
        return [_member(item) for item in self._collection(path, {})]

    def _collection(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every resource of a collection, page after page along `links.next`."""
        url: str | None = path
        query: dict[str, str] | None = {**params, "per_page": str(PER_PAGE)}
        while url is not None:
            page = self._get(url, query)
            yield from page.get("data") or []
            url, query = self._next(page), None  # the next link carries its own query

    def _next(self, page: dict[str, Any]) -> str | None:
        link = (page.get("links") or {}).get("next")
        if not link:
            return None
        # Credentials go only where they came from: a next link elsewhere is refused.
        if urlsplit(link).netloc not in ("", urlsplit(self.base_url).netloc):
            raise PcoError("Planning Center sent a next page on another host; stopped there.")
        return str(link)

    def _get(self, url: str, params: dict[str, str] | None) -> dict[str, Any]:
        while True:
            try:
                response = self._http.get(url, params=params)
            except httpx.HTTPError as error:
                host = urlsplit(self.base_url).netloc
                raise PcoError(
                    f"Could not reach Planning Center at {host} ({type(error).__name__})."
                ) from None
            if response.status_code != 429:
                return _body(response)
            self._wait(response)

    def _wait(self, response: httpx.Response) -> None:
        delay = _retry_after(response)
        if self.waited + delay > self.max_wait:
            raise RateLimited(
                f"Planning Center is rate-limiting us (it asks for {delay:g} s more after "
                f"{self.waited:g} s of waiting); try again in a minute."
            )
        self._sleep(delay)
        self.waited += delay


def _body(response: httpx.Response) -> dict[str, Any]:
    if response.status_code in (401, 403):
        raise TokenRefused(TOKEN_REFUSED)
    if response.status_code == 404:
        raise PcoError("Planning Center has no such service type or plan (404).")
    if response.status_code >= 400:
        raise PcoError(f"Planning Center answered {response.status_code}; try again later.")
    try:
        body = response.json()
    except ValueError:
        raise PcoError("Planning Center sent something that is not JSON.") from None
    if not isinstance(body, dict):
        raise PcoError("Planning Center sent an unexpected answer.")
    return body


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait; a missing or odd header waits a second (the API sends whole seconds)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _id(value: str) -> str:
    """Ids go into a path: only digits, as Planning Center's are."""
    if not value.isdigit():
        raise PcoError("That is not a Planning Center id.")
    return value


def _plan(item: dict[str, Any]) -> Plan:
    attributes = item.get("attributes") or {}
    title = attributes.get("title") or attributes.get("dates") or f"Plan {item['id']}"
    return Plan(str(item["id"]), str(title), str(attributes.get("dates") or ""))


def _member(item: dict[str, Any]) -> TeamMember:
    attributes = item.get("attributes") or {}
    person = ((item.get("relationships") or {}).get("person") or {}).get("data") or {}
    return TeamMember(
        person_id=str(person.get("id") or ""),
        name=str(attributes.get("name") or "").strip(),
        position=str(attributes.get("team_position_name") or "").strip(),
        status=str(attributes.get("status") or ""),
    )
