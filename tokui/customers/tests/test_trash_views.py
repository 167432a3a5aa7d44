"""The trash on the pages and the API, and imports naming a trashed card (issue 3).

``customer`` (TKY-0001, with a person, an order SO-1 and a payment) is in every
card-reading role's reach; administrators restore and purge, auditors only look.
"""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from tokui.audit.models import ObjectChange
from tokui.core.testing.clients import TwoFactorClient, bearer
from tokui.core.testing.factories import PersonFactory
from tokui.customers import services
from tokui.customers.models import Customer, Person
from tokui.sales.models import ImportRejection, Order, Product
from tokui.sales.tests import builders
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

CARD_READERS = (
    Role.ADMINISTRATOR,
    Role.MANAGER,
    Role.ACCOUNT_MANAGER,
    Role.SERVICE_AGENT,
    Role.AUDITOR,
)
NOT_ADMINS = (Role.MANAGER, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST, Role.AUDITOR)


@pytest.fixture
def card(users, customer):
    PersonFactory(customer=customer, name="山田 花子")
    builders.order(users, customer, number="SO-1")
    builders.payment(users, customer, reference="PAY-1")
    return customer


@pytest.fixture
def trashed(users, card):
    services.customer_delete(actor=users[Role.ADMINISTRATOR], customer=card)
    card.refresh_from_db()
    return card


def browser(user):
    client = TwoFactorClient()
    client.force_login(user)
    return client


def api(client, method, url, user, body=None):
    kwargs = {"HTTP_AUTHORIZATION": bearer(user)}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **kwargs)


def state(code="TKY-0001"):
    return (
        list(Customer._base_manager.filter(code=code).values("deleted_at", "deleted_by")),
        ObjectChange.objects.count(),
    )


# --- deleting ---------------------------------------------------------------------------


