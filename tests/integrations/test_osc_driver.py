"""The OSC driver against a real UDP listener on loopback, decoded with python-osc: the
configured address with the right typed arguments, per event kind."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from micboard.integrations.drivers.osc import (
    DEFAULT_PATTERNS,
    OscConfigForm,
    OscDriver,
    field_name,
)
from micboard.integrations.types import OutputConfig, OutputEvent
from tests.integrations.conftest import type_tags


def output(port: int, **patterns: str) -> OutputConfig:
    config: dict[str, Any] = {"host": "127.0.0.1", "port": port}
    config |= {field_name(kind.replace("_", ".", 1)): line for kind, line in patterns.items()}
    return OutputConfig(2, "osc", "console", config, {})


def event(kind: str, **payload: Any) -> OutputEvent:
    return OutputEvent(
        id=uuid.uuid4(),
        kind=kind,
        occurred_at=dt.datetime.now(dt.UTC),
        organization_id=1,
        organization_slug="acme",
        group_id=7,
        group_name="Main stage",
        unit_id=41,
        unit_slot="HH01",
        unit_name="Lead vocal",
        performer="Jane Smith",
        payload=payload,
    )


async def test_an_alert_goes_to_the_default_address_with_typed_arguments(osc_listener):
    received, port = osc_listener
    result = await OscDriver().deliver(
        event("alert.raised", alert_kind="battery_low", severity="warning"), output(port)
    )
    assert result.ok, result.error
    [(message, data)] = await received.next()
    assert message.address == "/micboard/Main-stage/HH01/alert"
    assert message.params == ["battery_low", "warning", 1]
    assert type_tags(data) == b",ssi"


async def test_a_battery_step_sends_an_int_and_a_float_and_nil_for_what_is_unknown(osc_listener):
    received, port = osc_listener
    driver = OscDriver()
    assert (
        await driver.deliver(
            event("battery.step", from_bars=3, to_bars=2, percent=38), output(port)
        )
    ).ok
    assert (await driver.deliver(event("battery.step", from_bars=2, to_bars=1), output(port))).ok
    (first, first_data), (second, second_data) = await received.next(2)
    assert first.address == second.address == "/micboard/Main-stage/HH01/battery"
    assert first.params == [2, pytest.approx(38.0)]
    assert type_tags(first_data) == b",if"
    assert type_tags(second_data) == b",iN"  # no percent reported: nil, not a made-up 0
    assert second.params == [1, None]


async def test_a_configured_pattern_with_literals_and_placeholders(osc_listener):
    received, port = osc_listener
    pattern = "/console/{slot}/mute s:{performer} i:{unit_id} f:-3.5 s:stage-{group_id}"
    result = await OscDriver().deliver(event("dropout"), output(port, dropout=pattern))
    assert result.ok, result.error
    [(message, data)] = await received.next()
    assert message.address == "/console/HH01/mute"
    assert message.params == ["Jane Smith", 41, pytest.approx(-3.5), "stage-7"]
    assert type_tags(data) == b",sifs"


async def test_an_empty_pattern_sends_nothing_for_that_kind(osc_listener):
    received, port = osc_listener
    driver = OscDriver()
    config = output(port, unit_offline="")
    result = await driver.deliver(event("unit.offline"), config)
    assert result.ok
    assert (await driver.deliver(event("unit.online"), config)).ok
    [(message, _)] = await received.next()
    assert (message.address, message.params) == ("/micboard/Main-stage/HH01/online", [1])
    assert len(received.received) == 1


async def test_a_value_that_is_not_a_number_fails_in_words():
    result = await OscDriver().deliver(
        event("battery.step", bars="lots"), output(9, battery_step="/b i:{bars}")
    )
    assert not result.ok
    assert result.error == "cannot build the message: 'lots' is not a number"


async def test_an_unknown_host_fails_in_words():
    config = OutputConfig(2, "osc", "console", {"host": "no-such-host.invalid", "port": 9}, {})
    result = await OscDriver().deliver(event("unit.online"), config)
    assert not result.ok
    assert result.error.startswith("cannot send to no-such-host.invalid:9")


def test_the_form_offers_the_defaults_and_refuses_a_malformed_pattern():
    form = OscConfigForm()
    assert form.fields[field_name("alert.raised")].initial == DEFAULT_PATTERNS["alert.raised"]
    data = {"host": "10.0.0.5", "port": 53000, field_name("alert.raised"): "micboard/x i:1"}
    form = OscConfigForm(data)
    assert not form.is_valid()
    assert form.errors[field_name("alert.raised")] == [
        "the address must start with /, not 'micboard/x'"
    ]
    for bad, words in (
        ("/x q:1", "'q:1' is not i:…, f:… or s:…"),
        ("/x i:one", "'one' is not a number"),
        ("/x s:{performer", "the braces of '{performer' do not pair up"),
    ):
        form = OscConfigForm({**data, field_name("alert.raised"): bad})
        assert not form.is_valid()
        assert form.errors[field_name("alert.raised")] == [words]
    form = OscConfigForm({**data, field_name("alert.raised"): " /x/{slot} i:1 "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data[field_name("alert.raised")] == "/x/{slot} i:1"
    assert OscDriver.secret_fields == {}


def test_a_pattern_not_given_is_the_default_and_one_given_empty_sends_nothing():
    form = OscConfigForm({"host": "10.0.0.5", "port": 53000, field_name("unit.offline"): ""})
    assert form.is_valid(), form.errors
    assert form.cleaned_data[field_name("alert.raised")] == DEFAULT_PATTERNS["alert.raised"]
    assert form.cleaned_data[field_name("unit.offline")] == ""
