"""WebSocket close codes of the contract (docs/live-protocol.md)."""

from __future__ import annotations

BAD_FRAME = 4400
NOT_SIGNED_IN = 4401
NO_ACCESS = 4403  # also for a group that does not exist: no existence leak
ORIGIN_REFUSED = 4408
KIOSK_REVOKED = 4410
# Not the standard 1009 "message too big", which daphne cannot send either (see below).
FRAME_TOO_LARGE = 4413
# Close codes a server may send are 1000 and 3000-4999 (RFC 6455 section 7.4.2); daphne
# (Autobahn) refuses to send any other, such as the 1011 this once was.
TRY_AGAIN = 4503  # the live store is unreachable; clients reconnect with backoff
