"""The simulated stage and the commands around it: simulate, import, seed."""

from __future__ import annotations

import asyncio
import dataclasses
import textwrap

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from micboard.devicelist import read_device_list, write_device_list
from micboard.devices import Protocol
from micboard.models import (
    Charger,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    RFChannel,
    WirelessChassis,
    WirelessUnit,
)
from micboard.showprep.models import MicTurn
from realtime.protocols.shure_charger import ShureChargerClient
from realtime.protocols.shure_tcp.client import ShureTcpClient
from realtime.simulation.base import PACK_CHANGE_BELOW
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
from realtime.simulation.stage import (
    DEMO_STAGE,
    build_chargers,
    build_simulators,
    device_infos,
    load_config,
    served_devices,
)
from tests.waiting import wait_until_async

STAGE_TOML = textwrap.dedent(
    """
    seed = 3
    base_port = 0
    [faults]
    split_frame = 60
    [[devices]]
    family = "shure_tcp"
    model = "AD4Q"
    count = 2
    [[devices]]
    family = "sennheiser_ssc"
    model = "EW-DX EM 2"
    [[devices]]
    family = "shure_api"
    model = "System API server"
    """
)


@pytest.fixture
def stage_file(tmp_path):
    path = tmp_path / "stage.toml"
    path.write_text(STAGE_TOML)
    return path


def test_a_stage_file_describes_devices_and_faults(stage_file):
    config = load_config(stage_file)
    assert [(g.family, g.model, g.count) for g in config.devices] == [
        (Protocol.SHURE_TCP, "AD4Q", 2),
        (Protocol.SENNHEISER_SSC, "EW-DX EM 2", 1),
        (Protocol.SHURE_API, "System API server", 1),
    ]
    assert config.faults.split_frame == 60
    assert config.seed == 3


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[[devices]]\nfamily = "walkie_talkie"\nmodel = "X"\n', "walkie_talkie"),
        ('colour = "red"\n', "colour"),
        ("[faults]\nlightning = 3\n", "lightning"),
    ],
)
def test_a_bad_stage_file_is_refused_with_the_reason(tmp_path, text, complaint):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=complaint):
        load_config(path)


def test_the_demo_stage_is_deterministic():
    first = device_infos(DEMO_STAGE)
    again = device_infos(DEMO_STAGE)
    assert first == again
    assert [d.port for d in first] == list(range(22000, 22000 + len(first)))
    assert sum(len(d.channels) for d in first) >= 16


async def test_simulated_devices_answer_as_their_device_list_says(stage_file, tmp_path):
    simulators = build_simulators(load_config(stage_file))
    for simulator in simulators:
        await simulator.start()
    try:
        listed = tmp_path / "devices.json"
        write_device_list(listed, [d for s in simulators for d in served_devices(s)])
        devices = [entry.info for entry in read_device_list(listed)]
        first = devices[0]
        client = ShureTcpClient(first.host, first.port)
        try:
            discovered = await asyncio.wait_for(client.discover(), 10)
        finally:
            await client.close()
        assert (discovered.model, len(discovered.channels)) == ("AD4Q", 4)
        assert [d.port for d in devices[:3]] == [s.port for s in simulators[:3]]
        behind_the_api = {d.port for d in devices[3:]}
        assert behind_the_api == {simulators[3].port}
        assert len(devices) > 4  # one System API server fronts several devices
    finally:
        for simulator in simulators:
            await simulator.stop()


@pytest.mark.django_db
def test_import_devices_creates_receivers_channels_and_units(stage_file, tmp_path):
    listed = tmp_path / "devices.json"
    # Fixed ports: a list names where receivers listen (port 0 is no address).
    devices = device_infos(dataclasses.replace(load_config(stage_file), base_port=23100))
    write_device_list(listed, devices)
    call_command("import_devices", str(listed), "--location", "Main stage")
    call_command("import_devices", str(listed))  # again: refreshed, not duplicated
    assert WirelessChassis.objects.count() == len(devices)
    channels = sum(len(d.channels) for d in devices)
    assert RFChannel.objects.count() == WirelessUnit.objects.count() == channels
    assert set(WirelessChassis.objects.values_list("protocol", flat=True)) == {
        "shure_tcp",
        "sennheiser_ssc",
        "shure_api",
    }


