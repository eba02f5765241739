"""The Devices page as an admin uses it: live health with reasons, add by address (probe a
real simulator first), discovered receivers, edit, remove, export and import."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from micboard.devices import Protocol
from micboard.models import PerformerAssignment, WirelessChassis, WirelessUnit
from realtime import keys
from realtime.discovery.found import FoundDevice, Sighting
from realtime.poller.device_health import DeviceHealth
from realtime.simulation.sennheiser_ew import SennheiserEwSimulator
from tests.conftest import free_port
from tests.dashboard.conftest import HTMX, Show
from tests.e2e.live import SimulatorThread

pytestmark = pytest.mark.usefixtures("live_settings")


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    running = SimulatorThread("ULXD4D")
    yield running
    running.stop()


def _redis(settings: object) -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)  # type: ignore[attr-defined]


def _write_health(settings: object, chassis: WirelessChassis, health: DeviceHealth) -> None:
    _redis(settings).hset(keys.device_health(), str(chassis.pk), health.to_json())


def _chassis(show: Show) -> WirelessChassis:
    return show.units[0].base_chassis


def test_a_tech_cannot_open_the_devices_page(tech_a: Client) -> None:
    assert tech_a.get(reverse("devices")).status_code == 403


def test_the_admin_sees_each_receiver_with_its_health_in_words(
    admin: Client, show: Show, live_settings: object
) -> None:
    now = time.time()
    _write_health(
        live_settings,
        _chassis(show),
        DeviceHealth(online=False, reason="connection refused", since=now - 90, last_seen=now - 95),
    )
    page = admin.get(reverse("devices")).content.decode()
    assert "RX rack 1" in page
    assert "Offline: connection refused" in page
    assert "1\xa0minute" in page  # offline for 1 minute, last seen a minute and a half ago


def test_a_receiver_nobody_reads_yet_says_so_and_a_silent_one_is_not_online(
    admin: Client, show: Show, live_settings: object
) -> None:
    table = reverse("device-table")
    assert "Waiting for a poller" in admin.get(table, **HTMX).content.decode()
    stale = time.time() - 30
    _write_health(
        live_settings, _chassis(show), DeviceHealth(online=True, since=stale, last_seen=stale)
    )
    assert "No answer for 30 s" in admin.get(table, **HTMX).content.decode()


def test_adding_by_address_probes_the_receiver_and_shows_it_before_saving(
    admin: Client, show: Show, simulator: SimulatorThread
) -> None:
    before = WirelessChassis.objects.count()
    probe = admin.post(
        reverse("device-probe"),
        {"protocol": "shure_tcp", "host": "127.0.0.1", "port": simulator.port},
        **HTMX,
    )
    page = probe.content.decode()
    assert "Found Shure ULXD4D" in page
    assert "2 channels" in page
    assert WirelessChassis.objects.count() == before  # nothing saved before the confirm
    token = probe.context["add_form"].initial["probed"]
    added = admin.post(
        reverse("device-add"),
        {"probed": token, "name": "Stage left rack", "meter_interval_ms": "250"},
        **HTMX,
    )
    assert "Stage left rack was added with 2 channels" in added.content.decode()
    assert added["HX-Trigger"] == "devices-changed"
    chassis = WirelessChassis.objects.get(name="Stage left rack")
    assert (chassis.port, chassis.model, chassis.meter_interval_ms) == (
        simulator.port,
        "ULXD4D",
        250,
    )
    assert WirelessUnit.objects.filter(base_chassis=chassis).count() == 2


def test_an_evolution_wireless_g4_receiver_is_probed_and_added_over_udp(
    admin: Client, show: Show
) -> None:
    g4 = SimulatorThread(simulator=SennheiserEwSimulator(name="VOX 7", frequency_khz=614_500))
    try:
        probe = admin.post(
            reverse("device-probe"),
            {"protocol": "sennheiser_ew", "host": "127.0.0.1", "port": g4.port},
            **HTMX,
        )
        assert "Found Sennheiser EM 300-500 G4" in probe.content.decode()
        token = probe.context["add_form"].initial["probed"]
        added = admin.post(reverse("device-add"), {"probed": token, "name": "EW rack"}, **HTMX)
    finally:
        g4.stop()
    assert "EW rack was added with 1 channel" in added.content.decode()
    chassis = WirelessChassis.objects.get(name="EW rack")
    assert (chassis.protocol, chassis.port) == (Protocol.SENNHEISER_EW, g4.port)


def test_a_changed_probe_result_is_refused(
    admin: Client, show: Show, simulator: SimulatorThread
) -> None:
    probe = admin.post(
        reverse("device-probe"),
        {"protocol": "shure_tcp", "host": "127.0.0.1", "port": simulator.port},
        **HTMX,
    )
    token = probe.context["add_form"].initial["probed"]
    payload, _, signature = token.rpartition(":")
    forged = f"{payload}:{signature[::-1]}"
    response = admin.post(reverse("device-add"), {"probed": forged}, **HTMX)
    assert "too old or was changed" in response.content.decode()
    assert not WirelessChassis.objects.filter(port=simulator.port).exists()


def test_a_probe_that_finds_nothing_says_why(admin: Client, show: Show) -> None:
    closed = free_port()
    response = admin.post(
        reverse("device-probe"),
        {"protocol": "shure_tcp", "host": "127.0.0.1", "port": closed},
        **HTMX,
    )
    assert (
        f"127.0.0.1:{closed} could not be identified: connection refused."
        in response.content.decode()
    )


def test_a_system_api_device_needs_its_id(admin: Client, show: Show) -> None:
    response = admin.post(
        reverse("device-probe"), {"protocol": "shure_api", "host": "10.0.0.5"}, **HTMX
    )
    assert "fronts many devices" in response.content.decode()


def _found(info_port: int | None, *, serial: str = "", port: int = 23001) -> FoundDevice:
    from micboard.devices import ChannelInfo, DeviceInfo

    sighting = Sighting(Protocol.SHURE_TCP, "127.0.0.1", port, "SLP", "SIM-ULXD4D")
    info = None
    if info_port is not None:
        info = DeviceInfo(
            Protocol.SHURE_TCP,
            "127.0.0.1",
            info_port,
            "Shure",
            "ULXD4D",
            "RXNEW",
            serial or "RXNEW",
            "2.7",
            (ChannelInfo(1, "Vox"), ChannelInfo(2, "Gtr")),
        )
    now = time.time()
    return FoundDevice(sighting, now, now, now, info, "" if info else "timed out")


def _put_found(settings: object, found: FoundDevice) -> None:
    _redis(settings).hset(keys.found_devices(), found.sighting.address_key, found.to_json())


def test_a_discovered_receiver_is_added_with_one_click_and_leaves_the_list(
    admin: Client, show: Show, live_settings: object
) -> None:
    found = _found(23001)
    _put_found(live_settings, found)
    listing = admin.get(reverse("device-discovered"), **HTMX).content.decode()
    assert "127.0.0.1:23001" in listing
    assert "ULXD4D" in listing
    response = admin.post(reverse("device-add-found"), {"key": found.sighting.address_key}, **HTMX)
    assert "RXNEW was added with 2 channels" in response.content.decode()
    assert "127.0.0.1:23001</td>" not in response.content.decode()
    assert WirelessChassis.objects.filter(port=23001, serial="RXNEW").exists()


def test_an_ignored_receiver_stays_off_the_list(
    admin: Client, show: Show, live_settings: object
) -> None:
    found = _found(23002, port=23002, serial="RXIGN")
    _put_found(live_settings, found)
    admin.post(reverse("device-ignore"), {"key": found.sighting.address_key}, **HTMX)
    assert "127.0.0.1:23002" not in admin.get(reverse("device-discovered"), **HTMX).content.decode()
    assert not WirelessChassis.objects.filter(port=23002).exists()


def test_a_receiver_that_could_not_be_probed_cannot_be_added_blind(
    admin: Client, show: Show, live_settings: object
) -> None:
    found = _found(None, port=23003)
    _put_found(live_settings, found)
    assert (
        "Could not identify it: timed out"
        in admin.get(reverse("device-discovered"), **HTMX).content.decode()
    )
    response = admin.post(reverse("device-add-found"), {"key": found.sighting.address_key}, **HTMX)
    assert "add it by address" in response.content.decode()
    assert not WirelessChassis.objects.filter(port=23003).exists()


def test_an_unknown_discovered_key_is_404(admin: Client, show: Show) -> None:
    assert (
        admin.post(reverse("device-add-found"), {"key": "shure_tcp|10.9.9.9|2202"}).status_code
        == 404
    )


def test_discovery_is_hidden_from_tenant_admins_when_tenants_share_a_poller(
    admin: Client, show: Show, live_settings: object, settings: object
) -> None:
    settings.MICBOARD_MULTI_TENANT = True  # type: ignore[attr-defined]
    found = _found(23004, port=23004)
    _put_found(live_settings, found)
    show.admin.profile.organization = show.group_a.organization
    show.admin.profile.save()
    page = admin.get(reverse("devices")).content.decode()
    assert "Discovered on the network" not in page
    assert (
        admin.post(reverse("device-add-found"), {"key": found.sighting.address_key}).status_code
        == 404
    )


def test_editing_the_meter_interval_checks_the_range(admin: Client, show: Show) -> None:
    chassis = _chassis(show)
    url = reverse("device-edit", args=[chassis.pk])
    refused = admin.post(url, {"name": chassis.name, "meter_interval_ms": "50"})
    assert "greater than or equal to 100" in refused.content.decode()
    admin.post(url, {"name": "Rack A", "meter_interval_ms": "1000"})
    chassis.refresh_from_db()
    assert (chassis.name, chassis.meter_interval_ms) == ("Rack A", 1000)


def test_removing_says_first_who_loses_their_mic(admin: Client, show: Show) -> None:
    chassis = _chassis(show)
    url = reverse("device-delete", args=[chassis.pk])
    page = admin.get(url).content.decode()
    assert "5 units" in page
    assert "3 assignments" in page
    assert "Bob Jones, Carla Diaz, Jane Smith lose their mic" in page
    admin.post(url)
    assert not WirelessChassis.objects.filter(pk=chassis.pk).exists()
    assert not PerformerAssignment.objects.exists()


def test_export_then_import_updates_instead_of_adding_twice(admin: Client, show: Show) -> None:
    exported = admin.get(reverse("device-export"))
    assert exported["Content-Type"] == "application/json"
    listed = json.loads(exported.content)
    assert [d["name"] for d in listed] == ["RX rack 1"]
    listed[0]["meter_interval_ms"] = 500
    upload = SimpleUploadedFile("anything.exe", json.dumps(listed).encode(), "image/png")
    response = admin.post(reverse("device-import"), {"file": upload}, follow=True)
    assert "Imported 1 receiver: 0 new, 1 updated." in response.content.decode()
    assert WirelessChassis.objects.count() == 1
    assert WirelessChassis.objects.get().meter_interval_ms == 500


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", "not JSON"),
        (b'[{"protocol": "shure_tcp", "host": "10.0.0.1"}]', "device #1: missing &#x27;port&#x27;"),
        (b'[{"protocol": "carrier_pigeon", "host": "x", "port": 1, "model": "m"}]', "device #1"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_bad_device_list_imports_nothing_and_says_why(
    admin: Client, show: Show, content: bytes, words: str
) -> None:
    response = admin.post(reverse("device-import"), {"file": SimpleUploadedFile("d.json", content)})
    assert words in response.content.decode()
    assert WirelessChassis.objects.count() == 1


def test_the_page_still_lists_receivers_when_redis_is_gone(
    admin: Client, show: Show, settings: object
) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # type: ignore[attr-defined]
    page = admin.get(reverse("devices")).content.decode()
    assert "RX rack 1" in page
    assert "Unknown: the live store is unreachable" in page
