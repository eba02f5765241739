"""Access taken away is taken away everywhere at once, open sockets included.

Each path that can end someone's access, driven as it really happens (Django's admin and a
shell change the models directly; signing out goes through the logout page), closes the
open wall socket with the code the wall understands: 4403 for no access, 4401 for no
longer signed in. Another user's socket on the same wall stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from micboard.models import MonitoringGroup, Organization, UserProfile
from micboard.tenancy import tenant_context
from realtime import codes
from tests.realtime.conftest import (
    LiveStage,
    closed_with,
    next_frame,
    open_socket,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)


def remove_from_group(socket_stage: LiveStage) -> None:
    socket_stage.group_a.users.remove(socket_stage.tech_a)  # what the group's admin form does


def clear_users_groups(socket_stage: LiveStage) -> None:
    socket_stage.tech_a.monitoring_groups.clear()  # from the user's side


def deactivate_group(socket_stage: LiveStage) -> None:
    socket_stage.group_a.is_active = False
    socket_stage.group_a.save()


def delete_group(socket_stage: LiveStage) -> None:
    MonitoringGroup.objects.filter(pk=socket_stage.group_a.pk).delete()


def deactivate_user(socket_stage: LiveStage) -> None:
    socket_stage.tech_a.is_active = False
    socket_stage.tech_a.save()  # what Django's user admin does


def change_password(socket_stage: LiveStage) -> None:
    user = User.objects.get(pk=socket_stage.tech_a.pk)  # elsewhere: this session is not updated
    user.set_password("a-new-password-for-tests")
    user.save()


def delete_user(socket_stage: LiveStage) -> None:
    User.objects.filter(pk=socket_stage.tech_a.pk).delete()


def move_to_another_organization(socket_stage: LiveStage) -> None:
    elsewhere = Organization.objects.create(name="Elsewhere", slug="elsewhere")
    UserProfile.objects.filter(user=socket_stage.tech_a).update(organization=elsewhere)
    profile = UserProfile.objects.get(user=socket_stage.tech_a)
    profile.save()  # as the admin's profile inline saves it


PATHS: list[tuple[str, Callable[[LiveStage], None], int]] = [
    ("removed from the group", remove_from_group, codes.NO_ACCESS),
    ("their groups cleared", clear_users_groups, codes.NO_ACCESS),
    ("group deactivated", deactivate_group, codes.NO_ACCESS),
    ("group deleted", delete_group, codes.NO_ACCESS),
    ("user deactivated", deactivate_user, codes.NOT_SIGNED_IN),
    ("password changed", change_password, codes.NOT_SIGNED_IN),
    ("user deleted", delete_user, codes.NOT_SIGNED_IN),
    ("moved to another organization", move_to_another_organization, codes.NO_ACCESS),
]


@pytest.mark.parametrize(
    ("change", "code"), [pytest.param(c, code, id=name) for name, c, code in PATHS]
)
async def test_the_open_socket_closes(
    socket_stage: LiveStage, settings: Any, change: Callable[[LiveStage], None], code: int
) -> None:
    settings.MICBOARD_MULTI_TENANT = True
    socket, accepted, _ = await open_socket(
        f"/ws/groups/{socket_stage.group_a.pk}/", user=socket_stage.tech_a
    )
    assert accepted
    await socket.receive_from()

    def as_the_admin_would() -> None:
        with tenant_context(socket_stage.organization):  # the admin's request runs in their tenant
            change(socket_stage)

    await database_sync_to_async(as_the_admin_would)()
    assert await closed_with(socket) == code


async def test_signing_out_closes_that_sessions_sockets_and_no_one_elses(
    socket_stage: LiveStage,
) -> None:
    session = await database_sync_to_async(session_cookie)(socket_stage.tech_a)
    signed_out, _, _ = await open_socket(f"/ws/groups/{socket_stage.group_a.pk}/", session=session)
    other, _, _ = await open_socket(
        f"/ws/groups/{socket_stage.group_a.pk}/", user=socket_stage.admin
    )
    for socket in (signed_out, other):
        await socket.receive_from()

    def sign_out() -> int:
        browser = Client()
        browser.cookies[settings.SESSION_COOKIE_NAME] = session
        return browser.post("/accounts/logout/").status_code

    assert await database_sync_to_async(sign_out)() == 302
    assert await closed_with(signed_out) == codes.NOT_SIGNED_IN
    await other.send_json_to({"type": "ping"})
    assert await next_frame(other, lambda f: f["type"] == "pong")
    await other.disconnect()
