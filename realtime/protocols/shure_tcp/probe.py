"""Discovery over TCP 2202: the questions to ask and what the answers say about a device.

Receivers do not all name themselves: Axient and SLX-D answer `GET MODEL`, ULX-D and
QLX-D do not (they are told apart by how many channels answer and by HIGH_DENSITY, which
only ULX-D has), and the PSM1000 gives itself away by replying `REPORT` instead of `REP`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.shure_tcp.families import (
    MODELS,
    ULX_MODEL_BY_CHANNELS,
    ModelSpec,
    spec_for_model,
)
from realtime.protocols.shure_tcp.fields import decode_frequency
from realtime.protocols.shure_tcp.parse import parse_frame

DEVICE_QUESTIONS = ("MODEL", "DEVICE_ID", "FW_VER", "RF_BAND", "HIGH_DENSITY", "DEVICE_NAME")
CHANNEL_QUESTIONS = ("CHAN_NAME", "FREQUENCY")
MAX_CHANNELS = 4
REPLY_KINDS = frozenset({"REP", "REPORT"})


class DiscoveryError(ConnectionError):
    """The device answered nothing useful, or is not a model we know."""


def probe_commands() -> bytes:
    """Return every discovery GET, each ending in CRLF.

    The PSM1000 only acts on CRLF-terminated commands; receivers split on `>` and skip
    the line break, so one set of questions serves every family.
    """
    device = [f"< GET {param} >\r\n" for param in DEVICE_QUESTIONS]
    channels = [
        f"< GET {n} {param} >\r\n"
        for n in range(1, MAX_CHANNELS + 1)
        for param in CHANNEL_QUESTIONS
    ]
    return "".join(device + channels).encode("ascii")


@dataclass(slots=True)
class ProbeReplies:
    """The answers collected so far, as raw values."""

    keywords: set[str] = field(default_factory=set)
    device: dict[str, str] = field(default_factory=dict)
    channels: dict[int, dict[str, str]] = field(default_factory=dict)

    def add(self, body: str) -> None:
        """Record one frame body if it answers a question."""
        frame = parse_frame(body)
        if frame is None or frame.kind not in REPLY_KINDS or frame.param == "ERR":
            return
        self.keywords.add(frame.kind)
        if frame.channel is None:
            self.device[frame.param] = frame.value
        elif frame.channel:
            self.channels.setdefault(frame.channel, {})[frame.param] = frame.value

    def named_channels(self) -> int:
        """Return how many channels answered CHAN_NAME."""
        return sum("CHAN_NAME" in params for params in self.channels.values())


def identify(replies: ProbeReplies) -> ModelSpec:
    """Return the model the answers describe; raise DiscoveryError if they describe none."""
    if "REPORT" in replies.keywords:
        return MODELS["P10T"]
    if "MODEL" in replies.device:
        return _model_or_fail(replies.device["MODEL"])
    named = replies.named_channels()
    if named == 1 and "HIGH_DENSITY" not in replies.device:
        return MODELS["QLXD4"]
    if named not in ULX_MODEL_BY_CHANNELS:
        raise DiscoveryError(
            "no usable answer to discovery (an SLX-D answers only once Controller Access "
            "is set to Allow on the receiver)"
        )
    return MODELS[ULX_MODEL_BY_CHANNELS[named]]


def _model_or_fail(text: str) -> ModelSpec:
    spec = spec_for_model(text)
    if spec is None:
        raise DiscoveryError(f"unsupported Shure model {text!r}; known: {', '.join(MODELS)}")
    return spec


def describe(replies: ProbeReplies, spec: ModelSpec, host: str, port: int) -> DeviceInfo:
    """Return the DeviceInfo for a device identified as `spec`."""
    device = replies.device
    return DeviceInfo(
        protocol=Protocol.SHURE_TCP,
        host=host,
        port=port,
        manufacturer="Shure",
        model=spec.name,
        name=device.get("DEVICE_ID") or device.get("DEVICE_NAME", ""),
        serial=device.get("DEVICE_ID", ""),  # the 2202 protocol carries no serial number
        firmware=device.get("FW_VER", ""),
        channels=tuple(
            _channel_info(n, replies.channels.get(n, {})) for n in range(1, spec.channels + 1)
        ),
    )


def _channel_info(number: int, params: dict[str, str]) -> ChannelInfo:
    frequency = params.get("FREQUENCY", "")
    return ChannelInfo(number, params.get("CHAN_NAME", ""), decode_frequency(frequency))
