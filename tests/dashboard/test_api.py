"""The read API: bearer tokens, each endpoint's answer, live state from Redis, the
OpenAPI document, and a bounded number of queries per list."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
import redis
from django.test import Client
from django.utils import timezone

from micboard.models import ApiToken
from micboard.services import AlertService, ApiTokenService
from tests.dashboard.conftest import Show, assign

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def secret_a(show: Show) -> str:
    return ApiTokenService.create_token("Companion", [show.group_a], by_user=show.admin).secret


def get(path: str, secret: str) -> object:
    response = Client().get(path, **bearer(secret))  # type: ignore[arg-type]
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


class TestApiTokenAuthentication:
    def test_it_refuses_a_request_without_a_token(self, show: Show) -> None:
        assert Client().get("/api/v1/units/").status_code == 401

    def test_it_ignores_a_session(self, show: Show, admin: Client) -> None:
        assert admin.get("/api/v1/units/").status_code == 401

    def test_it_refuses_a_revoked_token_at_once(self, show: Show, secret_a: str) -> None:
        assert Client().get("/api/v1/groups/", **bearer(secret_a)).status_code == 200
        ApiTokenService.revoke_token(ApiToken.objects.get(), by_user=show.admin)
        assert Client().get("/api/v1/groups/", **bearer(secret_a)).status_code == 401

    def test_a_token_stops_reading_once_its_maker_is_no_longer_an_admin(
        self, show: Show, secret_a: str
    ) -> None:
        assert [g["id"] for g in get("/api/v1/groups/", secret_a)] == [show.group_a.pk]  # type: ignore[union-attr, index]
        show.admin.profile.role = "tech"
        show.admin.profile.save()
        assert get("/api/v1/groups/", secret_a) == []
        detail = Client().get(f"/api/v1/groups/{show.group_a.pk}/", **bearer(secret_a))  # type: ignore[arg-type]
        assert detail.status_code == 404

    def test_it_records_when_a_token_was_last_used(self, show: Show, secret_a: str) -> None:
        assert ApiToken.objects.get().last_used_at is None
        get("/api/v1/groups/", secret_a)
        assert ApiToken.objects.get().last_used_at is not None

    def test_it_answers_only_get(self, show: Show, secret_a: str) -> None:
        for method in ("post", "put", "patch", "delete"):
            response = getattr(Client(), method)("/api/v1/units/", **bearer(secret_a))
            assert response.status_code == 405, method


class TestApiReads:
    def test_it_lists_the_tokens_groups(self, show: Show, secret_a: str) -> None:
        assert get("/api/v1/groups/", secret_a) == [
            {"id": show.group_a.pk, "name": "Main stage", "description": ""}
        ]

    def test_it_answers_404_for_another_groups_objects(self, show: Show, secret_a: str) -> None:
        paths = [
            f"/api/v1/groups/{show.group_b.pk}/",
            f"/api/v1/units/{show.unit('B01').pk}/",
            f"/api/v1/performers/{show.carla.pk}/",
            "/api/v1/units/999999/",
        ]
        for path in paths:
            assert Client().get(path, **bearer(secret_a)).status_code == 404, path

    def test_it_lists_performers_by_name_and_title_only(self, show: Show, secret_a: str) -> None:
        performers = get("/api/v1/performers/", secret_a)
        assert performers == [
            {"id": show.bob.pk, "name": "Bob Jones", "title": "Guitar"},
            {"id": show.jane.pk, "name": "Jane Smith", "title": "Lead vocals"},
        ]

    def test_it_lists_active_assignments(self, show: Show, secret_a: str) -> None:
        assignments = get("/api/v1/assignments/", secret_a)
        assert [a["id"] for a in assignments] == [show.jane_a01.pk, show.bob_a02.pk]  # type: ignore[index]
        assert assignments[0] == {  # type: ignore[index]
            "id": show.jane_a01.pk,
            "performer_id": show.jane.pk,
            "unit_id": show.unit("A01").pk,
            "group_id": show.group_a.pk,
            "priority": "high",
        }

    def test_it_lists_open_alerts_of_the_tokens_groups(self, show: Show, secret_a: str) -> None:
        raised = AlertService.raise_alert(show.jane_a01, "battery_low")
        AlertService.raise_alert(show.carla_b01, "battery_low")
        assert raised is not None
        alerts = get("/api/v1/alerts/", secret_a)
        assert [alert["id"] for alert in alerts] == [raised.pk]  # type: ignore[index]
        AlertService.apply_conditions({raised.wireless_unit_id: frozenset()})
        assert get("/api/v1/alerts/", secret_a) == []

    def test_it_names_the_tokens_organization(self, show: Show, secret_a: str) -> None:
        organizations = get("/api/v1/organizations/", secret_a)
        assert [o["slug"] for o in organizations] == ["default"]  # type: ignore[index]


class TestApiUnits:
    def test_it_gives_each_unit_its_live_state(
        self, show: Show, secret_a: str, live_settings: object
    ) -> None:
        a01 = show.unit("A01")
        state = {"id": a01.pk, "status": "GOOD", "percent": 80}
        client = redis.Redis.from_url(live_settings.REDIS_URL)  # type: ignore[attr-defined]
        prefix = live_settings.MICBOARD_REDIS_PREFIX  # type: ignore[attr-defined]
        client.set(f"{prefix}:unit:{a01.pk}", orjson.dumps(state))
        client.close()
        units = get("/api/v1/units/", secret_a)
        assert [u["slot"] for u in units] == ["A01", "A02"]  # type: ignore[index]
        assert units[0]["live"] == state  # type: ignore[index]
        assert units[1]["live"] is None  # type: ignore[index]
        assert get(f"/api/v1/units/{a01.pk}/", secret_a)["live"] == state  # type: ignore[index]

    def test_it_answers_without_live_state_when_redis_is_down(
        self, show: Show, secret_a: str, settings: object
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
        units = get("/api/v1/units/", secret_a)
        assert [u["live"] for u in units] == [None, None]  # type: ignore[index]

    def test_a_list_costs_the_same_queries_for_any_number_of_rows(
        self, show: Show, secret_a: str, live_settings: object, django_assert_num_queries
    ) -> None:
        get("/api/v1/groups/", secret_a)  # the token's last use is now this minute's
        assign(show.carla, show.unit("A03"), show.group_a)  # a third row in each list
        AlertService.raise_alert(show.jane_a01, "battery_low")
        AlertService.raise_alert(show.bob_a02, "battery_low")
        # The token's lookup, then the one query of the list.
        for path in ("/api/v1/units/", "/api/v1/performers/", "/api/v1/alerts/"):
            with django_assert_num_queries(2):
                assert len(get(path, secret_a)) >= 2  # type: ignore[arg-type]
        with django_assert_num_queries(2):
            assert len(get("/api/v1/assignments/", secret_a)) == 3  # type: ignore[arg-type]

    def test_it_records_the_last_use_once_a_minute(
        self, show: Show, secret_a: str, django_assert_num_queries
    ) -> None:
        with django_assert_num_queries(3):  # the token, its last use, the groups
            get("/api/v1/groups/", secret_a)
        with django_assert_num_queries(2):
            get("/api/v1/groups/", secret_a)
        ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
        with django_assert_num_queries(3):
            get("/api/v1/groups/", secret_a)


class TestOpenApi:
    def test_it_describes_every_endpoint_and_the_bearer_scheme(self, db: None) -> None:
        document = orjson.loads(Client().get("/api/v1/openapi.json").content)
        assert set(document["paths"]) >= {
            "/api/v1/organizations/",
            "/api/v1/groups/",
            "/api/v1/groups/{group_id}/",
            "/api/v1/units/",
            "/api/v1/units/{unit_id}/",
            "/api/v1/performers/",
            "/api/v1/assignments/",
            "/api/v1/alerts/",
        }
        schemes = document["components"]["securitySchemes"]
        assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
        assert "live" in document["components"]["schemas"]["UnitOut"]["properties"]
