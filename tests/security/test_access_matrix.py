"""The access matrix: every URL, htmx fragment and WebSocket route, as every persona.

One table, one row per (URL name, arguments, method): each row says what every persona
gets. Rows point at objects of group A of organization A (see conftest.py), so the tech of
group B stands for "another group" and the admin of organization B for "another tenant".
For every row and persona the test checks:

- the outcome: a status code, or LOGIN / ADMIN_LOGIN / ADMIN_HOME for the redirects that
  refuse (to the login page, to the admin's login page, to the admin index);
- a refused request changed nothing in the database, and one that names an object id
  answers exactly (status and body) like the same request for an id that does not exist;
- an allowed write changed the database (so "allowed" is not a form error in disguise),
  and every service write it made was told the signed-in user as `by_user` (the acting
  user the access rules are checked against).

`test_every_url_has_rows` walks the URL resolver: a new URL without rows fails it.

Around the table: what an allowed page shows (only names in scope), ids smuggled in a form
or a query (refused, and like a missing id), CSRF on a write, the password reset (no user
enumeration), and the two WebSocket routes with the close codes of docs/live-protocol.md.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from micboard import services
from micboard.admin import MicboardAdminMixin
from micboard.models import Alert, KioskLink, Performer, PerformerAssignment
from micboard.services import ApiTokenService, KioskService, performer_csv
from micboard.services.inventory import InventoryService
from micboard.tenancy import tenant_context
from tests.realtime.conftest import closed_with, open_socket, refused_with
from tests.security.conftest import (
    API_PERSONAS,
    MISSING_ID,
    PERSONAS,
    World,
    build_world,
    client_for,
)

GET, POST = "GET", "POST"
LOGIN = "302 to login"
ADMIN_LOGIN = "302 to admin login"
ADMIN_HOME = "302 to admin index"  # what the admin answers for an object it cannot find
ALLOWED = (200, 302)
# A platform superuser belongs to no organization, so with multi-tenancy on a new performer
# has no tenant to go to: the page shows the service's error (200), the admin offers no
# add (403), and nothing is saved.
NO_TENANT_TO_CREATE_IN = "200 with the 'no organization' error"
NO_TENANT_TO_ADD_IN_ADMIN = 403
# A form offers only what is in scope: an id from elsewhere is "not one of the choices".
NOT_A_CHOICE = "200 with the form's 'not one of the available choices' error"
HTMX = {"HTTP_HX_REQUEST": "true"}
SIGNED_IN = ("tech_a", "tech_b", "admin_a", "admin_b", "superuser")

Outcome = int | str
Expected = dict[str, Outcome]
Build = Callable[[World], dict[str, Any]]


# --- who gets what ------------------------------------------------------------------------


def everyone(outcome: Outcome) -> Expected:
    """A public URL, or one whose token is the credential: the session does not matter."""
    return dict.fromkeys(PERSONAS, outcome)


def signed_in(outcome: Outcome) -> Expected:
    """Any signed-in user; no session (anonymous, a kiosk screen) goes to the login page."""
    return {**everyone(LOGIN), **dict.fromkeys(SIGNED_IN, outcome)}


def in_group_a(outcome: Outcome) -> Expected:
    """Something of group A: its tech and the admins of its organization; others 404."""
    return {
        **signed_in(outcome),
        "tech_b": 404,  # another group: exactly like a missing object
        "admin_b": 404,  # another tenant: exactly like a missing object
    }


def admins_of_a(outcome: Outcome, *, techs: Outcome, admin_b: Outcome) -> Expected:
    """Admin work on organization A: the admin of A and the superuser."""
    return {**signed_in(outcome), "tech_a": techs, "tech_b": techs, "admin_b": admin_b}


def platform_only(outcome: Outcome) -> Expected:
    """Only the platform superuser: organization admins 404, techs 403 (admins' pages)."""
    return {**admins_of_a(404, techs=403, admin_b=404), "superuser": outcome}


def django_admin(
    admins: Outcome, *, superuser: Outcome | None = None, admin_b: Outcome | None = None
) -> Expected:
    """The Django admin: no staff flag, no entry; Micboard admins and the superuser only."""
    return {
        **everyone(ADMIN_LOGIN),
        "admin_a": admins,
        "admin_b": admins if admin_b is None else admin_b,
        "superuser": admins if superuser is None else superuser,
    }


# --- what the rows point at -----------------------------------------------------------------


def nothing(w: World) -> dict[str, Any]:
    return {}


def group_a(w: World) -> dict[str, Any]:
    return {"group_id": w.a.group_a.pk}


def unit_a(w: World) -> dict[str, Any]:
    return {"unit_id": w.a.units[0].pk}


def jane(w: World) -> dict[str, Any]:
    return {"performer_id": w.jane.pk}


def jane_a(w: World) -> dict[str, Any]:
    return {"assignment_id": w.jane_a.pk}


def as_csv(w: World) -> dict[str, Any]:
    return {"format": "csv"}


def song_4(w: World) -> dict[str, Any]:
    return {"label": "song 4"}


def alert_a(w: World) -> dict[str, Any]:
    return {"alert_id": w.alert_a.pk}


def pack_a(w: World) -> dict[str, Any]:
    return {"pack_id": w.pack_a.pk}


def chassis_a(w: World) -> dict[str, Any]:
    return {"chassis_id": w.a.units[0].base_chassis_id}


def link_a(w: World) -> dict[str, Any]:
    return {"link_id": w.link_a.pk}


def token_a(w: World) -> dict[str, Any]:
    return {"token": w.link_a.token}


def revoked_token(w: World) -> dict[str, Any]:
    return {"token": w.revoked.token}


def unknown_token(w: World) -> dict[str, Any]:
    return {"token": "x" * 43}


def token_a_jane(w: World) -> dict[str, Any]:
    return {"token": w.link_a.token, "performer_id": w.jane.pk}


def token_a_carla(w: World) -> dict[str, Any]:
    return {"token": w.link_a.token, "performer_id": w.carla.pk}


def revoked_token_jane(w: World) -> dict[str, Any]:
    return {"token": w.revoked.token, "performer_id": w.jane.pk}


def units_of_wall(w: World) -> dict[str, Any]:
    return {"units": f"{w.a.units[0].pk},{w.a.units[2].pk}"}


def jane_version(w: World) -> dict[str, Any]:
    """Jane and her latest history record (a string: the id to swap is Jane's)."""
    return {"object_id": w.jane.pk, "version_id": str(w.jane.history.latest().history_id)}


def performer_on_site(w: World) -> dict[str, Any]:
    """Jane through the contenttypes shortcut (the content type as a string: Jane's id swaps)."""
    content_type = ContentType.objects.get_for_model(Performer)
    return {"content_type_id": str(content_type.pk), "object_id": w.jane.pk}


def admin_object(pick: Callable[[World], Any]) -> Build:
    return lambda w: {"object_id": pick(w).pk}


# --- what the writes send -------------------------------------------------------------------


def assign_performer(w: World, performer_id: int) -> dict[str, Any]:
    return {
        "new-performer": performer_id,
        "new-wireless_unit": w.a.units[0].pk,
        "new-priority": "low",
    }


def assign_unit(w: World, unit_id: int) -> dict[str, Any]:
    return {"new-performer": w.dana.pk, "new-wireless_unit": unit_id, "new-priority": "low"}


def bulk_assign_unit(w: World, unit_id: int) -> dict[str, Any]:
    return {"bulk-performer": w.dana.pk, "bulk-wireless_units": [unit_id], "bulk-priority": "low"}


def new_performer(w: World) -> dict[str, Any]:
    return {"name": "Zed Newman", "title": "Drums"}


def renamed_jane(w: World) -> dict[str, Any]:
    return {"name": "Jane Renamed"}


def deactivate(w: World) -> dict[str, Any]:
    return {"active": "0"}


def csv_import(w: World) -> dict[str, Any]:
    return {"content": "name,title,email,phone,notes\nZed Newman,Drums,,,\n"}


def new_assignment(w: World) -> dict[str, Any]:
    return assign_unit(w, w.a.units[0].pk)


def bulk_assignment(w: World) -> dict[str, Any]:
    return bulk_assign_unit(w, w.a.units[0].pk)


def assignment_settings(w: World) -> dict[str, Any]:
    prefix = f"a{w.jane_a.pk}"
    return {f"{prefix}-priority": "critical", f"{prefix}-notes": "spare in the rack"}


def members(w: World) -> dict[str, Any]:
    return {"users": [w.a.tech_a.pk, w.a.tech_b.pk]}


def wall_key(w: World) -> dict[str, Any]:
    return {"number": "3"}


def renamed_receiver(w: World) -> dict[str, Any]:
    return {"name": "Rack renamed", "meter_interval_ms": "500"}


def found_key(w: World) -> dict[str, Any]:
    return {"key": "shure_tcp|192.0.2.99|2202"}  # heard by no poller: 404 for who may look


def tile_blank(w: World) -> dict[str, Any]:
    return {"action": "blank:0"}


def hand_over_handheld(w: World) -> dict[str, Any]:
    """Unit 1 of group A, from its host to its speaker (tests/security/conftest.py)."""
    host = PerformerAssignment.unscoped.get(wireless_unit=w.a.units[1], performer__name="Hal Host")
    return {"unit": w.a.units[1].pk, "current": host.pk}


def add_turn_of_jane(w: World) -> dict[str, Any]:
    return {"action": f"add:{w.jane_a.pk}"}


def tick_jane(w: World) -> dict[str, Any]:
    return {"unit": w.a.units[0].pk, "checked": "1"}


def show_end(w: World) -> dict[str, Any]:
    return {"show_ends_at": "2026-12-06T22:15"}


def api_token_of_a(w: World) -> dict[str, Any]:
    return {"token_id": w.api_tokens["token_a"].pk}


def new_api_token(w: World) -> dict[str, Any]:
    return {"name": "Grafana", "groups": [w.a.group_a.pk]}


def new_api_token_of(w: World, group_id: int) -> dict[str, Any]:
    return {"name": "Grafana", "groups": [group_id]}


def output_a(w: World) -> dict[str, Any]:
    return {"output_id": w.output_a.pk}


def new_webhook_of_a(w: World) -> dict[str, Any]:
    return {"group_id": w.a.group_a.pk, "kind": "webhook"}


def new_webhook(w: World) -> dict[str, Any]:
    return {
        "name": "Companion",
        "events": ["alert.raised"],
        "config_url": "https://companion.example/hook",
        "secret_secret": "a-new-secret",
    }


def new_mqtt_of_a(w: World) -> dict[str, Any]:
    return {"group_id": w.a.group_a.pk, "kind": "mqtt"}


def new_mqtt(w: World) -> dict[str, Any]:
    # No password: it is optional (a broker on the show network often has none).
    return {"name": "Broker", "events": ["alert.raised"], "config_host": "broker.local",
            "config_port": "1883", "config_discovery": "on"}  # fmt: skip


def new_osc_of_a(w: World) -> dict[str, Any]:
    return {"group_id": w.a.group_a.pk, "kind": "osc"}


def new_osc(w: World) -> dict[str, Any]:
    return {"name": "Console", "events": ["alert.raised"], "config_host": "10.0.0.5",
            "config_port": "53000"}  # fmt: skip


def renamed_webhook(w: World) -> dict[str, Any]:
    return {
        "name": "Desk renamed",
        "events": ["alert.raised"],
        "config_url": "http://desk.example/hook",
    }


def pool_of_a(w: World) -> dict[str, Any]:
    return {"pool_id": w.pool_a.pk}


def pco_token(w: World) -> dict[str, Any]:
    return {"app_id": "app-id", "secret": "a-secret"}


def schedule_off(w: World) -> dict[str, Any]:
    return {"service_type_id": "", "group": "", "status_filter": "everyone"}


def vocals_pool(w: World) -> dict[str, Any]:
    return {"position_name": "Band", "units": w.a.units[1].slot}


def roster_plan(w: World) -> dict[str, Any]:
    return {"service_type_id": "77", "plan_id": "9001", "status_filter": "confirmed"}


def roster_file(w: World) -> dict[str, Any]:
    """A CSV roster sent back from its dry run: Dana on unit 1 through the Vocals pool."""
    content = f"performer,position,unit,start time\nDana Free,Vocals,{w.a.units[1].slot},\n"
    return {"content": content, "name": "roster.csv"}


def manual_unit(w: World) -> dict[str, Any]:
    return {"slot": "IEM07", "kind": "iem", "performer": w.dana.pk}


def kiosk_label(w: World) -> dict[str, Any]:
    return {"label": "Monitor world"}


def bad_login(w: World) -> dict[str, Any]:
    return {"username": w.a.tech_a.username, "password": "not-the-password"}


def bad_password_change(w: World) -> dict[str, Any]:
    return {"old_password": "wrong", "new_password1": "n3w-Passw0rd!", "new_password2": "x"}


def admin_performer(w: World) -> dict[str, Any]:
    return {"name": "Zed Newman", "title": "", "email": "", "phone": "", "notes": ""}


def confirm_delete(w: World) -> dict[str, Any]:
    return {"post": "yes"}


# --- the table ------------------------------------------------------------------------------

# The read API's URLs, each pointing at something of group A of organization A.
API_URLS: list[tuple[str, Build]] = [
    ("organizations", nothing),
    ("groups", nothing),
    ("group", group_a),
    ("units", nothing),
    ("unit", unit_a),
    ("performers", nothing),
    ("performer", jane),
    ("assignments", nothing),
    ("alerts", nothing),
    ("group-events", group_a),
]


@dataclass(frozen=True)
class Row:
    url_name: str
    method: str
    kwargs: Build
    expected: Expected
    data: Build = nothing  # query parameters of a GET, the form of a POST
    htmx: str | None = None  # sent as an htmx request with this HX-Target ("" for none)
    writes: bool = False  # an allowed POST must change the database
    label: str = ""
    positional: bool = False  # reverse with the kwargs' values as args (regex admin URLs)

    @property
    def id(self) -> str:
        extras = [self.label] if self.label else []
        if self.htmx is not None:
            extras.append(f"htmx {self.htmx}".strip())
        return " ".join([self.method, self.url_name, *(f"[{extra}]" for extra in extras)])


def read_only(url_name: str, kwargs: Build, signed: Expected | None = None) -> Row:
    """The POST row of a page that only answers GET."""
    return Row(url_name, POST, kwargs, signed or signed_in(405))


def write_only(url_name: str, kwargs: Build) -> Row:
    """The GET row of an endpoint that only answers POST."""
    return Row(url_name, GET, kwargs, signed_in(405))


PAGE_ROWS = [
    Row("home", GET, nothing, signed_in(200)),
    read_only("home", nothing),
    Row("wall", GET, group_a, in_group_a(200)),
    read_only("wall", group_a),
    Row("wall-tiles", GET, group_a, in_group_a(200), htmx=""),
    Row("wall-tiles", GET, group_a, in_group_a(200), data=units_of_wall, htmx="", label="units"),
    read_only("wall-tiles", group_a),
    write_only("marker-add", group_a),
    Row("group-timeline", GET, group_a, in_group_a(200)),
    read_only("group-timeline", group_a),
    Row("group-timeline-data", GET, group_a, in_group_a(200)),
    read_only("group-timeline-data", group_a),
    Row("group-report", GET, group_a, in_group_a(200)),
    Row("group-report", GET, group_a, in_group_a(200), data=as_csv, label="CSV"),
    read_only("group-report", group_a),
    Row("unit-timeline", GET, unit_a, in_group_a(200)),
    read_only("unit-timeline", unit_a),
    Row("unit-timeline-data", GET, unit_a, in_group_a(200)),
    read_only("unit-timeline-data", unit_a),
    Row("marker-add", POST, group_a, in_group_a(302), data=song_4, writes=True),
    Row(
        "marker-add", POST, group_a, in_group_a(200), data=song_4, htmx="marker-status", writes=True
    ),
    write_only("hand-over", group_a),
    Row(
        "hand-over",
        POST,
        group_a,
        in_group_a(200),
        data=hand_over_handheld,
        htmx="hand-over-status",
        writes=True,
    ),
    Row("hand-over", POST, group_a, in_group_a(302), data=hand_over_handheld, writes=True),
    Row("shared-mics", GET, group_a, admins_of_a(200, techs=404, admin_b=404)),
    Row(
        "shared-mics",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=add_turn_of_jane,
        htmx="shared-mics",
        writes=True,
    ),
    Row(
        "shared-mics",
        POST,
        group_a,
        admins_of_a(302, techs=404, admin_b=404),
        data=add_turn_of_jane,
        writes=True,
    ),
    Row("mic-check", GET, group_a, in_group_a(200)),
    read_only("mic-check", group_a),
    Row("mic-check-rows", GET, group_a, in_group_a(200), htmx="mic-check-rows"),
    read_only("mic-check-rows", group_a),
    write_only("mic-check-tick", group_a),
    Row(
        "mic-check-tick",
        POST,
        group_a,
        in_group_a(200),
        data=tick_jane,
        htmx="mic-check-rows",
        writes=True,
    ),
    Row("mic-check-tick", POST, group_a, in_group_a(302), data=tick_jane, writes=True),
    write_only("mic-check-new", group_a),
    Row("mic-check-new", POST, group_a, in_group_a(302), writes=True),
    Row("kiosk", GET, token_a, everyone(200)),
    Row("kiosk", GET, revoked_token, everyone(410), label="revoked link"),
    Row("kiosk", GET, unknown_token, everyone(404), label="unknown link"),
    read_only("kiosk", token_a, everyone(405)),
    Row("kiosk-tiles", GET, token_a, everyone(200), htmx=""),
    Row("kiosk-tiles", GET, token_a, everyone(200), data=units_of_wall, htmx="", label="units"),
    Row("kiosk-tiles", GET, revoked_token, everyone(410), htmx="", label="revoked link"),
    Row("kiosk-tiles", GET, unknown_token, everyone(404), htmx="", label="unknown link"),
    read_only("kiosk-tiles", token_a, everyone(405)),
    Row("kiosk-photo", GET, token_a_jane, everyone(200)),
    Row("kiosk-photo", GET, token_a_carla, everyone(404), label="another group's performer"),
    Row("kiosk-photo", GET, revoked_token_jane, everyone(404), label="revoked link"),
    read_only("kiosk-photo", token_a_jane, everyone(405)),
    Row("unit-detail", GET, unit_a, in_group_a(200)),
    read_only("unit-detail", unit_a),
    Row("performers", GET, nothing, signed_in(200)),
    Row("performers", GET, nothing, signed_in(200), htmx="performer-list"),
    read_only("performers", nothing),
    Row("performer-create", GET, nothing, admins_of_a(200, techs=403, admin_b=200)),
    Row(
        "performer-create",
        POST,
        nothing,
        {**admins_of_a(302, techs=403, admin_b=302), "superuser": NO_TENANT_TO_CREATE_IN},
        data=new_performer,
        writes=True,
    ),
    Row("performer-import", GET, nothing, admins_of_a(200, techs=403, admin_b=200)),
    Row(
        "performer-import",
        POST,
        nothing,
        {**admins_of_a(302, techs=403, admin_b=302), "superuser": NO_TENANT_TO_CREATE_IN},
        data=csv_import,
        writes=True,
    ),
    Row("performer-export", GET, nothing, signed_in(200)),
    read_only("performer-export", nothing),
    Row("performer-edit", GET, jane, in_group_a(200)),
    Row("performer-edit", POST, jane, in_group_a(302), data=renamed_jane, writes=True),
    write_only("performer-set-active", jane),
    Row(
        "performer-set-active",
        POST,
        jane,
        admins_of_a(200, techs=403, admin_b=404),
        data=deactivate,
        htmx="",
        writes=True,
    ),
    Row("performer-delete", GET, jane, admins_of_a(200, techs=403, admin_b=404)),
    Row("performer-delete", POST, jane, admins_of_a(302, techs=403, admin_b=404), writes=True),
    Row("performer-photo", GET, jane, in_group_a(200)),
    read_only("performer-photo", jane),
    Row("assignments", GET, nothing, {**signed_in(200), "tech_a": 302, "tech_b": 302}),
    read_only("assignments", nothing),
    Row("group-assignments", GET, group_a, in_group_a(200)),
    read_only("group-assignments", group_a),
    write_only("assignment-create", group_a),
    Row(
        "assignment-create",
        POST,
        group_a,
        in_group_a(200),
        data=new_assignment,
        htmx="",
        writes=True,
    ),
    write_only("assignment-bulk", group_a),
    Row(
        "assignment-bulk",
        POST,
        group_a,
        in_group_a(200),
        data=bulk_assignment,
        htmx="",
        writes=True,
    ),
    Row(
        "assignment-performers",
        GET,
        group_a,
        in_group_a(200),
        data=lambda w: {"form": "new", "new-performer_search": "a"},
        htmx="new-performer-choices",
    ),
    read_only("assignment-performers", group_a),
    write_only("assignment-update", jane_a),
    Row(
        "assignment-update",
        POST,
        jane_a,
        in_group_a(200),
        data=assignment_settings,
        htmx="",
        writes=True,
    ),
    write_only("assignment-set-active", jane_a),
    Row(
        "assignment-set-active",
        POST,
        jane_a,
        in_group_a(200),
        data=deactivate,
        htmx="",
        writes=True,
    ),
    Row("assignment-delete", GET, jane_a, in_group_a(200)),
    Row("assignment-delete", POST, jane_a, in_group_a(200), htmx="", writes=True),
    Row("groups", GET, nothing, admins_of_a(200, techs=403, admin_b=200)),
    read_only("groups", nothing),
    Row("group-detail", GET, group_a, admins_of_a(200, techs=404, admin_b=404)),
    read_only("group-detail", group_a),
    write_only("group-members", group_a),
    Row(
        "group-members",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=members,
        htmx="",
        writes=True,
    ),
    write_only("group-number", group_a),
    Row(
        "group-number",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=wall_key,
        htmx="",
        writes=True,
    ),
    write_only("group-tile-order", group_a),
    Row(
        "group-tile-order",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=tile_blank,
        htmx="",
        writes=True,
    ),
    write_only("group-show-end", group_a),
    Row(
        "group-show-end",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=show_end,
        htmx="",
        writes=True,
    ),
    write_only("manual-unit-create", group_a),
    Row(
        "manual-unit-create",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=manual_unit,
        htmx="",
        writes=True,
    ),
    write_only("kiosk-link-create", group_a),
    Row(
        "kiosk-link-create",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=kiosk_label,
        htmx="",
        writes=True,
    ),
    write_only("kiosk-link-revoke", link_a),
    Row(
        "kiosk-link-revoke",
        POST,
        link_a,
        admins_of_a(200, techs=404, admin_b=404),
        htmx="",
        writes=True,
    ),
    # A group's outputs: the admins who administer the group (others: like a missing id).
    Row("group-outputs", GET, group_a, admins_of_a(200, techs=404, admin_b=404)),
    read_only("group-outputs", group_a),
    Row("output-log", GET, group_a, admins_of_a(200, techs=404, admin_b=404), htmx=""),
    read_only("output-log", group_a),
    Row("output-create", GET, new_webhook_of_a, admins_of_a(200, techs=404, admin_b=404)),
    Row(
        "output-create",
        POST,
        new_webhook_of_a,
        admins_of_a(302, techs=404, admin_b=404),
        data=new_webhook,
        writes=True,
    ),
    *[
        row
        for of_a, data in ((new_mqtt_of_a, new_mqtt), (new_osc_of_a, new_osc))
        for row in (
            Row("output-create", GET, of_a, admins_of_a(200, techs=404, admin_b=404)),
            Row(
                "output-create",
                POST,
                of_a,
                admins_of_a(302, techs=404, admin_b=404),
                data=data,
                writes=True,
            ),
        )
    ],
    Row("output-edit", GET, output_a, admins_of_a(200, techs=404, admin_b=404)),
    Row(
        "output-edit",
        POST,
        output_a,
        admins_of_a(302, techs=404, admin_b=404),
        data=renamed_webhook,
        writes=True,
    ),
    write_only("output-set-enabled", output_a),
    Row(
        "output-set-enabled",
        POST,
        output_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=deactivate,
        htmx="",
        writes=True,
    ),
    write_only("output-delete", output_a),
    Row(
        "output-delete",
        POST,
        output_a,
        admins_of_a(200, techs=404, admin_b=404),
        htmx="",
        writes=True,
    ),
    # A test event only asks the worker (nothing is written until it delivers).
    write_only("output-test", output_a),
    Row("output-test", POST, output_a, admins_of_a(200, techs=404, admin_b=404), htmx=""),
    Row("api-tokens", GET, nothing, admins_of_a(200, techs=403, admin_b=200)),
    read_only("api-tokens", nothing),
    write_only("api-token-create", nothing),
    Row(
        "api-token-create",
        POST,
        nothing,
        admins_of_a(200, techs=403, admin_b=NOT_A_CHOICE),
        data=new_api_token,
        htmx="",
        writes=True,
    ),
    write_only("api-token-revoke", api_token_of_a),
    Row(
        "api-token-revoke",
        POST,
        api_token_of_a,
        admins_of_a(200, techs=404, admin_b=404),
        htmx="",
        writes=True,
    ),
    # Rosters: admins of the organization, on the groups they administer. No Planning
    # Center answers here, so a dry run or an apply says so on the page and changes nothing.
    Row("rosters", GET, nothing, admins_of_a(200, techs=403, admin_b=200)),
    read_only("rosters", nothing),
    write_only("roster-connect", nothing),
    Row(
        "roster-connect",
        POST,
        nothing,
        {**admins_of_a(200, techs=403, admin_b=200), "superuser": NO_TENANT_TO_CREATE_IN},
        data=pco_token,
        htmx="",
        writes=True,
    ),
    write_only("roster-disconnect", nothing),
    Row(
        "roster-disconnect",
        POST,
        nothing,
        admins_of_a(200, techs=403, admin_b=200),
        htmx="",
    ),
    write_only("roster-schedule", nothing),
    Row(
        "roster-schedule",
        POST,
        nothing,
        admins_of_a(200, techs=403, admin_b=200),
        data=schedule_off,
        htmx="",
    ),
    Row("roster-plans", GET, nothing, admins_of_a(200, techs=403, admin_b=200), htmx=""),
    read_only("roster-plans", nothing),
    Row("roster-group", GET, group_a, admins_of_a(200, techs=404, admin_b=404)),
    read_only("roster-group", group_a),
    write_only("roster-pool-save", group_a),
    Row(
        "roster-pool-save",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=vocals_pool,
        htmx="",
        writes=True,
    ),
    write_only("roster-pool-delete", pool_of_a),
    Row(
        "roster-pool-delete",
        POST,
        pool_of_a,
        admins_of_a(200, techs=404, admin_b=404),
        htmx="",
        writes=True,
    ),
    write_only("roster-dry-run", group_a),
    Row(
        "roster-dry-run",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=roster_plan,
        htmx="",
    ),
    write_only("roster-apply", group_a),
    Row(
        "roster-apply",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=roster_plan,
        htmx="",
        writes=True,  # the failure is recorded: the group's last sync says why it failed
    ),
    write_only("roster-csv", group_a),
    Row(
        "roster-csv",
        POST,
        group_a,
        admins_of_a(200, techs=404, admin_b=404),
        data=roster_file,
        htmx="",
        writes=True,
    ),
    # The read API takes no session, only a bearer token (TestApiTokenMatrix); it reads.
    *(Row(f"api:{name}", GET, build, everyone(401)) for name, build in API_URLS),
    *(read_only(f"api:{name}", build, everyone(405)) for name, build in API_URLS),
    Row("api:openapi-json", GET, nothing, everyone(200)),
    read_only("api:openapi-json", nothing, everyone(405)),
    Row("api:api-root", GET, nothing, everyone(404)),  # django-ninja's, for its paths only
    Row("api:api-root", POST, nothing, everyone(404)),
    # Chargers feed the whole stage: whoever watches a group sees their organization's.
    Row("chargers", GET, nothing, signed_in(200)),
    read_only("chargers", nothing),
    Row("charger-bays", GET, nothing, signed_in(200), htmx=""),
    read_only("charger-bays", nothing),
    # Packs go round the whole stage as chargers do: another tenant's is a 404.
    Row("pack", GET, pack_a, {**signed_in(200), "admin_b": 404}),
    read_only("pack", pack_a),
    Row("devices", GET, nothing, admins_of_a(200, techs=403, admin_b=200)),
    read_only("devices", nothing),
    Row("device-table", GET, nothing, admins_of_a(200, techs=403, admin_b=200), htmx=""),
    read_only("device-table", nothing),
    # With tenants, discovery hears a network no one tenant owns: the platform's alone.
    Row("device-discovered", GET, nothing, platform_only(200), htmx=""),
    read_only("device-discovered", nothing),
    write_only("device-add-found", nothing),
    Row(
        "device-add-found", POST, nothing, admins_of_a(404, techs=403, admin_b=404), data=found_key
    ),
    write_only("device-ignore", nothing),
    Row("device-ignore", POST, nothing, admins_of_a(404, techs=403, admin_b=404), data=found_key),
    write_only("device-probe", nothing),
    Row("device-probe", POST, nothing, admins_of_a(200, techs=403, admin_b=200), htmx=""),
    write_only("device-add", nothing),
    Row("device-add", POST, nothing, admins_of_a(200, techs=403, admin_b=200), htmx=""),
    Row("device-export", GET, nothing, admins_of_a(200, techs=403, admin_b=200)),
    read_only("device-export", nothing),
    write_only("device-import", nothing),
    Row("device-import", POST, nothing, admins_of_a(200, techs=403, admin_b=200)),
    Row("device-edit", GET, chassis_a, admins_of_a(200, techs=404, admin_b=404)),
    Row(
        "device-edit",
        POST,
        chassis_a,
        admins_of_a(302, techs=404, admin_b=404),
        data=renamed_receiver,
        writes=True,
    ),
    Row("device-delete", GET, chassis_a, admins_of_a(200, techs=404, admin_b=404)),
    Row("device-delete", POST, chassis_a, admins_of_a(302, techs=404, admin_b=404), writes=True),
    Row("alerts", GET, nothing, signed_in(200)),
    Row("alerts", GET, nothing, signed_in(200), htmx="alert-table"),
    read_only("alerts", nothing),
    write_only("alert-acknowledge", alert_a),
    Row("alert-acknowledge", POST, alert_a, in_group_a(200), htmx="", writes=True),
    # The live path's probe: public, and unhealthy here since no poller runs. Only staff and
    # admins get the details behind the answer (tests/realtime/test_health.py).
    Row("healthz", GET, nothing, everyone(503)),
    read_only("healthz", nothing, everyone(405)),
    # Prometheus's: off until a token or network is set (tests/realtime/test_metrics.py).
    Row("metrics", GET, nothing, everyone(404)),
    read_only("metrics", nothing, everyone(405)),
    # django.contrib.auth's pages.
    Row("login", GET, nothing, everyone(200)),
    Row("login", POST, nothing, everyone(200), data=bad_login),
    Row("logout", GET, nothing, everyone(405)),
    Row("logout", POST, nothing, everyone(LOGIN)),
    Row("password_change", GET, nothing, signed_in(200)),
    Row("password_change", POST, nothing, signed_in(200), data=bad_password_change),
    Row("password_change_done", GET, nothing, signed_in(200)),
    read_only("password_change_done", nothing),
]


# Rows the admin never adds: alerts come from the live path, the others are records.
NO_ADD_IN_ADMIN = {
    "micboard.alert",
    "micboard.deviceassignment",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}


def admin_rows() -> list[Row]:
    """The admin, as one family: the index, every model's list and add page, a few objects.

    Micboard's models are for Micboard admins; the platform's (organizations, campuses,
    profiles), the users and the login records are for the superuser alone.
    """
    rows = [Row("admin:index", GET, nothing, django_admin(200))]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        ours = isinstance(model_admin, MicboardAdminMixin)
        listing = django_admin(200) if ours else django_admin(403, superuser=200)
        rows.append(Row(f"{prefix}_changelist", GET, nothing, listing))
        if model._meta.label_lower in NO_ADD_IN_ADMIN:
            adding = django_admin(403)
        elif ours:  # tenant rows: the platform superuser has no organization to add them to
            adding = django_admin(200, superuser=NO_TENANT_TO_ADD_IN_ADMIN)
        else:
            adding = listing
        rows.append(Row(f"{prefix}_add", GET, nothing, adding))
    objects: list[tuple[str, Callable[[World], Any]]] = [
        ("performer", lambda w: w.jane),
        ("performerassignment", lambda w: w.jane_a),
        ("monitoringgroup", lambda w: w.a.group_a),
        ("wirelessunit", lambda w: w.a.units[0]),
        ("kiosklink", lambda w: w.link_a),
        ("alert", lambda w: w.alert_a),
    ]
    for model_name, pick in objects:
        rows.append(
            Row(
                f"admin:micboard_{model_name}_change",
                GET,
                admin_object(pick),
                django_admin(200, admin_b=ADMIN_HOME),
            )
        )
    # simple_history's pages read history tables, which no tenant manager scopes.
    for model_name, pick in objects[:2]:
        rows.append(
            Row(
                f"admin:micboard_{model_name}_history",
                GET,
                admin_object(pick),
                django_admin(200, admin_b=404),
            )
        )
    rows += [
        Row(
            "admin:micboard_monitoringgroup_history",
            GET,
            admin_object(lambda w: w.a.group_a),
            django_admin(200, admin_b=ADMIN_HOME),
        ),
        Row(
            "admin:micboard_performer_simple_history",
            GET,
            jane_version,
            django_admin(200, admin_b=404),
            positional=True,
        ),
        Row(
            "admin:micboard_performer_simple_history",
            POST,
            jane_version,
            django_admin(302, admin_b=404),
            data=admin_performer,
            writes=True,
            positional=True,
            label="revert",
        ),
        # The admin's "view on site" finds objects through the unscoped base manager; no
        # model has a page there, and a 404 must not tell whether the object exists.
        Row(
            "admin:view_on_site",
            GET,
            performer_on_site,
            django_admin(404),
        ),
        Row(
            "admin:micboard_performer_add",
            POST,
            nothing,
            django_admin(302, superuser=NO_TENANT_TO_ADD_IN_ADMIN),
            data=admin_performer,
            writes=True,
        ),
        Row(
            "admin:micboard_performer_delete",
            POST,
            admin_object(lambda w: w.jane),
            django_admin(302, admin_b=ADMIN_HOME),
            data=confirm_delete,
            writes=True,
        ),
    ]
    return rows


ROWS = PAGE_ROWS + admin_rows()
CASES = [
    pytest.param(row, persona, id=f"{row.id} as {persona}") for row in ROWS for persona in PERSONAS
]


# --- running a row --------------------------------------------------------------------------


def outcome(response: HttpResponseBase) -> Outcome:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("login")):
            return LOGIN
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location == reverse("admin:index"):
            return ADMIN_HOME
    return response.status_code


