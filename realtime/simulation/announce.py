"""Simulated receivers announce themselves the way real ones do, so discovery is tested
with real packets: Shure TCP simulators speak SLP on the group, SSC simulators register
on mDNS/DNS-SD.

Announcements leave through the simulator's own address (loopback for the demo and the
tests), with a multicast TTL of 1, so nothing reaches beyond the machine's own link; on
loopback nothing leaves the machine at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections.abc import Sequence

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from micboard.devices import DeviceInfo, Protocol
from realtime.discovery import slp
from realtime.discovery.listen import SSC_SERVICE
from realtime.simulation.base import SimulatedDevice

ANNOUNCE_EVERY = 10.0


def simulated_dcid(model: str) -> str:
    """A device class id that says it is simulated (real DCIDs come from Shure's map)."""
    return f"SIM-{model}"


class StageAnnouncer:
    """Announces every simulator of a stage until stopped."""

    def __init__(
        self,
        simulators: Sequence[SimulatedDevice],
        *,
        slp_port: int = slp.SLP_PORT,
        every: float = ANNOUNCE_EVERY,
    ) -> None:
        self._simulators = simulators
        self._slp_port = slp_port
        self._every = every
        self._zeroconf: AsyncZeroconf | None = None
        self._services: list[AsyncServiceInfo] = []
        self._transports: list[asyncio.DatagramTransport] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        infos = [simulator.device_info() for simulator in self._simulators]
        shure = [info for info in infos if info.protocol == Protocol.SHURE_TCP]
        ssc = [info for info in infos if info.protocol == Protocol.SENNHEISER_SSC]
        if shure:
            await self._start_slp(shure)
        if ssc:
            await self._start_mdns(ssc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for transport in self._transports:
            transport.close()
        if self._zeroconf is not None:
            with contextlib.suppress(Exception):
                await self._zeroconf.async_unregister_all_services()
            await self._zeroconf.async_close()

    # --- SLP ---------------------------------------------------------------------------

    async def _start_slp(self, devices: list[DeviceInfo]) -> None:
        loop = asyncio.get_running_loop()
        adverts = [(device.host, _advert(device)) for device in devices]
        interfaces = sorted({_ipv4(host) for host, _ in adverts})
        sender, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, sock=_sender_socket(interfaces[0])
        )
        responder, _ = await loop.create_datagram_endpoint(
            lambda: _Responder(adverts, interfaces),
            sock=_responder_socket(self._slp_port, interfaces),
        )
        self._transports += [sender, responder]
        self._task = asyncio.create_task(self._announce_forever(sender, adverts))

    async def _announce_forever(
        self, sender: asyncio.DatagramTransport, adverts: list[tuple[str, bytes]]
    ) -> None:
        while True:
            for _, advert in adverts:
                sender.sendto(advert, (slp.SLP_GROUP, self._slp_port))
            await asyncio.sleep(self._every)

    # --- mDNS --------------------------------------------------------------------------

    async def _start_mdns(self, devices: list[DeviceInfo]) -> None:
        interfaces = sorted({_ipv4(device.host) for device in devices})
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        for device in devices:
            instance = f"{device.model} {device.serial or device.port}"
            service = AsyncServiceInfo(
                SSC_SERVICE,
                f"{instance}.{SSC_SERVICE}",
                addresses=[socket.inet_aton(_ipv4(device.host))],
                port=device.port,
                server=f"sim-{device.serial or device.port}.local.",
            )
            await self._zeroconf.async_register_service(service)
            self._services.append(service)


class _Responder(asyncio.DatagramProtocol):
    """Answers a service agent request on the group with each receiver's SAAdvert.

    Only requests from the simulators' own network answer: a request that went out of
    another interface would be answered from (and so found at) that interface's address.
    """

    def __init__(self, adverts: list[tuple[str, bytes]], interfaces: list[str]) -> None:
        self._adverts = adverts
        self._interfaces = set(interfaces)
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if self._transport is None or not slp.is_request(data):
            return
        if addr[0] not in self._interfaces:
            return
        for _, advert in self._adverts:
            self._transport.sendto(advert, addr)


def _advert(device: DeviceInfo) -> bytes:
    # Real receivers listen on 2202; simulators share one address, so their URL names
    # the port (the listener reads it, and falls back to 2202 without one).
    url = f"{slp.SERVICE_AGENT}://{device.host}:{device.port}"
    return slp.sa_advert(0, url, {"cd": simulated_dcid(device.model), "model": device.model})


def _ipv4(host: str) -> str:
    """The IPv4 address announcements leave from: the simulator's, or loopback.

    A name (compose binds the simulator to its service name) is resolved, so the
    announcements reach the poller's container over the compose network.
    """
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.gethostbyname(host))
        except (OSError, ValueError):
            return "127.0.0.1"
    return "127.0.0.1" if address.is_unspecified else str(address)


def _sender_socket(interface: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    sock.bind((interface, 0))
    sock.setblocking(False)
    return sock


def _responder_socket(port: int, interfaces: list[str]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("", port))
    for interface in interfaces:
        membership = struct.pack(
            "4s4s", socket.inet_aton(slp.SLP_GROUP), socket.inet_aton(interface)
        )
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    sock.setblocking(False)
    return sock
