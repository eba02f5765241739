"""Which protocol client reads a device: chosen by `WirelessChassis.protocol`.

Credentials for the HTTPS families come from settings (they are per site, not per
device): MICBOARD_SHURE_API_KEY, MICBOARD_SSC_PASSWORD and MICBOARD_DEVICE_TLS_VERIFY.
A System API device is addressed by its server (host:port) and its device id (`serial`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from micboard.devices import Protocol
from realtime.poller.topology import ChassisInfo
from realtime.protocols.base import DeviceClient

ClientFactory = Callable[[ChassisInfo], DeviceClient]


def default_client_factory(chassis: ChassisInfo) -> DeviceClient:
    """Return a new client for the device; raise ValueError for an unknown protocol."""
    make = _FACTORIES.get(chassis.protocol)
    if make is None:
        raise ValueError(f"no client for protocol {chassis.protocol!r}")
    return make(chassis)


def _shure_tcp(chassis: ChassisInfo) -> DeviceClient:
    from realtime.protocols.shure_tcp.client import ShureTcpClient
    from realtime.protocols.shure_tcp.families import spec_for_model

    # A known model saves the client a probe; an unknown one is worked out on connect.
    model = chassis.model if spec_for_model(chassis.model) else None
    if chassis.meter_interval_ms is None:
        return ShureTcpClient(chassis.host, chassis.port, model=model)
    return ShureTcpClient(
        chassis.host, chassis.port, model=model, meter_interval_ms=chassis.meter_interval_ms
    )


def _shure_api(chassis: ChassisInfo) -> DeviceClient:
    from realtime.protocols.shure_api.client import ShureSystemApiClient

    return ShureSystemApiClient.connect(
        f"https://{chassis.host}:{chassis.port}",
        settings.MICBOARD_SHURE_API_KEY,
        chassis.serial,
        verify=settings.MICBOARD_DEVICE_TLS_VERIFY,
    )


def _sennheiser_ssc(chassis: ChassisInfo) -> DeviceClient:
    from realtime.protocols.sennheiser_ssc.client import SennheiserSscClient

    return SennheiserSscClient(
        chassis.host,
        chassis.port,
        password=settings.MICBOARD_SSC_PASSWORD,
        verify=settings.MICBOARD_DEVICE_TLS_VERIFY,
    )


def _sennheiser_ew(chassis: ChassisInfo) -> DeviceClient:
    from realtime.protocols.sennheiser_ew.client import SennheiserEwClient

    return SennheiserEwClient(chassis.host, chassis.port, model=chassis.model or None)


def _sennheiser_ssc1(chassis: ChassisInfo) -> DeviceClient:
    from realtime.protocols.sennheiser_ssc1.client import SennheiserSsc1Client

    model = chassis.model or None
    if chassis.meter_interval_ms is None:
        return SennheiserSsc1Client(chassis.host, chassis.port, model=model)
    return SennheiserSsc1Client(
        chassis.host, chassis.port, model=model, meter_interval_ms=chassis.meter_interval_ms
    )


_FACTORIES: dict[str, ClientFactory] = {
    Protocol.SHURE_TCP: _shure_tcp,
    Protocol.SHURE_API: _shure_api,
    Protocol.SENNHEISER_SSC: _sennheiser_ssc,
    Protocol.SENNHEISER_EW: _sennheiser_ew,
    Protocol.SENNHEISER_SSC1: _sennheiser_ssc1,
}
