"""The figures per customer, checked against datasets small enough to work out by hand."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tokui.core.testing.factories import CustomerFactory
from tokui.metrics.models import CustomerMetrics
from tokui.metrics.services import metrics_refresh
from tokui.sales.choices import OrderStatus
from tokui.sales.models import Order, OrderLine, Payment, Product

TODAY = datetime.date(2026, 6, 30)
D = Decimal


def product(code, brand, category):
    return Product.objects.create(code=code, name=code, brand=brand, category=category)


def order(customer, number, date, lines, status=OrderStatus.CONFIRMED):
    """An order with its lines: ``lines`` are (product, quantity, unit price)."""
    placed = Order.objects.create(number=number, customer=customer, date=date, status=status)
    for line_no, (item, quantity, unit_price) in enumerate(lines, start=1):
        OrderLine.objects.create(
            order=placed,
            line_no=line_no,
            customer=customer,
            date=date,
            product=item,
            quantity=D(quantity),
            unit_price=D(unit_price),
            amount=D(quantity) * D(unit_price),
        )
    return placed


def pay(customer, reference, amount, date=TODAY):
    return Payment.objects.create(
        reference=reference, customer=customer, date=date, amount=D(amount)
    )


@pytest.fixture
def products(db):
    return {
        "tea": product("TEA", "Kirin", "Drinks"),
        "coffee": product("COF", "Ucc", "Drinks"),
        "rice": product("RICE", "Kirin", "Food"),
        "bag": product("BAG", "", "Goods"),
    }


@pytest.fixture
def shop(customer, products):
    """Three live orders over a year and a half, one cancelled, two payments."""
    order(customer, "O-1", datetime.date(2025, 1, 1), [(products["tea"], 10, "100")])
    order(
        customer,
        "O-2",
        datetime.date(2025, 12, 1),
        [(products["coffee"], 4, "250"), (products["rice"], 2, "1000")],
    )
    order(customer, "O-3", datetime.date(2026, 5, 31), [(products["bag"], 4, "50")])
    order(
        customer,
        "O-X",
        datetime.date(2026, 6, 1),
        [(products["coffee"], 100, "250")],
        status=OrderStatus.CANCELLED,
    )
    pay(customer, "P-1", "2000")
    pay(customer, "P-2", "500.50")
    return customer


def test_figures_of_a_customer_with_several_orders(shop):
    assert metrics_refresh(today=TODAY) == 1

    figures = CustomerMetrics.objects.get(customer=shop)
    assert figures.first_order_date == datetime.date(2025, 1, 1)
    assert figures.last_order_date == datetime.date(2026, 5, 31)
    assert figures.order_count == 3  # the cancelled order does not count
    assert figures.order_count_12m == 2  # 2025-12-01 and 2026-05-31
    assert figures.quantity_total == D("20.000")
    assert figures.amount_total == D("4200.00")
    assert figures.average_unit_price == D("210.00")
    assert figures.average_order_value == D("1400.00")
    # Last 12 months: 2025-07-01 .. 2026-06-30 → O-2 (6 units, 3000) and O-3 (4 units, 200).
    assert figures.amount_12m == D("3200.00")
    assert figures.monthly_quantity_12m == D("0.833")
    assert figures.monthly_amount_12m == D("266.67")
    assert figures.mean_days_between_orders == D("257.5")  # 515 days / 2 gaps
    assert figures.tenure_days == 545
    # Quantity by brand: Kirin 12 (tea 10 + rice 2), Ucc 4, no brand 4 → Kirin 12/20.
    assert figures.top_brand == "Kirin"
    assert figures.top_brand_share == D("0.6000")
    # Amount by category: Drinks 1000 + 1000, Food 2000, Goods 200 of 4200.
    assert figures.category_mix == pytest.approx(
        {"Drinks": 0.4762, "Food": 0.4762, "Goods": 0.0476}
    )
    assert figures.payments_total == D("2500.50")
    assert figures.balance == D("1699.50")
    assert figures.computed_at is not None


def test_one_order_has_no_mean_days_between_orders(customer, products):
    order(customer, "O-1", datetime.date(2026, 6, 20), [(products["tea"], 3, "100")])

    metrics_refresh(today=TODAY)

    figures = CustomerMetrics.objects.get(customer=customer)
    assert figures.order_count == 1
    assert figures.mean_days_between_orders is None
    assert figures.tenure_days == 10
    assert figures.top_brand == "Kirin"
    assert figures.top_brand_share == D("1.0000")
    assert figures.category_mix == {"Drinks": 1.0}
    assert figures.balance == D("300.00")


def test_payments_without_orders_give_a_negative_balance(customer):
    pay(customer, "P-1", "1000")

    metrics_refresh(today=TODAY)

    figures = CustomerMetrics.objects.get(customer=customer)
    assert figures.order_count == 0
    assert figures.first_order_date is None
    assert figures.tenure_days is None
    assert figures.average_unit_price is None
    assert figures.average_order_value is None
    assert figures.top_brand == ""
    assert figures.top_brand_share is None
    assert figures.category_mix == {}
    assert figures.payments_total == D("1000.00")
    assert figures.balance == D("-1000.00")


def test_a_customer_with_only_cancelled_orders_and_no_payments_has_no_row(customer, products):
    order(
        customer,
        "O-X",
        datetime.date(2026, 6, 1),
        [(products["tea"], 1, "100")],
        status=OrderStatus.CANCELLED,
    )
    CustomerMetrics.objects.create(customer=customer, order_count=9, computed_at=timezone.now())

    assert metrics_refresh(customer_ids=[customer.pk], today=TODAY) == 0

    assert not CustomerMetrics.objects.filter(customer=customer).exists()


def test_orders_older_than_twelve_months_give_zero_not_empty_recent_figures(customer, products):
    order(customer, "O-1", datetime.date(2024, 3, 1), [(products["tea"], 2, "100")])
    order(customer, "O-2", datetime.date(2025, 6, 30), [(products["rice"], 1, "1000")])

    metrics_refresh(today=TODAY)

    figures = CustomerMetrics.objects.get(customer=customer)
    assert figures.order_count == 2
    assert figures.order_count_12m == 0  # 2025-06-30 is the first day outside
    assert figures.amount_12m == D("0.00")
    assert figures.monthly_quantity_12m == D("0.000")
    assert figures.monthly_amount_12m == D("0.00")
    assert figures.amount_total == D("1200.00")


def test_free_goods_have_a_top_brand_but_no_category_mix(customer, products):
    order(
        customer,
        "O-1",
        datetime.date(2026, 6, 1),
        [(products["tea"], 3, "0"), (products["coffee"], 1, "0")],
    )

    metrics_refresh(today=TODAY)

    figures = CustomerMetrics.objects.get(customer=customer)
    assert figures.amount_total == D("0.00")
    assert figures.category_mix == {}
    assert (figures.top_brand, figures.top_brand_share) == ("Kirin", D("0.7500"))
    assert figures.average_unit_price == D("0.00")


def test_exact_decimals_over_many_lines(customer, products):
    # Amounts that binary floating point cannot hold: the sums must come out exact.
    order(customer, "O-1", datetime.date(2026, 6, 1), [(products["tea"], "0.1", "0.10")] * 7)
    pay(customer, "P-1", "0.07")

    metrics_refresh(today=TODAY)

    figures = CustomerMetrics.objects.get(customer=customer)
    assert figures.quantity_total == D("0.700")
    assert figures.amount_total == D("0.07")  # 7 x 0.01
    assert figures.balance == D("0.00")


def test_brand_ties_go_to_the_first_brand_by_name(customer, products):
    order(
        customer,
        "O-1",
        datetime.date(2026, 6, 1),
        [(products["coffee"], 5, "10"), (products["tea"], 5, "10")],
    )

    metrics_refresh(today=TODAY)

    figures = CustomerMetrics.objects.get(customer=customer)
    assert (figures.top_brand, figures.top_brand_share) == ("Kirin", D("0.5000"))


def test_refresh_touches_only_the_given_customers(shop, other_customer, products):
    order(other_customer, "O-9", datetime.date(2026, 1, 1), [(products["tea"], 1, "100")])
    metrics_refresh(today=TODAY)
    before = CustomerMetrics.objects.get(customer=other_customer)
    Order.objects.filter(number="O-9").update(status=OrderStatus.CANCELLED)
    order(shop, "O-4", datetime.date(2026, 6, 30), [(products["tea"], 1, "100")])

    assert metrics_refresh(customer_ids=[shop.pk], today=TODAY) == 1

    assert CustomerMetrics.objects.get(customer=shop).order_count == 4
    after = CustomerMetrics.objects.get(customer=other_customer)
    assert (after.order_count, after.computed_at) == (1, before.computed_at)


def test_an_empty_set_of_customers_writes_nothing(shop):
    metrics_refresh(today=TODAY)

    assert metrics_refresh(customer_ids=[], today=TODAY) == 0

    assert CustomerMetrics.objects.filter(customer=shop).exists()


def _snapshot():
    return {
        row["customer_id"]: {key: value for key, value in row.items() if key != "computed_at"}
        for row in CustomerMetrics.objects.values()
    }


def test_full_recompute_equals_incremental_refreshes(shop, other_customer, products):
    order(other_customer, "O-9", datetime.date(2026, 1, 1), [(products["rice"], 3, "700")])
    pay(other_customer, "P-9", "10")
    metrics_refresh(customer_ids=[shop.pk], today=TODAY)
    metrics_refresh(customer_ids=[other_customer.pk], today=TODAY)
    incremental = _snapshot()

    assert metrics_refresh(today=TODAY) == 2

    assert _snapshot() == incremental
    assert set(incremental) == {shop.pk, other_customer.pk}


def test_the_number_of_queries_does_not_grow_with_customers(customer, products):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(refresh) -> int:
        with CaptureQueriesContext(connection) as captured:
            refresh()
        return len(captured)

    order(customer, "O-0", datetime.date(2026, 1, 1), [(products["tea"], 1, "10")])
    pay(customer, "P-0", "5")
    full_for_one = queries(lambda: metrics_refresh(today=TODAY))
    partial_for_one = queries(lambda: metrics_refresh(customer_ids=[customer.pk], today=TODAY))
    customers = [customer] + [CustomerFactory(code=f"C-{n:03}") for n in range(30)]
    for n, buyer in enumerate(customers[1:], start=1):
        order(buyer, f"O-{n}", datetime.date(2026, 1, 1), [(products["tea"], n + 1, "10")])
        pay(buyer, f"P-{n}", "5")

    assert queries(lambda: metrics_refresh(today=TODAY)) == full_for_one
    ids = [c.pk for c in customers]
    assert queries(lambda: metrics_refresh(customer_ids=ids, today=TODAY)) == partial_for_one
    # A savepoint and its release, the DELETE and the INSERT; a full run on PostgreSQL also
    # counts customers and brand-category pairs, and sets and restores its planner settings.
    assert partial_for_one <= 4
    assert full_for_one <= 8
    assert CustomerMetrics.objects.count() == 31


@pytest.mark.django_db(transaction=False)
def test_a_full_refresh_leaves_the_callers_settings_as_they_were(shop):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()[0]

        metrics_refresh(today=TODAY)

        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == before
        cursor.execute("SHOW enable_hashagg")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=False)
def test_a_full_refresh_hashes_few_groups_sorts_many_and_agrees(
    shop, other_customer, products, monkeypatch
):
    """PostgreSQL groups the lines by hashing while the groups surely fit in memory, by
    sorting beyond HASHED_GROUPS_MAX; the figures are the same either way."""
    from django.db import connection

    from tokui.metrics import services

    if connection.vendor != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    order(other_customer, "O-9", datetime.date(2026, 1, 1), [(products["rice"], 3, "700")])
    chosen = []
    set_local = services._set_local
    monkeypatch.setattr(
        services,
        "_set_local",
        lambda cursor, settings: (
            chosen.append(settings.get("enable_hashagg")) or set_local(cursor, settings)
        ),
    )
    metrics_refresh(today=TODAY)
    hashed = _snapshot()
    monkeypatch.setattr(services, "HASHED_GROUPS_MAX", 1)  # fewer than this shop may have
    metrics_refresh(today=TODAY)

    assert _snapshot() == hashed
    assert len(hashed) == 2
    assert chosen[0::2] == ["on", "off"]  # each refresh sets, then puts back


def test_figures_go_with_their_customer(customer):
    # The table has no database constraint on the customer: Django's cascade removes the row.
    pay(customer, "P-1", "100")
    metrics_refresh(today=TODAY)
    Payment.objects.filter(customer=customer).delete()

    customer.delete()

    assert not CustomerMetrics.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_full_refresh_shares_the_customers_among_sessions_and_agrees(
    shop, other_customer, products, settings
):
    """Outside a transaction a PostgreSQL full refresh runs in parts, one session each; the
    figures are those of one refresh per customer. Elsewhere it stays one statement."""
    from unittest import mock

    from django.db import connection

    from tokui.metrics import services

    settings.TOKUI_METRICS_SESSIONS = 3
    buyers = [shop, other_customer] + [CustomerFactory(code=f"C-{n}") for n in range(5)]
    for n, buyer in enumerate(buyers[1:], start=1):
        order(buyer, f"O-{n}0", datetime.date(2026, 1, n), [(products["rice"], n, "700")])
        pay(buyer, f"P-{n}0", str(n * 10))
    for buyer in buyers:
        metrics_refresh(customer_ids=[buyer.pk], today=TODAY)
    one_by_one = _snapshot()

    with mock.patch.object(services, "_refresh", wraps=services._refresh) as refresh:
        assert metrics_refresh(today=TODAY) == len(buyers)

    scopes = sorted(call.kwargs["scope"] for call in refresh.call_args_list)
    assert scopes == (["part"] * 3 if connection.vendor == "postgresql" else ["all"])
    assert _snapshot() == one_by_one
    assert len(one_by_one) == len(buyers)
