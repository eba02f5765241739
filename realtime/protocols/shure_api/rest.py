"""REST calls to one Shure System API server over one pooled httpx client."""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import quote

import httpx

from realtime.protocols.shure_api.errors import NotFoundError, ShureApiError
from realtime.protocols.shure_api.parse import (
    AudioChannel,
    BatteryLevel,
    DeviceNode,
    DeviceState,
    api_error,
    decode_json,
    parse_activity,
    parse_audio_channels,
    parse_battery_level,
    parse_device_node,
    parse_device_page,
    parse_name,
)
from realtime.protocols.shure_api.state import ChannelSnapshot, DeviceSnapshot
from realtime.protocols.shure_api.timing import SystemApiTimings

MAX_PAGES = 1000  # a server that keeps handing out cursors must not loop us forever


def device_path(device_id: str) -> str:
    """Return the REST path of one device (ids are URL-encoded)."""
    return f"v1/devices/{quote(device_id, safe='')}"


def channel_path(device_id: str, channel_id: str) -> str:
    """Return the REST path of one audio channel (base64 ids hold '/', '+' and '=')."""
    return f"{device_path(device_id)}/audio-channels/{quote(channel_id, safe='')}"


class SystemApiRest:
    """Read devices and register push subscriptions over REST."""

    def __init__(
        self,
        api_root: str,
        api_key: str,
        *,
        ssl_context: ssl.SSLContext,
        timings: SystemApiTimings,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=api_root,
            headers={"x-api-key": api_key, "accept": "application/json"},
            verify=ssl_context,
            timeout=httpx.Timeout(timings.read_timeout, connect=timings.connect_timeout),
            limits=httpx.Limits(
                max_connections=timings.max_connections,
                max_keepalive_connections=timings.max_connections,
            ),
            # The server sits on the LAN; proxy variables from the environment must not
            # reroute it.
            trust_env=False,
        )

    async def get_json(self, path: str, *, params: dict[str, str] | None = None) -> object:
        """GET a path below /api and decode the JSON answer; raise ShureApiError on errors."""
        response = await self._http.get(path, params=params)
        _raise_for_error(response)
        return decode_json(response.content) if response.content else None

    async def get_optional(self, path: str) -> object:
        """GET like `get_json`, but return None when the server answers 404."""
        try:
            return await self.get_json(path)
        except NotFoundError:
            return None

    async def post_bodiless(self, path: str) -> None:
        """POST with no body and no Content-Type; any 2xx counts as success."""
        # Never pass json=/content=: the server rejects a JSON Content-Type on an empty body.
        response = await self._http.post(path)
        _raise_for_error(response)

    async def list_devices(self) -> tuple[DeviceNode, ...]:
        """List every device the server knows, following Relay paging cursors."""
        nodes: list[DeviceNode] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = parse_device_page(await self.get_json("v1/devices", params=_after(cursor)))
            nodes.extend(page.nodes)
            cursor = page.next_cursor
            if cursor is None or cursor in seen:
                break
            seen.add(cursor)
        return tuple(nodes)

    async def resolve_device_id(self, key: str) -> str:
        """Return the deviceId for a deviceId or a serial number; raise NotFoundError if none."""
        answer = await self.get_optional(device_path(key))
        node = parse_device_node(answer) if answer is not None else None
        if node is not None:
            return node.device_id
        # Operators know a device by the serial on its label, not by its server-side uuid.
        nodes = await self.list_devices()
        match = next((n for n in nodes if key in (n.device_id, n.serial)), None)
        if match is None:
            raise NotFoundError(404, f"no device has the id or serial number {key!r}")
        return match.device_id

    async def device_snapshot(self, device_id: str) -> DeviceSnapshot:
        """Read one device's node, name, channels and live values."""
        node = parse_device_node(await self.get_json(device_path(device_id)))
        if node is None:
            raise ShureApiError(200, f"the answer for device {device_id} is not a DeviceNode")
        name, channels, battery = await asyncio.gather(
            self._device_name(node), self._channel_snapshots(node), self._battery(node)
        )
        return DeviceSnapshot(node=node, name=name, channels=channels, battery=battery)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _device_name(self, node: DeviceNode) -> str | None:
        if "name" not in node.capabilities:
            return None
        return parse_name(await self.get_optional(f"{device_path(node.device_id)}/name"))

    async def _battery(self, node: DeviceNode) -> BatteryLevel | None:
        if not node.battery_powered or node.state is not DeviceState.ONLINE:
            return None
        answer = await self.get_optional(f"{device_path(node.device_id)}/battery-level")
        return parse_battery_level(answer) if answer is not None else None

    async def _channel_snapshots(self, node: DeviceNode) -> tuple[ChannelSnapshot, ...]:
        if not node.has_audio_channels:
            return ()
        answer = await self.get_optional(f"{device_path(node.device_id)}/audio-channels")
        channels = parse_audio_channels(answer)
        return tuple(await asyncio.gather(*(self._channel_snapshot(node, ch) for ch in channels)))

    async def _channel_snapshot(self, node: DeviceNode, channel: AudioChannel) -> ChannelSnapshot:
        path = channel_path(node.device_id, channel.channel_id)
        wants_name = "name" in channel.capabilities
        wants_activity = "activity" in channel.capabilities and node.state is DeviceState.ONLINE
        name = await self.get_optional(f"{path}/name") if wants_name else None
        activity = await self.get_optional(f"{path}/activity") if wants_activity else None
        level = parse_activity(activity) if activity is not None else None
        return ChannelSnapshot(channel=channel, name=parse_name(name), activity=level)


def _after(cursor: str | None) -> dict[str, str] | None:
    return {"after": cursor} if cursor else None


def _raise_for_error(response: httpx.Response) -> None:
    error = api_error(response.status_code, response.content)
    if error is not None:
        raise error
