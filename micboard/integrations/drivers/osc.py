"""The OSC output: one UDP message per event, for consoles and show control.

Each event kind has an address pattern and typed arguments, written as one line:
`/micboard/{group}/{slot}/battery i:{to_bars} f:{percent}`. Placeholders name the event's
fields (group, slot, performer, ...) or its payload's keys; a type letter says how the
value goes on the wire (i int32, f float32, s string), and a value the event does not
have goes as OSC nil, never as a made-up number. An empty line sends nothing for that kind.
"""

from __future__ import annotations

import asyncio
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from pythonosc.osc_message_builder import OscMessageBuilder

from micboard.integrations.types import (
    EVENT_LABELS,
    DeliveryResult,
    OutputConfig,
    OutputEvent,
    OutputEventKind,
)

KIND = "osc"
# The default pattern of each event kind (docs/integrations.md has the table).
DEFAULT_PATTERNS: dict[str, str] = {
    OutputEventKind.ALERT_RAISED: "/micboard/{group}/{slot}/alert s:{alert_kind} s:{severity} i:1",
    OutputEventKind.ALERT_ACKNOWLEDGED: "/micboard/{group}/{slot}/alert/ack s:{alert_kind}",
    OutputEventKind.ALERT_RESOLVED: (
        "/micboard/{group}/{slot}/alert s:{alert_kind} s:{severity} i:0"
    ),
    OutputEventKind.UNIT_OFFLINE: "/micboard/{group}/{slot}/online i:0",
    OutputEventKind.UNIT_ONLINE: "/micboard/{group}/{slot}/online i:1",
    OutputEventKind.BATTERY_STEP: "/micboard/{group}/{slot}/battery i:{to_bars} f:{percent}",
    OutputEventKind.DROPOUT: "/micboard/{group}/{slot}/dropout f:{rf_a} f:{rf_b}",
    OutputEventKind.TEST: "/micboard/{group}/test i:1",
}
LABELS = {**EVENT_LABELS, OutputEventKind.TEST: "Test event"}
ARG_TYPES = frozenset("ifs")  # int32, float32, string: what consoles take
# Characters with a meaning in OSC addresses (patterns, separators) or none at all.
_ADDRESS_UNSAFE = re.compile(r"[\s#*,/?\[\]{}]+")
_FORMATTER = string.Formatter()


def field_name(kind: str) -> str:
    return "pattern_" + kind.replace(".", "_")


@dataclass(frozen=True, slots=True)
class Argument:
    type: str  # "i", "f" or "s"
    template: str  # a literal, or text with placeholders


@dataclass(frozen=True, slots=True)
class Pattern:
    address: str
    arguments: tuple[Argument, ...]

    @classmethod
    def parse(cls, line: str) -> Pattern:
        """Read one pattern line; raise ValueError, in words, when it is malformed."""
        address, *words = line.split()
        if not address.startswith("/"):
            raise ValueError(f"the address must start with /, not {address!r}")
        placeholders(address)
        arguments = []
        for word in words:
            type_, colon, template = word.partition(":")
            if not colon or type_ not in ARG_TYPES:
                raise ValueError(f"{word!r} is not i:…, f:… or s:…")
            names = placeholders(template)
            if not names and type_ != "s":
                _convert(type_, template)  # a literal number must be one
            arguments.append(Argument(type_, template))
        return cls(address, tuple(arguments))

    def message(self, values: Mapping[str, Any]) -> bytes:
        """Return the OSC message for one event's values; ValueError if a value cannot
        take its argument's type."""
        address = _fill(self.address, values, address_safe=True)
        builder = OscMessageBuilder(address=address)
        for argument in self.arguments:
            value = _argument_value(argument, values)
            builder.add_arg(value, "N" if value is None else argument.type)
        return builder.build().dgram


def placeholders(template: str) -> list[str]:
    """Return the placeholder names of a template; ValueError if its braces are unbalanced."""
    try:
        names = [name for _, name, _, _ in _FORMATTER.parse(template) if name is not None]
    except ValueError:
        raise ValueError(f"the braces of {template!r} do not pair up") from None
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"{{{name}}} is not a placeholder name")
    return names


