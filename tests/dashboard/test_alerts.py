"""Alert history and acknowledging, scoped to the user's groups."""

from __future__ import annotations

import pytest
from django.test import Client

from micboard.models import Alert, PerformerAssignment
from tests.dashboard.conftest import HTMX, Show

pytestmark = pytest.mark.django_db


def raise_alert(
    assignment: PerformerAssignment, kind: str = "battery_low", **extra: object
) -> Alert:
    return Alert.objects.create(
        organization=assignment.organization, kind=kind, severity=extra.pop("severity", "warning"),
        wireless_unit=assignment.wireless_unit, assignment=assignment,
        monitoring_group=assignment.monitoring_group,
        message=f"{kind}: {assignment.performer.name}", **extra,
    )  # fmt: skip


class TestList:
    def test_a_tech_sees_their_groups_alerts(self, show: Show, tech_a: Client) -> None:
        raise_alert(show.jane_a01)
        raise_alert(show.carla_b01)
        html = tech_a.get("/alerts/").content.decode()
        assert "battery_low: Jane Smith" in html
        assert "Carla" not in html

    def test_filters_answer_the_table_fragment(self, show: Show, admin: Client) -> None:
        raise_alert(show.jane_a01, "battery_low")
        raise_alert(show.bob_a02, "signal_loss", severity="critical")
        response = admin.get("/alerts/?severity=critical", HTTP_HX_TARGET="alert-table", **HTMX)
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="alert-table">')
        assert "Bob Jones" in html
        assert "Jane Smith" not in html

    def test_the_state_filter(self, show: Show, admin: Client) -> None:
        from django.utils import timezone

        raise_alert(show.jane_a01, acknowledged_at=timezone.now())
        raise_alert(show.bob_a02)
        html = admin.get("/alerts/?state=unacknowledged").content.decode()
        assert "Bob Jones" in html
        assert "Jane Smith" not in html

    def test_it_pages_with_a_constant_number_of_queries(
        self, show: Show, admin: Client, django_assert_max_num_queries
    ) -> None:
        for _ in range(60):
            alert = raise_alert(show.jane_a01)
            Alert.objects.filter(pk=alert.pk).update(resolved_at=alert.created_at)
        with django_assert_max_num_queries(10):
            response = admin.get("/alerts/?page=2")
        assert "Page 2 of 2" in response.content.decode()


class TestAcknowledge:
    def test_a_tech_acknowledges_with_one_click(self, show: Show, tech_a: Client) -> None:
        alert = raise_alert(show.jane_a01)
        response = tech_a.post(f"/alerts/{alert.pk}/acknowledge/", **HTMX)
        assert response.status_code == 200
        assert f'<tr id="alert-row-{alert.pk}">' in response.content.decode()
        alert.refresh_from_db()
        assert alert.acknowledged_by == show.tech_a
        assert alert.acknowledged_at is not None

    def test_a_tech_cannot_acknowledge_another_groups_alert(
        self, show: Show, tech_a: Client
    ) -> None:
        alert = raise_alert(show.carla_b01)
        assert tech_a.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404
        alert.refresh_from_db()
        assert alert.acknowledged_at is None

    def test_open_alerts_show_on_the_wall_with_a_button(self, show: Show, tech_a: Client) -> None:
        alert = raise_alert(show.jane_a01)
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        assert f'id="alert-{alert.pk}"' in html
        assert f'hx-post="/alerts/{alert.pk}/acknowledge/"' in html
