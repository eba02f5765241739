"""Push transports and subscriptions of the simulated System API server."""

from __future__ import annotations

import random
import uuid

import orjson

from realtime.simulation.shure_api.https_server import PushSocket

# ("devices",) for DEVICE_STATE_CHANGE, (device_id, capability) for device events and
# (device_id, channel_id, capability) for audio-channel events.
Topic = tuple[str, ...]
DEVICES: Topic = ("devices",)


class PushBroker:
    """Hand out transport ids, record subscriptions and send events to subscribers only."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._sockets: dict[str, PushSocket] = {}
        self._topics: dict[str, set[Topic]] = {}
        self.split_next = False  # fault injection: send the next event in two fragments

    @property
    def socket_count(self) -> int:
        """Return how many push sockets are open."""
        return len(self._sockets)

    def open(self, socket: PushSocket) -> None:
        """Register a new socket and greet it with its transport id."""
        transport_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        self._sockets[transport_id] = socket
        self._topics[transport_id] = set()
        socket.send_text(orjson.dumps({"transportId": transport_id}).decode())

    def close(self, socket: PushSocket) -> None:
        """Forget a closed socket; its subscriptions die with it."""
        for transport_id in [tid for tid, known in self._sockets.items() if known is socket]:
            del self._sockets[transport_id]
            del self._topics[transport_id]

    def subscribe(self, transport_id: str, topic: Topic) -> bool:
        """Add a subscription; False when the transport id is unknown."""
        topics = self._topics.get(transport_id)
        if topics is not None:
            topics.add(topic)
        return topics is not None

    def unsubscribe(self, transport_id: str, topic: Topic) -> bool:
        """Remove a subscription; False when the transport id is unknown."""
        topics = self._topics.get(transport_id)
        if topics is not None:
            topics.discard(topic)
        return topics is not None

    def publish(self, topic: Topic, event: dict[str, object]) -> None:
        """Send one envelope+body event to every transport subscribed to the topic."""
        text = orjson.dumps(event).decode()
        split, self.split_next = self.split_next, False
        for transport_id, topics in self._topics.items():
            if topic in topics:
                self._sockets[transport_id].send_text(text, split=split)

    def publish_raw(self, text: str) -> None:
        """Send a raw text frame to every socket (malformed-frame injection)."""
        for socket in self._sockets.values():
            socket.send_text(text)
