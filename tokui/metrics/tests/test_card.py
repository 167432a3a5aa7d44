"""The card shows the figures read-only, and in the derived card fields that stand for one."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tokui.core.testing.factories import FieldDefinitionFactory
from tokui.fields.choices import Category, FieldType, Maintenance
from tokui.metrics.selectors import DERIVED_FIELD_SOURCES, customer_figures
from tokui.metrics.services import metrics_refresh
from tokui.sales.models import Order, OrderLine, Payment, Product
from tokui.users.choices import Role

AM = Role.ACCOUNT_MANAGER


@pytest.fixture
def bought(customer):
    tea = Product.objects.create(code="TEA", name="Tea", brand="Kirin", category="Drinks")
    today = datetime.date.today()
    order = Order.objects.create(number="O-1", customer=customer, date=today)
    OrderLine.objects.create(
        order=order,
        line_no=1,
        customer=customer,
        date=today,
        product=tea,
        quantity=Decimal("12"),
        unit_price=Decimal("150"),
        amount=Decimal("1800"),
    )
    Payment.objects.create(reference="P-1", customer=customer, date=today, amount=Decimal("800"))
    metrics_refresh(customer_ids=[customer.pk])
    return customer


def card(client, user, customer):
    client.force_login(user)
    return client.get(reverse("customers:detail", kwargs={"code": customer.code}))


def test_the_card_shows_the_figures_panel(client, users, bought):
    response = card(client, users[AM], bought)

    assert response.status_code == 200
    assert response.context["figures"].amount_total == Decimal("1800.00")
    html = response.content.decode()
    assert "Computed by the system" in html
    assert "Kirin (100.0 %)" in html
    assert "1000.00" in html  # the balance: 1800 ordered, 800 paid


def test_derived_card_fields_show_the_figure(client, users, bought):
    FieldDefinitionFactory(
        key="average_unit_price",
        field_type=FieldType.DECIMAL,
        category=Category.BUSINESS,
        maintenance=Maintenance.DERIVED,
    )
    FieldDefinitionFactory(
        key="purchase_count_12m",
        field_type=FieldType.INTEGER,
        category=Category.BUSINESS,
        maintenance=Maintenance.DERIVED,
    )
    bought.field_values = {"average_unit_price": "1.00"}  # a stale typed value loses
    bought.save(update_fields=["field_values"])

    response = card(client, users[AM], bought)

    business = next(c for c in response.context["categories"] if c["category"] == "business")
    shown = {row["definition"].key: row["value"] for row in business["rows"]}
    assert shown == {"average_unit_price": Decimal("150.00"), "purchase_count_12m": 1}


def test_a_card_without_orders_says_there_are_no_figures_yet(client, users, customer):
    response = card(client, users[AM], customer)

    assert response.context["figures"] is None
    assert "No figures yet" in response.content.decode()


def test_figures_follow_the_customer_scope(users, bought, other_account_manager):
    assert customer_figures(user=users[AM], customer=bought) is not None
    assert customer_figures(user=other_account_manager, customer=bought) is None


def test_every_mapped_field_names_a_figure():
    from tokui.metrics.models import CustomerMetrics

    names = {field.name for field in CustomerMetrics._meta.get_fields()}
    assert set(DERIVED_FIELD_SOURCES.values()) <= names
    assert "customer_class" not in DERIVED_FIELD_SOURCES
