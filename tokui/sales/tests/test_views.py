"""Product, order and payment pages: the permission matrix, then what each page does.

Given the shared fixtures (``customer`` in Tokyo owned by the account manager,
``other_customer`` in Osaka), every page answers: anonymous → log-in page, a role
without the permission → 403, an order or customer outside the user's scope → 404, an
allowed user → the page. Refused POSTs change nothing.
"""

import datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.sales.models import Order, OrderLine, Payment, Product
from tokui.sales.tests import builders
from tokui.users.choices import Role

ADMIN = Role.ADMINISTRATOR
MANAGER = Role.MANAGER
AM = Role.ACCOUNT_MANAGER
AGENT = Role.SERVICE_AGENT
ANALYST = Role.ANALYST
AUDITOR = Role.AUDITOR
ALL_ROLES = (ADMIN, MANAGER, AM, AGENT, ANALYST, AUDITOR)
READERS = (ADMIN, MANAGER, AM, AGENT, AUDITOR)
EDITORS = (ADMIN, MANAGER, AM)
PRODUCT_EDITORS = (ADMIN, MANAGER)
SCOPED = (MANAGER, AM)  # their scope does not reach Osaka

# (url name, roles allowed, what the URL names: None / "product" / "order" / "customer")
PAGES = [
    ("sales:product_list", READERS, None),
    ("sales:product_create", PRODUCT_EDITORS, None),
    ("sales:product_detail", READERS, "product"),
    ("sales:product_edit", PRODUCT_EDITORS, "product"),
    ("sales:order_list", READERS, None),
    ("sales:order_create", EDITORS, "customer"),
    ("sales:order_detail", READERS, "order"),
    ("sales:order_cancel", EDITORS, "order"),
    ("sales:payment_list", READERS, None),
    ("sales:payment_create", EDITORS, "customer"),
]
PAGE_IDS = [page[0].split(":")[1] for page in PAGES]


def page_url(name, target, users, card):
    if target == "product":
        return reverse(name, kwargs={"code": builders.product_for("P-001").code})
    if target == "order":
        order = builders.order(users, card, number=f"SO-{card.code}")
        return reverse(name, kwargs={"number": order.number})
    if target == "customer":
        return reverse(name) + "?customer=" + quote(card.code)
    return reverse(name)


@pytest.mark.parametrize(("name", "allowed", "target"), PAGES, ids=PAGE_IDS)
def test_anonymous_is_sent_to_log_in(client, users, customer, name, allowed, target):
    url = page_url(name, target, users, customer)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "allowed", "target"), PAGES, ids=PAGE_IDS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_gets_the_page_or_403(client, users, customer, name, allowed, target, role):
    url = page_url(name, target, users, customer)
    client.force_login(users[role])
    response = client.get(url)
    assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.parametrize(
    ("name", "allowed", "target"),
    [page for page in PAGES if page[2] in ("order", "customer")],
    ids=[page[0] for page in PAGES if page[2] in ("order", "customer")],
)
@pytest.mark.parametrize("role", SCOPED)
def test_out_of_scope_is_404(client, users, other_customer, name, allowed, target, role):
    url = page_url(name, target, users, other_customer)
    client.force_login(users[role])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("kind", ["customers", "people", "products", "orders", "payments"])
@pytest.mark.parametrize("role", ALL_ROLES)
def test_export_download_permission(client, users, customer, kind, role):
    client.force_login(users[role])
    response = client.get(reverse("sales:export", kwargs={"kind": kind}) + "?format=csv")
    assert response.status_code == (200 if role in READERS else 403)


def test_export_download_anonymous_is_sent_to_log_in(client, db):
    response = client.get(reverse("sales:export", kwargs={"kind": "orders"}))
    assert response.status_code == 302


# --- lists ------------------------------------------------------------------------------


def test_order_list_shows_only_orders_in_scope_and_filters(client, users, customer, other_customer):
    builders.order(users, customer, number="SO-TKY-1", date=datetime.date(2026, 1, 5))
    builders.order(users, customer, number="SO-TKY-2", date=datetime.date(2026, 2, 5))
    builders.order(users, other_customer, number="SO-OSK-1")
    client.force_login(users[AM])

    everything = client.get(reverse("sales:order_list")).context["table"]
    february = client.get(reverse("sales:order_list") + "?date_from=2026-02-01").context["table"]

    assert sorted(row.record.number for row in everything.rows) == ["SO-TKY-1", "SO-TKY-2"]
    assert [row.record.number for row in february.rows] == ["SO-TKY-2"]


