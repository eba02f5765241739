"""Turn Shure networked charger frames (TCP 2202 command strings) into bay states.

The chargers frame like the receivers (`< REP 3 BATT_CHARGE 087 >`, split on `>`; the
splitter and tokenizer are `shure_tcp.parse`'s) and report every bay change unasked, e.g.
`BATT_TIME_TO_FULL` minute by minute [V: Shure's SBC220/240 and SBC840 command-string
pages, "Conventions"]. What each bay parameter means, and how sure we are:

- `BATT_DETECTED YES|NO`: a pack is in the bay [X: an open client's verbatim SBC220 dump].
- `BATT_CHARGE 000-100` %, `BATT_HEALTH 000-100` % of design capacity; 251..255 unknown
  (the dump shows 254 on a faulted pack) [X].
- `BATT_CYCLE 00000-65532`; 65533..65535 unknown [X: 65534 in the dump].
- `BATT_TIME_TO_FULL 00000-65532` minutes; 65529 (seen on a full bay) and 65533..65535 are
  "not charging / not known", never zero minutes [S: one client's capture, and the
  receivers' table that names 65533 "not on charger" and 65534 "fully charged"; anything
  above 65528 reads as None].
- `BATT_TEMP_C ddd` °C as a plain number [S: no offset documented in what we read];
  251..255 unknown. `BATT_TEMP_F` is ignored (C carries the same).
- `BATT_STATE` a word (FULL, CHARGING, ERROR, …) [X: FULL and ERROR in the dump; the rest
  of the list is not confirmed, so any word is kept as it is].
- `BATT_ERROR nnn`: 000 none, any other number the charger's own code [X].
- Device level: `MODEL`, `DEVICE_ID {name}` (braced, padded to 31), `FW_VER`,
  `STORAGE_MODE ON|OFF` [X].
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from realtime.protocols.shure_tcp.parse import Frame

UNKNOWN_PERCENT_FROM = 251
MINUTES_VALID_MAX = 65528
COUNT_VALID_MAX = 65532
DEVICE_PARAMS = frozenset({"MODEL", "DEVICE_ID", "FW_VER", "STORAGE_MODE"})


@dataclass(frozen=True, slots=True)
class Bay:
    """What one charger bay reports; None is unknown (or, with no pack, not applicable)."""

    bay: int  # 1-based, as printed on the charger
    present: bool | None = None
    charge_percent: int | None = None
    health_percent: int | None = None
    cycle_count: int | None = None
    minutes_to_full: int | None = None
    temperature_c: int | None = None
    state: str | None = None
    error: str | None = None  # the charger's code, e.g. "007"; None when none

    def emptied(self) -> Bay:
        """Return the bay with its pack taken out."""
        return Bay(self.bay, present=False)


def _number(text: str, valid_max: int) -> int | bool | None:
    """Return the number, None for an unknown marker, False for garbage."""
    if not (text.isascii() and text.isdigit()):
        return False
    value = int(text)
    return value if value <= valid_max else None


def _percent(text: str) -> int | bool | None:
    value = _number(text, 255)
    if value is False or value is None:
        return value
    if value >= UNKNOWN_PERCENT_FROM:
        return None
    return value if value <= 100 else False


def _present(text: str) -> bool | str | None:
    return {"YES": True, "NO": False}.get(text.upper(), "garbage")


def decode_bay(frame: Frame) -> dict[str, object] | None:
    """Return the Bay fields a REP for one bay sets; None for what we skip or cannot read."""
    value = frame.value.strip()
    param = frame.param
    decoded: object
    if param == "BATT_DETECTED":
        decoded = _present(value)
        return None if decoded == "garbage" else {"present": decoded}
    if param in ("BATT_CHARGE", "BATT_HEALTH"):
        decoded = _percent(value)
        field = "charge_percent" if param == "BATT_CHARGE" else "health_percent"
    elif param == "BATT_CYCLE":
        decoded, field = _number(value, COUNT_VALID_MAX), "cycle_count"
    elif param == "BATT_TIME_TO_FULL":
        decoded, field = _number(value, MINUTES_VALID_MAX), "minutes_to_full"
    elif param == "BATT_TEMP_C":
        decoded, field = _number(value, UNKNOWN_PERCENT_FROM - 1), "temperature_c"
    elif param == "BATT_STATE":
        return {"state": value.upper() or None}
    elif param == "BATT_ERROR":
        code = _number(value, 999)
        return None if code is False else {"error": None if not code else value}
    else:
        return None
    return None if decoded is False else {field: decoded}


def apply(bay: Bay, changes: dict[str, object]) -> Bay:
    """Return the bay with the changes; a pack taken out takes its figures with it."""
    if changes.get("present") is False:
        return bay.emptied()
    return replace(bay, **changes)  # type: ignore[arg-type]
