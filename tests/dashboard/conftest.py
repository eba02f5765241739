"""A small show for page tests: two groups, their techs, an admin, performers on units.

Group A (main stage) has Jane on A01 and Bob on A02; group B (side stage) has Carla on
B01. tech_a is a member of A only, tech_b of B only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from micboard.models import (
    MonitoringGroup,
    Organization,
    Performer,
    PerformerAssignment,
    WirelessUnit,
)
from tests.factories import TEST_PASSWORD, make_receiver, make_user

PASSWORD = TEST_PASSWORD


@dataclass
class Show:
    group_a: MonitoringGroup
    group_b: MonitoringGroup
    units: list[WirelessUnit]  # A01, A02, A03, B01, B02
    jane: Performer
    bob: Performer
    carla: Performer
    jane_a01: PerformerAssignment
    bob_a02: PerformerAssignment
    carla_b01: PerformerAssignment
    tech_a: User
    tech_b: User
    admin: User

    def unit(self, slot: str) -> WirelessUnit:
        return next(unit for unit in self.units if unit.slot == slot)


def assign(
    performer: Performer, unit: WirelessUnit, group: MonitoringGroup, **extra: object
) -> PerformerAssignment:
    return PerformerAssignment.objects.create(
        organization=group.organization,
        performer=performer,
        wireless_unit=unit,
        monitoring_group=group,
        **extra,
    )


def build_show() -> Show:
    organization = Organization.default()
    _, units = make_receiver(
        organization, 2202, name="RX rack 1", slots=["A01", "A02", "A03", "B01", "B02"]
    )
    group_a = MonitoringGroup.objects.create(organization=organization, name="Main stage")
    group_b = MonitoringGroup.objects.create(organization=organization, name="Side stage")
    jane = Performer.objects.create(
        organization=organization, name="Jane Smith", title="Lead vocals"
    )
    bob = Performer.objects.create(organization=organization, name="Bob Jones", title="Guitar")
    carla = Performer.objects.create(organization=organization, name="Carla Diaz", title="Keys")
    show = Show(
        group_a=group_a,
        group_b=group_b,
        units=units,
        jane=jane,
        bob=bob,
        carla=carla,
        jane_a01=assign(jane, units[0], group_a, priority="high"),
        bob_a02=assign(bob, units[1], group_a),
        carla_b01=assign(carla, units[3], group_b),
        tech_a=make_user("tech_a"),
        tech_b=make_user("tech_b"),
        admin=make_user("admin", role="admin"),
    )
    group_a.users.add(show.tech_a)
    group_b.users.add(show.tech_b)
    return show


@pytest.fixture
def show(db) -> Show:
    return build_show()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tech_a(show: Show) -> Client:
    return signed_in(show.tech_a)


@pytest.fixture
def tech_b(show: Show) -> Client:
    return signed_in(show.tech_b)


@pytest.fixture
def admin(show: Show) -> Client:
    return signed_in(show.admin)


HTMX = {"HTTP_HX_REQUEST": "true"}
