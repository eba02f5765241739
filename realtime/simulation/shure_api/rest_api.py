"""REST endpoints of the simulated System API server (A.2, A.3 and D.1).

Choices where the real server's behaviour is not documented: live values (activity,
battery) of a device that is not ONLINE answer 404; so does a capability the device lacks;
subscriptions answer 204 with no body.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Literal
from urllib.parse import unquote

import orjson

from realtime.protocols.shure_api.parse import DeviceState
from realtime.simulation.shure_api.devices import (
    CHANNEL_SUBSCRIPTIONS,
    DEVICE_SUBSCRIPTIONS,
    SimChannel,
    SimDevice,
)
from realtime.simulation.shure_api.https_server import HttpRequest, HttpResponse
from realtime.simulation.shure_api.push_broker import DEVICES, PushBroker, Topic

ListMode = Literal["relay", "array", "items"]
# Values only an ONLINE device can report; cached ones (names) are served regardless.
_LIVE_VALUES = frozenset({"activity", "battery-level", "battery-health"})
EMPTY_JSON_BODY = "Body cannot be empty when content-type is set to 'application/json'"


class Problem(Exception):
    """An error answer, sent as RFC 7807 problem+json like the real server's."""

    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.detail = status, title, detail

    def response(self) -> HttpResponse:
        """Return the problem as an HTTP response."""
        body = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        return HttpResponse(self.status, orjson.dumps(body), "application/problem+json")


def json_response(value: object) -> HttpResponse:
    """Return a 200 answer carrying JSON."""
    return HttpResponse(200, orjson.dumps(value))


