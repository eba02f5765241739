"""A two-tenant world for the access matrix, and the personas who visit it.

Multi-tenancy is on. Organization A and organization B each have the stage of
`tests/micboard/conftest.py` (groups A and B, their techs, an admin, a superuser), and on it:
Jane (with a photo) on unit 0 in group A, Carla on unit 2 in group B, Dana assigned nowhere,
one open alert per group, a kiosk link per group (plus a revoked one for group A), an
API token per group (plus a revoked one for group A, and one of organization B) and a
webhook output of group A; in organization B, Olga on unit 0 in its group A, with an open
alert. Each organization's main stage location belongs to its campus ("Campus A", "Campus
B"); organization A also has a stagehand, a tech in no group.

Fixtures: `world` (built once per test class, rolled back at its end) and `tenancy_on`.

The personas: anonymous, the techs of groups A and B and the admin of organization A, the
admin of organization B, a platform superuser (no organization), and a kiosk screen
holding the link of group A (a browser with no session: the token is all it has).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from micboard.integrations.models import Output
from micboard.models import (
    Alert,
    ApiToken,
    BatteryPack,
    Campus,
    Charger,
    KioskLink,
    Organization,
    Performer,
    PerformerAssignment,
)
from micboard.rosters.models import PositionPool
from micboard.services import (
    AlertService,
    ApiTokenService,
    KioskService,
    OutputService,
    PerformerService,
    RosterService,
    SharedMicService,
)
from micboard.services.packs import PackService, UnitSighting
from micboard.tenancy import system_context
from tests.micboard.conftest import Stage, build_stage, make_user
from tests.realtime.conftest import LiveStage, build_live_stage

PERSONAS = ("anonymous", "tech_a", "tech_b", "admin_a", "admin_b", "superuser", "kiosk")
# Who calls the read API: a token of group A, of group B, of organization B, a revoked
# token of group A, and no token at all.
API_PERSONAS = ("token_a", "token_b", "token_org_b", "revoked_token", "no_token")
MISSING_ID = 999999


@dataclass
class World:
    a: Stage  # organization A: everything the rows point at lives here
    b: Stage  # organization B: the other tenant
    jane: Performer  # group A of organization A, with a photo
    carla: Performer  # group B of organization A
    dana: Performer  # organization A, assigned nowhere (free to assign)
    olga: Performer  # group A of organization B
    jane_a: PerformerAssignment
    carla_b: PerformerAssignment
    alert_a: Alert
    alert_b: Alert
    link_a: KioskLink
    link_b: KioskLink
    revoked: KioskLink
    api_tokens: dict[str, ApiToken]  # by API persona (API_PERSONAS), with their secrets
    api_secrets: dict[str, str]
    output_a: Output  # a webhook of group A of organization A
    pool_a: PositionPool  # group A's roster position "Vocals" → unit 1 (free)
    pack_a: BatteryPack  # organization A, in Jane's transmitter (its history names her)

    def user(self, persona: str) -> User | None:
        """Return the signed-in user of a persona (None: no session)."""
        return {
            "tech_a": self.a.tech_a,
            "tech_b": self.a.tech_b,
            "admin_a": self.a.admin,
            "admin_b": self.b.admin,
            "superuser": self.a.superuser,
        }.get(persona)


def png_photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, format="PNG")
    return SimpleUploadedFile("face.png", out.getvalue(), content_type="image/png")


def share_handheld(a: Stage) -> None:
    """Unit 1 of group A passes from a host to a speaker (shared mics, docs/rosters.md)."""
    for name in ("Hal Host", "Sue Speaker"):
        performer = Performer.objects.create(organization=a.organization, name=name)
        assignment = PerformerAssignment.objects.create(
            organization=a.organization,
            performer=performer,
            wireless_unit=a.units[1],
            monitoring_group=a.group_a,
        )
        SharedMicService.add_turn(assignment)


def build_world(*, with_photo: bool) -> World:
    """Build both tenants as the system; the caller turns multi-tenancy on first."""
    with system_context():
        org_a = Organization.objects.create(name="Organization A", slug="org-a")
        org_b = Organization.objects.create(name="Organization B", slug="org-b")
        a, b = build_stage(org_a), build_stage(org_b)
        for stage, name in ((a, "Campus A"), (b, "Campus B")):
            campus = Campus.objects.create(organization=stage.organization, name=name)
            stage.location_a.campus = campus
            stage.location_a.save(update_fields=["campus"])
        make_user("stagehand_org-a", organization=org_a)  # in no group: a candidate member
        for admin in (a.admin, b.admin):  # Micboard admins get the Django admin too
            admin.is_staff = True
            admin.save(update_fields=["is_staff"])
        jane = Performer.objects.create(organization=org_a, name="Jane Smith")
        carla = Performer.objects.create(organization=org_a, name="Carla Diaz")
        dana = Performer.objects.create(organization=org_a, name="Dana Free")
        olga = Performer.objects.create(organization=org_b, name="Olga Other")
        for org, name in ((org_a, "Charger Rack A"), (org_b, "Charger Rack B")):
            Charger.objects.create(organization=org, name=name, host="127.0.0.1", port=2202)
        if with_photo:
            PerformerService.update_performer(jane, photo_file=png_photo())
        jane_a = PerformerAssignment.objects.create(
            organization=org_a, performer=jane, wireless_unit=a.units[0], monitoring_group=a.group_a
        )
        carla_b = PerformerAssignment.objects.create(
            organization=org_a,
            performer=carla,
            wireless_unit=a.units[2],
            monitoring_group=a.group_b,
        )
        alert_a = AlertService.raise_alert(jane_a, "battery_low")
        alert_b = AlertService.raise_alert(carla_b, "battery_low")
        olga_b = PerformerAssignment.objects.create(
            organization=org_b, performer=olga, wireless_unit=b.units[0], monitoring_group=b.group_a
        )
        AlertService.raise_alert(olga_b, "battery_low")
        share_handheld(a)
        assert alert_a is not None
        assert alert_b is not None
        revoked = KioskService.create_link(a.group_a, "Old lobby screen")
        KioskService.revoke_link(revoked)
        made = {
            "token_a": ApiTokenService.create_token("Companion A", [a.group_a], by_user=a.admin),
            "token_b": ApiTokenService.create_token("Companion B", [a.group_b], by_user=a.admin),
            "token_org_b": ApiTokenService.create_token(
                "Their Companion", [b.group_a], by_user=b.admin
            ),
            "revoked_token": ApiTokenService.create_token(
                "Old Companion", [a.group_a], by_user=a.admin
            ),
        }
        ApiTokenService.revoke_token(made["revoked_token"].token)
        PackService.record([UnitSighting(a.units[0].pk, timezone.now(), cycles=42, health=97)])
        return World(
            a=a,
            b=b,
            jane=jane,
            carla=carla,
            dana=dana,
            olga=olga,
            jane_a=jane_a,
            carla_b=carla_b,
            alert_a=alert_a,
            alert_b=alert_b,
            link_a=KioskService.create_link(a.group_a, "FOH"),
            link_b=KioskService.create_link(a.group_b, "Side FOH"),
            revoked=revoked,
            api_tokens={persona: new.token for persona, new in made.items()},
            api_secrets={persona: new.secret for persona, new in made.items()},
            output_a=OutputService.create_output(
                a.group_a,
                "webhook",
                name="Lighting desk",
                config={"url": "http://127.0.0.1:9/hook"},
                secrets={"secret": "matrix-secret"},
                by_user=a.admin,
            ),
            pool_a=RosterService.save_pool(a.group_a, "Vocals", [a.units[1]]),
            pack_a=BatteryPack.unscoped.get(organization=org_a),
        )


def client_for(world: World, persona: str, **options: object) -> Client:
    client = Client(raise_request_exception=False, **options)  # type: ignore[arg-type]
    user = world.user(persona)
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture(scope="class")
def world(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: str,
) -> Iterator[World]:
    """Build the world once for the class, in a transaction rolled back at its end.

    Each test runs in a savepoint inside it (pytest-django's `db`), so a test's writes
    are undone before the next one.
    """
    media = tmp_path_factory.mktemp("media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    tenancy = override_settings(MICBOARD_MULTI_TENANT=True, MEDIA_ROOT=media, PASSWORD_HASHERS=fast)
    with django_db_blocker.unblock(), tenancy, transaction.atomic():
        yield build_world(with_photo=True)
        transaction.set_rollback(True)


@pytest.fixture
def tenancy_on(settings: Any, live_settings: Any) -> None:
    settings.MICBOARD_MULTI_TENANT = True


@pytest.fixture
async def socket_stage(live_settings: Any) -> LiveStage:
    """Groups A and B with a tech each and an admin, for tests with real sockets (their
    receiver's port has no device behind it: the walls get no readings)."""
    return await database_sync_to_async(build_live_stage)([40011])
