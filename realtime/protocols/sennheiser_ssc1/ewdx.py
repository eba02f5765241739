"""EW-DX receivers in legacy mode (firmware 3.x: SSCv1, JSON over UDP 45): their tree.

What we have from public sources [X: implementers' notes, see the shared protocol notes]:
meters at `/m/rxN/{rssi,rsqi,divi,af}` and the transmitter's battery at
`/mates/txN/battery/{gauge,lifetime,type}`, with the value ranges of SSCv2 (dBm, %, 0/1/2
antenna, dBFS; gauge %, lifetime minutes, type Battery/PrimaryCell); error 424 means no
transmitter; up to 8 subscribers on an EM 2. Not confirmed [S]: that N counts from 1 as
on the EM 6000; that the 424 comes in SSC's usual error form
(`{"osc": {"error": [{"mates": {"txN": {"battery": [424, …]}}}]}}`); and where the
channel name and frequency live, so they are not read here (SSCv2 reads them: an EW-DX can
be added either way). The SSCv2 decoders are reused: the values are the same.
"""

from __future__ import annotations

from typing import Any

from realtime.protocols.sennheiser_ssc.parse import (
    parse_battery,
    parse_diversity,
    parse_level,
    parse_rsqi,
    parse_rssi,
)

Changes = dict[str, object]
TX_ABSENT_CODE = 424
METERS = {"rssi": parse_rssi, "rsqi": parse_rsqi, "divi": parse_diversity, "af": parse_level}


def meter_request(channels: int) -> dict[str, Any]:
    return {"m": {f"rx{n}": None for n in range(1, channels + 1)}}


def state_request(channels: int) -> dict[str, Any]:
    return {"mates": {f"tx{n}": {"battery": None} for n in range(1, channels + 1)}}


def decode(tree: dict[str, Any], channels: int) -> tuple[dict[int, Changes], dict[int, Changes]]:
    """Return (meters, state changes) per 1-based channel from one datagram's tree."""
    meters: dict[int, Changes] = {}
    state: dict[int, Changes] = {}
    for number in range(1, channels + 1):
        node = _child(tree, "m", f"rx{number}")
        if isinstance(node, dict):
            changes: Changes = {}
            for leaf, parse in METERS.items():
                if leaf in node:
                    changes.update(parse({"value": node[leaf]}))
            if changes:
                meters[number] = changes
        battery = _child(tree, "mates", f"tx{number}", "battery")
        if isinstance(battery, dict):
            state[number] = parse_battery(battery)
    for number in _absent_transmitters(tree, channels):
        state[number] = parse_battery(None)  # TX off, battery unknown
    return meters, state


def _child(tree: object, *path: str) -> object:
    for key in path:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _absent_transmitters(tree: dict[str, Any], channels: int) -> list[int]:
    errors = _child(tree, "osc", "error")
    absent = []
    for entry in errors if isinstance(errors, list) else []:
        for number in range(1, channels + 1):
            answer = _child(entry, "mates", f"tx{number}", "battery")
            if isinstance(answer, list) and answer[:1] == [TX_ABSENT_CODE]:
                absent.append(number)
    return absent
