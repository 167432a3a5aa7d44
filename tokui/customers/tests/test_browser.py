"""End to end in Debian's Chromium: find a card by its kana reading, edit it, read its history."""

import re

import pytest

from tokui.core.testing.browser import chromium
from tokui.core.testing.factories import TEST_PASSWORD, CustomerFactory, UserFactory
from tokui.users.choices import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server):
    with chromium(live_server.url) as new_page:
        yield new_page()


def test_account_manager_finds_card_by_reading_edits_it_and_sees_the_history(
    page, transactional_db, areas
):
    from playwright.sync_api import expect

    am = UserFactory(username="suzuki", role=Role.ACCOUNT_MANAGER, area=areas["TKY"])
    CustomerFactory(
        code="TKY-0100",
        name="山田商店",
        name_reading="ヤマダショウテン",
        owner=am,
        area=areas["TKY"],
        phone="03-1234-5678",
    )
    CustomerFactory(code="TKY-0101", name="佐藤薬局", name_reading="サトウヤッキョク", owner=am)

    page.goto("/login/")
    page.get_by_label("Username").fill("suzuki")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    # Hiragana finds the card whose reading was typed in katakana.
    page.locator("#id_q").fill("やまだ")
    results = page.locator("#results")
    expect(results.get_by_text("山田商店")).to_be_visible()
    expect(results.get_by_text("佐藤薬局")).to_have_count(0)

    results.get_by_role("link", name="TKY-0100").click()
    expect(page).to_have_url(re.compile(r"/customers/TKY-0100/$"))
    page.get_by_role("link", name="Edit card").click()
    page.get_by_label("Phone", exact=True).fill("03-9999-0000")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/customers/TKY-0100/$"))
    expect(page.get_by_text("03-9999-0000").first).to_be_visible()

    page.get_by_role("link", name="History", exact=True).click()
    history = page.locator("table")
    expect(history.get_by_text("03-1234-5678")).to_be_visible()
    expect(history.get_by_text("03-9999-0000")).to_be_visible()
    expect(history.get_by_text("suzuki").first).to_be_visible()
