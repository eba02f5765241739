"""The Django admin: open to admins, closed to techs, and every write goes through a service."""

from __future__ import annotations

import pytest
from django.contrib import admin as django_admin
from django.urls import reverse

from micboard.models import Performer, PerformerAssignment
from micboard.services import PerformerService

pytestmark = pytest.mark.django_db

MICBOARD_MODELS = [m for m in django_admin.site._registry if m._meta.app_label == "micboard"]


def _staff(user):
    user.is_staff = True
    user.save()
    return user


def test_every_model_is_registered():
    names = {m.__name__ for m in MICBOARD_MODELS}
    assert {
        "Organization",
        "Campus",
        "Location",
        "WirelessChassis",
        "RFChannel",
        "WirelessUnit",
        "MonitoringGroup",
        "UserProfile",
        "Performer",
        "PerformerAssignment",
        "Alert",
        "DeviceAssignment",
        "KioskLink",
    } <= names


@pytest.mark.parametrize("model", MICBOARD_MODELS, ids=lambda m: m.__name__)
def test_an_admin_can_list_and_search(client, stage, model):
    client.force_login(_staff(stage.superuser))
    url = reverse(f"admin:micboard_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "x"}).status_code == 200


def test_a_tech_with_staff_flag_still_cannot_use_the_admin(client, stage):
    client.force_login(_staff(stage.tech_a))
    response = client.get(reverse("admin:micboard_performer_changelist"))
    assert response.status_code == 403


def test_an_admin_creates_a_performer_through_the_service(client, stage):
    client.force_login(_staff(stage.admin))
    response = client.post(
        reverse("admin:micboard_performer_add"),
        {"name": "Jane Smith", "title": "Lead Vocals", "email": "", "phone": "", "notes": ""},
    )
    assert response.status_code == 302
    performer = Performer.objects.get(name="Jane Smith")
    assert performer.history.get().history_user == stage.admin


def test_an_admin_assignment_edit_is_audited(client, stage):
    performer = PerformerService.create_performer(name="Jane")
    client.force_login(_staff(stage.admin))
    response = client.post(
        reverse("admin:micboard_performerassignment_add"),
        {
            "performer": performer.pk,
            "wireless_unit": stage.units[0].pk,
            "monitoring_group": stage.group_a.pk,
            "priority": "critical",
            "alert_enabled": "on",
            "notes": "",
            "alert_on_battery_low": "on",
        },
    )
    assert response.status_code == 302, response.content
    assignment = PerformerAssignment.objects.get()
    assert (assignment.priority, assignment.assigned_by, assignment.alert_on_signal_loss) == (
        "critical",
        stage.admin,
        False,
    )
