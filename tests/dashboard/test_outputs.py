"""The outputs page of a group: admins add, edit, switch, delete and test outputs, and
read the delivery log; secrets are sealed and never shown again."""

from __future__ import annotations

from typing import ClassVar

import orjson
import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from micboard.integrations import drivers
from micboard.integrations.models import DeliveryAttempt, Output
from micboard.integrations.types import DeliveryResult, OutputConfig, OutputEvent
from micboard.integrations.vault import open_secrets
from micboard.services import OutputService
from micboard.services.outputs import KEEP_ATTEMPTS, AttemptRecord
from realtime import keys
from realtime.redis_client import sync_client
from tests.dashboard.conftest import HTMX, Show

pytestmark = pytest.mark.django_db

SECRET = "hunter2-but-longer"


def webhook_form(**changes: object) -> dict[str, object]:
    return {
        "name": "Companion",
        "events": ["alert.raised", "unit.offline"],
        "config_url": "https://companion.example/hook",
        "secret_secret": SECRET,
        **changes,
    }


def add_webhook(show: Show, **changes: object) -> Output:
    values = {
        "name": "Desk",
        "config": {"url": "https://desk.example/hook"},
        "secrets": {"secret": SECRET},
        **changes,
    }
    return OutputService.create_output(show.group_a, "webhook", by_user=show.admin, **values)


EVENT_ID = "5a0f6c8e3a534d0e9a8e2f0c9f3f7e11"


def attempt(
    output: Output, number: int, status: str = "delivered", code: int | None = 200, error: str = ""
) -> AttemptRecord:
    org = output.organization_id
    kind = "alert.raised"
    return AttemptRecord(output.pk, org, kind, EVENT_ID, number, status, code, error, 12.5)


def record(output: Output, number: int, status: str, code: int | None, error: str = "") -> None:
    OutputService.record_attempts([attempt(output, number, status, code, error)])


class TestOutputsPage:
    def test_it_is_for_the_admins_of_the_group(
        self, show: Show, admin: Client, tech_a: Client
    ) -> None:
        url = f"/groups/{show.group_a.pk}/outputs/"
        assert admin.get(url).status_code == 200
        assert tech_a.get(url).status_code == 404
        group_page = admin.get(f"/groups/{show.group_a.pk}/").content.decode()
        assert f'href="{url}"' in group_page

    def test_an_admin_adds_a_webhook_whose_secret_is_sealed_and_never_shown(
        self, show: Show, admin: Client
    ) -> None:
        response = admin.post(f"/groups/{show.group_a.pk}/outputs/new/webhook/", webhook_form())
        assert response.status_code == 302
        output = Output.objects.get()
        assert (output.name, output.kind, output.monitoring_group) == (
            "Companion",
            "webhook",
            show.group_a,
        )
        assert output.config == {"url": "https://companion.example/hook"}
        assert output.events == ["alert.raised", "unit.offline"]
        assert SECRET not in output.secrets_encrypted
        assert open_secrets(output.secrets_encrypted) == {"secret": SECRET}
        for page in (f"/groups/{show.group_a.pk}/outputs/", f"/outputs/{output.pk}/edit/"):
            assert SECRET not in admin.get(page).content.decode()
        assert "Companion" in admin.get(response["Location"]).content.decode()

    def test_a_webhook_needs_a_valid_url_and_a_secret(self, show: Show, admin: Client) -> None:
        url = f"/groups/{show.group_a.pk}/outputs/new/webhook/"
        html = admin.post(url, webhook_form(config_url="not a url", secret_secret="")).content
        assert b"Enter a valid URL." in html
        assert b"This field is required." in html
        assert not Output.objects.exists()

    def test_an_edit_leaving_the_secret_blank_keeps_it(self, show: Show, admin: Client) -> None:
        output = add_webhook(show)
        data = webhook_form(name="Desk 2", secret_secret="")
        assert admin.post(f"/outputs/{output.pk}/edit/", data).status_code == 302
        output.refresh_from_db()
        assert output.name == "Desk 2"
        assert open_secrets(output.secrets_encrypted) == {"secret": SECRET}
        admin.post(f"/outputs/{output.pk}/edit/", webhook_form(secret_secret="brand-new"))
        output.refresh_from_db()
        assert open_secrets(output.secrets_encrypted) == {"secret": "brand-new"}

    def test_an_admin_disables_enables_and_deletes_an_output(
        self, show: Show, admin: Client
    ) -> None:
        output = add_webhook(show)
        html = admin.post(f"/outputs/{output.pk}/enabled/", {"active": "0"}, **HTMX).content
        assert html.decode().lstrip().startswith('<section id="outputs"')
        assert b"Disabled" in html
        output.refresh_from_db()
        assert not output.is_enabled
        admin.post(f"/outputs/{output.pk}/enabled/", {"active": "1"}, **HTMX)
        output.refresh_from_db()
        assert output.is_enabled
        html = admin.post(f"/outputs/{output.pk}/delete/", **HTMX).content
        assert b"Desk deleted." in html
        assert not Output.objects.exists()

    def test_another_groups_output_is_not_found(
        self, show: Show, admin: Client, tech_b: Client
    ) -> None:
        output = add_webhook(show)
        assert tech_b.post(f"/outputs/{output.pk}/delete/", **HTMX).status_code == 404
        assert tech_b.get(f"/groups/{show.group_a.pk}/outputs/log/").status_code == 404
        assert Output.objects.filter(pk=output.pk).exists()

    def test_the_delivery_log_says_what_went_wrong_in_words(
        self, show: Show, admin: Client
    ) -> None:
        output = add_webhook(show)
        record(output, 1, "failed", 500, "desk.example answered 500 Internal Server Error")
        record(output, 2, "delivered", 200)
        html = admin.get(f"/groups/{show.group_a.pk}/outputs/log/", **HTMX).content.decode()
        assert html.lstrip().startswith('<section id="output-log"')
        assert 'hx-trigger="every 3s"' in html
        assert "desk.example answered 500 Internal Server Error" in html
        assert html.index("delivered") < html.index("failed")  # newest first

    def test_send_test_event_puts_it_on_the_outputs_stream(
        self, show: Show, admin: Client, live_settings, django_capture_on_commit_callbacks
    ) -> None:
        output = add_webhook(show)
        with django_capture_on_commit_callbacks(execute=True):
            html = admin.post(f"/outputs/{output.pk}/test/", **HTMX).content
        assert b"Test event sent to Desk" in html
        entries = sync_client().xrange(keys.outputs())
        sent = [orjson.loads(fields[b"e"]) for _, fields in entries]
        assert [(e["kind"], e["output"], e["groups"]) for e in sent] == [
            ("test", output.pk, [show.group_a.pk])
        ]


