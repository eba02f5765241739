"""Exceptions for error answers from a Shure System API server."""

from __future__ import annotations

from realtime.protocols.failures import CredentialsRefused


class ShureApiError(Exception):
    """Raised when the System API server answers a request with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Shure System API answered HTTP {status}: {message}")
        self.status = status


class AuthenticationError(ShureApiError, CredentialsRefused):
    """Raised on 401/403: the `x-api-key` shared secret is missing or wrong."""

    def __init__(self, status: int, message: str) -> None:
        hint = "check the server's shared key, sent as x-api-key"
        super().__init__(status, f"{message} ({hint})")


class BadRequestError(ShureApiError):
    """Raised on 400: malformed JSON, or a JSON Content-Type sent with an empty body."""


class NotFoundError(ShureApiError):
    """Raised on 404: unknown device, unknown channel or a capability the device lacks."""


class UnprocessableError(ShureApiError):
    """Raised on 422: the server understood the request but cannot act on it."""


class RateLimitedError(ShureApiError):
    """Raised on 429 (not documented by Shure; handled defensively)."""
