"""Why a device cannot be read, in the words the Devices page shows an admin.

Clients and probes fail with many exception types (socket errors, httpx's, TLS's, the
families' own); `describe_failure` walks an exception and its causes and names the one
thing a person can act on: refused, timed out, TLS, credentials, garbage.
"""

from __future__ import annotations

import errno
import json
import socket
import ssl

import httpx


class CredentialsRefused(Exception):
    """The device answered and refused our password or API key (retrying will not help)."""


class NotTheProtocol(Exception):
    """The device answered, but not the way a device of its family answers."""


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ECONNRESET: "the device closed the connection",
    errno.EPIPE: "the device closed the connection",
    errno.ETIMEDOUT: "timed out",
}


def describe_failure(error: BaseException) -> str:
    """Return a short phrase for why talking to a device failed."""
    for link in _chain(error):
        words = _words(link)
        if words is not None:
            return words
    return f"failed ({type(error).__name__})"


def _words(error: BaseException) -> str | None:
    if isinstance(error, CredentialsRefused):
        return "password or API key refused"
    if isinstance(error, httpx.HTTPStatusError) and error.response.status_code in (401, 403):
        return "password or API key refused"
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return "TLS refused (certificate or handshake)"
    if isinstance(error, socket.gaierror):
        return "address not found"
    if isinstance(error, NotTheProtocol | json.JSONDecodeError | UnicodeDecodeError):
        return f"answered with garbage ({error})" if str(error) else "answered with garbage"
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        silent = str(error)
        return f"no answer ({silent})" if silent.startswith("silent for") else "timed out"
    if isinstance(error, OSError) and error.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[error.errno]
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError | EOFError | httpx.RemoteProtocolError):
        return "the device closed the connection"
    if isinstance(error, ConnectionError) and str(error):
        return str(error)
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """The error, then what caused it, deepest last (httpx wraps the socket's error)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    # The deepest cause is the most specific ("connection refused", not "ConnectError").
    return seen[::-1]
