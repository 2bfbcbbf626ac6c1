"""HTTP Basic auth that never shows its credentials: not in a repr, not in an error, not on a debug page."""

from __future__ import annotations

import base64

import requests
from requests.auth import AuthBase

from .errors import CredentialsUnusable


class BasicAuth(AuthBase):
    """Basic auth as both services expect it (RFC 7617, Latin-1 as requests sends it).

    A key with a character outside Latin-1 cannot be sent; that is a typed error that names no secret,
    instead of requests' ``UnicodeEncodeError`` whose text and traceback carry the key.
    """

    __slots__ = ("_header", "_service")

    def __init__(self, username: str, password: str, *, service: str = "") -> None:
        self._service = service
        try:
            self._header: str | None = "Basic " + base64.b64encode(f"{username}:{password}".encode("latin-1")).decode()
        except UnicodeEncodeError:
            self._header = None  # raised on first use, where the caller's error handling is

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._header is None:
            raise CredentialsUnusable(
                f"The {self._service or 'service'} credentials contain a character that cannot be sent; enter them again",
                service=self._service,
            )
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "BasicAuth(****)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BasicAuth) and other._header == self._header

    __hash__ = None  # type: ignore[assignment]
