"""Typed errors raised by both clients.

Callers branch on the type, never on message text. Messages are written for a merchant and never
contain a credential.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base class of every error a client raises."""

    service: str = ""

    def __init__(self, message: str, *, service: str = "", status: int | None = None, excerpt: str = ""):
        super().__init__(message)
        self.message = message
        self.service = service or self.service
        self.status = status
        self.excerpt = excerpt

    def __str__(self) -> str:
        return self.message


class AuthenticationFailed(ClientError):
    """401/403: the service rejected the credentials. Retrying will not help."""


class CredentialsUnusable(AuthenticationFailed):
    """The stored key or secret cannot be sent at all (a character outside Latin-1). Re-entering fixes it."""


class NotFound(ClientError):
    """404: the resource (an order, a store, a webhook) does not exist."""


class RateLimited(ClientError):
    """429, or the limiter refuses to wait that long. ``retry_after`` is in seconds."""

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ClientError):
    """5xx after every retry."""


class Unreachable(ClientError):
    """Connection refused, DNS failure or timeout after every retry."""


class RequestRejected(ClientError):
    """Another 4xx: the request itself is wrong and must not be retried unchanged."""


class ProtocolError(ClientError):
    """The answer could not be understood (bad XML/JSON, wrong shape). ``excerpt`` holds its start."""


RETRYABLE = (RateLimited, ServerError, Unreachable)