@pytest.mark.django_db
def test_import_devices_explains_a_broken_file(tmp_path):
    listed = tmp_path / "devices.json"
    listed.write_text('[{"protocol": "shure_tcp", "host": "10.0.0.9"}]')
    with pytest.raises(CommandError, match="device #1"):
        call_command("import_devices", str(listed))
    assert WirelessChassis.objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_builds_a_stage_once(capsys):
    call_command("seed_demo")
    printed = capsys.readouterr().out
    assert "micboard-admin" in printed
    assert "micboard-tech" in printed
    call_command("seed_demo")
    assert "micboard-admin" not in capsys.readouterr().out  # passwords are printed once
    assert MonitoringGroup.objects.count() == 2
    assert Performer.objects.count() == 12
    priorities = set(PerformerAssignment.objects.values_list("priority", flat=True))
    assert priorities == {"low", "normal", "high", "critical"}
    assert WirelessChassis.objects.count() == sum(g.count for g in DEMO_STAGE.devices)
    assert [(c.host, c.port) for c in Charger.objects.all()] == [
        (c.host, c.port) for c in build_chargers(DEMO_STAGE)
    ]
    tech_groups = MonitoringGroup.objects.filter(users__username="tech")
    assert [g.name for g in tech_groups] == ["Main stage"]
    manual = PerformerAssignment.objects.get(wireless_unit__base_chassis__isnull=True)
    assert (manual.wireless_unit.slot, manual.performer.name) == ("IEM-G3", "Priya Raman")
    assert manual.monitoring_group.name == "Band & IEM"
    turns = MicTurn.objects.order_by("position").select_related("assignment__performer")
    assert [t.assignment.performer.name for t in turns] == ["Amara Lindqvist", "Tomás Ferreira"]


async def test_the_demo_charger_serves_its_packs_on_the_port_after_the_receivers():
    (charger,) = build_chargers(DEMO_STAGE)
    assert charger.port == DEMO_STAGE.base_port + sum(g.count for g in DEMO_STAGE.devices)
    (free,) = build_chargers(dataclasses.replace(DEMO_STAGE, base_port=0))
    await free.start()
    try:
        info = await ShureChargerClient(free.host, free.port, reply_window=0.2).discover()
    finally:
        await free.stop()
    bay_4 = info.bays[3]
    assert (bay_4.present, bay_4.charge_percent, bay_4.health_percent) == (True, 100, 96)
    assert info.bays[6].error == "007"
    assert info.bays[5].present is False


async def test_the_demo_crew_changes_packs_so_hours_of_demo_never_turn_all_red():
    # Twelve simulated hours, longer than any full pack lasts, in about 18 s; the same
    # receiver without the crew as the control.
    fast = dataclasses.replace(DEMO_STAGE, base_port=0, time_scale=2400.0)
    crewed = build_simulators(fast)[0]
    unattended = build_simulators(
        dataclasses.replace(fast, faults=dataclasses.replace(fast.faults, pack_change=0.0))
    )[0]
    assert isinstance(crewed, ShureTcpSimulator)
    assert isinstance(unattended, ShureTcpSimulator)
    for simulator in (crewed, unattended):
        await simulator.start()
    try:
        await wait_until_async(
            lambda: unattended._sim_seconds() >= 12 * 3600, 60, "twelve simulated hours"
        )
        worn = [ch.battery.percent for ch in crewed._channels if ch.tx_on]
        flat = [ch.battery.percent for ch in unattended._channels if ch.tx_on]
    finally:
        for simulator in (crewed, unattended):
            await simulator.stop()
    assert flat
    assert max(flat) < PACK_CHANGE_BELOW  # the control ran its packs down
    assert worn
    assert min(worn) > 0  # nobody went flat with the crew changing packs
    assert sum(level < PACK_CHANGE_BELOW for level in worn) < len(worn) / 2  # mostly fine
