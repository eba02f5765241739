"""Builders of domain rows shared by the test packages (people and receivers)."""

from __future__ import annotations

from django.contrib.auth.models import User

from micboard.models import Organization, RFChannel, UserProfile, WirelessChassis, WirelessUnit

TEST_PASSWORD = "pw-for-tests-only"


def make_user(
    username: str, organization: Organization | None = None, *, role: str = "tech"
) -> User:
    """Create a user with a profile of `role` in `organization`."""
    user = User.objects.create_user(
        username, email=f"{username}@example.com", password=TEST_PASSWORD
    )
    UserProfile.objects.filter(user=user).update(role=role, organization=organization)
    user.refresh_from_db()
    return user


def make_receiver(
    organization: Organization,
    port: int,
    *,
    name: str | None = None,
    model: str = "ULXD4Q",
    channels: int = 4,
    slots: list[str] | None = None,
) -> tuple[WirelessChassis, list[WirelessUnit]]:
    """Create a Shure receiver on loopback:`port` with a channel and a unit per channel.

    `slots` names the units (one channel each); without it there are `channels` units with
    slots derived from the port, so receivers on different ports never share a slot.
    """
    chassis = WirelessChassis.objects.create(
        organization=organization,
        manufacturer="Shure",
        model=model,
        name=name or f"RX {port}",
        protocol="shure_tcp",
        host="127.0.0.1",
        port=port,
    )
    slots = slots or [f"HH{port % 100:02d}{number}" for number in range(1, channels + 1)]
    units = []
    for number, slot in enumerate(slots, start=1):
        channel = RFChannel.objects.create(
            organization=organization, chassis=chassis, number=number
        )
        units.append(
            WirelessUnit.objects.create(
                organization=organization,
                base_chassis=chassis,
                rf_channel=channel,
                slot=slot,
            )
        )
    return chassis, units
