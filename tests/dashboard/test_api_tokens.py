"""The API tokens page: admins list, create (the secret once) and revoke tokens."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from micboard import access
from micboard.models import ApiToken
from tests.dashboard.conftest import HTMX, Show

pytestmark = pytest.mark.django_db

SECRET = re.compile(r'id="new-api-token" type="text" readonly value="([A-Za-z0-9_-]+)"')


def create(client: Client, show: Show, name: str = "Companion") -> str:
    data = {"name": name, "groups": [show.group_a.pk]}
    return client.post("/api-tokens/new/", data, **HTMX).content.decode()


class TestApiTokensPage:
    def test_it_is_for_admins_only(self, show: Show, admin: Client, tech_a: Client) -> None:
        assert admin.get("/api-tokens/").status_code == 200
        assert tech_a.get("/api-tokens/").status_code == 403
        assert ">API tokens</a>" in admin.get("/").content.decode()
        assert ">API tokens</a>" not in tech_a.get("/").content.decode()

    def test_it_shows_the_secret_once(self, show: Show, admin: Client) -> None:
        html = create(admin, show)
        assert html.lstrip().startswith('<section id="api-tokens"')
        secret = SECRET.search(html)
        assert secret is not None
        token = ApiToken.objects.get()
        assert access.live_api_token(secret.group(1)) == token
        assert list(token.groups.all()) == [show.group_a]
        assert token.created_by == show.admin
        assert secret.group(1) not in admin.get("/api-tokens/").content.decode()

    def test_it_refuses_a_token_without_groups(self, show: Show, admin: Client) -> None:
        html = admin.post("/api-tokens/new/", {"name": "Nothing"}, **HTMX).content.decode()
        assert SECRET.search(html) is None
        assert "This field is required." in html
        assert not ApiToken.objects.exists()

    def test_it_revokes_a_token(self, show: Show, admin: Client) -> None:
        secret = SECRET.search(create(admin, show))
        assert secret is not None
        token = ApiToken.objects.get()
        html = admin.post(f"/api-tokens/{token.pk}/revoke/", **HTMX).content.decode()
        assert "revoked" in html
        assert access.live_api_token(secret.group(1)) is None
