"""The site's 403 pages: styled, inside the nav, saying why, with a way back."""

from __future__ import annotations

import pytest
from django.test import Client

from micboard.models import Performer
from tests.dashboard.conftest import Show

pytestmark = pytest.mark.django_db


def assert_site_error_page(text: str, heading: str) -> None:
    assert f"<h1>{heading}</h1>" in text
    assert 'class="site-nav"' in text  # the nav, so the user is still inside the site
    assert 'href="/performers/"' in text
    assert "Back to the walls" in text
    assert "css/micboard.css" in text  # the site's stylesheet, not a bare page


def test_a_tech_opening_an_admin_page_sees_the_styled_403(show: Show, tech_a: Client) -> None:
    response = tech_a.get("/groups/")
    assert response.status_code == 403
    text = response.content.decode()
    assert_site_error_page(text, "Not allowed")
    assert "ask an admin" in text
    assert 'href="/groups/"' not in text  # the nav still offers only what a tech may use
    assert "tech_a" in text  # who is signed in, so a wrong account is spotted


def test_the_django_admin_refusal_uses_the_same_page(show: Show) -> None:
    show.tech_a.is_staff = True
    show.tech_a.save()
    client = Client()
    client.force_login(show.tech_a)
    response = client.get("/admin/micboard/performer/")
    assert response.status_code == 403
    assert_site_error_page(response.content.decode(), "Not allowed")


def test_a_form_without_a_csrf_token_gets_the_styled_page(show: Show) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(show.admin)
    response = client.post("/performers/new/", {"name": "Nobody"})
    assert response.status_code == 403
    text = response.content.decode()
    assert_site_error_page(text, "Form expired")
    assert "reload the page" in text
    assert "CSRF cookie" not in text  # Django's reason stays out
    assert "CSRF token" not in text
    assert not Performer.objects.filter(name="Nobody").exists()


def test_two_refusals_answer_byte_for_byte_alike(show: Show, tech_a: Client) -> None:
    assert tech_a.get("/groups/").content == tech_a.get("/groups/").content
