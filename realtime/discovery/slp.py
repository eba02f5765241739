"""SLPv2 (RFC 2608), only as far as discovery needs: read what receivers announce, and
build the one request that asks service agents to announce themselves.

Shure receivers multicast SLP to 239.255.254.253, UDP 8427; the original Micboard reads
the `cd:<DCID>` attribute from them. Which SLP message a receiver sends is not confirmed
(docs/devices.md), so `parse` reads every message that carries a URL and an attribute list
(SrvRply, SrvReg, DAAdvert, SAAdvert) and falls back to scanning the text for `cd:`.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SLP_GROUP = "239.255.254.253"
SLP_PORT = 8427
SLP_VERSION = 2
LANGUAGE = b"en"

SRV_RQST, SRV_RPLY, SRV_REG, DA_ADVERT, SA_ADVERT = 1, 2, 3, 8, 11
FLAG_REQUEST_MCAST = 0x2000
SERVICE_AGENT = "service:service-agent"
_HEADER = struct.Struct("!BB3sH3sHH")  # version, function, length, flags, ext, xid, lang len
_DCID = re.compile(rb"cd:([0-9A-Za-z{}\-]+)")


class SlpError(ValueError):
    """The datagram is not an SLPv2 message we can read."""


@dataclass(frozen=True, slots=True)
class SlpMessage:
    function: int
    xid: int
    urls: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def dcid(self) -> str:
        return self.attributes.get("cd", "")

    def port(self, default: int) -> int:
        """The port a URL of the message names, else `default` (2202 for Shure)."""
        for url in self.urls:
            try:
                port = urlsplit(url.removeprefix("service:").partition(":")[2]).port
            except ValueError:
                continue
            if port:
                return port
        return default


def parse(datagram: bytes) -> SlpMessage:
    """Read one datagram; raise SlpError when it is not SLPv2 nor carries `cd:`."""
    try:
        return _parse_structured(datagram)
    except (SlpError, struct.error, IndexError, UnicodeDecodeError):
        found = _DCID.search(datagram)
        if found is None:
            raise SlpError("not an SLPv2 message") from None
        return SlpMessage(function=0, xid=0, attributes={"cd": found.group(1).decode()})


def service_request(xid: int, service_type: str = SERVICE_AGENT) -> bytes:
    """A multicast SrvRqst: every service agent answers it with an SAAdvert (RFC 2608 §8.1)."""
    body = b"".join(_string(part) for part in (b"", service_type.encode(), b"DEFAULT", b"", b""))
    return _message(SRV_RQST, xid, body, FLAG_REQUEST_MCAST)


def sa_advert(xid: int, url: str, attributes: dict[str, str]) -> bytes:
    """An SAAdvert: what a service agent (here, a simulated receiver) says of itself."""
    attribute_list = ",".join(f"({key}={value})" for key, value in attributes.items())
    body = _string(url.encode()) + _string(b"DEFAULT") + _string(attribute_list.encode()) + b"\0"
    return _message(SA_ADVERT, xid, body, 0)


def is_request(datagram: bytes) -> bool:
    return len(datagram) > 1 and datagram[0] == SLP_VERSION and datagram[1] == SRV_RQST


def _message(function: int, xid: int, body: bytes, flags: int) -> bytes:
    length = _HEADER.size + len(LANGUAGE) + len(body)
    header = _HEADER.pack(
        SLP_VERSION, function, length.to_bytes(3, "big"), flags, b"\0\0\0", xid, len(LANGUAGE)
    )
    return header + LANGUAGE + body


def _string(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


def _parse_structured(datagram: bytes) -> SlpMessage:
    version, function, _, _, _, xid, lang_length = _HEADER.unpack_from(datagram)
    if version != SLP_VERSION:
        raise SlpError(f"SLP version {version}")
    reader = _Reader(datagram, _HEADER.size + lang_length)
    if function == SRV_RPLY:
        reader.skip(2)  # error code
        urls = [reader.url_entry() for _ in range(reader.short())]
        attributes = ""
    elif function == SRV_REG:
        urls = [reader.url_entry()]
        reader.string()  # service type
        reader.string()  # scope list
        attributes = reader.string()
    elif function in (DA_ADVERT, SA_ADVERT):
        if function == DA_ADVERT:
            reader.skip(6)  # error code, boot timestamp
        urls = [reader.string()]
        reader.string()  # scope list
        attributes = reader.string()
    else:
        raise SlpError(f"SLP function {function} carries no announcement")
    return SlpMessage(function, xid, tuple(urls), _attributes(attributes))


def _attributes(text: str) -> dict[str, str]:
    """`(cd=…),(x=y),flag` → {"cd": …, "x": "y", "flag": ""}; `cd:` is read as `cd=`."""
    attributes = {}
    for item in text.split(","):
        item = item.strip().strip("()")
        key, separator, value = item.partition("=")
        if not separator and item.startswith("cd:"):
            key, value = "cd", item[3:]
        if key:
            attributes[key.strip()] = value.strip()
    return attributes


class _Reader:
    def __init__(self, data: bytes, offset: int) -> None:
        self.data = data
        self.offset = offset

    def skip(self, count: int) -> None:
        self.offset += count
        if self.offset > len(self.data):
            raise SlpError("truncated")

    def short(self) -> int:
        (value,) = struct.unpack_from("!H", self.data, self.offset)
        self.offset += 2
        return int(value)

    def string(self) -> str:
        length = self.short()
        end = self.offset + length
        if end > len(self.data):
            raise SlpError("truncated")
        value = self.data[self.offset : end].decode("utf-8")
        self.offset = end
        return value

    def url_entry(self) -> str:
        self.skip(3)  # reserved, lifetime
        url = self.string()
        if self.data[self.offset]:  # URL authentication blocks: no receiver sends them
            raise SlpError("authenticated URL entries are not supported")
        self.offset += 1
        return url
