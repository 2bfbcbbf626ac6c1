"""ISO 3166 checks and normalisation used for ship-to addresses."""

from __future__ import annotations

import pytest

from ordersync.mapping import addresses


@pytest.mark.parametrize(("text", "valid"), [("US", True), ("DE", True), ("GB", True), ("us", False), ("UK", False),
                                             ("USA", False), ("XX", False), ("", False), ("Ü1", False)])
def test_is_country_code_accepts_only_upper_case_alpha_2(text, valid):
    assert addresses.is_country_code(text) is valid


@pytest.mark.parametrize(
    ("text", "code"),
    [("Deutschland", "DE"), ("germany", "DE"), ("GERMANY", "DE"), ("United States", "US"),
     ("United States of America", "US"), ("U.S.A.", "US"), ("us", "US"), ("USA", "US"), ("CAN", "CA"),
     ("UK", "GB"), ("England", "GB"), ("Österreich", "AT"), ("osterreich", "AT"), ("España", "ES"),
     ("Schweiz", "CH"), ("South Korea", "KR"), ("  France  ", "FR"), ("Holland", "NL")],
)
def test_country_code_for_names_codes_and_local_names(text, code):
    assert addresses.country_code_for(text) == code


@pytest.mark.parametrize("text", ["Atlantis", "", "   ", "Planet Earth"])
def test_country_code_for_unknown_text_is_none(text):
    assert addresses.country_code_for(text) is None


@pytest.mark.parametrize(("country", "has_codes"), [("US", True), ("CA", True), ("AU", True), ("DE", True),
                                                    ("BR", True), ("GB", False), ("FR", False), ("JP", False),
                                                    ("HK", False)])
def test_has_state_codes(country, has_codes):
    assert addresses.has_state_codes(country) is has_codes


def test_state_codes_are_the_iso_3166_2_suffixes():
    assert {"CA", "TX", "DC", "PR"} <= addresses.state_codes("US")
    assert {"NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT"} == addresses.state_codes("AU")


@pytest.mark.parametrize(
    ("country", "text", "code"),
    [("US", "California", "CA"), ("US", "california", "CA"), ("US", "ca", "CA"), ("US", "New York", "NY"),
     ("CA", "Ontario", "ON"), ("CA", "Quebec", "QC"), ("CA", "Québec", "QC"), ("AU", "Queensland", "QLD"),
     ("DE", "Bayern", "BY"), ("ES", "Madrid", "MD")],
)
def test_state_code_for_names_and_lower_case_codes(country, text, code):
    assert addresses.state_code_for(country, text) == code


@pytest.mark.parametrize(("country", "text"), [("US", "Ontario"), ("US", ""), ("CA", "Narnia")])
def test_state_code_for_unknown_text_is_none(country, text):
    assert addresses.state_code_for(country, text) is None


@pytest.mark.parametrize(("country", "required"), [("US", True), ("CA", True), ("AU", True), ("DE", False),
                                                   ("GB", False)])
def test_state_required(country, required):
    assert addresses.state_required(country) is required


@pytest.mark.parametrize(("country", "required"), [("US", True), ("DE", True), ("GB", True), ("HK", False),
                                                   ("AE", False), ("IE", False)])
def test_postal_code_required(country, required):
    assert addresses.postal_code_required(country) is required


def test_every_country_without_postal_codes_is_a_real_country_code():
    assert all(addresses.is_country_code(code) for code in addresses.COUNTRIES_WITHOUT_POSTAL_CODES)
