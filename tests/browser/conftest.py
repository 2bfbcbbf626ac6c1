"""Playwright fixtures: Debian's Chromium (never a downloaded browser), an offline network, screenshots."""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from tests are still sync.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ADMIN_USER, ADMIN_PASSWORD = "admin", "admin-password-for-browser-tests"
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost)[:/]")


def pytest_collection_modifyitems(items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium (a browser is never downloaded)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR", "test-artifacts/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shoot(screenshot_dir):
    """``shoot(page, "03-dashboard")`` saves a full-page PNG and returns its path."""
    taken = []

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        taken.append(path)
        return path

    take.taken = taken
    return take


def _png(width: int = 64, height: int = 64, rgb=(31, 111, 235)) -> bytes:
    """A solid-colour PNG, served for every product image so thumbnails render offline."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


PRODUCT_IMAGE = _png()


def _offline(route):
    """Only the live server and simulators are reachable; images elsewhere get a stand-in."""
    request = route.request
    if LOOPBACK.match(request.url):
        return route.continue_()
    if request.resource_type == "image":
        return route.fulfill(status=200, content_type="image/png", body=PRODUCT_IMAGE)
    return route.abort()


@pytest.fixture
def new_context(browser):
    """``new_context(locale="de-DE")``: a fresh browser profile (its own cookies and language)."""
    contexts = []

    def make(**options):
        context = browser.new_context(viewport={"width": 1360, "height": 900}, **options)
        context.route("**/*", _offline)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def admin_login(transactional_db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(ADMIN_USER, "admin@example.com", ADMIN_PASSWORD)

    def login(page, base_url: str) -> None:
        page.goto(f"{base_url}/admin/login/?next=/admin/")
        page.fill("#id_username", ADMIN_USER)
        page.fill("#id_password", ADMIN_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base_url}/admin/")

    return login
