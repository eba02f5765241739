"""WebSocket close codes of the contract (docs/live-protocol.md)."""

from __future__ import annotations

from typing import NamedTuple

BAD_FRAME = 4400
NOT_SIGNED_IN = 4401
NO_ACCESS = 4403  # also for a group that does not exist: no existence leak
ORIGIN_REFUSED = 4408
KIOSK_REVOKED = 4410
# Not the standard 1009 "message too big", which daphne cannot send either (see below).
FRAME_TOO_LARGE = 4413
# Too many sockets for one user or kiosk link, or too many frames from one socket: the
# wall reconnects with backoff, by when a tab may have closed or the flood stopped.
TOO_MANY = 4429
# Close codes a server may send are 1000 and 3000-4999 (RFC 6455 section 7.4.2); daphne
# (Autobahn) refuses to send any other, such as the 1011 this once was.
TRY_AGAIN = 4503  # the live store is unreachable; clients reconnect with backoff


class FinalClose(NamedTuple):
    """What a wall shows instead of reconnecting, on a signed-in wall and on a kiosk."""

    signed_in: str
    kiosk: str = ""  # empty: the same words as a signed-in wall

    def message(self, *, kiosk: bool) -> str:
        return (self.kiosk or self.signed_in) if kiosk else self.signed_in


# The codes after which reconnecting cannot help: a wall stops and says why. Every other
# code (and a dropped link) makes it reconnect with backoff.
FINAL: dict[int, FinalClose] = {
    NOT_SIGNED_IN: FinalClose("Signed out. Sign in again to watch this wall."),
    NO_ACCESS: FinalClose(
        "You no longer have access to this wall.", kiosk="This kiosk link is not valid."
    ),
    KIOSK_REVOKED: FinalClose("This kiosk link was revoked."),
}


def final_messages(*, kiosk: bool) -> dict[int, str]:
    """Return what a wall (or a kiosk) shows for each final close code."""
    return {code: close.message(kiosk=kiosk) for code, close in FINAL.items()}
