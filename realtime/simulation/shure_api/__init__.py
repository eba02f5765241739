"""A Shure System API server on loopback: HTTPS REST plus WebSocket push, many devices.

`devices` models the devices behind it, `rest_api` answers the REST paths, `push_broker`
serves the subscriptions and `https_server` is the small TLS server under both.
"""
