"""An account manager cannot read another's customer: by code, search, export, history or API.

Issue 3's acceptance, channel by channel, for the Tokyo account manager (and the Tokyo
manager, whose area stops at Tokyo) against the Osaka card. Each channel is also asked
for the caller's own card, so an empty answer cannot pass for a refusal.

Covered elsewhere, and not repeated here: every page and API operation that names a card,
a person or an order by its key answers 404 out of scope for every role
(tokui/core/tests/test_route_matrix.py, test_views_permissions.py, test_api_customers.py,
test_api_people.py, sales/tests/test_api.py); the export functions and ``tokui export``
keep to the caller's scope (sales/tests/test_exports.py).
"""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from tokui.audit.models import AccessEvent
from tokui.core.testing.clients import bearer
from tokui.core.testing.factories import PersonFactory
from tokui.customers import services
from tokui.sales.tests import builders
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

SCOPED = [Role.ACCOUNT_MANAGER, Role.MANAGER]
API = "/api/v1"


@pytest.fixture
def cards(users, customer, other_customer):
    """A person, an order and a payment on each card; what identifies each side."""
    sides = {}
    for card, person, suffix in (
        (customer, "山田太郎", "TKY"),
        (other_customer, "大阪花子", "OSK"),
    ):
        PersonFactory(customer=card, name=person, phone=f"090-0000-{len(sides) + 1:04d}")
        builders.order(users, card, number=f"SO-{suffix}")
        builders.payment(users, card, reference=f"PAY-{suffix}", amount=Decimal("300"))
        sides[suffix] = {
            "code": card.code,
            "name": card.name,
            "reading": card.name_reading,
            "phone": card.phone,
            "person": person,
            "order": f"SO-{suffix}",
            "payment": f"PAY-{suffix}",
        }
    return {"mine": sides["TKY"], "theirs": sides["OSK"]}


def leaked(text: str, side: dict) -> list[str]:
    return [value for value in side.values() if value and value in text]


def signed_in(client, users, role):
    client.force_login(users[role])
    return client


# --- search ---------------------------------------------------------------------------


def listed(response) -> list:
    """The records in the page's result table (the page also echoes the query itself)."""
    assert response.status_code == 200
    return [row.record for row in response.context["table"].paginated_rows]


@pytest.mark.parametrize("role", SCOPED)
@pytest.mark.parametrize("what", ["code", "name", "reading", "phone"])
def test_list_search_finds_only_the_callers_card(client, users, cards, role, what):
    browser = signed_in(client, users, role)
    url = reverse("customers:list")

    mine = listed(browser.get(url, {"q": cards["mine"][what]}))
    theirs = listed(browser.get(url, {"q": cards["theirs"][what]}))

    assert [card.code for card in mine] == [cards["mine"]["code"]]
    assert theirs == []


@pytest.mark.parametrize("role", SCOPED)
@pytest.mark.parametrize("what", ["code", "name", "reading", "phone"])
@pytest.mark.parametrize("parameter", ["search", "q"])
def test_api_search_finds_only_the_callers_card(client, users, cards, role, what, parameter):
    # ``q`` is not a parameter of the API: it is ignored, and the list is the caller's own.
    token = bearer(users[role], scope="read")

    def codes(value):
        response = client.get(f"{API}/customers", {parameter: value}, HTTP_AUTHORIZATION=token)
        assert response.status_code == 200
        return [item["code"] for item in response.json()["items"]]

    assert codes(cards["mine"][what]) == [cards["mine"]["code"]]
    assert cards["theirs"]["code"] not in codes(cards["theirs"][what])


@pytest.mark.parametrize("role", SCOPED)
@pytest.mark.parametrize(("kind", "key"), [("orders", "number"), ("payments", "reference")])
def test_sales_lists_filtered_by_another_card_are_empty(client, users, cards, role, kind, key):
    browser = signed_in(client, users, role)
    page = reverse(f"sales:{kind[:-1]}_list")
    token = bearer(users[role], scope="read")

    mine = listed(browser.get(page, {"customer": cards["mine"]["code"]}))
    theirs = listed(browser.get(page, {"customer": cards["theirs"]["code"]}))
    api_mine = client.get(f"{API}/{kind}", {"customer": "TKY-0001"}, HTTP_AUTHORIZATION=token)
    api_theirs = client.get(f"{API}/{kind}", {"customer": "OSK-0001"}, HTTP_AUTHORIZATION=token)

    assert [getattr(row, key) for row in mine] == [cards["mine"][kind[:-1]]]
    assert theirs == []
    assert [item[key] for item in api_mine.json()["items"]] == [cards["mine"][kind[:-1]]]
    assert (api_theirs.status_code, api_theirs.json()["items"]) == (200, [])


