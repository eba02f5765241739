"""Assignment pages: create, bulk, inline edits, (de)activate, delete, all scoped by group."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboard.views.assignments import PERFORMERS_LISTED
from micboard.models import (
    MonitoringGroup,
    Organization,
    Performer,
    PerformerAssignment,
    UserProfile,
    WirelessUnit,
)
from micboard.tenancy import tenant_context
from tests.dashboard.conftest import HTMX, Show, assign, make_user, signed_in

pytestmark = pytest.mark.django_db


def settings_form(assignment: PerformerAssignment, **changes: object) -> dict[str, object]:
    """Return the inline form of a row as the browser posts it, with `changes` applied."""
    values = {
        "priority": assignment.priority,
        "notes": assignment.notes,
        "alert_enabled": assignment.alert_enabled,
        "alert_on_battery_low": assignment.alert_on_battery_low,
        "alert_on_signal_loss": assignment.alert_on_signal_loss,
        "alert_on_audio_low": assignment.alert_on_audio_low,
        "alert_on_device_offline": assignment.alert_on_device_offline,
        **changes,
    }
    prefix = f"a{assignment.pk}"
    return {
        f"{prefix}-{k}": ("on" if v is True else v) for k, v in values.items() if v is not False
    }


class TestPage:
    def test_it_lists_the_groups_assignments(self, show: Show, tech_a: Client) -> None:
        html = tech_a.get(f"/groups/{show.group_a.pk}/assignments/").content.decode()
        assert f'id="assignment-{show.jane_a01.pk}"' in html
        assert f'id="assignment-{show.bob_a02.pk}"' in html
        assert "Carla" not in html

    def test_the_pickers_offer_only_what_the_user_may_see(self, show: Show, tech_a: Client) -> None:
        Performer.objects.create(name="Newcomer")  # unassigned: a tech may assign them
        html = tech_a.get(f"/groups/{show.group_a.pk}/assignments/").content.decode()
        picker = html[html.index('name="new-performer"') : html.index('name="new-wireless_unit"')]
        assert "Jane Smith" in picker
        assert "Newcomer" in picker
        assert "Carla" not in picker
        units = html[html.index('name="new-wireless_unit"') : html.index('name="new-priority"')]
        assert "A01" in units
        assert "B01" not in units

    def test_a_tech_gets_404_for_another_group(self, show: Show, tech_a: Client) -> None:
        assert tech_a.get(f"/groups/{show.group_b.pk}/assignments/").status_code == 404

    def test_the_index_goes_straight_to_a_single_group(self, show: Show, tech_a: Client) -> None:
        response = tech_a.get("/assignments/")
        assert response["Location"] == f"/groups/{show.group_a.pk}/assignments/"

    def test_the_unit_pickers_offer_free_units_and_the_groups_own(
        self, show: Show, admin: Client
    ) -> None:
        """Not the whole inventory: a unit in use in another group is not offered."""
        html = admin.get(f"/groups/{show.group_a.pk}/assignments/").content.decode()
        units = html[html.index('name="new-wireless_unit"') : html.index('name="new-priority"')]
        assert [slot for slot in ("A01", "A02", "A03", "B01", "B02") if slot in units] == [
            "A01", "A02", "A03", "B02"
        ]  # fmt: skip

    def test_the_pickers_do_not_grow_with_the_inventory(self, show: Show, admin: Client) -> None:
        for number in range(20):  # busy elsewhere: in group B
            unit = WirelessUnit.objects.create(
                organization=show.group_b.organization,
                base_chassis=show.unit("B01").base_chassis,
                slot=f"Z{number:02d}",
            )
            assign(Performer.objects.create(name=f"Zed {number:02d}"), unit, show.group_b)
        html = admin.get(f"/groups/{show.group_a.pk}/assignments/").content.decode()
        assert "Z00" not in html
        assert len(choices(html)) == 2 * PERFORMERS_LISTED  # two forms, each picker capped
        assert "More performers match" in html

    def test_it_costs_the_same_queries_for_many_rows(
        self, show: Show, admin: Client, django_assert_max_num_queries
    ) -> None:
        with django_assert_max_num_queries(14) as few:
            admin.get(f"/groups/{show.group_a.pk}/assignments/")
        for unit in (show.unit("A03"), show.unit("B02")):
            PerformerAssignment.objects.create(
                organization=unit.organization, performer=show.carla, wireless_unit=unit,
                monitoring_group=show.group_a,
            )  # fmt: skip
        with django_assert_max_num_queries(len(few.captured_queries)):
            admin.get(f"/groups/{show.group_a.pk}/assignments/")


def choices(html: str) -> list[str]:
    """Return the performers a picker offers, by name, in order."""
    return re.findall(r'type="radio" name="[a-z]+-performer" value="\d+" id="[^"]+"'
                      r'(?: checked)?> ([^<]+?)(?: <span|</label>)', html)  # fmt: skip


def search(client: Client, group: MonitoringGroup, text: str = "", **extra: object) -> str:
    url = f"/groups/{group.pk}/assignments/performers/"
    data = {"form": "new", "new-performer_search": text, **extra}
    return client.get(url, data, **HTMX).content.decode()


class TestPerformerPicker:
    def test_it_finds_performers_as_you_type(self, show: Show, tech_a: Client) -> None:
        Performer.objects.create(name="Newcomer")
        assert choices(search(tech_a, show.group_a)) == ["Bob Jones", "Jane Smith", "Newcomer"]
        assert choices(search(tech_a, show.group_a, "jan")) == ["Jane Smith"]
        assert choices(search(tech_a, show.group_a, "GUITAR")) == ["Bob Jones"]  # the title

    def test_a_tech_finds_a_performer_assigned_nowhere_by_name_only(
        self, show: Show, tech_a: Client, admin: Client
    ) -> None:
        Performer.objects.create(name="Newcomer", title="Keytar", email="new@example.com")
        assert choices(search(tech_a, show.group_a, "keytar")) == []
        listed = search(tech_a, show.group_a, "newcomer")
        assert choices(listed) == ["Newcomer"]
        assert "Keytar" not in listed
        assert "new@example.com" not in listed
        assert "Guitar" in search(tech_a, show.group_a, "bob")  # their own performer's title
        assert "Keytar" in search(admin, show.group_a, "keytar")

    def test_a_tech_never_finds_another_groups_performer(self, show: Show, tech_a: Client) -> None:
        html = search(tech_a, show.group_a, "Carla")
        assert choices(html) == []
        assert "No performer matches “Carla”." in html
        assert "Carla" not in search(tech_a, show.group_a, "", **{"new-performer": show.carla.pk})

    def test_another_groups_search_answers_like_a_missing_group(
        self, show: Show, tech_a: Client
    ) -> None:
        other = tech_a.get(f"/groups/{show.group_b.pk}/assignments/performers/", {"form": "new"})
        missing = tech_a.get("/groups/999999/assignments/performers/", {"form": "new"})
        assert (other.status_code, other.content) == (missing.status_code, missing.content)
        assert other.status_code == 404

    def test_an_admin_of_another_organization_finds_nothing(self, show: Show, settings) -> None:
        settings.MICBOARD_MULTI_TENANT = True
        elsewhere = Organization.objects.create(name="Elsewhere", slug="elsewhere")
        with tenant_context(elsewhere):
            group = MonitoringGroup.objects.create(organization=elsewhere, name="Their stage")
        outsider = make_user("outsider", role="admin")
        UserProfile.objects.filter(user=outsider).update(organization=elsewhere)
        client = signed_in(outsider)
        assert choices(search(client, group, "a")) == []
        assert client.get(f"/groups/{show.group_a.pk}/assignments/performers/").status_code == 404

    def test_the_chosen_performer_stays_listed_while_searching(
        self, show: Show, tech_a: Client
    ) -> None:
        html = search(tech_a, show.group_a, "jane", **{"new-performer": show.bob.pk})
        assert choices(html) == ["Bob Jones", "Jane Smith"]
        assert f'value="{show.bob.pk}" id="new-performer-{show.bob.pk}" checked>' in html

    def test_it_lists_a_few_and_says_that_more_match(
        self, show: Show, admin: Client, django_assert_max_num_queries
    ) -> None:
        Performer.objects.bulk_create(
            Performer(organization=show.jane.organization, name=f"Extra {n:02d}") for n in range(30)
        )
        with django_assert_max_num_queries(8):
            html = search(admin, show.group_a, "extra")
        assert choices(html) == [f"Extra {n:02d}" for n in range(10)]
        assert "More performers match" in html
        assert choices(search(admin, show.group_a, "extra 2")) == [f"Extra 2{n}" for n in range(10)]

    def test_it_refuses_an_unknown_form(self, show: Show, tech_a: Client) -> None:
        url = f"/groups/{show.group_a.pk}/assignments/performers/"
        assert tech_a.get(url, {"form": "other"}).status_code == 400

    def test_a_search_without_javascript_reloads_the_page(self, show: Show, tech_a: Client) -> None:
        url = f"/groups/{show.group_a.pk}/assignments/"
        html = tech_a.get(url, {"form": "new", "new-performer_search": "bob"}).content.decode()
        create = html[html.index('id="assignment-create"') : html.index('id="assignment-bulk"')]
        assert choices(create) == ["Bob Jones"]
        assert 'value="bob"' in create


class TestCreate:
    def test_a_tech_assigns_in_their_group(self, show: Show, tech_a: Client) -> None:
        data = {
            "new-performer": show.jane.pk,
            "new-wireless_unit": show.unit("A02").pk,
            "new-priority": "critical",
            "new-alert_enabled": "on",
        }
        response = tech_a.post(f"/groups/{show.group_a.pk}/assignments/new/", data, **HTMX)
        html = response.content.decode()
        created = PerformerAssignment.objects.get(
            performer=show.jane, wireless_unit=show.unit("A02")
        )
        assert created.priority == "critical"
        assert created.assigned_by == show.tech_a
        assert created.monitoring_group == show.group_a
        assert '<section id="assignment-create"' in html
        assert 'id="assignment-table"' in html
        assert 'hx-swap-oob="true"' in html
        assert f'id="assignment-{created.pk}"' in html

    def test_a_duplicate_pair_gets_a_clear_inline_message(self, show: Show, tech_a: Client) -> None:
        data = {"new-performer": show.jane.pk, "new-wireless_unit": show.unit("A01").pk,
                "new-priority": "low"}  # fmt: skip
        response = tech_a.post(f"/groups/{show.group_a.pk}/assignments/new/", data, **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Jane Smith is already assigned to A01." in html
        assert 'id="id_new-wireless_unit_error"' in html
        assert '<option value="low" selected>' in html  # what was typed is kept
        assert PerformerAssignment.objects.filter(performer=show.jane).count() == 1

    def test_a_tech_cannot_assign_in_another_group(self, show: Show, tech_a: Client) -> None:
        data = {"new-performer": show.jane.pk, "new-wireless_unit": show.unit("A02").pk,
                "new-priority": "low"}  # fmt: skip
        response = tech_a.post(f"/groups/{show.group_b.pk}/assignments/new/", data)
        assert response.status_code == 404
        assert not PerformerAssignment.objects.filter(monitoring_group=show.group_b,
                                                      performer=show.jane).exists()  # fmt: skip

    def test_a_tech_cannot_pick_a_unit_they_cannot_see(self, show: Show, tech_a: Client) -> None:
        data = {"new-performer": show.jane.pk, "new-wireless_unit": show.unit("B02").pk,
                "new-priority": "low"}  # fmt: skip
        html = tech_a.post(f"/groups/{show.group_a.pk}/assignments/new/", data).content.decode()
        assert "Select a valid choice" in html
        assert not PerformerAssignment.objects.filter(wireless_unit=show.unit("B02")).exists()

    def test_bulk_assigns_one_performer_to_several_units(self, show: Show, admin: Client) -> None:
        data = {"bulk-performer": show.carla.pk, "bulk-priority": "normal",
                "bulk-wireless_units": [show.unit("A03").pk, show.unit("B02").pk]}  # fmt: skip
        response = admin.post(f"/groups/{show.group_a.pk}/assignments/bulk/", data, **HTMX)
        assert response.status_code == 200
        made = PerformerAssignment.objects.filter(
            performer=show.carla, monitoring_group=show.group_a
        )
        assert sorted(a.wireless_unit.slot for a in made) == ["A03", "B02"]

    def test_bulk_with_a_duplicate_assigns_nothing_and_names_it(
        self, show: Show, admin: Client
    ) -> None:
        before = set(PerformerAssignment.objects.values_list("pk", flat=True))
        data = {"bulk-performer": show.jane.pk, "bulk-priority": "normal",
                "bulk-wireless_units": [show.unit("A01").pk, show.unit("A03").pk]}  # fmt: skip
        html = admin.post(
            f"/groups/{show.group_a.pk}/assignments/bulk/", data, **HTMX
        ).content.decode()
        assert "Nothing was assigned" in html
        assert "Jane Smith is already assigned to A01." in html
        assert set(PerformerAssignment.objects.values_list("pk", flat=True)) == before
        assert not PerformerAssignment.objects.filter(wireless_unit=show.unit("A03")).exists()

    def test_bulk_success_clears_the_form(self, show: Show, admin: Client) -> None:
        data = {"bulk-performer": show.carla.pk, "bulk-priority": "normal",
                "bulk-wireless_units": [show.unit("A03").pk]}  # fmt: skip
        html = admin.post(
            f"/groups/{show.group_a.pk}/assignments/bulk/", data, **HTMX
        ).content.decode()
        bulk = html[html.index('id="assignment-bulk"') :]
        assert "checked" not in bulk[: bulk.index("</section>")]
        assert "Nothing was assigned" not in html


class TestInlineEdits:
    def test_it_saves_priority_notes_and_flags(self, show: Show, tech_a: Client) -> None:
        assignment = show.bob_a02
        data = settings_form(assignment, priority="critical", notes="Spare in tray 2",
                             alert_on_audio_low=True, alert_on_signal_loss=False)  # fmt: skip
        response = tech_a.post(f"/assignments/{assignment.pk}/", data, **HTMX)
        assert (
            response.content.decode()
            .lstrip()
            .startswith(f'<article id="assignment-{assignment.pk}"')
        )
        assignment.refresh_from_db()
        assert assignment.priority == "critical"
        assert assignment.notes == "Spare in tray 2"
        assert assignment.alert_on_audio_low
        assert not assignment.alert_on_signal_loss

    def test_a_bad_value_is_shown_on_its_field(self, show: Show, tech_a: Client) -> None:
        data = settings_form(show.bob_a02, priority="urgent")
        html = tech_a.post(f"/assignments/{show.bob_a02.pk}/", data, **HTMX).content.decode()
        assert f'id="id_a{show.bob_a02.pk}-priority_error"' in html
        show.bob_a02.refresh_from_db()
        assert show.bob_a02.priority == "normal"

    def test_a_tech_cannot_edit_another_groups_assignment(self, show: Show, tech_a: Client) -> None:
        data = settings_form(show.carla_b01, priority="critical")
        assert tech_a.post(f"/assignments/{show.carla_b01.pk}/", data).status_code == 404
        show.carla_b01.refresh_from_db()
        assert show.carla_b01.priority == "normal"

    def test_deactivate_and_reactivate(self, show: Show, tech_a: Client) -> None:
        url = f"/assignments/{show.bob_a02.pk}/active/"
        html = tech_a.post(url, {"active": "0"}, **HTMX).content.decode()
        assert "Reactivate" in html
        assert "Inactive" in html
        show.bob_a02.refresh_from_db()
        assert not show.bob_a02.is_active
        tech_a.post(url, {"active": "1"}, **HTMX)
        show.bob_a02.refresh_from_db()
        assert show.bob_a02.is_active

    def test_delete_removes_the_row(self, show: Show, tech_a: Client) -> None:
        assert (
            "Delete this assignment?"
            in tech_a.get(f"/assignments/{show.bob_a02.pk}/delete/").content.decode()
        )
        response = tech_a.post(f"/assignments/{show.bob_a02.pk}/delete/", **HTMX)
        assert response.status_code == 200
        assert response.content == b""
        assert not PerformerAssignment.objects.filter(pk=show.bob_a02.pk).exists()

    def test_a_tech_cannot_touch_another_groups_assignment(
        self, show: Show, tech_a: Client
    ) -> None:
        assert (
            tech_a.post(f"/assignments/{show.carla_b01.pk}/active/", {"active": "0"}).status_code
            == 404
        )
        assert tech_a.post(f"/assignments/{show.carla_b01.pk}/delete/").status_code == 404
        show.carla_b01.refresh_from_db()
        assert show.carla_b01.is_active
