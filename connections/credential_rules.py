"""What a key, a secret and a username may contain: only what HTTP Basic auth can carry unchanged.

Both services issue keys of printable ASCII. Anything else is a paste gone wrong (a non-breaking space,
a typographic quote, an invisible character) and could never authenticate, so it is refused where it is
entered, with the reason, instead of failing later on every call. A username (Order Time's login, an
e-mail address) may use Latin-1, which is what Basic auth sends, but no colon: the colon ends it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CredentialRefused(ValueError):
    """A key, secret or username that cannot be sent as Basic auth."""


def credential_problem(value: str) -> str | None:
    for char in value:
        if not ("!" <= char <= "~"):
            return _("Contains %(char)s, which no API key has: keys are letters, digits and ASCII punctuation "
                     "without spaces. Copy the key again from the service.") % {"char": _describe(char)}
    return None


def username_problem(value: str) -> str | None:
    if ":" in value:
        return _("A username cannot contain a colon.")
    for char in value:
        if not char.isprintable() or ord(char) > 0xFF:
            return _("Contains %(char)s, which cannot be sent to Order Time in a username.") % {"char": _describe(char)}
    return None


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" if not char.isprintable() or char.isspace() else f"“{char}” (U+{ord(char):04X})"


def credential_validate(value: str) -> None:
    """Form validator for keys and secrets."""
    if problem := credential_problem(value):
        raise ValidationError(problem, code="unsendable_credential")


def username_validate(value: str) -> None:
    """Form validator for the Order Time username."""
    if problem := username_problem(value):
        raise ValidationError(problem, code="unsendable_username")


def credentials_check(*, username: str, secrets: dict[str, str]) -> None:
    """Raises ``CredentialRefused`` naming the first field that cannot be sent (for services and commands)."""
    if problem := username_problem(username):
        raise CredentialRefused(f"{_('Order Time username')}: {problem}")
    for label, value in secrets.items():
        if problem := credential_problem(value):
            raise CredentialRefused(f"{label}: {problem}")
