"""How uvicorn serves micboard.asgi: the options every place that starts it gives it, and
the request-size limit in front of Django.

`make run` (run_stack), the fault tests and the benches take them from here; the
Dockerfile and docker-compose.yml spell them out, and tests/test_deploy.py checks they
match.
"""

from __future__ import annotations

from typing import Any

# A browser sends at most ~20-byte frames (realtime/frames.py); without a limit uvicorn
# buffers up to 16 MiB per frame before the consumer can refuse it.
WS_MAX_BYTES = 4096

UVICORN_OPTIONS = [
    "--loop",
    "uvloop",
    "--ws",
    "websockets",
    "--ws-max-size",
    str(WS_MAX_BYTES),
    "--lifespan",
    "off",
]

# The largest request body a page needs: a 5 MB photo (micboard/services/photos.py) or a
# 1 MB CSV, with the form around it. The proxy's client_max_body_size says the same.
MAX_REQUEST_BYTES = 6 * 1024 * 1024


class RequestBodyLimit:
    """ASGI middleware: refuse an HTTP body over MAX_REQUEST_BYTES before it is read.

    Django reads a whole body (to disk past 2.5 MB) before any view or middleware runs,
    so the limit has to come first. A body without a length (chunked) is refused too:
    no browser form sends one.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refusal = _refusal(dict(scope.get("headers", [])))
            if refusal is not None:
                await _answer(send, *refusal)
                return
        await self.application(scope, receive, send)


def _refusal(headers: dict[bytes, bytes]) -> tuple[int, bytes] | None:
    length = headers.get(b"content-length")
    if length is None:
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        return (411, b"Send the body with a Content-Length.") if chunked else None
    if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
        return 413, b"The request is larger than this site accepts."
    return None


async def _answer(send: Any, status: int, text: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})