def test_list_answers_htmx_with_the_results_only(client, users, customer):
    builders.order(users, customer)
    client.force_login(users[AM])
    response = client.get(reverse("sales:order_list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_product_list_searches_and_filters_by_brand(client, users):
    builders.product("P-1", name="ポロシャツ", brand="Alpha")
    builders.product("P-2", name="ジャケット", brand="Beta")
    builders.product("P-3", name="ポロシャツ長袖", brand="Beta")
    client.force_login(users[AGENT])

    searched = client.get(reverse("sales:product_list") + "?q=ポロ").context["table"]
    branded = client.get(reverse("sales:product_list") + "?q=ポロ&brand=Beta").context["table"]

    assert [row.record.code for row in searched.rows] == ["P-1", "P-3"]
    assert [row.record.code for row in branded.rows] == ["P-3"]


def test_list_export_buttons_carry_the_current_filter(client, users, customer):
    client.force_login(users[AM])
    html = client.get(reverse("sales:order_list") + "?status=confirmed&page=1").content.decode()
    assert (
        reverse("sales:export", kwargs={"kind": "orders"}) + "?format=csv&amp;status=confirmed"
        in html
    )
    customers_html = client.get(reverse("customers:list") + "?status=active").content.decode()
    assert (
        reverse("sales:export", kwargs={"kind": "customers"}) + "?format=xlsx&amp;status=active"
        in customers_html
    )


# --- entry forms ------------------------------------------------------------------------


def order_post(customer_code, number="SO-NEW", lines=(("P-001", "2", "", ""),)):
    data = {
        "customer": customer_code,
        "number": number,
        "date": "2026-03-01",
        "channel": "phone",
        "status": "confirmed",
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    for index, (product, quantity, price, amount) in enumerate(lines):
        data.update(
            {
                f"lines-{index}-product": product,
                f"lines-{index}-quantity": quantity,
                f"lines-{index}-unit_price": price,
                f"lines-{index}-amount": amount,
            }
        )
    return data


def test_account_manager_enters_an_order_with_lines(client, users, customer):
    builders.product("P-001", list_price=Decimal("1200"))
    builders.product("P-002")
    client.force_login(users[AM])

    response = client.post(
        reverse("sales:order_create"),
        order_post(customer.code, lines=[("P-001", "2", "", ""), ("P-002", "3", "100", "250")]),
    )

    assert response.status_code == 302
    order = Order.objects.get(number="SO-NEW")
    assert response.url == reverse("sales:order_detail", kwargs={"number": "SO-NEW"})
    assert order.customer == customer
    assert order.channel == "phone"
    assert order.total_amount == Decimal("2650.00")  # 2 x list price 1200, plus 250 as typed
    assert list(order.lines.values_list("product__code", "amount")) == [
        ("P-001", Decimal("2400.00")),
        ("P-002", Decimal("250.00")),
    ]


def test_order_for_a_customer_out_of_scope_is_refused_on_the_form(client, users, other_customer):
    builders.product("P-001", list_price=Decimal("100"))
    client.force_login(users[AM])

    response = client.post(reverse("sales:order_create"), order_post(other_customer.code))

    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert Order.objects.count() == 0


def test_order_with_an_unknown_product_is_refused(client, users, customer):
    client.force_login(users[AM])
    response = client.post(reverse("sales:order_create"), order_post(customer.code))
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["product"] == [
        "There is no product “P-001”."
    ]
    assert Order.objects.count() == 0


def test_order_cancel_by_post(client, users, customer):
    order = builders.order(users, customer)
    client.force_login(users[AM])
    response = client.post(reverse("sales:order_cancel", kwargs={"number": order.number}))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_order_cancel_out_of_scope_changes_nothing(client, users, other_customer):
    order = builders.order(users, other_customer)
    client.force_login(users[AM])
    response = client.post(reverse("sales:order_cancel", kwargs={"number": order.number}))
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_payment_entry(client, users, customer):
    client.force_login(users[AM])
    response = client.post(
        reverse("sales:payment_create"),
        {
            "customer": customer.code,
            "reference": "BANK-1",
            "date": "2026-03-02",
            "amount": "5000",
            "method": "cash",
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get(reference="BANK-1")
    assert (payment.customer, payment.amount, payment.method) == (customer, Decimal("5000"), "cash")


def test_service_agent_posting_a_payment_gets_403_and_nothing_changes(client, users, customer):
    client.force_login(users[AGENT])
    response = client.post(
        reverse("sales:payment_create"),
        {"customer": customer.code, "reference": "B", "date": "2026-03-02", "amount": "1"},
    )
    assert response.status_code == 403
    assert Payment.objects.count() == 0


def test_manager_creates_and_edits_a_product(client, users):
    client.force_login(users[MANAGER])
    client.post(
        reverse("sales:product_create"),
        {
            "code": "JK-1",
            "name": "ジャケット",
            "brand": "Tokui",
            "list_price": "9800",
            "is_active": "on",
        },
    )
    response = client.post(
        reverse("sales:product_edit", kwargs={"code": "JK-1"}),
        {"code": "CHANGED", "name": "ジャケット改", "list_price": "9900", "is_active": "on"},
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.code, product.name, product.list_price) == (
        "JK-1",
        "ジャケット改",
        Decimal("9900"),
    )
    assert ObjectChange.objects.filter(object_type="sales.product").count() == 2


def test_account_manager_posting_a_product_gets_403(client, users):
    client.force_login(users[AM])
    response = client.post(reverse("sales:product_create"), {"code": "X", "name": "X"})
    assert response.status_code == 403
    assert Product.objects.count() == 0


# --- the customer card ------------------------------------------------------------------


def test_card_shows_orders_and_the_timeline_merges_orders_and_payments(client, users, customer):
    builders.order(users, customer, number="SO-OLD", date=datetime.date(2020, 1, 1))
    builders.order(users, customer, number="SO-NEW", date=datetime.date(2099, 1, 1))
    builders.payment(users, customer, reference="PAY-1", date=datetime.date(2020, 2, 1))
    client.force_login(users[AM])

    response = client.get(reverse("customers:detail", kwargs={"code": customer.code}))

    html = response.content.decode()
    assert [o.number for o in response.context["orders"]] == ["SO-NEW", "SO-OLD"]
    timeline = response.context["timeline"]
    kinds = [(entry["kind"], getattr(entry.get("object"), "pk", None)) for entry in timeline]
    # The order dated 2099 first, then the history of today (the three creations), then
    # the payment of February 2020 and the order of January 2020.
    assert kinds[0][0] == "order" and timeline[0]["object"].number == "SO-NEW"
    assert [e["kind"] for e in timeline[-2:]] == ["payment", "order"]
    assert timeline[-1]["object"].number == "SO-OLD"
    assert reverse("sales:order_detail", kwargs={"number": "SO-NEW"}) in html
    assert reverse("sales:order_list") + "?customer=TKY-0001" in html


def test_card_offers_order_entry_only_to_editors(client, users, customer):
    new_order = reverse("sales:order_create") + "?customer=TKY-0001"
    client.force_login(users[AM])
    assert (
        new_order in client.get(reverse("customers:detail", args=[customer.code])).content.decode()
    )
    client.force_login(users[AGENT])
    assert (
        new_order
        not in client.get(reverse("customers:detail", args=[customer.code])).content.decode()
    )


def test_order_detail_shows_lines(client, users, customer):
    order = builders.order(users, customer)
    client.force_login(users[AUDITOR])
    response = client.get(reverse("sales:order_detail", kwargs={"number": order.number}))
    assert [line.line_no for line in response.context["lines"]] == [1]
    assert not response.context["can_cancel"]
    assert OrderLine.objects.get().amount == Decimal("1000.00")


@pytest.mark.parametrize("list_name", ["sales:order_list", "sales:payment_list"])
def test_list_queries_do_not_grow_with_the_rows_on_the_page(client, users, customer, list_name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(users[AM])

    def queries_for_page():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(list_name)).status_code == 200
        return len(captured)

    builders.order(users, customer, number="SO-0")
    builders.payment(users, customer, reference="PAY-0")
    queries_for_page()  # the first request of a session reads what later ones have cached
    few = queries_for_page()
    for n in range(1, 15):
        builders.order(users, customer, number=f"SO-{n}")
        builders.payment(users, customer, reference=f"PAY-{n}")
    assert queries_for_page() == few
