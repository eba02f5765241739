"""Who may open a live socket, and the sockets themselves: consumers, routing, the Origin
check, the Redis watch that closes them, and /healthz."""