def send(client: Client, row: Row, world: World, kwargs: dict[str, Any]) -> HttpResponseBase:
    if row.positional:
        url = reverse(row.url_name, args=list(kwargs.values()))
    else:
        url = reverse(row.url_name, kwargs=kwargs)
    headers: dict[str, str] = {}
    if row.htmx is not None:
        headers = {**HTMX, "HTTP_HX_TARGET": row.htmx} if row.htmx else dict(HTMX)
    call = client.get if row.method == GET else client.post
    return call(url, row.data(world), **headers)  # type: ignore[arg-type]


def body(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse | FileResponse):
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert isinstance(response, HttpResponse)
    return response.content


def id_argument(kwargs: dict[str, Any]) -> str | None:
    """Name the argument that is an object id (the one to swap for a missing id)."""
    ids = [name for name, value in kwargs.items() if isinstance(value, int)]
    assert len(ids) <= 1, f"one id per URL expected: {kwargs}"
    return ids[0] if ids else None


def database_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of Micboard's tables (with history and m2m tables, the timeline's and the
    outputs') and of the users."""
    models: list[type[Model]] = [
        *apps.get_app_config("micboard").get_models(include_auto_created=True),
        *apps.get_app_config("timeline").get_models(include_auto_created=True),
        *apps.get_app_config("integrations").get_models(include_auto_created=True),
        *apps.get_app_config("rosters").get_models(include_auto_created=True),
        *apps.get_app_config("showprep").get_models(include_auto_created=True),
        User,
    ]
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values()) for model in models
    }


