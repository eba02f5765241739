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
    RFChannel,
    UserProfile,
    WirelessChassis,
    WirelessUnit,
)


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


def make_user(
    username: str, *, role: str = "tech", organization: Organization | None = None
) -> User:
    user = User.objects.create_user(username, password="pw-for-tests-only")
    UserProfile.objects.filter(user=user).update(role=role, organization=organization)
    user.refresh_from_db()
    return user


def make_receiver(
    organization: Organization, name: str, port: int, units: int
) -> tuple[WirelessChassis, list[WirelessUnit]]:
    chassis = WirelessChassis.objects.create(
        organization=organization,
        manufacturer="Shure",
        model="ULXD4Q",
        name=name,
        protocol="shure_tcp",
        host="127.0.0.1",
        port=port,
    )
    made = []
    for number in range(1, units + 1):
        channel = RFChannel.objects.create(
            organization=organization, chassis=chassis, number=number
        )
        made.append(
            WirelessUnit.objects.create(
                organization=organization,
                base_chassis=chassis,
                rf_channel=channel,
                slot=f"{name[:2].upper()}{number:02d}",
            )
        )
    return chassis, made


def build_stage(organization: Organization) -> Stage:
    location_a = Location.objects.create(organization=organization, name="Main stage")
    location_b = Location.objects.create(organization=organization, name="Side stage")
    chassis, units = make_receiver(organization, f"RX {organization.slug}", 2202, 4)
    group_a = MonitoringGroup.objects.create(
        organization=organization, name="Main stage", location=location_a
    )
    group_b = MonitoringGroup.objects.create(
        organization=organization, name="Side stage", location=location_b
    )
    tech_a = make_user(f"tech_a_{organization.slug}", organization=organization)
    tech_b = make_user(f"tech_b_{organization.slug}", organization=organization)
    group_a.users.add(tech_a)
    group_b.users.add(tech_b)
    admin = make_user(f"admin_{organization.slug}", role="admin", organization=organization)
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
