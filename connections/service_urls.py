"""Where stored credentials may be sent: https only, unless the deployment allows plain http for development.

Checked where a person enters an address (the forms) and again where credentials leave (the clients), so an
address written another way (the shell, a data import) cannot carry a key over plain text either.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class InsecureServiceURL(ValueError):
    """A stored service address that credentials must not be sent to."""


def service_url_allowed(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return scheme == "https" or (scheme == "http" and settings.ORDERSYNC_ALLOW_HTTP_SERVICES)


def service_url_problem(url: str) -> str | None:
    if service_url_allowed(url):
        return None
    return _("Use an https:// address: credentials are never sent over plain http "
             "(ORDERSYNC_ALLOW_HTTP_SERVICES allows it for development).")


def service_url_validate(url: str) -> None:
    """Form validator."""
    problem = service_url_problem(url)
    if problem:
        raise ValidationError(problem, code="insecure_url")


def service_url_check(url: str) -> str:
    """The address, if credentials may go there; raises ``InsecureServiceURL`` otherwise."""
    problem = service_url_problem(url)
    if problem:
        raise InsecureServiceURL(problem)
    return url


def store_service_url_problem(store) -> str | None:
    """Why the store's credentials may not be sent to its stored addresses, or None."""
    for url in (store.ordertime_account.endpoint_url, store.shipstation_account.base_url):
        problem = service_url_problem(url)
        if problem:
            return problem
    return None