# --- export ---------------------------------------------------------------------------


def download(browser, kind: str, file_format: str, **filters) -> str:
    """The exported file's cells as one text, whatever the format."""
    response = browser.get(reverse("sales:export", args=[kind]), {"format": file_format, **filters})
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        rows = [["" if cell is None else str(cell) for cell in row] for row in sheet.values]
    return "\n".join("\t".join(row) for row in rows)


@pytest.mark.parametrize("role", SCOPED)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("kind", "own_value"),
    [("customers", "code"), ("people", "person"), ("orders", "order"), ("payments", "payment")],
)
def test_export_holds_only_the_callers_card(
    client, users, cards, role, file_format, kind, own_value
):
    browser = signed_in(client, users, role)

    # The card list filters by search; the others by the card they belong to.
    narrowing = "q" if kind == "customers" else "customer"

    everything = download(browser, kind, file_format)
    filtered = download(browser, kind, file_format, **{narrowing: cards["theirs"]["code"]})

    assert cards["mine"][own_value] in everything
    assert leaked(everything, cards["theirs"]) == []
    assert leaked(filtered, cards["theirs"]) == []


@pytest.mark.parametrize("role", SCOPED)
def test_export_records_only_the_callers_card_as_read(client, users, cards, role):
    # The access log is the trail of who took which cards out: it must not name the
    # other card either, or the log itself would say that card was in the file.
    browser = signed_in(client, users, role)

    download(browser, "customers", "csv")

    event = AccessEvent.objects.get(actor=users[role], action="export")
    assert event.count == 1


# --- history --------------------------------------------------------------------------


@pytest.mark.parametrize("role", SCOPED)
def test_history_of_another_card_is_not_found(client, users, cards, other_customer, role):
    browser = signed_in(client, users, role)

    response = browser.get(reverse("customers:history", args=[other_customer.code]))

    assert response.status_code == 404
    assert leaked(response.content.decode(), cards["theirs"]) == []


@pytest.mark.parametrize("role", SCOPED)
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"object_type": "customers.customer"},
        {"object_type": "customers.person", "action": "create"},
        {"user": "admin", "period_after": "2000-01-01"},
    ],
    ids=["all", "cards", "people", "by-user"],
)
def test_change_log_and_access_log_are_refused_filtered_or_not(client, users, cards, role, query):
    browser = signed_in(client, users, role)

    changes = browser.get(reverse("audit:change_log"), query)
    accesses = browser.get(reverse("audit:access_log"), {**query, "customer": "OSK-0001"})

    assert (changes.status_code, accesses.status_code) == (403, 403)
    assert leaked(changes.content.decode() + accesses.content.decode(), cards["theirs"]) == []


@pytest.mark.parametrize("role", SCOPED)
def test_own_card_history_shows_nothing_of_another_card(
    client, users, cards, customer, other_customer, role
):
    # Both cards change after each other; the caller's history holds only theirs.
    admin = users[Role.ADMINISTRATOR]
    other_customer.refresh_from_db()
    services.customer_update(
        actor=admin,
        customer=other_customer,
        data={"name": "大阪物産 改"},
        expected_version=other_customer.version,
    )
    customer.refresh_from_db()
    services.customer_update(
        actor=admin,
        customer=customer,
        data={"name": "山田商店 改"},
        expected_version=customer.version,
    )
    browser = signed_in(client, users, role)

    history = browser.get(reverse("customers:history", args=[customer.code])).content.decode()
    card = browser.get(reverse("customers:detail", args=[customer.code])).content.decode()

    assert "山田商店 改" in history
    assert "大阪物産" not in history
    assert leaked(card, cards["theirs"]) == []


# --- the API, beyond the card itself --------------------------------------------------


@pytest.mark.parametrize("role", SCOPED)
def test_api_lists_hold_only_the_callers_card(client, users, cards, role):
    token = bearer(users[role], scope="read")

    texts = {
        path: client.get(f"{API}/{path}", HTTP_AUTHORIZATION=token).content.decode()
        for path in ("customers", "orders", "payments", "customers/TKY-0001/people")
    }

    assert {path: leaked(text, cards["theirs"]) for path, text in texts.items()} == {
        path: [] for path in texts
    }
    assert cards["mine"]["code"] in texts["customers"]
    assert cards["mine"]["order"] in texts["orders"]
    assert cards["mine"]["payment"] in texts["payments"]
    assert cards["mine"]["person"] in texts["customers/TKY-0001/people"]