# --- what a 200 shows: only what is in scope -----------------------------------------------

# What a page may show, by a short key: performers, users that may be made members of a
# group (by username) and campuses.
NAMES = {
    "jane": "Jane Smith",
    "carla": "Carla Diaz",
    "dana": "Dana Free",
    "olga": "Olga Other",
    "user of A": "stagehand_org-a",
    "user of B": "tech_a_org-b",
    "campus A": "Campus A",
    "campus B": "Campus B",
    "charger A": "Charger Rack A",
    "charger B": "Charger Rack B",
}


@dataclass(frozen=True)
class Shown:
    """A page or fragment, and whose names each persona finds on it."""

    url_name: str
    kwargs: Build
    sees: dict[str, set[str]]
    data: Build = nothing
    htmx: str | None = None

    @property
    def id(self) -> str:
        return Row(self.url_name, GET, self.kwargs, {}, htmx=self.htmx).id


def seen_by(
    *, tech_a: set[str], tech_b: set[str], admin_a: set[str], admin_b: set[str], superuser: set[str]
) -> dict[str, set[str]]:
    signed = {"tech_a": tech_a, "tech_b": tech_b, "admin_a": admin_a, "admin_b": admin_b}
    return {"anonymous": set(), "kiosk": set(), **signed, "superuser": superuser}


