"""Signing in and out."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.dashboard.conftest import PASSWORD, Show

pytestmark = pytest.mark.django_db


def test_a_tech_signs_in_and_lands_on_their_walls(show: Show) -> None:
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">' in page
    assert '<label for="id_password">' in page
    response = client.post("/accounts/login/", {"username": "tech_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Main stage" in client.get("/").content.decode()


def test_a_wrong_password_is_reported(show: Show) -> None:
    response = Client().post("/accounts/login/", {"username": "tech_a", "password": "nope"})
    assert response.status_code == 200
    assert 'class="form-errors" role="alert"' in response.content.decode()


def test_sign_out(show: Show, tech_a: Client) -> None:
    assert tech_a.post("/accounts/logout/").status_code == 302
    assert tech_a.get("/").status_code == 302