def _fill(template: str, values: Mapping[str, Any], *, address_safe: bool = False) -> str:
    parts = []
    for literal, name, _, _ in _FORMATTER.parse(template):
        parts.append(literal)
        if name is not None:
            text = "" if values.get(name) is None else str(values[name])
            if address_safe:  # a value must stay one level, and a level is never empty
                text = _ADDRESS_UNSAFE.sub("-", text).strip("-") or "-"
            parts.append(text)
    return "".join(parts)


def _argument_value(argument: Argument, values: Mapping[str, Any]) -> int | float | str | None:
    names = placeholders(argument.template)
    if len(names) == 1 and argument.template == f"{{{names[0]}}}":
        value = values.get(names[0])
        return None if value is None else _convert(argument.type, value)
    return _convert(argument.type, _fill(argument.template, values))


def _convert(type_: str, value: Any) -> int | float | str:
    if type_ == "s":
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    return round(number) if type_ == "i" else number


def event_values(event: OutputEvent) -> dict[str, Any]:
    """Return what placeholders may name: the event's payload, then its own fields."""
    return {
        **{str(key): value for key, value in event.payload.items()},
        "kind": event.kind,
        "organization": event.organization_slug,
        "group": event.group_name,
        "group_id": event.group_id,
        "slot": event.unit_slot or None,
        "unit": event.unit_name or event.unit_slot or None,
        "unit_id": event.unit_id,
        "performer": event.performer,
    }


def _pattern_field(kind: str) -> forms.CharField:
    return forms.CharField(
        max_length=300,
        required=False,
        initial=DEFAULT_PATTERNS[kind],
        label=f"{LABELS[kind]}: address and arguments",
        help_text="Empty: send nothing for this event.",
    )


class OscConfigForm(forms.Form):
    # Labels are explicit: the outputs page names these fields with a prefix of its own.
    host = forms.CharField(
        label="Host", max_length=255, help_text="The console's or show controller's address."
    )
    port = forms.IntegerField(
        label="Port", min_value=1, max_value=65535, help_text="Companion: 12321; QLab: 53000."
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for kind, default in DEFAULT_PATTERNS.items():
            name = field_name(kind)
            # Not given at all (a service call, an older output): the default. Given
            # empty (a field cleared on the page): nothing is sent for that kind.
            given = self.add_prefix(name) in self.data
            line = str(cleaned.get(name) or "").strip() if given else default
            cleaned[name] = line
            if line:
                try:
                    Pattern.parse(line)
                except ValueError as error:
                    self.add_error(name, str(error))
        return cleaned


for _kind in DEFAULT_PATTERNS:
    OscConfigForm.base_fields[field_name(_kind)] = _pattern_field(_kind)


def pattern_for(output: OutputConfig, kind: str) -> Pattern | None:
    """Return the output's pattern for an event kind (the default when never set)."""
    line = output.config.get(field_name(kind), DEFAULT_PATTERNS.get(kind, ""))
    return Pattern.parse(line) if line else None


class OscDriver:
    kind: ClassVar[str] = KIND
    label: ClassVar[str] = "OSC (consoles, show control)"
    config_form: ClassVar[type[forms.Form]] = OscConfigForm
    secret_fields: ClassVar[dict[str, bool]] = {}  # OSC has no authentication

    async def deliver(self, event: OutputEvent, output: OutputConfig) -> DeliveryResult:
        try:
            pattern = pattern_for(output, event.kind)
            if pattern is None:
                return DeliveryResult(True)  # this output sends nothing for the kind
            message = pattern.message(event_values(event))
        except ValueError as error:
            return DeliveryResult(False, error=f"cannot build the message: {error}")
        host, port = str(output.config["host"]), int(output.config["port"])
        try:
            await send_datagram(host, port, message)
        except OSError as error:
            reason = error.strerror or str(error)
            return DeliveryResult(False, error=f"cannot send to {host}:{port}: {reason}")
        return DeliveryResult(True)

    async def close(self) -> None:
        """Nothing to let go of: each message opens and closes its own socket."""


async def send_datagram(host: str, port: int, message: bytes) -> None:
    """Send one UDP datagram (UDP never waits for the receiver)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=(host, port)
    )
    try:
        transport.sendto(message)
    finally:
        transport.close()
