"""A Planning Center simulator on loopback, and a church's stage to sync its plans into.

The stage: group A ("Main stage") with six handhelds HH01 to HH06 and two bodypacks
BP01 to BP02 of its own receivers, a tech of A, an admin, and the pools "Vocals → HH01 to HH06"
and "Preaching → BP01 to BP02". The simulator serves one service type with next Sunday's plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from micboard.models import MonitoringGroup, Organization, WirelessUnit
from micboard.rosters.simulator import (
    PcoSimulator,
    SimMember,
    SimPlan,
    SimServiceType,
    next_sunday,
)
from micboard.services.rosters import RosterService
from tests.factories import make_receiver, make_user

APP_ID = "test-app-id-1234"
SECRET = "pco_pat_s3cr3t-never-shown-0123456789abcdef"
SERVICE_TYPE = "77"
PLAN = "9001"


def sunday_team() -> list[SimMember]:
    return [
        SimMember("501", "Ruth Adeyemi", "Vocals"),
        SimMember("502", "Caleb Moreno", "Vocals"),
        SimMember("503", "Nina Petrova", "Vocals", "U"),
        SimMember("504", "Hannah Kim", "Vocals", "D"),
        SimMember("505", "Daniel Ruiz", "Preaching"),
        SimMember("506", "Marcus Bell", "Acoustic Guitar"),  # no pool for this position
    ]


@dataclass
class Church:
    organization: Organization
    group: MonitoringGroup
    other_group: MonitoringGroup
    handhelds: list[WirelessUnit]
    packs: list[WirelessUnit]
    admin: User
    tech: User

    def unit(self, slot: str) -> WirelessUnit:
        return next(u for u in [*self.handhelds, *self.packs] if u.slot == slot)


def build_church(organization: Organization, *, prefix: str = "") -> Church:
    _, handhelds = make_receiver(
        organization, 2202, slots=[f"{prefix}HH0{n}" for n in range(1, 7)], channels=6
    )
    _, packs = make_receiver(organization, 2203, slots=[f"{prefix}BP01", f"{prefix}BP02"])
    group = MonitoringGroup.objects.create(organization=organization, name=f"{prefix}Main stage")
    other = MonitoringGroup.objects.create(organization=organization, name=f"{prefix}Side stage")
    tech = make_user(f"{prefix}tech", organization)
    group.users.add(tech)
    admin = make_user(f"{prefix}admin", organization, role="admin")
    RosterService.save_pool(group, "Vocals", handhelds)
    RosterService.save_pool(group, "Preaching", packs)
    return Church(organization, group, other, handhelds, packs, admin, tech)


@pytest.fixture
def church(db: None) -> Church:
    return build_church(Organization.default())


@pytest.fixture
def pco(settings: object) -> Iterator[PcoSimulator]:
    """The simulator with next Sunday's plan; the settings point the client at it."""
    nine, eleven = next_sunday(9), next_sunday(11)
    plan = SimPlan(PLAN, "Sunday 9am", *nine, sunday_team())
    later = SimPlan("9002", "Sunday 11am", *eleven, [])
    gone = SimPlan("8999", "Last Sunday", "long ago", "2020-01-05T09:00:00Z", [])
    simulator = PcoSimulator(
        APP_ID, SECRET, [SimServiceType(SERVICE_TYPE, "Sundays", [later, gone, plan])]
    )
    simulator.start()
    settings.MICBOARD_PCO_URL = simulator.url  # type: ignore[attr-defined]
    settings.MICBOARD_PCO_MAX_WAIT = 5  # type: ignore[attr-defined]
    yield simulator
    simulator.stop()


@pytest.fixture
def connected(church: Church, pco: PcoSimulator) -> PcoSimulator:
    RosterService.connect(APP_ID, SECRET, by_user=church.admin)
    return pco
