"""Multi-tenancy: organization B is invisible to organization A everywhere, and code with
no tenant context sees nothing (fail closed)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from micboard.models import (
    Alert,
    KioskLink,
    Location,
    MonitoringGroup,
    Organization,
    Performer,
    PerformerAssignment,
    RFChannel,
    WirelessChassis,
    WirelessUnit,
)
from micboard.services import PerformerAssignmentService, PerformerService
from micboard.tenancy import context_for_user, system_context, tenant_context
from tests.micboard.conftest import build_stage

pytestmark = pytest.mark.django_db

TENANT_MODELS = [
    Location,
    WirelessChassis,
    RFChannel,
    WirelessUnit,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    Alert,
    KioskLink,
]


@pytest.fixture
def two_tenants(settings):
    settings.MICBOARD_MULTI_TENANT = True
    with system_context():
        org_a = Organization.objects.create(name="Arena", slug="arena")
        org_b = Organization.objects.create(name="Theatre", slug="theatre")
        stage_a = build_stage(org_a)
        stage_b = build_stage(org_b)
        for stage_x in (stage_a, stage_b):
            with tenant_context(stage_x.organization):
                performer = PerformerService.create_performer(
                    name=f"Star of {stage_x.organization}"
                )
                PerformerAssignmentService.create_assignment(
                    performer=performer,
                    wireless_unit=stage_x.units[0],
                    monitoring_group=stage_x.group_a,
                )
    return stage_a, stage_b


def test_each_organization_sees_only_its_own_rows(two_tenants):
    stage_a, _stage_b = two_tenants
    with tenant_context(stage_a.organization):
        for model in TENANT_MODELS:
            orgs = set(model.objects.values_list("organization_id", flat=True))
            assert orgs <= {stage_a.organization.pk}, model
        assert [p.name for p in Performer.objects.all()] == ["Star of Arena"]


def test_code_without_a_tenant_sees_nothing(two_tenants):
    for model in TENANT_MODELS:
        assert not model.objects.exists(), model
    assert PerformerService.get_all_performers(active_only=False).count() == 0


def test_writing_without_a_tenant_fails_clearly(two_tenants):
    with pytest.raises(ValidationError, match="no organization"):
        PerformerService.create_performer(name="Nobody's")


def test_an_admin_sees_only_their_organization(two_tenants):
    stage_a, _stage_b = two_tenants
    with tenant_context(stage_a.organization):
        admin = stage_a.admin
        assert set(admin.get_monitoring_groups()) == {stage_a.group_a, stage_a.group_b}
        assert [p.name for p in admin.get_accessible_performers()] == ["Star of Arena"]
        assert set(admin.get_accessible_devices()) == set(stage_a.units)


def test_the_request_context_comes_from_the_profile(two_tenants):
    stage_a, _ = two_tenants
    context = context_for_user(stage_a.tech_a)
    assert context.organization_id == stage_a.organization.pk
    assert not context.unrestricted


def test_rows_of_two_organizations_cannot_be_linked(two_tenants):
    stage_a, stage_b = two_tenants
    with system_context():
        performer = Performer.objects.get(organization=stage_a.organization)
        with pytest.raises(ValidationError, match="different organizations"):
            PerformerAssignmentService.create_assignment(
                performer=performer,
                wireless_unit=stage_b.units[1],
                monitoring_group=stage_b.group_a,
            )


def test_a_tech_of_another_organization_cannot_reach_by_id(two_tenants):
    stage_a, stage_b = two_tenants
    with system_context():
        foreign = Performer.objects.get(organization=stage_b.organization)
    with tenant_context(stage_a.organization):
        assert PerformerService.get_performer_by_id(foreign.pk) is None
        assert not PerformerAssignment.objects.filter(performer_id=foreign.pk).exists()
