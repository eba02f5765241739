"""Property tests: the forms and services take anything and answer sensibly.

For any input, a form is valid or names its bad fields, and a service either raises a
ValidationError naming the field (PermissionDenied for a user without the right, and
IntegrityError for a duplicate, as documented) or saves an object that is valid as stored.
No other exception, ever; and after any sequence of changes the invariants hold: one
assignment per (performer, unit), and no row linked across organizations.

The world is the two-tenant one of tests/security/conftest.py, with multi-tenancy on;
every example runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dashboard.forms import (
    AlertFilterForm,
    AssignmentForm,
    AssignmentSettingsForm,
    BulkAssignForm,
    GroupMembersForm,
    KioskLinkForm,
    PerformerForm,
    PerformerImportConfirmForm,
)
from micboard import access
from micboard.access import is_well_formed_token
from micboard.models import (
    Location,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    WirelessChassis,
    WirelessUnit,
)
from micboard.services import (
    GroupService,
    KioskService,
    PerformerAssignmentService,
    PerformerService,
    performer_csv,
)
from micboard.services.inventory import InventoryService
from micboard.tenancy import system_context, tenant_context
from tests.security.conftest import World, build_world

pytestmark = pytest.mark.django_db

PROPERTY = hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI does not flake
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as a request can carry it: any character (NUL too), now and then very long.
text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "   ", "\x00", "a\x00b", "x" * 201, "n" * 10_001, str(2**64), "-1"]),
)
# What a Python caller might pass by mistake.
anything = st.one_of(
    text,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.binary(max_size=10),
    st.lists(st.text(max_size=3), max_size=3),
)
# What a form field can receive: one value, several, or none.
form_value = st.one_of(text, st.lists(text, max_size=4))


@pytest.fixture
def world(settings: Any, live_settings: Any) -> World:
    settings.MICBOARD_MULTI_TENANT = True
    return build_world(with_photo=False)


@pytest.fixture
def in_org_a(world: World) -> Iterator[World]:
    """Act as a request of organization A does."""
    with tenant_context(world.a.organization):
        yield world


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint undone at its end: each example starts from the same world."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_names_only(error: ValidationError, allowed: set[str]) -> None:
    """The error names fields, and only fields the caller could have got wrong."""
    assert hasattr(error, "error_dict"), f"no field named: {error}"
    assert set(error.message_dict) <= allowed, error.message_dict


def assert_valid_as_stored(instance: Any) -> None:
    stored = type(instance)._base_manager.get(pk=instance.pk)
    stored.full_clean(validate_unique=False, validate_constraints=False)


# --- forms ----------------------------------------------------------------------------------


def form_data(form_class: type[forms.Form], prefix: str = "") -> st.SearchStrategy[dict]:
    names = [f"{prefix}-{name}" if prefix else name for name in form_class.base_fields]
    return st.dictionaries(st.sampled_from(names), form_value, max_size=len(names))


def build_form(form_class: type[forms.Form], data: dict, world: World) -> forms.Form:
    from django.utils.datastructures import MultiValueDict

    query = MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in data.items()})
    options: dict[str, Any] = {}
    if form_class in (AssignmentForm, BulkAssignForm):
        options = {"performers": Performer.objects.all(), "units": WirelessUnit.objects.all()}
    elif form_class is GroupMembersForm:
        options = {"users": GroupService.candidate_members(world.a.group_a)}
    elif form_class is AlertFilterForm:
        options = {"groups": MonitoringGroup.objects.all()}
    prefix = {AssignmentForm: "new", BulkAssignForm: "bulk"}.get(form_class)
    return form_class(query, prefix=prefix, **options)


FORMS = [
    PerformerForm,
    AssignmentSettingsForm,
    AssignmentForm,
    BulkAssignForm,
    KioskLinkForm,
    GroupMembersForm,
    AlertFilterForm,
    PerformerImportConfirmForm,
]


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
def test_a_form_is_valid_or_names_its_bad_fields(
    in_org_a: World, form_class: type[forms.Form]
) -> None:
    prefix = {AssignmentForm: "new", BulkAssignForm: "bulk"}.get(form_class, "")

    @PROPERTY
    @given(data=form_data(form_class, prefix))
    def check(data: dict) -> None:
        with rolled_back():
            form = build_form(form_class, data, in_org_a)
            if not form.is_valid():
                assert set(form.errors) <= {*form.fields, "__all__"}
                assert all(form.errors.values())

    check()


# --- performers -----------------------------------------------------------------------------

PERFORMER_FIELDS = {"name", "title", "email", "phone", "notes"}


@PROPERTY
@given(fields=st.fixed_dictionaries({}, optional=dict.fromkeys(PERFORMER_FIELDS, anything)))
def test_create_performer_saves_a_valid_performer_or_names_the_field(
    in_org_a: World, fields: dict
) -> None:
    with rolled_back():
        try:
            performer = PerformerService.create_performer(**{"name": "", **fields})
        except ValidationError as error:
            assert_names_only(error, PERFORMER_FIELDS)
            return
        assert_valid_as_stored(performer)
        assert performer.organization_id == in_org_a.a.organization.pk


@PROPERTY
@given(data=form_data(PerformerForm))
def test_the_performer_form_and_service_together_save_what_was_typed(
    in_org_a: World, data: dict
) -> None:
    with rolled_back():
        form = build_form(PerformerForm, data, in_org_a)
        if not form.is_valid():
            return
        try:
            performer = PerformerService.create_performer(**form.changes())
        except ValidationError as error:
            assert_names_only(error, set(form.fields))
            return
        stored = Performer.objects.get(pk=performer.pk)
        assert stored.name == form.cleaned_data["name"].strip()
        assert stored.notes == form.cleaned_data["notes"]


@PROPERTY
@given(
    changes=st.dictionaries(
        st.sampled_from([*PERFORMER_FIELDS, "is_active", "id", "organization", "photo"]), anything
    )
)
def test_update_performer_changes_only_editable_fields(in_org_a: World, changes: dict) -> None:
    with rolled_back():
        jane = Performer.objects.get(pk=in_org_a.jane.pk)
        try:
            PerformerService.update_performer(jane, **changes)
        except ValidationError as error:
            assert_names_only(error, set(changes))
            return
        assert set(changes) <= PERFORMER_FIELDS
        assert_valid_as_stored(jane)


# --- assignments: any sequence of changes keeps the invariants -------------------------------

PERSONAS = ("tech_a", "tech_b", "admin_a", "admin_b", None)
operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 3),  # performer: Jane, Carla, Dana (A) or Olga (B)
        st.integers(0, 7),  # unit: four of A, four of B
        st.integers(0, 3),  # group: A's two, B's two
        st.sampled_from(PERSONAS),
        st.one_of(st.sampled_from(["low", "normal", "high", "critical"]), anything),
        anything,  # alert_enabled
    ),
    st.tuples(
        st.sampled_from(["deactivate", "reactivate", "delete", "update"]),
        st.integers(0, 9),  # which existing assignment
        st.sampled_from(PERSONAS),
        anything,  # the new notes and priority of an update
    ),
    st.tuples(st.just("move"), st.integers(0, 9), st.sampled_from(PERSONAS), st.integers(0, 3)),
)


def choices(world: World) -> tuple[list[Performer], list[WirelessUnit], list[MonitoringGroup]]:
    performers = [world.jane, world.carla, world.dana, world.olga]
    units = [*world.a.units, *world.b.units]
    groups = [world.a.group_a, world.a.group_b, world.b.group_a, world.b.group_b]
    return performers, units, groups


def apply(world: World, op: tuple) -> None:
    performers, units, groups = choices(world)
    expected = (ValidationError, PermissionDenied, IntegrityError)
    if op[0] == "create":
        _, p, u, g, persona, priority, alert_enabled = op
        call = lambda: PerformerAssignmentService.create_assignment(  # noqa: E731
            performers[p], units[u], groups[g], priority=priority,
            alert_enabled=alert_enabled, by_user=world.user(persona) if persona else None,
        )  # fmt: skip
    else:
        kind, index, persona, value = op
        with system_context():
            existing = list(PerformerAssignment.unscoped.order_by("pk"))
        if not existing:
            return
        assignment = existing[index % len(existing)]
        user = world.user(persona) if persona else None
        call = {
            "deactivate": lambda: PerformerAssignmentService.deactivate_assignment(
                assignment, by_user=user
            ),
            "reactivate": lambda: PerformerAssignmentService.reactivate_assignment(
                assignment, by_user=user
            ),
            "delete": lambda: PerformerAssignmentService.delete_assignment(
                assignment, by_user=user
            ),
            "update": lambda: PerformerAssignmentService.update_assignment(
                assignment, by_user=user, notes=value, priority=value
            ),
            "move": lambda: PerformerAssignmentService.update_assignment(
                assignment, by_user=user, monitoring_group=groups[value % len(groups)]
            ),
        }[kind]
    try:
        call()
    except ValidationError as error:
        assert_assignment_refusal(error)
    except expected:
        pass


def assert_assignment_refusal(error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        assert set(error.message_dict) <= {"priority", "alert_enabled", "notes"}
    else:  # the one error about no single field: the rows' organizations differ
        assert "different organizations" in " ".join(error.messages)


def assert_assignment_invariants() -> None:
    with system_context():
        rows = list(
            PerformerAssignment.unscoped.select_related(
                "performer", "wireless_unit", "monitoring_group"
            )
        )
    pairs = [(a.performer_id, a.wireless_unit_id) for a in rows]
    assert len(pairs) == len(set(pairs)), "two assignments of one performer to one unit"
    for a in rows:
        organizations = {
            a.organization_id,
            a.performer.organization_id,
            a.wireless_unit.organization_id,
            a.monitoring_group.organization_id,
        }
        assert len(organizations) == 1, f"assignment {a.pk} crosses organizations"
        a.full_clean(validate_unique=False, validate_constraints=False)


@hypothesis_settings(PROPERTY, max_examples=30)
@given(ops=st.lists(operation, min_size=1, max_size=8))
def test_any_sequence_of_assignment_changes_keeps_the_invariants(
    in_org_a: World, ops: list
) -> None:
    with rolled_back():
        for op in ops:
            apply(in_org_a, op)
            assert_assignment_invariants()


# --- groups, kiosks, inventory, CSV -------------------------------------------------------

tile = st.one_of(
    st.none(), st.integers(-(2**70), 2**70), st.booleans(), text, st.floats(), st.just(0)
)


@PROPERTY
@given(order=st.lists(tile, max_size=6), picks=st.lists(st.integers(0, 7), max_size=4))
def test_a_tile_order_is_saved_as_given_or_refused_on_its_field(
    in_org_a: World, order: list, picks: list[int]
) -> None:
    units = [*in_org_a.a.units, *in_org_a.b.units]
    order = order + [units[i].pk for i in picks]
    with rolled_back():
        group = in_org_a.a.group_a
        try:
            GroupService.set_tile_order(group, order)
        except ValidationError as error:
            assert_names_only(error, {"tile_order"})
            return
        group.refresh_from_db()
        assert group.tile_order == order
        own = {u.pk for u in in_org_a.a.units}
        assert {e for e in order if e is not None} <= own


@PROPERTY
@given(picks=st.sets(st.integers(0, 7)))
def test_members_come_from_the_groups_organization_only(in_org_a: World, picks: set) -> None:
    with system_context():
        users = list(User.objects.order_by("pk"))[:8]
    chosen = [users[i % len(users)] for i in picks]
    group = in_org_a.a.group_a
    allowed = set(GroupService.candidate_members(group).values_list("pk", flat=True))
    with rolled_back():
        try:
            GroupService.set_members(group, chosen)
        except ValidationError as error:
            assert_names_only(error, {"users"})
            assert any(user.pk not in allowed for user in chosen)
            return
        assert set(group.users.values_list("pk", flat=True)) == {u.pk for u in chosen}
        assert {u.pk for u in chosen} <= allowed


@PROPERTY
@given(label=anything, probe=text)
def test_kiosk_links_get_a_fresh_token_and_lookups_never_fail(
    in_org_a: World, label: Any, probe: str
) -> None:
    with rolled_back():
        found = access.live_kiosk_link(probe)
        assert found is None or found.token == probe
        try:
            link = KioskService.create_link(in_org_a.a.group_a, label)
        except ValidationError as error:
            assert_names_only(error, {"label"})
            return
        assert is_well_formed_token(link.token)
        assert access.live_kiosk_link(link.token) == link


VALID_CHASSIS = {
    "name": "RX",
    "host": "10.0.0.9",
    "port": 2202,
    "manufacturer": "Shure",
    "model": "ULXD4",
    "protocol": "shure_tcp",
}
CHASSIS_FIELDS = {*VALID_CHASSIS, "serial"}


@PROPERTY
@given(fields=st.fixed_dictionaries({}, optional=dict.fromkeys(CHASSIS_FIELDS, anything)))
def test_inventory_saves_a_valid_receiver_or_names_the_field(in_org_a: World, fields: dict) -> None:
    with rolled_back():
        chassis = WirelessChassis(**{**VALID_CHASSIS, **fields})
        try:
            InventoryService.save_row(chassis)
        except ValidationError as error:
            assert_names_only(error, set(fields) | {"__all__"})
            return
        except IntegrityError:
            return  # the same endpoint twice: the database refuses it, as documented
        assert_valid_as_stored(chassis)
        assert chassis.organization_id == in_org_a.a.organization.pk


@PROPERTY
@given(name=anything, description=anything)
def test_inventory_saves_a_valid_location_or_names_the_field(
    in_org_a: World, name: Any, description: Any
) -> None:
    with rolled_back():
        location = Location(name=name, description=description)
        try:
            InventoryService.save_row(location)
        except ValidationError as error:
            assert_names_only(error, {"name", "description"})
            return
        assert_valid_as_stored(location)


csv_cell = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
csv_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.lists(csv_cell, min_size=1, max_size=6), max_size=6).map(
        lambda rows: "\n".join(",".join(cells) for cells in [["name", "title", "notes"], *rows])
    ),
)


@PROPERTY
@given(raw=st.one_of(st.binary(max_size=200), csv_text.map(str.encode)))
def test_a_csv_import_is_all_or_nothing(in_org_a: World, raw: bytes) -> None:
    with rolled_back():
        before = Performer.objects.count()
        try:
            text_ = performer_csv.decode_upload(raw)
        except ValidationError as error:
            assert_names_only(error, {"file"})
            return
        preview = performer_csv.preview_import(text_)
        try:
            result = performer_csv.import_performers(text_, on_existing="update")
        except ValidationError as error:
            assert_names_only(error, {"file"})
            assert not preview.ok
            assert Performer.objects.count() == before
            return
        assert preview.ok
        assert len(result.created) + len(result.updated) + result.unchanged == len(preview.rows)
        assert len(result.created) == Performer.objects.count() - before
        for performer in [*result.created, *result.updated]:
            assert_valid_as_stored(performer)