def test_the_delete_page_offers_to_move_the_card_to_the_trash(users, card):
    response = browser(users[Role.ADMINISTRATOR]).get(
        reverse("customers:delete", args=["TKY-0001"])
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "Move to trash" in text
    assert "Move the card of 山田商店 to the trash" in text
    assert "for 30 days" in text


def test_deleting_on_the_page_moves_the_card_with_orders_to_the_trash(users, card):
    manager = browser(users[Role.MANAGER])

    response = manager.post(reverse("customers:delete", args=["TKY-0001"]))

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.deleted_by == users[Role.MANAGER]
    assert Order.objects.filter(customer=card).count() == 1
    assert manager.get(reverse("customers:detail", args=["TKY-0001"])).status_code == 404


@pytest.mark.parametrize("role", CARD_READERS)
def test_a_trashed_card_is_gone_from_the_pages(users, trashed, other_customer, role):
    client = browser(users[role])

    listing = client.get(reverse("customers:list"), {"q": "TKY"}).content.decode()
    orders = client.get(reverse("sales:order_list")).content.decode()

    assert "TKY-0001" not in listing
    assert "SO-1" not in orders
    for name in ("customers:detail", "customers:history", "customers:edit"):
        assert client.get(reverse(name, args=["TKY-0001"])).status_code in (403, 404), name


@pytest.mark.parametrize("role", CARD_READERS)
def test_a_trashed_card_is_gone_from_the_api(client, users, trashed, role):
    user = users[role]

    assert api(client, "get", "/api/v1/customers/TKY-0001", user).status_code == 404
    assert api(client, "get", "/api/v1/customers/TKY-0001/people", user).status_code == 404
    listed = api(client, "get", "/api/v1/customers?search=TKY", user).json()["items"]
    assert listed == []
    orders = api(client, "get", "/api/v1/orders", user).json()["items"]
    assert [o["number"] for o in orders] == []
    person = Person.objects.get(customer=trashed)
    assert api(client, "get", f"/api/v1/people/{person.pk}", user).status_code == 404


def test_api_delete_moves_to_the_trash_and_then_answers_404(client, users, card):
    admin = users[Role.ADMINISTRATOR]

    response = api(client, "delete", "/api/v1/customers/TKY-0001", admin)

    assert response.status_code == 204
    assert api(client, "get", "/api/v1/customers/TKY-0001", admin).status_code == 404
    assert api(client, "delete", "/api/v1/customers/TKY-0001", admin).status_code == 404
    card.refresh_from_db()
    assert card.deleted_at is not None


def test_api_create_with_a_trashed_code_says_the_code_is_in_the_trash(client, users, trashed):
    response = api(
        client,
        "post",
        "/api/v1/customers",
        users[Role.ADMINISTRATOR],
        {"code": "TKY-0001", "kind": "company", "name": "別の店"},
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "code"]
    assert error["msg"].startswith("This code belongs to a card in the trash.")
    assert Customer._base_manager.filter(code="TKY-0001").count() == 1


# --- the trash page ---------------------------------------------------------------------


def test_administrators_see_the_trash_with_who_when_and_restore(users, trashed):
    response = browser(users[Role.ADMINISTRATOR]).get(reverse("customers:trash"))

    text = response.content.decode()
    assert response.status_code == 200
    assert "山田商店" in text and "TKY-0001" in text
    assert "<td>admin</td>" in text
    purge_after = timezone.localtime(trashed.deleted_at + datetime.timedelta(days=30))
    assert purge_after.strftime("%Y-%m-%d %H:%M") in text
    assert reverse("customers:trash_restore", args=["TKY-0001"]) in text
    assert reverse("customers:trash_purge") in text


def test_auditors_see_the_trash_without_restore(users, trashed):
    response = browser(users[Role.AUDITOR]).get(reverse("customers:trash"))

    text = response.content.decode()
    assert response.status_code == 200
    assert "TKY-0001" in text
    assert reverse("customers:trash_restore", args=["TKY-0001"]) not in text
    assert reverse("customers:trash_purge") not in text


@pytest.mark.parametrize(
    "role", [Role.MANAGER, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST]
)
def test_other_roles_may_not_see_the_trash(users, trashed, role):
    response = browser(users[role]).get(reverse("customers:trash"))

    assert response.status_code == 403


def test_the_menu_links_the_trash_for_those_who_may_see_it(users):
    link = f'href="{reverse("customers:trash")}"'

    for role, shown in [
        (Role.ADMINISTRATOR, True),
        (Role.AUDITOR, True),
        (Role.MANAGER, False),
        (Role.ACCOUNT_MANAGER, False),
    ]:
        page = browser(users[role]).get(reverse("customers:list")).content.decode()
        assert (link in page) is shown, role


def test_restoring_on_the_page_returns_to_the_card(users, trashed):
    admin = browser(users[Role.ADMINISTRATOR])

    response = admin.post(reverse("customers:trash_restore", args=["TKY-0001"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=["TKY-0001"])
    page = admin.get(response["Location"]).content.decode()
    assert "山田 花子" in page and "SO-1" in page
    am = browser(users[Role.ACCOUNT_MANAGER])
    assert am.get(reverse("customers:detail", args=["TKY-0001"])).status_code == 200


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_administrators_restore_and_purge_on_the_pages(users, trashed, role):
    Customer.objects.filter(pk=trashed.pk).update(
        deleted_at=timezone.now() - datetime.timedelta(days=90)
    )
    client = browser(users[role])
    before = state()

    restore = client.post(reverse("customers:trash_restore", args=["TKY-0001"]))
    purge = client.post(reverse("customers:trash_purge"))

    assert (restore.status_code, purge.status_code) == (403, 403)
    assert state() == before


def test_restoring_a_code_not_in_the_trash_is_404(users, card):
    response = browser(users[Role.ADMINISTRATOR]).post(
        reverse("customers:trash_restore", args=["TKY-0001"])
    )

    assert response.status_code == 404


def test_purging_on_the_page_deletes_only_what_is_due(users, trashed, other_customer):
    services.customer_delete(actor=users[Role.ADMINISTRATOR], customer=other_customer)
    Customer.objects.filter(pk=trashed.pk).update(
        deleted_at=timezone.now() - datetime.timedelta(days=31)
    )

    response = browser(users[Role.ADMINISTRATOR]).post(reverse("customers:trash_purge"))

    assert response.status_code == 302
    assert list(Customer._base_manager.values_list("code", flat=True)) == ["OSK-0001"]


# --- the trash over the API -------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.AUDITOR])
def test_api_lists_the_trash(client, users, trashed, role):
    response = api(client, "get", "/api/v1/trash", users[role])

    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert (item["code"], item["name"], item["deleted_by"], item["owner"], item["area"]) == (
        "TKY-0001",
        "山田商店",
        "admin",
        "am",
        "TKY",
    )
    deleted = datetime.datetime.fromisoformat(item["deleted_at"])
    purge_after = datetime.datetime.fromisoformat(item["purge_after"])
    assert purge_after - deleted == datetime.timedelta(days=30)


@pytest.mark.parametrize(
    "role", [Role.MANAGER, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST]
)
def test_api_trash_list_is_refused_to_other_roles(client, users, trashed, role):
    assert api(client, "get", "/api/v1/trash", users[role]).status_code == 403


def test_api_restore_brings_the_card_back(client, users, trashed):
    admin = users[Role.ADMINISTRATOR]

    response = api(client, "post", "/api/v1/trash/TKY-0001/restore", admin)

    assert response.status_code == 200
    assert response.json()["code"] == "TKY-0001"
    am = users[Role.ACCOUNT_MANAGER]
    assert api(client, "get", "/api/v1/customers/TKY-0001", am).status_code == 200
    people = api(client, "get", "/api/v1/customers/TKY-0001/people", am).json()
    assert [p["name"] for p in people] == ["山田 花子"]
    assert api(client, "get", "/api/v1/trash", admin).json()["items"] == []


def test_api_restore_of_a_live_card_is_404(client, users, card):
    response = api(client, "post", "/api/v1/trash/TKY-0001/restore", users[Role.ADMINISTRATOR])

    assert response.status_code == 404


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_administrators_restore_and_purge_over_the_api(client, users, trashed, role):
    Customer.objects.filter(pk=trashed.pk).update(
        deleted_at=timezone.now() - datetime.timedelta(days=90)
    )
    before = state()

    restore = api(client, "post", "/api/v1/trash/TKY-0001/restore", users[role])
    purge = api(client, "post", "/api/v1/trash/purge", users[role])

    assert (restore.status_code, purge.status_code) == (403, 403)
    assert state() == before


def test_api_purge_deletes_what_is_past_the_retention(client, users, trashed):
    Customer.objects.filter(pk=trashed.pk).update(
        deleted_at=timezone.now() - datetime.timedelta(days=31)
    )

    response = api(client, "post", "/api/v1/trash/purge", users[Role.ADMINISTRATOR])

    assert response.status_code == 200
    assert response.json() == {"purged": ["TKY-0001"]}
    assert not Customer._base_manager.filter(code="TKY-0001").exists()


# --- imports naming a trashed card ------------------------------------------------------


def run_import(*args):
    out = io.StringIO()
    call_command("import", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_an_order_import_for_a_trashed_card_is_rejected_saying_so(tmp_path, trashed):
    Product.objects.get_or_create(code="P-1", defaults={"name": "緑茶"})
    path = tmp_path / "o.csv"
    path.write_text(
        "order_no,line_no,customer_code,date,product_code,quantity,unit_price\n"
        "IMP-1,1,TKY-0001,2026-03-01,P-1,1,100\n",
        encoding="utf-8",
    )
    orders_before = Order.objects.count()

    with pytest.raises(CommandError):
        run_import("orders", str(path))

    rejection = ImportRejection.objects.get()
    assert (rejection.row_number, rejection.column, rejection.value) == (
        2,
        "customer_code",
        "TKY-0001",
    )
    assert rejection.reason == (
        "This customer's card is in the trash: restore it first to import for it."
    )
    assert Order.objects.count() == orders_before


def test_a_card_import_does_not_change_a_trashed_card(tmp_path, trashed):
    path = tmp_path / "c.csv"
    path.write_text("code,name\nTKY-0001,上書き商店\n", encoding="utf-8")
    rows_before = ObjectChange.objects.count()

    with pytest.raises(CommandError):
        run_import("customers", str(path))

    assert ImportRejection.objects.get().reason.startswith("This customer's card is in the trash")
    trashed.refresh_from_db()
    assert trashed.name == "山田商店"
    assert ObjectChange.objects.count() == rows_before


def test_a_people_import_for_a_trashed_card_is_rejected_saying_so(tmp_path, trashed):
    path = tmp_path / "p.csv"
    path.write_text("customer_code,name\nTKY-0001,新しい人\n", encoding="utf-8")

    with pytest.raises(CommandError):
        run_import("people", str(path))

    assert ImportRejection.objects.get().reason.startswith("This customer's card is in the trash")
    assert Person.objects.filter(customer=trashed).count() == 1


# --- the logs keep what happened -----------------------------------------------------


def test_the_logs_still_show_a_trashed_cards_reads_and_changes(users, card):
    admin = browser(users[Role.ADMINISTRATOR])
    admin.get(reverse("customers:detail", args=["TKY-0001"]))  # one access record
    services.customer_delete(actor=users[Role.ADMINISTRATOR], customer=card)

    access = admin.get(reverse("audit:access_log"), {"customer": "TKY-0001"})
    changes = admin.get(reverse("audit:change_log"), {"action": "delete"})

    assert access.status_code == 200
    assert access.context["customer"] == card
    assert [row["event"].customer_id for row in access.context["rows"]] == [card.pk]
    assert changes.status_code == 200
    assert {row["change"].customer_id for row in changes.context["rows"]} == {card.pk}


def test_an_import_cannot_move_a_trashed_cards_order_or_payment_away(
    tmp_path, trashed, other_customer
):
    Product.objects.get_or_create(code="P-1", defaults={"name": "緑茶"})
    orders = tmp_path / "o.csv"
    orders.write_text(
        "order_no,line_no,customer_code,date,product_code,quantity,unit_price\n"
        "SO-1,1,OSK-0001,2026-03-01,P-1,1,100\n",
        encoding="utf-8",
    )
    payments = tmp_path / "p.csv"
    payments.write_text(
        "reference,customer_code,date,amount\nPAY-1,OSK-0001,2026-03-01,500\n", encoding="utf-8"
    )

    with pytest.raises(CommandError):
        run_import("orders", str(orders))
    with pytest.raises(CommandError):
        run_import("payments", str(payments))

    reasons = sorted(ImportRejection.objects.values_list("column", "value", "reason"))
    assert reasons == [
        (
            "order_no",
            "SO-1",
            "This order belongs to a card in the trash: restore the card first.",
        ),
        (
            "reference",
            "PAY-1",
            "This payment belongs to a card in the trash: restore the card first.",
        ),
    ]
    assert Order.objects.get(number="SO-1").customer_id == trashed.pk
    assert trashed.payments.get().reference == "PAY-1"
