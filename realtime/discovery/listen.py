"""Hearing receivers: an SLP listener for Shure, a DNS-SD browser for Sennheiser.

Both report each announcement as a `Sighting` to one callback. The SLP socket joins the
group on every IPv4 interface (the original Micboard heard only the primary one), and a
second socket asks service agents to announce themselves, so receivers that announce
rarely are found in seconds. Browsing mDNS uses `zeroconf`, which both listens and asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import struct
from collections.abc import Callable, Sequence

import ifaddr
from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from micboard.devices import Protocol
from realtime.discovery import slp
from realtime.discovery.found import Sighting

logger = logging.getLogger(__name__)

SightingSink = Callable[[Sighting], None]
SHURE_TCP_PORT = 2202
SSC_SERVICE = "_ssc._tcp.local."  # SSC devices that speak TCP announce this (docs/devices.md)
MDNS_RESOLVE_MS = 3000


def ipv4_interfaces() -> list[str]:
    """Every IPv4 address of this machine, loopback included (simulators live there)."""
    addresses = {ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips}
    return sorted(address for address in addresses if isinstance(address, str))


class SlpListener(asyncio.DatagramProtocol):
    """Turns SLP datagrams heard on the group into Shure TCP sightings."""

    def __init__(self, sink: SightingSink) -> None:
        self._sink = sink

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if slp.is_request(data):
            return  # another listener asking, perhaps ourselves
        try:
            message = slp.parse(data)
        except slp.SlpError:
            return  # not every datagram on the group is an announcement
        host = str(addr[0])
        port = message.port(SHURE_TCP_PORT)
        self._sink(Sighting(Protocol.SHURE_TCP, host, port, "SLP", message.dcid))


async def listen_slp(
    sink: SightingSink,
    *,
    port: int = slp.SLP_PORT,
    interfaces: Sequence[str] = (),
    ask_every: float = 60.0,
) -> None:
    """Listen on the SLP group (and ask now and then) until cancelled.

    `interfaces` are the IPv4 addresses to listen and ask on; empty: all of them.
    """
    loop = asyncio.get_running_loop()
    interfaces = list(interfaces) or ipv4_interfaces()
    listener, _ = await loop.create_datagram_endpoint(
        lambda: SlpListener(sink), sock=_group_socket(port, interfaces)
    )
    asker, _ = await loop.create_datagram_endpoint(
        lambda: SlpListener(sink), local_addr=("0.0.0.0", 0)
    )
    try:
        while True:
            _ask(asker, port, interfaces)
            await asyncio.sleep(ask_every)
    finally:
        listener.close()
        asker.close()


def _group_socket(port: int, interfaces: Sequence[str]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    # Shared: a simulator, another poller or the original Micboard may listen here too.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("", port))
    group = socket.inet_aton(slp.SLP_GROUP)
    for address in interfaces:
        try:
            membership = struct.pack("4s4s", group, socket.inet_aton(address))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError as error:
            logger.info("SLP: cannot join %s on %s: %s", slp.SLP_GROUP, address, error)
    sock.setblocking(False)
    return sock


def _ask(transport: asyncio.DatagramTransport, port: int, interfaces: Sequence[str]) -> None:
    """Send one SrvRqst for service agents out of every interface."""
    sock = transport.get_extra_info("socket")
    request = slp.service_request(secrets.randbelow(0xFFFF))
    for address in interfaces:
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
            transport.sendto(request, (slp.SLP_GROUP, port))
        except OSError as error:
            logger.info("SLP: cannot ask on %s: %s", address, error)


async def browse_mdns(sink: SightingSink, *, interfaces: Sequence[str] = ()) -> None:
    """Browse DNS-SD for SSC receivers until cancelled (on `interfaces`; empty: all)."""
    aiozc = AsyncZeroconf(
        interfaces=list(interfaces) or ipv4_interfaces(), ip_version=IPVersion.V4Only
    )
    pending: set[asyncio.Task[None]] = set()

    def changed(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            return  # a receiver that goes quiet drops off by age, like an SLP one
        task = asyncio.create_task(_resolve(aiozc, service_type, name, sink))
        pending.add(task)
        task.add_done_callback(pending.discard)

    browser = AsyncServiceBrowser(aiozc.zeroconf, SSC_SERVICE, handlers=[changed])
    try:
        await asyncio.Event().wait()
    finally:
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await browser.async_cancel()
        await aiozc.async_close()


async def _resolve(aiozc: AsyncZeroconf, service_type: str, name: str, sink: SightingSink) -> None:
    info = AsyncServiceInfo(service_type, name)
    if not await info.async_request(aiozc.zeroconf, MDNS_RESOLVE_MS):
        return
    addresses = info.parsed_addresses(IPVersion.V4Only)
    if addresses and info.port:
        hint = name.removesuffix("." + service_type)
        sink(Sighting(Protocol.SENNHEISER_SSC, addresses[0], info.port, "mDNS", hint))
