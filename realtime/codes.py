"""WebSocket close codes of the contract (docs/live-protocol.md)."""

from __future__ import annotations

BAD_FRAME = 4400
NOT_SIGNED_IN = 4401
NO_ACCESS = 4403  # also for a group that does not exist: no existence leak
ORIGIN_REFUSED = 4408
KIOSK_REVOKED = 4410
FRAME_TOO_LARGE = 1009  # the standard "message too big"
TRY_AGAIN = 1011  # the live store is unreachable; clients reconnect with backoff