PERFORMER_LISTS = seen_by(
    tech_a={"jane"},
    tech_b={"carla"},
    admin_a={"jane", "carla", "dana"},
    admin_b={"olga"},
    superuser={"jane", "carla", "dana", "olga"},
)
ALERT_LISTS = seen_by(
    tech_a={"jane"},
    tech_b={"carla"},
    admin_a={"jane", "carla"},
    admin_b={"olga"},
    superuser={"jane", "carla", "olga"},
)
# A charger feeds the whole stage: every group's tech sees their organization's.
CHARGER_LISTS = seen_by(
    tech_a={"charger A"},
    tech_b={"charger A"},
    admin_a={"charger A"},
    admin_b={"charger B"},
    superuser={"charger A", "charger B"},
)
WALL_OF_A = seen_by(
    tech_a={"jane"}, tech_b=set(), admin_a={"jane"}, admin_b=set(), superuser={"jane"}
)


def everyone_sees(*names: str) -> dict[str, set[str]]:
    return {persona: set(names) for persona in PERSONAS}


# The assignment page and its performer search offer a tech what they see plus the
# performers nobody has assigned yet.
ASSIGNABLE_IN_A = seen_by(
    tech_a={"jane", "dana"},
    tech_b=set(),
    admin_a={"jane", "carla", "dana"},
    admin_b=set(),
    superuser={"jane", "carla", "dana", "olga"},
)
SHOWN = [
    Shown("performers", nothing, PERFORMER_LISTS),
    Shown("performers", nothing, PERFORMER_LISTS, htmx="performer-list"),
    Shown("performer-export", nothing, PERFORMER_LISTS),
    *(
        Shown(url_name, nothing, CHARGER_LISTS, htmx=htmx)
        for url_name, htmx in (("chargers", None), ("charger-bays", ""))
    ),
    Shown("alerts", nothing, ALERT_LISTS),
    Shown("alerts", nothing, ALERT_LISTS, htmx="alert-table"),
    Shown("wall", group_a, WALL_OF_A),
    Shown("wall-tiles", group_a, WALL_OF_A, htmx=""),
    Shown("wall-tiles", group_a, WALL_OF_A, data=units_of_wall, htmx=""),
    Shown("unit-detail", unit_a, WALL_OF_A),
    # Who wore a pack is named only to those who may see the performer.
    Shown("pack", pack_a, WALL_OF_A),
    Shown("group-timeline", group_a, WALL_OF_A),
    Shown("group-report", group_a, WALL_OF_A),
    Shown("kiosk", token_a, everyone_sees("jane")),
    Shown("kiosk-tiles", token_a, everyone_sees("jane"), data=units_of_wall),
    Shown("group-assignments", group_a, ASSIGNABLE_IN_A),
    Shown(
        "assignment-performers",
        group_a,
        ASSIGNABLE_IN_A,
        data=lambda w: {"form": "new"},
        htmx="new-performer-choices",
    ),
]
# The admin offers users and campuses, which no tenant manager scopes.
EVERY_USER_AND_CAMPUS = {"user of A", "user of B", "campus A", "campus B"}
SHOWN += [
    Shown(
        "admin:micboard_monitoringgroup_change",
        admin_object(lambda w: w.a.group_a),
        seen_by(
            tech_a=set(),
            tech_b=set(),
            admin_a={"user of A", "campus A"},
            admin_b=set(),
            superuser=EVERY_USER_AND_CAMPUS,
        ),
    ),
    Shown(
        "admin:micboard_monitoringgroup_add",
        nothing,
        seen_by(
            tech_a=set(),
            tech_b=set(),
            admin_a={"user of A", "campus A"},
            admin_b={"user of B", "campus B"},
            superuser=set(),  # no organization to add a group to: no add page
        ),
    ),
    *(
        Shown(
            url_name,
            nothing,
            seen_by(
                tech_a=set(),
                tech_b=set(),
                admin_a={"campus A"},
                admin_b={"campus B"},
                superuser=superuser_sees,
            ),
        )
        for url_name, superuser_sees in (
            ("admin:micboard_location_changelist", {"campus A", "campus B"}),
            ("admin:micboard_location_add", set()),  # no organization to add to: no add page
        )
    ),
]
SHOWN_CASES = [
    pytest.param(shown, persona, id=f"{shown.id} as {persona}")
    for shown in SHOWN
    for persona in PERSONAS
]


