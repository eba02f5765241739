"""Each read receiver's health as the Devices page shows it: online, or offline and why.

A DeviceReader keeps one `DeviceHealth` up to date from what its client yields; the poller
writes them all to the `{p}:devhealth` hash once a second, and the page reads them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import orjson


@dataclass(slots=True)
class DeviceHealth:
    online: bool | None = None  # None: not heard from since this poller started reading it
    reason: str = ""  # why it is offline, in words (realtime/protocols/failures.py)
    since: float = field(default_factory=time.time)  # when `online` last changed
    last_seen: float | None = None  # the last reading that came from the receiver itself
    poller: str = ""

    def answered(self, now: float) -> None:
        if self.online is not True:
            self.online, self.reason, self.since = True, "", now
        self.last_seen = now

    def failed(self, reason: str, now: float) -> None:
        if self.online is not False:
            self.online, self.since = False, now
        self.reason = reason

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> DeviceHealth:
        return cls(**orjson.loads(raw))
