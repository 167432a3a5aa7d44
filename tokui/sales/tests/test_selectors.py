"""Reads of products, orders and payments: scope, timeline entries and the purchase summary."""

import datetime
from decimal import Decimal

import pytest

from tokui.sales import selectors
from tokui.sales.tests import builders
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(users, customer, other_customer):
    builders.order(users, customer, number="SO-1", date=datetime.date(2026, 1, 10))
    builders.order(users, customer, number="SO-2", date=datetime.date(2026, 3, 10))
    builders.order(users, other_customer, number="SO-3")
    builders.payment(users, customer, reference="PAY-1", date=datetime.date(2026, 2, 1))
    builders.payment(users, other_customer, reference="PAY-2")


@pytest.mark.parametrize(
    ("role", "orders", "payments"),
    [
        (Role.ADMINISTRATOR, {"SO-1", "SO-2", "SO-3"}, {"PAY-1", "PAY-2"}),
        (Role.MANAGER, {"SO-1", "SO-2"}, {"PAY-1"}),
        (Role.ACCOUNT_MANAGER, {"SO-1", "SO-2"}, {"PAY-1"}),
        (Role.SERVICE_AGENT, {"SO-1", "SO-2", "SO-3"}, {"PAY-1", "PAY-2"}),
        (Role.ANALYST, set(), set()),
    ],
)
def test_orders_and_payments_follow_the_customer_scope(users, book, role, orders, payments):
    user = users[role]
    assert {o.number for o in selectors.order_list(user=user)} == orders
    assert {p.reference for p in selectors.payment_list(user=user)} == payments
    lines = {line.order.number for line in selectors.order_line_list(user=user)}
    assert lines == orders


def test_order_get_out_of_scope_is_none(users, book):
    assert selectors.order_get(user=users[Role.ACCOUNT_MANAGER], number="SO-3") is None
    assert selectors.order_get(user=users[Role.ACCOUNT_MANAGER], number="SO-1").number == "SO-1"


def test_products_are_visible_to_every_role_that_reads_cards(users):
    builders.product("P-1")
    assert selectors.product_list(user=users[Role.SERVICE_AGENT]).count() == 1
    assert selectors.product_list(user=users[Role.ANALYST]).count() == 0


def test_transactions_come_newest_first_and_limited(users, book, customer):
    entries = selectors.customer_transactions(
        user=users[Role.ACCOUNT_MANAGER], customer=customer, limit=2
    )
    assert [(e["kind"], str(e["object"])) for e in entries] == [
        ("order", "SO-2"),
        ("payment", "PAY-1"),
    ]


def test_purchase_summary_leaves_out_cancelled_orders(users, book, customer):
    from tokui.sales import services
    from tokui.sales.models import Order

    services.order_cancel(actor=users[Role.ADMINISTRATOR], order=Order.objects.get(number="SO-1"))
    summary = selectors.customer_purchase_summary(
        user=users[Role.ACCOUNT_MANAGER], customer=customer
    )
    assert summary == {
        "order_count": 1,
        "order_amount": Decimal("1000.00"),
        "paid_amount": Decimal("1000.00"),
    }