# --- ids smuggled in a form or a query: refused, and like a missing id -----------------------


@dataclass(frozen=True)
class Smuggled:
    label: str
    persona: str
    url_name: str
    method: str
    kwargs: Build
    data: Callable[[World, int], dict[str, Any]]  # the request, carrying the id
    out_of_scope: Callable[[World], int]

    def row(self, object_id: int) -> Row:
        """The request as a table row, carrying `object_id`."""

        def data(w: World) -> dict[str, Any]:
            return self.data(w, object_id)

        return Row(self.url_name, self.method, self.kwargs, {}, data=data, htmx="")


def set_members(w: World, user_id: int) -> dict[str, Any]:
    return {"users": [w.a.tech_a.pk, user_id]}


def alerts_of_group(w: World, group_id: int) -> dict[str, Any]:
    return {"group": group_id}


def admin_group_members(w: World, user_id: int) -> dict[str, Any]:
    return {"name": w.a.group_a.name, "is_active": "on", "users": [user_id], "tile_order": "[]"}


def admin_location_campus(w: World, campus_id: int) -> dict[str, Any]:
    return {"name": "Balcony", "campus": campus_id}


SMUGGLED = [
    Smuggled(
        "another tenant's performer",
        "admin_a",
        "manual-unit-create",
        POST,
        group_a,
        lambda w, performer_id: {**manual_unit(w), "performer": performer_id},
        lambda w: w.olga.pk,
    ),
    Smuggled(
        "another group's performer",
        "tech_a",
        "assignment-create",
        POST,
        group_a,
        assign_performer,
        lambda w: w.carla.pk,
    ),
    Smuggled(
        "another group's performer",
        "tech_a",
        "assignment-performers",
        GET,
        group_a,
        lambda w, performer_id: {"form": "new", "new-performer": performer_id},
        lambda w: w.carla.pk,
    ),
    Smuggled(
        "another group's unit",
        "tech_a",
        "assignment-create",
        POST,
        group_a,
        assign_unit,
        lambda w: w.a.units[2].pk,
    ),
    Smuggled(
        "another group's unit",
        "tech_a",
        "assignment-bulk",
        POST,
        group_a,
        bulk_assign_unit,
        lambda w: w.a.units[2].pk,
    ),
    Smuggled(
        "another tenant's performer",
        "admin_a",
        "assignment-create",
        POST,
        group_a,
        assign_performer,
        lambda w: w.olga.pk,
    ),
    Smuggled(
        "another tenant's unit",
        "admin_a",
        "assignment-create",
        POST,
        group_a,
        assign_unit,
        lambda w: w.b.units[1].pk,
    ),
    Smuggled(
        "another tenant's user",
        "admin_a",
        "group-members",
        POST,
        group_a,
        set_members,
        lambda w: w.b.tech_a.pk,
    ),
    Smuggled(
        "another group",
        "tech_a",
        "alerts",
        GET,
        nothing,
        alerts_of_group,
        lambda w: w.a.group_b.pk,
    ),
    Smuggled(
        "another tenant's group",
        "admin_a",
        "alerts",
        GET,
        nothing,
        alerts_of_group,
        lambda w: w.b.group_a.pk,
    ),
]
SMUGGLED += [
    Smuggled(
        "another tenant's group",
        "admin_a",
        "api-token-create",
        POST,
        nothing,
        new_api_token_of,
        lambda w: w.b.group_a.pk,
    ),
    Smuggled(
        "another tenant's user",
        "admin_a",
        "admin:micboard_monitoringgroup_change",
        POST,
        admin_object(lambda w: w.a.group_a),
        admin_group_members,
        lambda w: w.b.tech_a.pk,
    ),
    Smuggled(
        "another tenant's campus",
        "admin_a",
        "admin:micboard_location_add",
        POST,
        nothing,
        admin_location_campus,
        lambda w: w.b.location_a.campus_id or 0,
    ),
]
CSRF_TOKEN = re.compile(rb"[A-Za-z0-9]{64}")  # masked afresh on every render


