"""How Order Time status texts are compared: one rule for the mapping and for the stored status mappings.

It sits beside the wire types because both layers that match statuses may import it: the mapping
(Django-free) and ``connections`` (which never imports ``ordersync``). docs/decisions.md, Foundation.
"""


def normalise_status(text: str) -> str:
    """Order Time status texts are matched trimmed, with inner white space collapsed, case-insensitively."""
    return " ".join(text.split()).casefold()
