"""Personas and a small stage for domain tests.

Two monitoring groups (A: main stage, B: side stage), one receiver with four units,
and the people of the access rules: a tech of A, a tech of B, an admin, a superuser.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from micboard.models import (
    Location,
    MonitoringGroup,
    Organization,
    WirelessChassis,
    WirelessUnit,
)
from tests.factories import make_receiver, make_user


@dataclass
class Stage:
    organization: Organization
    location_a: Location
    location_b: Location
    chassis: WirelessChassis
    units: list[WirelessUnit]
    group_a: MonitoringGroup
    group_b: MonitoringGroup
    tech_a: User
    tech_b: User
    admin: User
    superuser: User


def build_stage(organization: Organization) -> Stage:
    location_a = Location.objects.create(organization=organization, name="Main stage")
    location_b = Location.objects.create(organization=organization, name="Side stage")
    chassis, units = make_receiver(organization, 2202, name=f"RX {organization.slug}")
    group_a = MonitoringGroup.objects.create(
        organization=organization, name="Main stage", location=location_a
    )
    group_b = MonitoringGroup.objects.create(
        organization=organization, name="Side stage", location=location_b
    )
    tech_a = make_user(f"tech_a_{organization.slug}", organization)
    tech_b = make_user(f"tech_b_{organization.slug}", organization)
    group_a.users.add(tech_a)
    group_b.users.add(tech_b)
    admin = make_user(f"admin_{organization.slug}", organization, role="admin")
    superuser = User.objects.create_superuser(
        f"root_{organization.slug}", password="pw-for-tests-only"
    )
    return Stage(
        organization,
        location_a,
        location_b,
        chassis,
        units,
        group_a,
        group_b,
        tech_a,
        tech_b,
        admin,
        superuser,
    )


@pytest.fixture
def stage(db) -> Stage:
    return build_stage(Organization.default())
