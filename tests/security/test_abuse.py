"""Abuse: bad WebSocket frames on both socket routes, kiosk tokens, and password guessing.

- Sockets: every kind of wrong client frame (docs/live-protocol.md allows exactly
  `{"type": "resync"}` and `{"type": "ping"}`) closes that socket with 4400, or 4413 when it
  is too long; the consumer never fails, and a socket beside it on the same wall carries on.
- Kiosk tokens: unguessable, and worth nothing beyond reading their own wall.
- The login page: after the configured number of failures the address is locked out, says
  so, refuses even the right password, and answers alike for known and unknown usernames.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from micboard.models import Alert, KioskLink, Organization
from micboard.models import access as access_models
from micboard.services import AlertService, KioskService
from realtime import codes, frames, keys
from tests.factories import TEST_PASSWORD
from tests.micboard.conftest import Stage, build_stage
from tests.realtime.conftest import LiveStage, build_live_stage, closed_with, open_socket
from tests.security.conftest import World, client_for
from tests.security.test_access_matrix import (
    CSRF_TOKEN,
    POST,
    ROWS,
    body,
    database_state,
    outcome,
)

# --- bad frames on both socket routes -----------------------------------------------------

TOO_LONG = frames.MAX_CLIENT_FRAME + 1
BAD_TEXT_FRAMES = {
    "not JSON": "hello",
    "half an object": '{"type": "ping"',
    "empty": "",
    "a NUL": '{"type": "ping\x00"}',
    "a lone surrogate": '{"type": "\ud800"}',
    "NaN": '{"type": NaN}',
    "a number beyond 64 bits": '{"type": 18446744073709551616}',
    "a list": '["ping"]',
    "null": "null",
    "a string": '"ping"',
    "no type": "{}",
    "another key": '{"kind": "ping"}',
    "an extra key": '{"type": "ping", "x": 1}',
    "another group's resync": '{"type": "resync", "group": 1}',
    "unknown type": '{"type": "subscribe"}',
    "a write": '{"type": "acknowledge", "alert": 1}',
    "a type in capitals": '{"type": "PING"}',
    "type a number": '{"type": 1}',
    "type null": '{"type": null}',
    "type true": '{"type": true}',
    "type a list": '{"type": ["ping"]}',
    "type an object": '{"type": {"ping": 1}}',
    "deep nesting": '{"type": ' + "[" * 100 + "]" * 100 + "}",
}
BAD_BINARY_FRAMES = {
    "binary JSON": b'{"type": "ping"}',
    "binary, not UTF-8": b"\xff\xfe\x00",
    "binary, empty": b"",
}
LONG_FRAMES = {
    "one character too long": '{"type": "ping"}' + " " * (TOO_LONG - 16),
    "1 MB": '{"type": "' + "p" * 2**20 + '"}',
}
Route = Callable[[LiveStage, KioskLink], tuple[str, Any]]
ROUTES: dict[str, Route] = {
    "group": lambda stage, link: (f"/ws/groups/{stage.group_a.pk}/", stage.tech_a),
    "kiosk": lambda stage, link: (f"/ws/kiosk/{link.token}/", None),
}


@pytest.fixture
async def live(live_settings: Any) -> tuple[LiveStage, KioskLink]:
    stage = await database_sync_to_async(build_live_stage)([40001])
    link = await database_sync_to_async(KioskService.create_link)(stage.group_a, "FOH")
    return stage, link


async def opened(path: str, user: Any) -> WebsocketCommunicator:
    socket, accepted, _ = await open_socket(path, user=user)
    assert accepted
    assert orjson.loads(await socket.receive_from())["type"] == "snapshot"
    return socket


async def close_code_after(path: str, user: Any, frame: str | bytes) -> int:
    """Send one frame on a fresh socket and return the code it is closed with.

    A consumer that raised would make the communicator raise here, instead of a code.
    """
    socket = await opened(path, user)
    # As the ASGI server hands it over (send_to refuses an empty frame).
    key = "bytes" if isinstance(frame, bytes) else "text"
    await socket.send_input({"type": "websocket.receive", key: frame})
    code = await closed_with(socket)
    await socket.disconnect()
    return code


def open_alerts() -> list[tuple[int, Any]]:
    return list(Alert.objects.order_by("pk").values_list("pk", "acknowledged_at"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", ROUTES)
async def test_every_bad_frame_closes_only_its_own_socket(
    live: tuple[LiveStage, KioskLink], route: str
) -> None:
    stage, link = live
    path, user = ROUTES[route](stage, link)
    alert = await database_sync_to_async(AlertService.raise_alert)(
        stage.assignments[0], "battery_low"
    )
    assert alert is not None
    before = await database_sync_to_async(open_alerts)()
    bystander = await opened(path, user)
    expected = {
        **{name: codes.BAD_FRAME for name in [*BAD_TEXT_FRAMES, *BAD_BINARY_FRAMES]},
        **dict.fromkeys(LONG_FRAMES, codes.FRAME_TOO_LARGE),
    }
    got = {}
    for name, frame in [*BAD_TEXT_FRAMES.items(), *BAD_BINARY_FRAMES.items(), *LONG_FRAMES.items()]:
        if name == "a write":
            frame = frame.replace('"alert": 1', f'"alert": {alert.pk}')
        got[name] = await close_code_after(path, user, frame)
    assert got == expected
    assert await database_sync_to_async(open_alerts)() == before  # the "write" wrote nothing
    # The socket beside them all still answers and still gets its wall's frames.
    await bystander.send_json_to({"type": "ping"})
    assert orjson.loads(await bystander.receive_from()) == {"type": "pong"}
    text = f'{{"type":"delta","group":{stage.group_a.pk},"seq":1,"units":{{}}}}'
    await get_channel_layer().group_send(
        keys.layer_group(stage.group_a.pk), {"type": "live.frame", "text": text}
    )
    assert await bystander.receive_from() == text
    await bystander.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_kiosk_token_opens_no_other_wall(live: tuple[LiveStage, KioskLink]) -> None:
    """The token is no session: the group route refuses it, for its own group or another."""
    stage, link = live
    for group in (stage.group_a, stage.group_b):
        socket, accepted, _ = await open_socket(
            f"/ws/groups/{group.pk}/?token={link.token}", user=None
        )
        assert accepted
        assert await closed_with(socket) == codes.NOT_SIGNED_IN
        await socket.disconnect()


# --- kiosk tokens: unguessable, and good for reading one wall only -----------------------


@pytest.fixture
def stage(db: None) -> Stage:
    """The small stage of tests/micboard/conftest.py, in the default organization."""
    return build_stage(Organization.default())


@pytest.mark.django_db
def test_kiosk_tokens_are_long_random_and_never_repeat(
    monkeypatch: pytest.MonkeyPatch, stage: Stage
) -> None:
    drawn: list[int] = []
    real = secrets.token_urlsafe

    def spy(nbytes: int | None = None) -> str:
        drawn.append(nbytes or 32)
        return real(nbytes)

    monkeypatch.setattr(access_models.secrets, "token_urlsafe", spy)
    tokens = [KioskService.create_link(stage.group_a, f"Screen {n}").token for n in range(50)]
    assert len(drawn) == 50
    assert min(drawn) >= 16  # at least 128 bits from the operating system's CSPRNG
    for token in tokens:
        assert len(token) >= 22
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 16
    assert len(set(tokens)) == len(tokens)


@pytest.mark.usefixtures("tenancy_on")
class TestKioskTokenGrantsNoWrites:
    """A kiosk screen holds a link: its cookies and its token, and nothing else."""

    def kiosk_client(self, world: World) -> tuple[Client, str]:
        client = client_for(world, "kiosk", enforce_csrf_checks=True)
        page = client.get(reverse("kiosk", args=[world.link_a.token]))
        assert page.status_code == 200
        client.get(reverse("login"))  # a page with a form: now it holds a CSRF cookie too
        return client, client.cookies[settings.CSRF_COOKIE_NAME].value

    def test_no_write_accepts_a_kiosk_token(self, db: None, world: World) -> None:
        """Every POST of the table, with the token in the form, the query and a header."""
        client, csrf = self.kiosk_client(world)
        token = world.link_a.token
        before = database_state()
        allowed = []
        for row in {(r.url_name, r.method): r for r in ROWS if r.method == POST}.values():
            if row.url_name in ("login", "password_reset", "password_reset_confirm"):
                continue  # public forms: a kiosk may post them as anyone may
            kwargs = row.kwargs(world)
            url = (
                reverse(row.url_name, args=list(kwargs.values()))
                if row.positional
                else (reverse(row.url_name, kwargs=kwargs))
            )
            response = client.post(
                f"{url}?token={token}",
                {**row.data(world), "token": token},
                HTTP_X_CSRFTOKEN=csrf,
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            body(response)
            if outcome(response) in (200, 302):
                allowed.append(f"{row.id}: {response.status_code}")
        assert allowed == []
        assert database_state() == before

    def test_no_other_wall_opens_with_a_kiosk_token(self, db: None, world: World) -> None:
        client, _ = self.kiosk_client(world)
        token = world.link_a.token
        for name in ("wall", "wall-tiles", "group-assignments"):
            for group in (world.a.group_a, world.a.group_b):
                url = reverse(name, args=[group.pk])
                response = client.get(url, {"token": token}, HTTP_AUTHORIZATION=f"Bearer {token}")
                assert outcome(response) == "302 to login", url


# --- the login page: locked out after the configured number of failures ------------------


def attempt_login(client: Client, username: str, password: str) -> tuple[int, str]:
    """Return the status and the page, without what differs anyway: the name typed, the
    CSRF token (masked afresh on every page)."""
    response = client.post(reverse("login"), {"username": username, "password": password})
    text = CSRF_TOKEN.sub(b"<csrf>", response.content).decode()
    return response.status_code, text.replace(f'value="{username}"', 'value="<typed>"')


@pytest.mark.django_db
def test_repeated_failures_lock_the_login_out_alike_for_known_and_unknown_users(
    stage: Stage,
) -> None:
    limit = settings.MICBOARD_LOGIN_FAILURE_LIMIT
    known = Client(REMOTE_ADDR="203.0.113.10")
    unknown = Client(REMOTE_ADDR="203.0.113.20")
    user = stage.tech_a.username
    for _ in range(limit - 1):
        failed = attempt_login(known, user, "wrong")
        assert failed[0] == 200
        assert 'class="form-errors" role="alert"' in failed[1]
        assert attempt_login(unknown, "nobody-by-that-name", "wrong") == failed
    locked = attempt_login(known, user, "wrong")
    assert locked[0] == 429
    assert "locked" in locked[1].lower()
    assert attempt_login(unknown, "nobody-by-that-name", "wrong") == locked
    # Locked means locked: the right password changes nothing, and signs no one in.
    assert attempt_login(known, user, TEST_PASSWORD) == locked
    assert known.get(reverse("home")).status_code == 302
    # Another address is not locked out by someone else's guessing.
    assert attempt_login(Client(REMOTE_ADDR="203.0.113.30"), user, TEST_PASSWORD)[0] == 302


VENUE_NAT = "198.51.100.1"  # every laptop of the venue, as the server sees it


def fail_until_locked(client: Client, username: str) -> None:
    for _ in range(settings.MICBOARD_LOGIN_FAILURE_LIMIT):
        attempt_login(client, username, "wrong")
    assert attempt_login(client, username, TEST_PASSWORD)[0] == 429


@pytest.mark.django_db
def test_one_account_guessed_at_does_not_lock_out_another_behind_the_same_address(
    stage: Stage,
) -> None:
    fail_until_locked(Client(REMOTE_ADDR=VENUE_NAT), stage.tech_a.username)
    assert (
        attempt_login(Client(REMOTE_ADDR=VENUE_NAT), stage.admin.username, TEST_PASSWORD)[0] == 302
    )


@pytest.mark.django_db
def test_another_accounts_success_does_not_reset_the_count(stage: Stage) -> None:
    guesser = Client(REMOTE_ADDR=VENUE_NAT)
    for _ in range(settings.MICBOARD_LOGIN_FAILURE_LIMIT - 1):
        attempt_login(guesser, stage.tech_a.username, "wrong")
    assert (
        attempt_login(Client(REMOTE_ADDR=VENUE_NAT), stage.admin.username, TEST_PASSWORD)[0] == 302
    )
    attempt_login(guesser, stage.tech_a.username, "wrong")
    assert attempt_login(guesser, stage.tech_a.username, TEST_PASSWORD)[0] == 429


@pytest.mark.django_db
def test_a_forwarded_for_header_sent_by_the_client_changes_nothing(stage: Stage) -> None:
    """Without a trusted proxy in front, X-Forwarded-For is the attacker's own text."""
    for number in range(settings.MICBOARD_LOGIN_FAILURE_LIMIT):
        spoofed = Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"10.1.1.{number}")
        attempt_login(spoofed, stage.tech_a.username, "wrong")
    last = Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert attempt_login(last, stage.tech_a.username, TEST_PASSWORD)[0] == 429


