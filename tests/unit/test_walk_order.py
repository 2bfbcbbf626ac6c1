"""The order a walk reads export pages in, worked out without listing them (issue 12 §3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ordersync.imports.walk import Walk

MOMENT = datetime(2026, 12, 1, tzinfo=UTC)


def walk(pages: int, position: int = 0) -> Walk:
    return Walk(start=MOMENT, end=MOMENT, started_at=MOMENT, moves_cursor=True, pages=pages, position=position)


def read_order(pages: int) -> list[int]:
    order, current = [], walk(pages)
    while (page := current.next_page()) is not None:
        order.append(page)
        current.position += 1
    return order


@pytest.mark.parametrize("pages", range(1, 8))
def test_pages_are_read_first_then_from_the_back_then_first_again(pages):
    expected = [1, *range(pages, 1, -1), *([1] if pages > 1 else [])]
    assert read_order(pages) == expected


def test_a_walk_that_has_not_learnt_its_page_count_reads_page_one():
    assert walk(0).next_page() == 1


def test_a_billion_page_claim_is_answered_without_listing_the_pages():
    # Listing them, as the old code did, needs gigabytes before it can answer.
    assert walk(10**9, position=5).next_page() == 10**9 - 4
    assert walk(10**9, position=10**9).next_page() == 1
    assert walk(10**9, position=10**9 + 1).next_page() is None
