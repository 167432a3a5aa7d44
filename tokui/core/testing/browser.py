"""What the Playwright tests in Debian's Chromium share: the browser, launched the same way
for each test, and the check that the live server has a database it can use from threads."""

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def require_file_database() -> None:
    """Fail unless the tests' SQLite database is a file.

    The live server answers each request in a thread of its own. With SQLite in memory,
    Django hands all those threads the test's one connection, and two requests at once (a
    card page and its favicon, an htmx search still running) collide with "database table
    is locked". A file gives each thread its own connection and SQLite's own locking, as in
    production; `make test-browser` sets TOKUI_TEST_SQLITE_FILE for that.
    """
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail(
            "Browser tests need a SQLite file, not memory: run `make test-browser` "
            "or set TOKUI_TEST_SQLITE_FILE=var/test-browser.sqlite3."
        )


@contextmanager
def chromium(base_url: str) -> Iterator[Callable]:
    """Chromium for one test; each call of the yielded ``new_page()`` opens a page in a
    browser context of its own (its own cookies, so one signed-in user each)."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    require_file_database()
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = []

        def new_page():
            context = browser.new_context(locale="en-US", base_url=base_url)
            context.set_default_timeout(15_000)
            contexts.append(context)
            return context.new_page()

        try:
            yield new_page
        finally:
            for context in contexts:
                context.close()
            browser.close()