class SimRestApi:
    """Answer REST requests from the simulated devices and the push broker."""

    def __init__(
        self,
        devices: Mapping[str, SimDevice],
        broker: PushBroker,
        *,
        api_key: str,
        page_size: int,
        list_mode: ListMode,
    ) -> None:
        self._devices = devices
        self._broker = broker
        self._api_key = api_key.encode()
        self._page_size = page_size
        self._list_mode = list_mode

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Check the request, route it and return the answer (errors as problem+json)."""
        try:
            self._check(request)
            handler, params = _route(request)
            return handler(self, params, request)
        except Problem as problem:
            return problem.response()

    def _check(self, request: HttpRequest) -> None:
        key = request.headers.get("x-api-key", "").encode()
        if not hmac.compare_digest(key, self._api_key):
            raise Problem(401, "Unauthorized", "missing or wrong x-api-key")
        if request.headers.get("content-type", "").startswith("application/json"):
            if not request.body:
                raise Problem(400, "Bad Request", EMPTY_JSON_BODY)
            try:
                orjson.loads(request.body)
            except orjson.JSONDecodeError as exc:
                raise Problem(400, "Bad Request", f"malformed JSON: {exc}") from None

    def _list_devices(self, params: list[str], request: HttpRequest) -> HttpResponse:
        nodes = [device.node_body() for device in self._devices.values()]
        if self._list_mode == "array":
            return json_response(nodes)
        if self._list_mode == "items":
            return json_response({"items": nodes})
        start = _cursor_position(request.query.get("after"))
        size = _positive_int(request.query.get("first"), self._page_size)
        return json_response(_relay_page(nodes, start, size))

    def _get_device(self, params: list[str], request: HttpRequest) -> HttpResponse:
        return json_response(self._device(params[0]).node_body())

    def _get_capabilities(self, params: list[str], request: HttpRequest) -> HttpResponse:
        return json_response(list(self._device(params[0]).capabilities))

    def _get_device_value(self, params: list[str], request: HttpRequest) -> HttpResponse:
        device = self._device(params[0])
        capability = _require(params[1], device.capabilities, _DEVICE_VALUES)
        self._require_live(device, capability)
        return json_response(_DEVICE_VALUES[capability](device))

    def _get_audio_channels(self, params: list[str], request: HttpRequest) -> HttpResponse:
        device = self._device(params[0])
        _require("audio-channels", device.capabilities)
        return json_response([channel.body() for channel in device.channels])

    def _get_channel_value(self, params: list[str], request: HttpRequest) -> HttpResponse:
        device = self._device(params[0])
        channel = self._channel(device, params[1])
        value = _require(params[2], channel.capabilities, _CHANNEL_VALUES)
        self._require_live(device, value)
        return json_response(_CHANNEL_VALUES[value](channel))

    def _subscription(self, params: list[str], request: HttpRequest) -> HttpResponse:
        *target, transport_id = params
        topic = self._topic(target)
        change = self._broker.subscribe if request.method == "POST" else self._broker.unsubscribe
        if not change(transport_id, topic):
            raise Problem(404, "Not Found", f"unknown transport {transport_id}")
        return HttpResponse(204)

    def _topic(self, target: Sequence[str]) -> Topic:
        if not target:
            return DEVICES
        device = self._device(target[0])
        if len(target) == 2:
            capability = _require(target[1], device.capabilities, DEVICE_SUBSCRIPTIONS)
            return (device.device_id, capability)
        channel = self._channel(device, target[1])
        capability = _require(target[2], channel.capabilities, CHANNEL_SUBSCRIPTIONS)
        return (device.device_id, channel.channel_id, capability)

    def _device(self, device_id: str) -> SimDevice:
        device = self._devices.get(device_id)
        if device is None:
            raise Problem(404, "Not Found", f"unknown device {device_id}")
        return device

    def _channel(self, device: SimDevice, channel_id: str) -> SimChannel:
        channel = device.channel(channel_id)
        if channel is None:
            raise Problem(404, "Not Found", f"unknown audio channel {channel_id}")
        return channel

    def _require_live(self, device: SimDevice, value: str) -> None:
        if value in _LIVE_VALUES and device.state is not DeviceState.ONLINE:
            raise Problem(404, "Not Found", f"device {device.device_id} is {device.state}")


Handler = Callable[[SimRestApi, list[str], HttpRequest], HttpResponse]

# "*" matches one path segment and is passed to the handler.
_ROUTES: tuple[tuple[str, tuple[str, ...], Handler], ...] = (
    ("GET", ("v1", "devices"), SimRestApi._list_devices),
    ("GET", ("v1", "devices", "*"), SimRestApi._get_device),
    ("GET", ("v1", "devices", "*", "capabilities"), SimRestApi._get_capabilities),
    ("GET", ("v1", "devices", "*", "audio-channels"), SimRestApi._get_audio_channels),
    ("GET", ("v1", "devices", "*", "*"), SimRestApi._get_device_value),
    ("GET", ("v1", "devices", "*", "audio-channels", "*", "*"), SimRestApi._get_channel_value),
    ("POST", ("v1", "devices", "subscription", "*"), SimRestApi._subscription),
    ("POST", ("v1", "devices", "*", "*", "subscription", "*"), SimRestApi._subscription),
    (
        "POST",
        ("v1", "devices", "*", "audio-channels", "*", "*", "subscription", "*"),
        SimRestApi._subscription,
    ),
    ("DELETE", ("v1", "devices", "subscription", "*"), SimRestApi._subscription),
    ("DELETE", ("v1", "devices", "*", "*", "subscription", "*"), SimRestApi._subscription),
    (
        "DELETE",
        ("v1", "devices", "*", "audio-channels", "*", "*", "subscription", "*"),
        SimRestApi._subscription,
    ),
)

_DEVICE_VALUES: Mapping[str, Callable[[SimDevice], object]] = {
    "name": lambda device: {"name": device.name},
    "identify": lambda device: {"identifying": device.identifying},
    "battery-level": lambda device: device.battery.level_body() if device.battery else None,
    "battery-health": lambda device: device.battery.health_body() if device.battery else None,
}
_CHANNEL_VALUES: Mapping[str, Callable[[SimChannel], object]] = {
    "name": lambda channel: {"name": channel.name},
    "gain": lambda channel: {"gain": channel.gain},
    "mute": lambda channel: {"muted": channel.muted},
    "activity": lambda channel: {"audioLevel": channel.activity.value},
}


def _route(request: HttpRequest) -> tuple[Handler, list[str]]:
    # Split before decoding: base64 channel ids arrive with '/' encoded as %2F.
    raw = request.path.split("/")
    if raw[:2] != ["", "api"]:
        raise Problem(404, "Not Found", request.path)
    segments = [unquote(segment) for segment in raw[2:]]
    for method, pattern, handler in _ROUTES:
        params = _match(pattern, segments)
        if params is not None and method == request.method:
            return handler, params
    raise Problem(404, "Not Found", f"{request.method} {request.path}")


def _match(pattern: Sequence[str], segments: Sequence[str]) -> list[str] | None:
    if len(pattern) != len(segments):
        return None
    params: list[str] = []
    for expected, actual in zip(pattern, segments, strict=True):
        if expected == "*":
            params.append(actual)
        elif expected != actual:
            return None
    return params


def _require(name: str, *allowed: Collection[str]) -> str:
    if not all(name in names for names in allowed):
        raise Problem(404, "Not Found", f"capability {name} is not supported here")
    return name


def _relay_page(nodes: list[dict[str, object]], start: int, size: int) -> dict[str, object]:
    edges = [
        {"cursor": _cursor(start + offset), "node": node}
        for offset, node in enumerate(nodes[start : start + size])
    ]
    end = start + len(edges)
    page_info = {
        "hasNextPage": end < len(nodes),
        "hasPreviousPage": start > 0,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    return {"pageInfo": page_info, "edges": edges}


def _cursor(position: int) -> str:
    return base64.b64encode(f"arrayconnection:{position}".encode()).decode("ascii")


def _cursor_position(after: str | None) -> int:
    """Return the list position just after the given cursor (0 with no cursor)."""
    if after is None:
        return 0
    try:
        _, _, position = base64.b64decode(after, validate=True).decode().partition(":")
        return int(position) + 1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Problem(400, "Bad Request", f"invalid cursor {after!r}") from None


def _positive_int(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or int(text) == 0:
        raise Problem(400, "Bad Request", f"'first' must be a positive integer, not {text!r}")
    return int(text)
