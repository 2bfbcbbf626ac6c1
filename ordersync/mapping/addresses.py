"""ISO 3166 checks for ship-to addresses, and the optional normalisation of names into codes.

ShipStation wants a two-letter ISO 3166-1 country code and, where the country has them, a state or
province code; Order Time promises to send codes (integration doc §9) but is free text in practice.
Without normalisation only exact codes pass (upper case, as the protocol writes them); with it, names,
local names, alpha-3 codes and lower-case codes are turned into codes.

Decisions:

- A country "has state codes" when every top-level ISO 3166-2 subdivision pycountry knows for it has a
  two-letter code (US, CA, DE, BR, IN, CH, ...), plus Australia, whose state codes (NSW, VIC, QLD ...)
  are what its addresses carry although some have three letters. For those countries the state, when
  given, must be one of the country's ISO 3166-2 codes.
- The state may be empty except in US, CA and AU, where carriers need it to deliver.
- The postal code may be empty only in the countries of ``COUNTRIES_WITHOUT_POSTAL_CODES`` (countries
  with no postal code system, plus Ireland, where Eircodes are optional for delivery).
"""

from __future__ import annotations

import unicodedata
from functools import cache

import pycountry

# Countries where a missing state makes the parcel undeliverable by the big carriers.
COUNTRIES_REQUIRING_STATE = frozenset({"US", "CA", "AU"})

# Countries whose state codes are not all two letters but which carriers still expect as codes.
COUNTRIES_WITH_LONGER_STATE_CODES = frozenset({"AU"})

COUNTRIES_WITHOUT_POSTAL_CODES = frozenset({
    "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI", "CK",
    "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "IE", "JM", "KI", "KM", "KN",
    "KP", "LC", "ML", "MO", "MR", "MS", "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SO", "SR", "ST",
    "SY", "TD", "TF", "TG", "TK", "TL", "TO", "TT", "TV", "TZ", "UG", "VU", "YE", "ZW",
})

# Names merchants type that pycountry does not know: local names and common short forms.
LOCAL_COUNTRY_NAMES = {
    "deutschland": "DE", "allemagne": "DE", "alemania": "DE",
    "osterreich": "AT", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "espana": "ES", "italia": "IT", "france": "FR", "belgique": "BE", "belgie": "BE",
    "nederland": "NL", "holland": "NL", "the netherlands": "NL",
    "polska": "PL", "sverige": "SE", "norge": "NO", "danmark": "DK", "suomi": "FI",
    "eire": "IE", "portugal": "PT", "brasil": "BR", "mexico": "MX",
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB",
    "us": "US", "u s": "US", "u s a": "US", "america": "US", "united states of america": "US",
    "russia": "RU", "ivory coast": "CI", "cote d'ivoire": "CI",
}


def _fold(text: str) -> str:
    """Case-, accent-, dot- and space-insensitive form used to compare names."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(without_accents.replace(".", " ").split()).casefold()


def is_country_code(text: str) -> bool:
    """Exactly an ISO 3166-1 alpha-2 code as the protocol writes it (upper case)."""
    return len(text) == 2 and text.isascii() and text.isupper() and pycountry.countries.get(alpha_2=text) is not None


def country_code_for(text: str) -> str | None:
    """The alpha-2 code a merchant meant by ``text`` (code in any case, alpha-3, name, local name), or None."""
    folded = _fold(text)
    if not folded:
        return None
    if folded in LOCAL_COUNTRY_NAMES:
        return LOCAL_COUNTRY_NAMES[folded]
    for candidate in (text.strip(), folded):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return None


@cache
def _subdivisions(country_code: str) -> tuple:
    return tuple(pycountry.subdivisions.get(country_code=country_code) or ())


def _suffix(subdivision) -> str:
    return subdivision.code.split("-", 1)[1]


@cache
def state_codes(country_code: str) -> frozenset[str]:
    """Every ISO 3166-2 code of the country without the country prefix ("CA", "ON", "NSW" ...)."""
    return frozenset(_suffix(s) for s in _subdivisions(country_code))


@cache
def has_state_codes(country_code: str) -> bool:
    """Whether addresses in this country must carry a state code rather than free text (see module doc)."""
    if country_code in COUNTRIES_WITH_LONGER_STATE_CODES:
        return True
    top_level = [s for s in _subdivisions(country_code) if s.parent_code is None]
    return bool(top_level) and all(len(_suffix(s)) == 2 and _suffix(s).isalpha() for s in top_level)


def is_state_code(country_code: str, text: str) -> bool:
    return text in state_codes(country_code)


def state_code_for(country_code: str, text: str) -> str | None:
    """The state code meant by ``text`` (code in any case or subdivision name), or None.

    Top-level subdivisions win over lower ones with the same name (Spain's region "Madrid" before its
    province), because merchants write the region.
    """
    folded = _fold(text)
    if not folded:
        return None
    upper = text.strip().upper()
    if upper in state_codes(country_code):
        return upper
    ordered = sorted(_subdivisions(country_code), key=lambda s: s.parent_code is not None)
    for subdivision in ordered:
        names = {_fold(subdivision.name), _fold(subdivision.name.split(",")[0])}
        if folded in names:
            return _suffix(subdivision)
    return None


def example_state_code(country_code: str) -> str:
    """A real code of the country, for messages that show the merchant what is expected."""
    codes = sorted(state_codes(country_code))
    return codes[0] if codes else ""


def state_required(country_code: str) -> bool:
    return country_code in COUNTRIES_REQUIRING_STATE


def postal_code_required(country_code: str) -> bool:
    return country_code not in COUNTRIES_WITHOUT_POSTAL_CODES
