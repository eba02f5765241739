"""SLPv2 as discovery reads it: what receivers (and our simulators) announce, and garbage."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.discovery import slp

attribute_text = st.text(
    alphabet=st.characters(min_codepoint=0x30, max_codepoint=0x7A, blacklist_characters="(),="),
    min_size=1,
    max_size=20,
)


@given(
    port=st.integers(min_value=1, max_value=65535),
    dcid=attribute_text,
    xid=st.integers(min_value=0, max_value=0xFFFF),
)
def test_an_sa_advert_gives_back_its_dcid_port_and_xid(port: int, dcid: str, xid: int) -> None:
    datagram = slp.sa_advert(xid, f"service:service-agent://10.0.0.7:{port}", {"cd": dcid})
    message = slp.parse(datagram)
    assert (message.function, message.xid) == (slp.SA_ADVERT, xid)
    assert message.dcid == dcid
    assert message.port(2202) == port


def test_without_a_port_in_the_url_the_shure_port_is_assumed() -> None:
    message = slp.parse(slp.sa_advert(1, "service:service-agent://10.0.0.7", {"cd": "X"}))
    assert message.port(2202) == 2202


def _srv_reg(url: str, attributes: str) -> bytes:
    def string(text: str) -> bytes:
        return struct.pack("!H", len(text)) + text.encode()

    url_entry = b"\0" + struct.pack("!H", 300) + string(url) + b"\0"
    body = url_entry + string("service:x") + string("DEFAULT") + string(attributes) + b"\0"
    header = struct.pack(
        "!BB3sH3sHH", 2, slp.SRV_REG, (16 + len(body)).to_bytes(3, "big"), 0, b"\0\0\0", 9, 2
    )
    return header + b"en" + body


def test_a_service_registration_is_read_too() -> None:
    message = slp.parse(_srv_reg("service:x://192.168.1.20:2202", "(cd=ABCD-1234),(band=G50)"))
    assert message.urls == ("service:x://192.168.1.20:2202",)
    assert message.attributes == {"cd": "ABCD-1234", "band": "G50"}


def test_a_message_that_is_not_slp_but_names_a_dcid_still_counts() -> None:
    """The original Micboard decodes whatever arrives and looks for `cd:`: so do we."""
    assert slp.parse(b"garbled,cd:0123-ABCD,more").dcid == "0123-ABCD"


@given(st.binary(max_size=200))
def test_garbage_is_refused_as_slp_error_and_never_crashes(datagram: bytes) -> None:
    try:
        message = slp.parse(datagram)
    except slp.SlpError:
        return
    assert message.urls or message.dcid, "a datagram read as SLP names a URL or a DCID"


@pytest.mark.parametrize("function", [slp.SRV_RQST, 4, 5, 6, 7, 9, 10])
def test_messages_without_an_announcement_are_not_sightings(function: int) -> None:
    datagram = bytearray(slp.service_request(3))
    datagram[1] = function
    with pytest.raises(slp.SlpError):
        slp.parse(bytes(datagram))


def test_our_request_is_a_multicast_srvrqst_for_service_agents() -> None:
    request = slp.service_request(77)
    assert slp.is_request(request)
    version, function, length, flags = (
        request[0],
        request[1],
        int.from_bytes(request[2:5]),
        struct.unpack("!H", request[5:7])[0],
    )
    assert (version, function, length) == (2, slp.SRV_RQST, len(request))
    assert flags & slp.FLAG_REQUEST_MCAST
    assert b"service:service-agent" in request
