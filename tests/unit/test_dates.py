"""ShipStation's naive Pacific dates, both directions, across the 2026 DST changes (shipstation-v1.md §4)."""

from datetime import UTC, datetime

import pytest

from connections.clients.dates import (
    PACIFIC,
    format_shipstation,
    parse_shipstation,
    parse_shipstation_date,
    shipstation_window_start,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class TestSpringForward:
    """2026-03-08: clocks jump from 02:00 PST to 03:00 PDT; 02:30 does not exist in Pacific."""

    def test_last_instant_before_the_gap_and_first_after(self):
        assert format_shipstation(utc(2026, 3, 8, 9, 59)) == "2026-03-08 01:59:00"
        assert format_shipstation(utc(2026, 3, 8, 10, 0)) == "2026-03-08 03:00:00"

    def test_no_instant_prints_as_a_time_inside_the_gap(self):
        printed = {format_shipstation(utc(2026, 3, 8, 9, 0).replace(minute=m)) for m in range(60)}
        printed |= {format_shipstation(utc(2026, 3, 8, 10, 0).replace(minute=m)) for m in range(60)}
        assert not any(text.startswith("2026-03-08 02:") for text in printed)

    def test_a_non_existent_time_is_read_with_the_standard_offset(self):
        assert parse_shipstation("2026-03-08T02:30:00.0000000").astimezone(UTC) == utc(2026, 3, 8, 10, 30)

    def test_times_around_the_gap_round_trip(self):
        for instant in (utc(2026, 3, 8, 9, 30), utc(2026, 3, 8, 10, 30)):
            assert parse_shipstation(format_shipstation(instant)).astimezone(UTC) == instant


class TestFallBack:
    """2026-11-01: 01:00–02:00 happens twice (PDT, then PST)."""

    def test_both_instants_of_the_repeated_hour_print_the_same(self):
        assert format_shipstation(utc(2026, 11, 1, 8, 30)) == "2026-11-01 01:30:00"
        assert format_shipstation(utc(2026, 11, 1, 9, 30)) == "2026-11-01 01:30:00"

    @pytest.mark.parametrize("instant", [utc(2026, 11, 1, 8, 30), utc(2026, 11, 1, 9, 30)])
    def test_window_start_covers_the_earlier_reading(self, instant):
        text = shipstation_window_start(instant)
        assert text <= "2026-11-01 00:30:00"
        # Whatever instant ShipStation reads the text as, it is not later than the one asked for.
        for fold in (0, 1):
            reading = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=PACIFIC, fold=fold)
            assert reading <= instant

    def test_window_start_outside_the_overlap_is_exact(self):
        assert shipstation_window_start(utc(2026, 11, 1, 12, 0)) == "2026-11-01 04:00:00"
        assert shipstation_window_start(utc(2026, 7, 1, 12, 0)) == "2026-07-01 05:00:00"

    def test_the_repeated_hour_is_read_as_daylight_time(self):
        assert parse_shipstation("2026-11-01T01:30:00.0000000").astimezone(UTC) == utc(2026, 11, 1, 8, 30)


class TestParse:
    @pytest.mark.parametrize(
        ("text", "microsecond"),
        [
            ("2015-07-16T14:00:34", 0),
            ("2015-07-16T14:00:34.8", 800000),
            ("2015-07-16T14:00:34.433", 433000),
            ("2015-07-16T14:00:34.07", 70000),
            ("2015-07-16T14:00:34.823000", 823000),
            ("2015-07-16T14:00:34.8230000", 823000),
            ("2015-07-16T14:00:34.1234567", 123456),
            ("2015-07-16 14:00:34.8230000", 823000),
        ],
    )
    def test_zero_to_seven_fractional_digits_with_t_or_space(self, text, microsecond):
        assert parse_shipstation(text) == datetime(2015, 7, 16, 14, 0, 34, microsecond, tzinfo=PACIFIC)

    def test_summer_time_is_seven_hours_behind_utc(self):
        assert parse_shipstation("2015-07-16T14:00:34.8230000").astimezone(UTC) == datetime(
            2015, 7, 16, 21, 0, 34, 823000, tzinfo=UTC
        )

    def test_date_only_is_pacific_midnight(self):
        parsed = parse_shipstation("2014-10-03")
        assert parsed.astimezone(UTC) == utc(2014, 10, 3, 7, 0)

    @pytest.mark.parametrize("text", ["2014-10-03", "2016-06-07T00:00:00.0000000"])
    def test_ship_dates_with_and_without_time(self, text):
        assert parse_shipstation_date(text).isoformat() == text[:10]

    @pytest.mark.parametrize("text", ["", "07/16/2015 14:00", "2015-07-16T14:00:34Z", "2015-07-16T14:00:34.12345678"])
    def test_other_forms_are_refused(self, text):
        with pytest.raises(ValueError):
            parse_shipstation(text)

    def test_naive_datetimes_are_refused_when_formatting(self):
        with pytest.raises(ValueError):
            format_shipstation(datetime(2026, 1, 1, 12, 0))
