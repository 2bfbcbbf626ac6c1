"""The control room in a real browser: connect, sync, follow an order, fix a held one, read a rejection, German."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from sandbox.demo import DEMO_READY_STATUS, demo_ship_docs
from tests.conftest import OT_KEY, OT_USER, SS_KEY, SS_SECRET, SS_STORE_ID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_control_room_from_connecting_a_store_to_german(
    live_server, new_context, admin_login, shoot, ordertime_sim, shipstation_sim,
):
    ordertime_sim.add_ship_docs(demo_ship_docs(generated=4))
    base = live_server.url
    page = new_context(locale="en-US").new_page()

    # Log in: the dashboard is the admin index, and says what to do first.
    admin_login(page, base)
    expect(page.locator("#store-dashboard")).to_contain_text("No store is connected yet")
    shoot(page, "01-dashboard-empty")

    # Connect a store through the admin form, against both simulators; both connections are tested.
    page.click("#store-dashboard >> text=Connect a store")
    page.fill("#id_name", "Browser Store")
    page.fill("#id_ordertime_username", OT_USER)
    page.fill("#id_ordertime_api_key", OT_KEY)
    page.fill("#id_ordertime_url", ordertime_sim.endpoint)
    page.fill("#id_shipstation_api_key", SS_KEY)
    page.fill("#id_shipstation_api_secret", SS_SECRET)
    page.fill("#id_shipstation_url", shipstation_sim.url)
    page.fill("#id_shipstation_store_id", str(SS_STORE_ID))
    shoot(page, "02-connect-store-form")
    page.click("input[name=_connect]")
    expect(page.locator(".messagelist")).to_contain_text('Store "Browser Store" connected.')
    health = page.locator(".ordersync-health")
    expect(health.locator(".badge-ok")).to_have_count(2)
    expect(page.locator("body")).not_to_contain_text(OT_KEY)
    expect(page.locator("#email-preview")).to_have_attribute("srcdoc", re.compile("Browser Store"))
    page.fill("#id_settings-0-display_name", "Acme Outfitters")
    expect(page.locator("#email-preview")).to_have_attribute("srcdoc", re.compile("Acme Outfitters"))
    expect(page.frame_locator("#email-preview").locator("body")).to_contain_text("Acme Outfitters")
    page.locator("#email-preview-module").scroll_into_view_if_needed()
    shoot(page, "04-email-preview", full_page=False)  # full-page captures leave iframes blank
    shoot(page, "03-store-page")

    # Run a sync from the dashboard: the sample orders' status is not mapped yet, so they wait.
    page.goto(f"{base}/admin/")
    card = page.locator("article.store-card", has_text="Browser Store")
    card.locator("button[name=sync_import]").click()
    expect(page.locator(".messagelist")).to_contain_text("Import queued for Browser Store.")
    card = page.locator("article.store-card", has_text="Browser Store")
    expect(card.locator("[data-run-kind=import]")).not_to_have_text("no run yet")
    expect(card.locator("[data-count=held]")).not_to_have_text("0")
    expect(card.locator("[data-count=rejected]")).to_have_text("1")
    shoot(page, "05-dashboard-after-sync")

    # Fix the held orders by adding a mapping: they are imported at once.
    card.locator("text=map statuses").click()
    row = page.locator("#status-mappings tr", has=page.locator(f"td:text-is('{DEMO_READY_STATUS}')"))
    expect(row.locator("td.attention")).not_to_have_text("0")
    shoot(page, "06-status-mapping-editor")
    row.locator("select").select_option("awaiting_shipment")
    waiting_row = page.locator("#status-mappings tr", has=page.locator("td:text-is('awaiting stock')"))
    waiting_row.locator("select").select_option("on_hold")
    page.click("#status-mapping-form input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text(re.compile(r"2 mappings saved; \d+ held orders released\."))
    shoot(page, "07-mappings-saved")
    page.goto(f"{base}/admin/ordersync/syncedorder/?q=D-HELD-1")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text("Imported")

    # Open an order and see its thumbnail and options, the payload and the timeline.
    page.goto(f"{base}/admin/ordersync/syncedorder/?q=1187")
    page.locator("#result_list tbody tr").first.locator("th a").click()
    thumb = page.locator("#mapped-order img.thumb").first
    expect(thumb).to_have_attribute("src", "https://images.example.com/ts-org-100.jpg")
    assert thumb.evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#mapped-order .options").first).to_contain_text("Size: L")
    expect(page.locator("#timeline .timeline li").first).to_contain_text("Sent to ShipStation")
    shoot(page, "08-order-detail")

    # A rejected order says why, in plain words, and where to fix it.
    page.goto(f"{base}/admin/ordersync/syncedorder/?q=D-REJECTED-1")
    page.locator("#result_list tbody tr").first.locator("th a").click()
    reasons = page.locator("#rejection-reasons")
    expect(reasons).to_contain_text("Ship-to country")
    expect(reasons).to_contain_text("Deutschland")
    expect(reasons.locator("a[href='https://app.ordertime.com/']")).to_have_count(1)
    shoot(page, "09-rejected-order")

    # Printable pages for the selection.
    page.goto(f"{base}/admin/ordersync/syncedorder/?state__exact=imported")
    page.locator("#action-toggle").check()
    page.select_option("select[name=action]", "print_pick_list")
    page.click("button[name=index]")
    locations = [text.strip() for text in page.locator("#pick-lines td.location").all_inner_texts()]
    filled = [location for location in locations if location != "—"]
    assert filled == sorted(filled, key=str.casefold) and filled
    shoot(page, "10-pick-list")

    # Switch to German: a new browser profile whose language is German.
    german = new_context(locale="de-DE").new_page()
    admin_login(german, base)
    board = german.locator("#store-dashboard")
    expect(board).to_contain_text("Letzter Import")
    expect(board).to_contain_text("Jetzt importieren")
    expect(german.locator("html")).to_have_attribute("lang", "de")
    shoot(german, "11-dashboard-german")
    german.goto(f"{base}/admin/ordersync/syncedorder/?q=D-REJECTED-1")
    german.locator("#result_list tbody tr").first.locator("th a").click()
    expect(german.locator("#rejection-reasons h2")).to_have_text("Warum diese Bestellung abgelehnt wurde")
    shoot(german, "12-rejected-order-german")
