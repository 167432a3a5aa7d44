"""End to end in Debian's Chromium (GOV-2): an account manager edits a controlled field, a
manager approves it, and the card shows the new value and its history."""

import re

import pytest

from tokui.core.testing.browser import chromium
from tokui.core.testing.factories import (
    TEST_PASSWORD,
    CustomerFactory,
    FieldDefinitionFactory,
    UserFactory,
)
from tokui.fields.choices import FieldType
from tokui.users.choices import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def new_page(live_server):
    """``new_page()``: a page in a browser context of its own (one signed-in user each)."""
    with chromium(live_server.url) as new_page:
        yield new_page


def log_in(page, username: str, code: str | None = None) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if code is not None:
        page.get_by_label("Code from your authenticator app").fill(code)
        page.get_by_role("button", name="Verify").click()


def test_account_manager_asks_manager_approves_card_shows_value_and_history(
    new_page, transactional_db, areas, totp_code
):
    from playwright.sync_api import expect

    am = UserFactory(username="suzuki", role=Role.ACCOUNT_MANAGER, area=areas["TKY"])
    manager = UserFactory(username="tanaka", role=Role.MANAGER, area=areas["TKY"])
    CustomerFactory(code="TKY-0100", name="山田商店", owner=am, area=areas["TKY"])
    FieldDefinitionFactory(
        key="credit_limit", label="Credit limit", field_type=FieldType.INTEGER, controlled=True
    )

    # The account manager changes the controlled field: it is sent for approval.
    asker = new_page()
    log_in(asker, "suzuki")
    asker.goto("/customers/TKY-0100/edit/")
    expect(asker.get_by_text("needs approval", exact=True)).to_be_visible()
    asker.get_by_label("Credit limit").fill("750000")
    asker.get_by_label("Reason for the controlled change").fill("Signed the yearly contract")
    asker.get_by_role("button", name="Save changes").click()
    expect(asker).to_have_url(re.compile(r"/customers/TKY-0100/$"))
    expect(asker.get_by_text("Sent for approval")).to_be_visible()
    pending = asker.locator("#pending-changes")
    expect(pending.get_by_text("Signed the yearly contract")).to_be_visible()

    # The manager of the area approves it from the review queue.
    approver = new_page()
    log_in(approver, "tanaka", totp_code(manager))
    approver.goto("/approvals/")
    approver.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    expect(approver.get_by_text("Signed the yearly contract")).to_be_visible()
    approver.get_by_label("Comment").fill("Matches the contract")
    approver.get_by_role("button", name="Approve", exact=True).click()
    expect(approver.get_by_text("Approved: the card now has the new values.")).to_be_visible()

    # The card shows the new value, and its history the change by the approver.
    approver.goto("/customers/TKY-0100/")
    expect(approver.locator("#pending-changes")).to_have_count(0)
    expect(approver.get_by_text(re.compile(r"750,?000")).first).to_be_visible()
    approver.get_by_role("link", name="History", exact=True).click()
    history = approver.locator("table")
    expect(history.get_by_text(re.compile(r"750,?000")).first).to_be_visible()
    expect(history.get_by_text("tanaka").first).to_be_visible()

    # The requester sees the outcome in their inbox.
    asker.goto("/customers/TKY-0100/")
    expect(asker.locator("#nav-my-requests .badge")).to_have_text("1")
    asker.locator("#nav-my-requests").click()
    expect(asker.get_by_text("Matches the contract")).to_be_visible()