class TestDeliveryLog:
    def test_each_output_keeps_its_newest_attempts(self, show: Show) -> None:
        output = add_webhook(show)
        records = [attempt(output, n) for n in range(KEEP_ATTEMPTS + 5)]
        OutputService.record_attempts(records)
        kept = DeliveryAttempt.objects.filter(output=output)
        assert kept.count() == KEEP_ATTEMPTS
        assert min(kept.values_list("attempt", flat=True)) == 5

    def test_attempts_of_a_deleted_output_are_dropped(self, show: Show) -> None:
        output = add_webhook(show)
        gone = attempt(output, 1, "failed", None)
        OutputService.delete_output(output, by_user=show.admin)
        assert OutputService.record_attempts([gone]) == 0


class QuietDriver:
    """A driver with an optional secret, as an MQTT broker without a password has."""

    kind: ClassVar[str] = "osc"
    label: ClassVar[str] = "Quiet"
    config_form: ClassVar[type[forms.Form]] = forms.Form
    secret_fields: ClassVar[dict[str, bool]] = {"password": False}

    async def deliver(self, event: OutputEvent, output: OutputConfig) -> DeliveryResult:
        return DeliveryResult(True)

    async def close(self) -> None:
        return None


class TestSecretRules:
    def test_an_optional_secret_may_be_left_out(self, show: Show, monkeypatch) -> None:
        monkeypatch.setitem(drivers.DRIVERS, "osc", QuietDriver)
        output = OutputService.create_output(
            show.group_a, "osc", name="No password", config={}, by_user=show.admin
        )
        assert open_secrets(output.secrets_encrypted) == {}

    def test_a_secret_the_driver_does_not_have_is_refused(self, show: Show) -> None:
        with pytest.raises(ValidationError) as refused:
            add_webhook(show, secrets={"secret": SECRET, "token": "x"})
        assert "token" in refused.value.message_dict

    def test_a_tech_may_not_add_an_output(self, show: Show) -> None:
        with pytest.raises(PermissionDenied):
            OutputService.create_output(
                show.group_a,
                "webhook",
                name="x",
                config={"url": "https://x.example/"},
                secrets={"secret": SECRET},
                by_user=show.tech_a,
            )
        assert not Output.objects.exists()


class TestVault:
    def test_secrets_are_unreadable_under_another_secret_key(self, show: Show, settings) -> None:
        output = add_webhook(show)
        settings.SECRET_KEY = "another-" + "k" * 50
        assert open_secrets(output.secrets_encrypted) == {}
        assert OutputService.get_delivery_config(output).secrets == {}
