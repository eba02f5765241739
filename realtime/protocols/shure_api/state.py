"""The merged live state of one System API device and the Readings it produces.

Mapping to `Reading` (the System API has no RF and no receiver battery data):

- rx_reachable: the server answers and the device is ONLINE (OFFLINE/DISCOVERED -> False).
- audio: the per-channel activity class via `AUDIO_BY_ACTIVITY` (CLIPPING also sets
  audio_clipped); None until the first activity value.
- battery_percent / battery_minutes: only for battery-powered devices (ULXD6/ULXD8 packs,
  chargers), from battery-level; minutes only while discharging, because while charging
  `timeToTargetState` is the time to full, not runtime.
- channel_name: the audio channel's name; a device without audio channels (a pack) is one
  channel, number 1, named after the device, with tx_model set to the pack's model.
- Everything else stays None: the device does not report it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.base import Reading
from realtime.protocols.shure_api.parse import (
    AUDIO_BY_ACTIVITY,
    ActivityLevel,
    AudioChannel,
    BatteryLevel,
    DeviceNode,
    DeviceState,
    PushEvent,
    parse_activity,
    parse_battery_level,
    parse_device_node,
    parse_name,
)


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """One audio channel as read over REST."""

    channel: AudioChannel
    name: str | None = None
    activity: ActivityLevel | None = None


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    """Everything a REST refresh reads about one device."""

    node: DeviceNode
    name: str | None = None
    channels: tuple[ChannelSnapshot, ...] = ()
    battery: BatteryLevel | None = None


@dataclass(slots=True)
class ChannelState:
    """The merged state of one receive channel."""

    number: int
    channel_id: str | None = None  # None for the single channel of a channel-less device
    name: str | None = None
    activity: ActivityLevel | None = None


def number_channels(channels: Iterable[ChannelSnapshot]) -> dict[int, ChannelSnapshot]:
    """Number channels 1-based from the index in their ids, or by list order if unusable."""
    ordered = list(channels)
    indexes = [item.channel.index for item in ordered if item.channel.index is not None]
    if len(indexes) != len(ordered) or len(set(indexes)) != len(indexes):
        return {position + 1: item for position, item in enumerate(ordered)}
    return {index + 1: item for index, item in zip(indexes, ordered, strict=True)}


@dataclass(slots=True)
class LiveDevice:
    """Merge REST snapshots and push events for one device into per-channel Readings."""

    node: DeviceNode | None = None
    name: str | None = None
    battery: BatteryLevel | None = None
    server_reachable: bool = False
    channels: dict[int, ChannelState] = field(default_factory=dict)

    @property
    def online(self) -> bool:
        """Tell whether the server answers and reports the device ONLINE."""
        node = self.node
        return self.server_reachable and node is not None and node.state is DeviceState.ONLINE

    def load(self, snapshot: DeviceSnapshot) -> None:
        """Replace the whole state with a fresh REST snapshot."""
        self.node, self.name, self.battery = snapshot.node, snapshot.name, snapshot.battery
        self.server_reachable = True
        self.channels = {
            number: ChannelState(number, item.channel.channel_id, item.name, item.activity)
            for number, item in number_channels(snapshot.channels).items()
        }
        if not self.channels and snapshot.node.battery_powered:
            self.channels = {1: ChannelState(1, name=snapshot.name)}

    def mark_server_unreachable(self) -> None:
        """Record that the server stopped answering; live values become unknown."""
        self.server_reachable = False
        self._forget_live_values()

    def apply(self, event: PushEvent) -> list[int]:
        """Merge one push event; return the numbers of the channels whose Reading changed."""
        handler = _EVENT_HANDLERS.get(event.name)
        return handler(self, event) if handler is not None else []

    def readings(self, numbers: Iterable[int] | None = None) -> list[Reading]:
        """Build the merged Reading of the given channels (default: all)."""
        wanted = sorted(self.channels) if numbers is None else numbers
        return [self._reading(self.channels[number]) for number in wanted]

    def device_info(self, host: str, port: int) -> DeviceInfo:
        """Describe the device as discovery reports it."""
        node = self.node
        channels = tuple(
            ChannelInfo(number=number, name=self.channels[number].name or "")
            for number in sorted(self.channels)
        )
        return DeviceInfo(
            protocol=Protocol.SHURE_API,
            host=host,
            port=port,
            manufacturer="Shure",
            model=node.model if node else "",
            name=self.name or "",
            serial=node.serial if node else "",
            firmware=node.firmware if node else "",
            channels=channels,
        )

    def _reading(self, channel: ChannelState) -> Reading:
        live = self.online
        audio = AUDIO_BY_ACTIVITY[channel.activity] if live and channel.activity else None
        battery = self.battery if live else None
        return Reading(
            channel=channel.number,
            rx_reachable=live,
            channel_name=channel.name,
            tx_model=self.node.model if self.node and self.node.battery_powered else None,
            audio_rms_dbfs=audio.rms_dbfs if audio else None,
            audio_peak_dbfs=audio.peak_dbfs if audio else None,
            audio_clipped=audio.clipped if audio else False,
            battery_percent=battery.percentage if battery else None,
            battery_minutes=battery.runtime_minutes if battery else None,
        )

    def _forget_live_values(self) -> None:
        self.battery = None
        for channel in self.channels.values():
            channel.activity = None

    def _channel_for(self, event: PushEvent) -> ChannelState | None:
        return next(
            (ch for ch in self.channels.values() if ch.channel_id == event.audio_channel_id),
            None,
        )

    def _on_state_change(self, event: PushEvent) -> list[int]:
        node = parse_device_node(event.body)
        if node is None:
            return []
        self.node = node
        if node.state is not DeviceState.ONLINE:
            self._forget_live_values()
        return sorted(self.channels)

    def _on_device_name(self, event: PushEvent) -> list[int]:
        self.name = parse_name(event.body) or self.name
        single = self.channels.get(1)
        if single is None or single.channel_id is not None:
            return []  # a receiver's name is not a channel name
        single.name = self.name
        return [1]

    def _on_battery_level(self, event: PushEvent) -> list[int]:
        self.battery = parse_battery_level(event.body) or self.battery
        return sorted(self.channels)

    def _on_channel_activity(self, event: PushEvent) -> list[int]:
        channel = self._channel_for(event)
        level = parse_activity(event.body)
        if channel is None or level is None:
            return []
        channel.activity = level
        return [channel.number]

    def _on_channel_name(self, event: PushEvent) -> list[int]:
        channel = self._channel_for(event)
        name = parse_name(event.body)
        if channel is None or name is None:
            return []
        channel.name = name
        return [channel.number]


_EVENT_HANDLERS: Mapping[str, Callable[[LiveDevice, PushEvent], list[int]]] = {
    "DEVICE_STATE_CHANGE": LiveDevice._on_state_change,
    "DEVICE_NAME": LiveDevice._on_device_name,
    "DEVICE_BATTERY_LEVEL": LiveDevice._on_battery_level,
    "AUDIO_CHANNEL_ACTIVITY": LiveDevice._on_channel_activity,
    "AUDIO_CHANNEL_NAME": LiveDevice._on_channel_name,
}