@pytest.mark.django_db
def test_an_address_spraying_many_accounts_is_locked_out(stage: Stage, settings: Any) -> None:
    settings.MICBOARD_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    sprayer = Client(REMOTE_ADDR="203.0.113.77")
    for number in range(12):
        attempt_login(sprayer, f"guess-{number}", "wrong")  # a few tries each, many names
    status, page = attempt_login(sprayer, stage.admin.username, TEST_PASSWORD)
    assert status == 429
    assert "Try again in 15 minutes" in page
    assert (
        attempt_login(Client(REMOTE_ADDR=VENUE_NAT), stage.admin.username, TEST_PASSWORD)[0] == 302
    )


# --- error pages: the site's own, never Django's debug pages --------------------------------


@pytest.mark.django_db
def test_an_unknown_url_gets_the_sites_own_404_page(stage: Stage) -> None:
    response = Client().get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "<title>Not found · Micboard</title>" in page
    assert "URLconf" not in page  # the debug page lists every URL pattern


@pytest.mark.django_db
def test_a_refused_action_gets_the_sites_own_403_page(stage: Stage) -> None:
    tech = Client()
    tech.force_login(stage.tech_a, backend="django.contrib.auth.backends.ModelBackend")
    response = tech.get(reverse("performer-create"))
    assert response.status_code == 403
    assert "<title>Not allowed · Micboard</title>" in response.content.decode()


@pytest.mark.django_db
def test_pages_and_exports_with_personal_data_are_never_cached(stage: Stage) -> None:
    admin = Client()
    admin.force_login(stage.admin, backend="django.contrib.auth.backends.ModelBackend")
    for name in ("performers", "performer-export", "alerts", "home"):
        response = admin.get(reverse(name))
        assert response.status_code == 200, name
        assert response["Cache-Control"] == "private, no-store", name


def test_make_run_serves_without_debug_pages() -> None:
    """What a venue runs on the FOH laptop (Makefile): DEBUG off, a key of its own."""
    recipe = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = recipe[recipe.index("\nrun:") :].split("\n\n")[0]
    assert "DEBUG=$${DEBUG:-False}" in run
    assert "SECRET_KEY_FILE=$(RUN_SECRET_KEY)" in run
