"""Performer pages: scoped lists, live search, forms with inline errors, photos, CSV."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from micboard.models import Performer
from micboard.services import PerformerService
from tests.dashboard.conftest import HTMX, Show

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, format="PNG")
    return out.getvalue()


def names(html: str, candidates: list[str]) -> list[str]:
    return [name for name in candidates if name in html]


ALL = ["Jane Smith", "Bob Jones", "Carla Diaz"]


class TestList:
    def test_a_tech_sees_the_performers_of_their_groups(self, show: Show, tech_a: Client) -> None:
        html = tech_a.get("/performers/").content.decode()
        assert names(html, ALL) == ["Jane Smith", "Bob Jones"]
        assert "Add performer" not in html  # admins only

    def test_an_admin_sees_everyone(self, show: Show, admin: Client) -> None:
        assert names(admin.get("/performers/").content.decode(), ALL) == ALL

    def test_live_search_answers_the_list_fragment(self, show: Show, admin: Client) -> None:
        response = admin.get("/performers/?q=jon", HTTP_HX_TARGET="performer-list", **HTMX)
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="performer-list">')
        assert names(html, ALL) == ["Bob Jones"]

    @pytest.mark.parametrize("query", ["ZOË", "zoë", "Zoë K", "KELLER"])
    def test_search_folds_case_beyond_ascii(self, show: Show, admin: Client, query: str) -> None:
        PerformerService.create_performer("Zoë Keller")
        html = admin.get("/performers/", {"q": query}).content.decode()
        assert names(html, [*ALL, "Zoë Keller"]) == ["Zoë Keller"]
        assert [p.name for p in PerformerService.search_performers(query)] == ["Zoë Keller"]

    @pytest.mark.parametrize("query", ["%", "_", "\\"])
    def test_search_wildcards_match_only_themselves(
        self, show: Show, admin: Client, query: str
    ) -> None:
        assert names(admin.get("/performers/", {"q": query}).content.decode(), ALL) == []

    def test_it_filters_active_and_inactive(self, show: Show, admin: Client) -> None:
        Performer.objects.filter(pk=show.bob.pk).update(is_active=False)
        assert names(admin.get("/performers/").content.decode(), ALL) == [
            "Jane Smith",
            "Carla Diaz",
        ]
        inactive = admin.get("/performers/?status=inactive").content.decode()
        assert names(inactive, ALL) == ["Bob Jones"]
        assert names(admin.get("/performers/?status=all").content.decode(), ALL) == ALL

    def test_it_pages_with_a_constant_number_of_queries(
        self, show: Show, admin: Client, django_assert_max_num_queries
    ) -> None:
        Performer.objects.bulk_create(
            Performer(organization=show.jane.organization, name=f"P{n:03d}") for n in range(60)
        )
        with django_assert_max_num_queries(10):
            response = admin.get("/performers/?page=2")
        assert "Page 2 of 3" in response.content.decode()


class TestCreate:
    def test_an_admin_adds_a_performer(self, show: Show, admin: Client) -> None:
        response = admin.post("/performers/new/", {"name": "Dana", "title": "Drums"})
        assert response.status_code == 302
        assert Performer.objects.filter(name="Dana", title="Drums").exists()

    def test_errors_show_on_the_field_and_keep_what_was_typed(
        self, show: Show, admin: Client
    ) -> None:
        response = admin.post("/performers/new/", {"name": "", "email": "nope", "title": "Bass"})
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="id_name_error"' in html
        assert 'id="id_email_error"' in html
        assert 'value="Bass"' in html
        assert 'value="nope"' in html
        assert not Performer.objects.filter(title="Bass").exists()

    def test_a_bad_photo_is_reported_on_the_photo_field(self, show: Show, admin: Client) -> None:
        fake = SimpleUploadedFile("face.png", b"not an image", content_type="image/png")
        response = admin.post("/performers/new/", {"name": "Dana", "photo": fake})
        html = response.content.decode()
        assert 'id="id_photo_error"' in html
        assert "not a JPEG, PNG, WebP or GIF image" in html
        assert not Performer.objects.filter(name="Dana").exists()

    def test_a_good_photo_is_saved_and_served_to_who_may_see_it(
        self, show: Show, admin: Client, tech_b: Client, tmp_path, settings
    ) -> None:
        settings.MEDIA_ROOT = tmp_path
        photo = SimpleUploadedFile("face.png", png_bytes(), content_type="image/png")
        admin.post(f"/performers/{show.jane.pk}/edit/", {"name": "Jane Smith", "photo": photo})
        assert Performer.objects.get(pk=show.jane.pk).photo
        assert admin.get(f"/performers/{show.jane.pk}/photo/").status_code == 200
        assert tech_b.get(f"/performers/{show.jane.pk}/photo/").status_code == 404

    def test_a_tech_may_not_add_performers(self, show: Show, tech_a: Client) -> None:
        assert tech_a.post("/performers/new/", {"name": "Sneaky"}).status_code == 403
        assert not Performer.objects.filter(name="Sneaky").exists()


class TestEdit:
    def test_a_tech_corrects_a_performer_on_their_wall(self, show: Show, tech_a: Client) -> None:
        response = tech_a.post(f"/performers/{show.jane.pk}/edit/", {"name": "Jane Smyth"})
        assert response.status_code == 302
        assert Performer.objects.get(pk=show.jane.pk).name == "Jane Smyth"

    def test_a_tech_gets_404_for_a_performer_outside_their_groups(
        self, show: Show, tech_a: Client
    ) -> None:
        response = tech_a.post(f"/performers/{show.carla.pk}/edit/", {"name": "Hacked"})
        assert response.status_code == 404
        assert Performer.objects.get(pk=show.carla.pk).name == "Carla Diaz"
        assert tech_a.get(f"/performers/{show.carla.pk}/photo/").status_code == 404

    def test_the_form_shows_the_current_values(self, show: Show, tech_a: Client) -> None:
        html = tech_a.get(f"/performers/{show.jane.pk}/edit/").content.decode()
        assert 'value="Jane Smith"' in html
        assert 'value="Lead vocals"' in html


class TestActiveAndDelete:
    def test_deactivate_answers_the_row(self, show: Show, admin: Client) -> None:
        response = admin.post(f"/performers/{show.bob.pk}/active/", {"active": "0"}, **HTMX)
        html = response.content.decode()
        assert html.lstrip().startswith(f'<tr id="performer-{show.bob.pk}">')
        assert "Reactivate" in html
        assert not Performer.objects.get(pk=show.bob.pk).is_active
        admin.post(f"/performers/{show.bob.pk}/active/", {"active": "1"}, **HTMX)
        assert Performer.objects.get(pk=show.bob.pk).is_active

    def test_delete_asks_first_then_deletes(self, show: Show, admin: Client) -> None:
        page = admin.get(f"/performers/{show.bob.pk}/delete/").content.decode()
        assert "Delete Bob Jones?" in page
        assert "A02" in page
        assert Performer.objects.filter(pk=show.bob.pk).exists()
        assert admin.post(f"/performers/{show.bob.pk}/delete/").status_code == 302
        assert not Performer.objects.filter(pk=show.bob.pk).exists()

    def test_a_tech_cannot_deactivate_or_delete(self, show: Show, tech_a: Client) -> None:
        assert tech_a.post(f"/performers/{show.bob.pk}/active/", {"active": "0"}).status_code == 403
        assert tech_a.post(f"/performers/{show.bob.pk}/delete/").status_code == 403
        bob = Performer.objects.get(pk=show.bob.pk)
        assert bob.is_active


class TestCsv:
    def test_export_has_the_visible_performers(self, show: Show, tech_a: Client) -> None:
        response = tech_a.get("/performers/export.csv")
        body = response.content.decode()
        assert response["Content-Type"].startswith("text/csv")
        assert body.splitlines()[0] == "name,title,email,phone,notes"
        assert "Jane Smith" in body
        assert "Carla" not in body

    def test_import_previews_errors_and_saves_nothing(self, show: Show, admin: Client) -> None:
        csv_file = SimpleUploadedFile(
            "people.csv", b"name,email\nDana,dana@example.com\n,bad\nJane Smith,\n"
        )
        html = admin.post("/performers/import/", {"file": csv_file}).content.decode()
        assert "1 with errors" in html
        assert "This field cannot be blank" in html
        assert "Exists already: updated or skipped" in html  # Jane Smith: a choice, not an error
        assert not Performer.objects.filter(name="Dana").exists()
        assert "Import 3 performers" not in html

    def test_import_saves_after_confirmation(self, show: Show, admin: Client) -> None:
        csv_file = SimpleUploadedFile("people.csv", b"name,title\nDana,Drums\nEli,Horns\n")
        html = admin.post("/performers/import/", {"file": csv_file}).content.decode()
        assert "Import 2 performers" in html
        assert not Performer.objects.filter(name="Dana").exists()
        content = "name,title\nDana,Drums\nEli,Horns\n"
        response = admin.post("/performers/import/", {"content": content})
        assert response.status_code == 302
        assert Performer.objects.filter(name__in=["Dana", "Eli"]).count() == 2

    def test_one_imported_performer_is_singular(self, show: Show, admin: Client) -> None:
        response = admin.post("/performers/import/", {"content": "name\nDana\n"}, follow=True)
        assert "Imported 1: 1 new, 0 updated, 0 skipped." in response.content.decode()

    def test_a_semicolon_csv_from_a_european_spreadsheet_imports(
        self, show: Show, admin: Client
    ) -> None:
        csv_file = SimpleUploadedFile("people.csv", b"name;title\nDana;Drums, backing\nEli;Horns\n")
        html = admin.post("/performers/import/", {"file": csv_file}).content.decode()
        assert "Import 2 performers" in html
        content = "name;title\nDana;Drums, backing\nEli;Horns\n"
        admin.post("/performers/import/", {"content": content})
        assert Performer.objects.get(name="Dana").title == "Drums, backing"
        assert Performer.objects.get(name="Eli").title == "Horns"

    def test_a_tech_may_not_import(self, show: Show, tech_a: Client) -> None:
        assert tech_a.post("/performers/import/", {"content": "name\nX\n"}).status_code == 403
        assert not Performer.objects.filter(name="X").exists()


class TestReimportPage:
    def test_an_export_reimported_offers_update_or_skip(self, show: Show, admin: Client) -> None:
        exported = admin.get("/performers/export.csv").content
        csv_file = SimpleUploadedFile("performers.csv", exported.replace(b"Guitar", b"Bass"))
        html = admin.post("/performers/import/", {"file": csv_file}).content.decode()
        assert "with errors" not in html
        assert "exist already" in html
        assert 'value="update"' in html
        assert 'value="skip"' in html
        content = exported.decode().replace("Guitar", "Bass")
        refused = admin.post("/performers/import/", {"content": content}, follow=True)
        assert "choose update or skip" in refused.content.decode()
        response = admin.post(
            "/performers/import/", {"content": content, "on_existing": "update"}, follow=True
        )
        assert "Imported 3: 0 new, 1 updated, 2 unchanged, 0 skipped." in response.content.decode()
        assert Performer.objects.get(pk=show.bob.pk).title == "Bass"

    def test_a_choice_that_is_not_offered_is_refused(self, show: Show, admin: Client) -> None:
        content = "name,title\nBob Jones,Bass\n"
        html = admin.post(
            "/performers/import/", {"content": content, "on_existing": "delete"}
        ).content.decode()
        assert "Select a valid choice" in html
        assert Performer.objects.get(pk=show.bob.pk).title == "Guitar"
