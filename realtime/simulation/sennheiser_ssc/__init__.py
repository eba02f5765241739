"""A Sennheiser EW-DX receiver on loopback, speaking SSCv2: HTTPS REST + SSE.

`resources` serves the paths, `sessions` the SSE subscriptions, `dynamics` the physics
and `httpserver` is the small TLS server under them.
"""