SERVICE_CLASSES = [getattr(services, name) for name in services.__all__] + [InventoryService]


@pytest.fixture
def acting_users(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record the `by_user` of every call to a service write (a method taking `by_user`)."""
    seen: list[Any] = []

    def recording(write: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(write)
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append(kwargs.get("by_user"))
            return write(*args, **kwargs)

        return call

    for service in SERVICE_CLASSES:
        for name, member in vars(service).items():
            if isinstance(member, staticmethod) and takes_acting_user(member.__func__):
                monkeypatch.setattr(service, name, staticmethod(recording(member.__func__)))
    monkeypatch.setattr(
        performer_csv, "import_performers", recording(performer_csv.import_performers)
    )
    return seen


def takes_acting_user(function: Callable[..., Any]) -> bool:
    return "by_user" in inspect.signature(function).parameters


def test_the_recorder_sees_every_write_a_page_can_make() -> None:
    writes = [
        f"{service.__name__}.{name}"
        for service in SERVICE_CLASSES
        for name, member in vars(service).items()
        if isinstance(member, staticmethod) and takes_acting_user(member.__func__)
    ]
    assert "PerformerAssignmentService.create_assignment" in writes
    assert "AlertService.acknowledge" in writes
    assert len(writes) >= 15


@pytest.mark.usefixtures("tenancy_on")
class TestHttpMatrix:
    @pytest.mark.parametrize(("row", "persona"), CASES)
    def test_row(
        self, db: None, world: World, row: Row, persona: str, acting_users: list[Any]
    ) -> None:
        client = client_for(world, persona)
        kwargs = row.kwargs(world)
        before = database_state()
        response = send(client, row, world, kwargs)
        refusals_in_form = {
            NO_TENANT_TO_CREATE_IN: b"no organization to create this in",
            NOT_A_CHOICE: b"is not one of the available choices",
        }
        if row.expected[persona] in refusals_in_form:
            assert response.status_code == 200
            assert refusals_in_form[row.expected[persona]] in body(response)
            assert database_state() == before, "a refused request changed the database"
            return
        got = outcome(response)
        assert got == row.expected[persona], body(response)[:2000]
        if got in ALLOWED:
            if row.method == POST and row.writes:
                assert database_state() != before, "an allowed write changed nothing"
                assert acting_users, "an allowed write went around the services"
                assert set(acting_users) == {world.user(persona)}, "by_user is not who is signed in"
            return
        assert database_state() == before, "a refused request changed the database"
        name = id_argument(kwargs)
        if name is not None:
            missing = send(client, row, world, {**kwargs, name: MISSING_ID})
            assert (missing.status_code, body(missing)) == (
                response.status_code,
                body(response),
            ), "an id out of scope answers differently from a missing one"
            assert database_state() == before

    def test_csrf_is_enforced_on_writes(self, db: None, world: World) -> None:
        client = client_for(world, "admin_a", enforce_csrf_checks=True)
        before = database_state()
        url = reverse("performer-create")
        assert client.post(url, new_performer(world)).status_code == 403
        assert database_state() == before
        client.get(url)  # the form page sets the CSRF cookie
        token = client.cookies["csrftoken"].value
        response = client.post(url, new_performer(world), HTTP_X_CSRFTOKEN=token)
        assert outcome(response) == 302
        assert database_state() != before

    def test_there_is_no_password_reset_to_abuse(self, db: None, world: World) -> None:
        """No mail is set up on a FOH laptop: an admin sets new passwords instead."""
        client = client_for(world, "anonymous")
        for path in ("/accounts/password_reset/", "/accounts/reset/MQ/set-password/"):
            assert client.get(path).status_code == 404

    @pytest.mark.parametrize(("shown", "persona"), SHOWN_CASES)
    def test_a_page_shows_only_what_is_in_scope(
        self, db: None, world: World, shown: Shown, persona: str
    ) -> None:
        row = Row(shown.url_name, GET, shown.kwargs, {}, data=shown.data, htmx=shown.htmx)
        text = body(send(client_for(world, persona), row, world, row.kwargs(world))).decode()
        assert {key for key, name in NAMES.items() if name in text} == shown.sees[persona]

    @pytest.mark.parametrize("smuggled", SMUGGLED, ids=lambda s: f"{s.url_name} [{s.label}]")
    def test_an_id_smuggled_in_a_request_is_refused_like_a_missing_one(
        self, db: None, world: World, smuggled: Smuggled
    ) -> None:
        client = client_for(world, smuggled.persona)
        before = database_state()
        answers = []
        for object_id in (smuggled.out_of_scope(world), MISSING_ID):
            row = smuggled.row(object_id)
            response = send(client, row, world, row.kwargs(world))
            text = CSRF_TOKEN.sub(b"<csrf>", body(response))
            # A multiple choice field echoes the id it was sent, whatever that id is.
            text = text.replace(f" {object_id} is not one".encode(), b" <id> is not one")
            answers.append((response.status_code, text))
            assert database_state() == before
        assert answers[0][0] == answers[1][0]
        assert differing_lines(answers[0][1], answers[1][1]) == []

    def test_a_platform_superuser_cannot_mix_tenants_in_one_assignment(
        self, db: None, world: World
    ) -> None:
        """The superuser sees every tenant's performers, but may not put them on A's wall."""
        client = client_for(world, "superuser")
        before = database_state()
        url = reverse("assignment-create", kwargs=group_a(world))
        response = client.post(url, assign_performer(world, world.olga.pk), HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert database_state() == before
        assert b"belong to different organizations" in body(response)


# --- the read API, as every API token --------------------------------------------------------


def token_reads(outcome: Outcome) -> Expected:
    """Something every live token reads (each its own): a revoked token or none is 401."""
    return {"token_a": outcome, "token_b": outcome, "token_org_b": outcome} | {
        "revoked_token": 401,
        "no_token": 401,
    }


def token_of_group_a(outcome: Outcome) -> Expected:
    """Something of group A: the token of group B and the other tenant's get 404."""
    return {**token_reads(outcome), "token_b": 404, "token_org_b": 404}


def listed(
    a: Callable[[World], set[int]],
    b: Callable[[World], set[int]],
    org_b: Callable[[World], set[int]],
) -> Callable[[World], dict[str, set[int]]]:
    return lambda w: {"token_a": a(w), "token_b": b(w), "token_org_b": org_b(w)}


def ids(queryset: Any) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def sharing(w: World) -> Any:
    """The assignments of group A's shared handheld (tests/security/conftest.py)."""
    return PerformerAssignment.unscoped.filter(wireless_unit=w.a.units[1])


@dataclass(frozen=True)
class ApiRow:
    url_name: str
    kwargs: Build
    expected: Expected  # by API persona
    lists: Callable[[World], dict[str, set[int]]] | None = None  # the ids each token lists

    @property
    def id(self) -> str:
        return f"GET api:{self.url_name}"


API_ROWS = [
    ApiRow(
        "organizations",
        nothing,
        token_reads(200),
        listed(lambda w: {w.a.organization.pk}, lambda w: {w.a.organization.pk},
               lambda w: {w.b.organization.pk}),
    ),
    ApiRow(
        "groups",
        nothing,
        token_reads(200),
        listed(lambda w: {w.a.group_a.pk}, lambda w: {w.a.group_b.pk}, lambda w: {w.b.group_a.pk}),
    ),
    ApiRow("group", group_a, token_of_group_a(200)),
    ApiRow(
        "units",
        nothing,
        token_reads(200),
        listed(lambda w: {w.a.units[0].pk, w.a.units[1].pk}, lambda w: {w.a.units[2].pk},
               lambda w: {w.b.units[0].pk}),
    ),
    ApiRow("unit", unit_a, token_of_group_a(200)),
    ApiRow(
        "performers",
        nothing,
        token_reads(200),
        listed(lambda w: {w.jane.pk, *sharing(w).values_list("performer_id", flat=True)},
               lambda w: {w.carla.pk}, lambda w: {w.olga.pk}),
    ),
    ApiRow("performer", jane, token_of_group_a(200)),
    ApiRow(
        "assignments",
        nothing,
        token_reads(200),
        listed(lambda w: {w.jane_a.pk, *ids(sharing(w))}, lambda w: {w.carla_b.pk},
               lambda w: ids(PerformerAssignment.unscoped.filter(performer=w.olga))),
    ),
    ApiRow(
        "alerts",
        nothing,
        token_reads(200),
        listed(lambda w: {w.alert_a.pk}, lambda w: {w.alert_b.pk},
               lambda w: ids(Alert.unscoped.filter(monitoring_group=w.b.group_a))),
    ),
    ApiRow("group-events", group_a, token_of_group_a(200)),
]  # fmt: skip
API_CASES = [
    pytest.param(row, persona, id=f"{row.id} as {persona}")
    for row in API_ROWS
    for persona in API_PERSONAS
]


def test_every_api_url_has_a_token_row() -> None:
    assert {row.url_name for row in API_ROWS} == {name for name, _ in API_URLS}


def send_api(world: World, persona: str, url_name: str, kwargs: dict[str, Any]) -> HttpResponse:
    secret = world.api_secrets.get(persona)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    response = Client().get(reverse(f"api:{url_name}", kwargs=kwargs), **headers)  # type: ignore[arg-type]
    assert isinstance(response, HttpResponse)
    return response


@pytest.mark.usefixtures("tenancy_on")
class TestApiTokenMatrix:
    @pytest.mark.parametrize(("row", "persona"), API_CASES)
    def test_row(self, db: None, world: World, row: ApiRow, persona: str) -> None:
        kwargs = row.kwargs(world)
        before = database_state()
        response = send_api(world, persona, row.url_name, kwargs)
        assert response.status_code == row.expected[persona], response.content[:2000]
        if response.status_code == 200:
            if row.lists is not None:
                got = {item["id"] for item in orjson.loads(response.content)}
                assert got == row.lists(world)[persona]
            return
        if response.status_code == 401:  # a token that reads nothing is not even "used"
            assert database_state() == before, "a refused request changed the database"
        name = id_argument(kwargs)
        if name is not None:
            missing = send_api(world, persona, row.url_name, {**kwargs, name: MISSING_ID})
            assert (missing.status_code, missing.content) == (
                response.status_code,
                response.content,
            ), "an id out of scope answers differently from a missing one"

    def test_revoking_a_token_refuses_its_next_request(self, db: None, world: World) -> None:
        assert send_api(world, "token_a", "groups", {}).status_code == 200
        with tenant_context(world.a.organization):
            ApiTokenService.revoke_token(world.api_tokens["token_a"], by_user=world.a.admin)
        assert send_api(world, "token_a", "groups", {}).status_code == 401


def differing_lines(one: bytes, other: bytes) -> list[str]:
    lines = difflib.unified_diff(one.decode().splitlines(), other.decode().splitlines(), n=0)
    return [line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def url_patterns(resolver: URLResolver, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, inner)
        else:
            yield namespace, pattern


def test_every_url_has_rows() -> None:
    """Each URL has a GET and a POST row; the admin's URLs are one family."""
    covered = {(row.url_name, row.method) for row in ROWS}
    missing = []
    admin_family = 0
    for namespace, pattern in url_patterns(get_resolver()):
        if namespace.startswith("admin:"):
            admin_family += 1
            continue
        assert pattern.name, f"an unnamed URL cannot be in the table: {pattern.pattern}"
        name = f"{namespace}{pattern.name}"
        missing += [(name, method) for method in (GET, POST) if (name, method) not in covered]
    assert missing == []
    assert admin_family > 0
    assert {row.url_name for row in ROWS if row.url_name.startswith("admin:")} >= {"admin:index"}


# --- the WebSocket routes -------------------------------------------------------------------

OPEN = "open: a snapshot of the group"


@dataclass(frozen=True)
class SocketRow:
    label: str
    path: Callable[[World], str]
    expected: Expected
    group: Callable[[World], int] = lambda w: w.a.group_a.pk  # the group an open socket watches


def socket_signed_in(outcome: Outcome) -> Expected:
    """A session socket: no session (anonymous, a kiosk screen) is 4401."""
    return {**everyone(4401), **dict.fromkeys(SIGNED_IN, outcome)}


SOCKET_ROWS = [
    SocketRow(
        "group A",
        lambda w: f"/ws/groups/{w.a.group_a.pk}/",
        {**socket_signed_in(OPEN), "tech_b": 4403, "admin_b": 4403},
    ),
    SocketRow("missing group", lambda w: f"/ws/groups/{MISSING_ID}/", socket_signed_in(4403)),
    SocketRow("kiosk of group A", lambda w: f"/ws/kiosk/{w.link_a.token}/", everyone(OPEN)),
    SocketRow("revoked kiosk", lambda w: f"/ws/kiosk/{w.revoked.token}/", everyone(4410)),
    SocketRow("unknown kiosk", lambda w: f"/ws/kiosk/{'x' * 43}/", everyone(4403)),
    # The API's socket reads no session: whoever is signed in, without a token it is 4401.
    SocketRow("api, a session alone", lambda w: f"/ws/api/groups/{w.a.group_a.pk}/",
              everyone(4401)),
]  # fmt: skip
SOCKET_CASES = [
    pytest.param(row, persona, id=f"ws {row.label} as {persona}")
    for row in SOCKET_ROWS
    for persona in PERSONAS
]


@pytest.fixture
async def socket_world(settings: Any, live_settings: Any) -> World:
    settings.MICBOARD_MULTI_TENANT = True
    return await database_sync_to_async(build_world)(with_photo=False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("row", "persona"), SOCKET_CASES)
async def test_socket(socket_world: World, row: SocketRow, persona: str) -> None:
    path, user = row.path(socket_world), socket_world.user(persona)
    expected = row.expected[persona]
    if expected != OPEN:
        assert await refused_with(path, user=user) == expected
        return
    socket, accepted, _ = await open_socket(path, user=user)
    assert accepted
    snapshot = orjson.loads(await socket.receive_from())
    assert (snapshot["type"], snapshot["group"]) == ("snapshot", row.group(socket_world))
    await socket.disconnect()


# The API's socket, as every API token: only a live token of group A watches group A.
API_SOCKET_EXPECTED: dict[str, Outcome] = {
    "token_a": OPEN, "token_b": 4403, "token_org_b": 4403, "revoked_token": 4401,
    "no_token": 4401,
}  # fmt: skip


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", API_PERSONAS)
async def test_api_socket(socket_world: World, persona: str) -> None:
    from micboard.asgi import application

    headers = [(b"host", b"localhost")]  # and no Origin, as a script sends
    secret = socket_world.api_secrets.get(persona)
    if secret:
        headers.append((b"authorization", f"Bearer {secret}".encode()))
    path = f"/ws/api/groups/{socket_world.a.group_a.pk}/"
    socket = WebsocketCommunicator(application, path, headers=headers)
    accepted, _ = await socket.connect(timeout=10)
    assert accepted
    if API_SOCKET_EXPECTED[persona] == OPEN:
        snapshot = orjson.loads(await socket.receive_from())
        assert (snapshot["type"], snapshot["group"]) == ("snapshot", socket_world.a.group_a.pk)
    else:
        assert await closed_with(socket) == API_SOCKET_EXPECTED[persona]
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_revoking_a_kiosk_link_closes_its_open_socket_with_4410(socket_world: World) -> None:
    socket, accepted, _ = await open_socket(f"/ws/kiosk/{socket_world.link_a.token}/")
    assert accepted
    await socket.receive_from()  # the snapshot
    await database_sync_to_async(revoke_as_admin_of_a)(socket_world.link_a, socket_world)
    assert await closed_with(socket) == 4410


def revoke_as_admin_of_a(link: KioskLink, world: World) -> None:
    with tenant_context(world.a.organization):
        KioskService.revoke_link(link, by_user=world.a.admin)
