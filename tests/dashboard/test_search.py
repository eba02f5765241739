"""Search folds case beyond ASCII on every database (SQLite's LIKE alone folds A-Z only),
in the same one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from micboard.models import Performer
from tests.dashboard.conftest import Show

pytestmark = pytest.mark.django_db


def names_found(client: Client, query: str) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/performers/", {"q": query}).content.decode()
    names = [p.name for p in Performer.objects.all() if p.name in html]
    return names, len(queries)


def test_upper_case_finds_lower_case_beyond_ascii(show: Show, admin: Client) -> None:
    Performer.objects.create(name="zoë Ångström", title="Ставка")
    assert names_found(admin, "ZOË")[0] == ["zoë Ångström"]
    assert names_found(admin, "åNGSTRÖM")[0] == ["zoë Ångström"]
    assert names_found(admin, "ставка")[0] == ["zoë Ångström"]  # the title too
    assert names_found(admin, "ZOE")[0] == []  # folding case, not accents


def test_like_wildcards_in_a_search_stay_literal(show: Show, admin: Client) -> None:
    Performer.objects.create(name="Ünter 100% sure")
    assert names_found(admin, "ÜNTER 100%")[0] == ["Ünter 100% sure"]
    assert names_found(admin, "_")[0] == []


def test_a_unicode_search_costs_no_more_queries_than_ascii(show: Show, admin: Client) -> None:
    Performer.objects.create(name="Zoë")
    _, ascii_queries = names_found(admin, "JANE")
    _, unicode_queries = names_found(admin, "ZOË")
    assert unicode_queries == ascii_queries
