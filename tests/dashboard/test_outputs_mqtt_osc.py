"""MQTT and OSC outputs on a group's outputs page: their own fields, an optional broker
password that is sealed and never shown, OSC's default patterns and malformed ones."""

from __future__ import annotations

import pytest
from django.test import Client

from micboard.integrations.drivers.osc import DEFAULT_PATTERNS, field_name
from micboard.integrations.models import Output
from micboard.integrations.vault import open_secrets
from tests.dashboard.conftest import Show

pytestmark = pytest.mark.django_db

PASSWORD = "broker-pw-for-tests"


def mqtt_form(**changes: object) -> dict[str, object]:
    return {
        "name": "House broker",
        "events": ["alert.raised", "battery.step"],
        "config_host": "broker.local",
        "config_port": "1883",
        "config_username": "micboard",
        "config_discovery": "on",
        "config_discovery_prefix": "homeassistant",
        **changes,
    }


def osc_form(**changes: object) -> dict[str, object]:
    patterns = {"config_" + field_name(kind): line for kind, line in DEFAULT_PATTERNS.items()}
    return {
        "name": "FOH console",
        "events": ["alert.raised"],
        "config_host": "10.0.0.5",
        "config_port": "53000",
        **patterns,
        **changes,
    }


def test_an_mqtt_output_needs_no_password_and_a_set_one_is_kept_and_never_shown(
    show: Show, admin: Client
) -> None:
    url = f"/groups/{show.group_a.pk}/outputs/new/mqtt/"
    page = admin.get(url).content.decode()
    assert "Home Assistant discovery" in page
    assert 'name="secret_password"' in page
    assert admin.post(url, mqtt_form()).status_code == 302
    output = Output.objects.get()
    assert output.kind == "mqtt"
    assert output.config["host"] == "broker.local"
    assert output.config["port"] == 1883
    assert output.config["discovery"] is True
    assert open_secrets(output.secrets_encrypted) == {}

    edit = f"/outputs/{output.pk}/edit/"
    assert admin.post(edit, mqtt_form(secret_password=PASSWORD)).status_code == 302
    assert admin.post(edit, mqtt_form(name="Broker 2", secret_password="")).status_code == 302
    output.refresh_from_db()
    assert output.name == "Broker 2"
    assert open_secrets(output.secrets_encrypted) == {"password": PASSWORD}
    for shown in (edit, f"/groups/{show.group_a.pk}/outputs/"):
        assert PASSWORD not in admin.get(shown).content.decode()


def test_an_mqtt_topic_with_a_wildcard_is_refused_in_words(show: Show, admin: Client) -> None:
    url = f"/groups/{show.group_a.pk}/outputs/new/mqtt/"
    html = admin.post(url, mqtt_form(config_base_topic="show/#")).content.decode()
    assert "A topic may not hold +, # or an empty level." in html
    assert not Output.objects.exists()


def test_an_osc_output_offers_the_default_patterns_and_refuses_a_malformed_one(
    show: Show, admin: Client
) -> None:
    url = f"/groups/{show.group_a.pk}/outputs/new/osc/"
    page = admin.get(url).content.decode()
    assert 'value="/micboard/{group}/{slot}/battery i:{to_bars} f:{percent}"' in page
    bad = osc_form(**{"config_" + field_name("alert.raised"): "/x q:1"})
    html = admin.post(url, bad).content.decode()
    assert "&#x27;q:1&#x27; is not i:…, f:… or s:…" in html
    assert not Output.objects.exists()

    cleared = osc_form(**{"config_" + field_name("unit.offline"): ""})
    assert admin.post(url, cleared).status_code == 302
    config = Output.objects.get().config
    assert config[field_name("unit.offline")] == ""  # cleared: nothing sent for it
    assert config[field_name("alert.raised")] == DEFAULT_PATTERNS["alert.raised"]
