"""Writing products, orders and payments: amounts, totals, scope, audit and derived figures."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tokui.audit.models import ObjectChange
from tokui.metrics.models import CustomerMetrics
from tokui.sales import services
from tokui.sales.models import Order, OrderLine, Payment, Product
from tokui.sales.tests import builders
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

AM = Role.ACCOUNT_MANAGER
DAY = datetime.date(2026, 3, 1)


def line(code, quantity, unit_price, amount=None):
    return {
        "product": builders.product_for(code),
        "quantity": Decimal(quantity),
        "unit_price": Decimal(unit_price),
        "amount": None if amount is None else Decimal(amount),
    }


def test_order_amounts_default_to_quantity_times_price_and_total_follows(users, customer):
    order = services.order_create(
        actor=users[AM],
        customer=customer,
        number="SO-100",
        date=DAY,
        lines=[
            line("P-1", "3", "333.33"),
            line("P-2", "1.5", "0.01"),
            line("P-3", "2", "10", "15"),
        ],
    )

    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    assert [row.amount for row in lines] == [Decimal("999.99"), Decimal("0.02"), Decimal("15.00")]
    assert [row.line_no for row in lines] == [1, 2, 3]
    order.refresh_from_db()
    assert order.total_amount == Decimal("1015.01")
    assert order.line_count == 3
    assert {(row.customer_id, row.date) for row in lines} == {(customer.pk, DAY)}


def test_order_is_audited_on_the_card_and_refreshes_its_figures(users, customer):
    order = services.order_create(
        actor=users[AM], customer=customer, number="SO-1", date=DAY, lines=[line("P-1", "2", "500")]
    )

    change = ObjectChange.objects.get(object_type="sales.order", object_id=order.pk)
    assert change.action == "create"
    assert change.customer_id == customer.pk
    assert change.actor_name == "am"
    assert change.changes["total_amount"] == {"old": None, "new": "1000.00"}
    assert CustomerMetrics.objects.filter(customer=customer).exists()


def test_order_for_a_customer_out_of_scope_is_refused_and_writes_nothing(users, other_customer):
    with pytest.raises(PermissionDenied):
        services.order_create(
            actor=users[AM],
            customer=other_customer,
            number="SO-1",
            date=DAY,
            lines=[line("P-1", "1", "1")],
        )

    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert not ObjectChange.objects.filter(object_type="sales.order").exists()


def test_service_agent_may_not_record_orders(users, customer):
    with pytest.raises(PermissionDenied):
        services.order_create(
            actor=users[Role.SERVICE_AGENT],
            customer=customer,
            number="SO-1",
            date=DAY,
            lines=[line("P-1", "1", "1")],
        )
    assert Order.objects.count() == 0


def test_order_without_lines_is_refused(users, customer):
    with pytest.raises(ValidationError) as error:
        services.order_create(actor=users[AM], customer=customer, number="SO-1", date=DAY, lines=[])
    assert error.value.message_dict == {"lines": ["An order needs at least one line."]}
    assert Order.objects.count() == 0


def test_negative_quantity_is_refused_and_nothing_written(users, customer):
    with pytest.raises(ValidationError) as error:
        services.order_create(
            actor=users[AM],
            customer=customer,
            number="SO-1",
            date=DAY,
            lines=[line("P-1", "1", "10"), line("P-2", "-1", "10")],
        )
    assert list(error.value.message_dict) == ["lines.2"]
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


def test_duplicate_order_number_is_refused(users, customer):
    builders.order(users, customer, number="SO-1")
    with pytest.raises(ValidationError) as error:
        builders.order(users, customer, number="SO-1")
    assert "number" in error.value.message_dict
    assert Order.objects.count() == 1


def test_money_as_float_is_a_programming_error(users, customer):
    with pytest.raises(TypeError):
        services.order_create(
            actor=users[AM],
            customer=customer,
            number="SO-1",
            date=DAY,
            lines=[{"product": builders.product_for("P-1"), "quantity": 1.0, "unit_price": 0.1}],
        )
    assert Order.objects.count() == 0


def test_cancel_marks_the_order_and_audits_it(users, customer):
    order = builders.order(users, customer)

    services.order_cancel(actor=users[AM], order=order)

    order.refresh_from_db()
    assert order.status == "cancelled"
    change = ObjectChange.objects.get(object_type="sales.order", action="update")
    assert change.changes == {"status": {"old": "confirmed", "new": "cancelled"}}
    assert change.customer_id == customer.pk
    with pytest.raises(ValidationError):
        services.order_cancel(actor=users[AM], order=order)


def test_cancel_out_of_scope_is_refused(users, other_customer):
    order = builders.order(users, other_customer)
    with pytest.raises(PermissionDenied):
        services.order_cancel(actor=users[AM], order=order)
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_payment_is_recorded_and_audited(users, customer):
    payment = services.payment_create(
        actor=users[AM],
        customer=customer,
        reference="BANK-0001",
        date=DAY,
        amount=Decimal("12345.67"),
        method="transfer",
    )

    assert Payment.objects.get(reference="BANK-0001").amount == Decimal("12345.67")
    change = ObjectChange.objects.get(object_type="sales.payment", object_id=payment.pk)
    assert change.customer_id == customer.pk


@pytest.mark.parametrize("amount", ["0", "-300", "abc"])
def test_payment_amount_must_be_a_number_above_zero(users, customer, amount):
    with pytest.raises(ValidationError) as error:
        services.payment_create(
            actor=users[AM], customer=customer, reference="B-1", date=DAY, amount=amount
        )
    assert "amount" in error.value.message_dict
    assert Payment.objects.count() == 0


def test_duplicate_payment_reference_is_refused(users, customer):
    builders.payment(users, customer, reference="B-1")
    with pytest.raises(ValidationError) as error:
        builders.payment(users, customer, reference="B-1")
    assert "reference" in error.value.message_dict
    assert Payment.objects.count() == 1


def test_payment_out_of_scope_is_refused(users, other_customer):
    with pytest.raises(PermissionDenied):
        services.payment_create(
            actor=users[AM], customer=other_customer, reference="B-1", date=DAY, amount="5"
        )
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER])
def test_administrators_and_managers_maintain_products(users, role):
    product = services.product_create(
        actor=users[role],
        data={"code": "SHIRT-1", "name": "シャツ", "brand": "Tokui", "list_price": Decimal("2980")},
    )
    services.product_update(
        actor=users[role], product=product, data={"list_price": Decimal("3280")}
    )

    product.refresh_from_db()
    assert product.list_price == Decimal("3280.00")
    changes = ObjectChange.objects.filter(object_type="sales.product").order_by("id")
    assert [c.action for c in changes] == ["create", "update"]
    assert changes[1].changes == {"list_price": {"old": "2980.00", "new": "3280.00"}}


@pytest.mark.parametrize("role", [AM, Role.SERVICE_AGENT, Role.ANALYST, Role.AUDITOR])
def test_other_roles_may_not_write_products(users, role):
    with pytest.raises(PermissionDenied):
        services.product_create(actor=users[role], data={"code": "X-1", "name": "X"})
    assert Product.objects.count() == 0


def test_duplicate_product_code_is_refused(users):
    builders.product("X-1")
    with pytest.raises(ValidationError) as error:
        services.product_create(
            actor=users[Role.ADMINISTRATOR], data={"code": "X-1", "name": "Other"}
        )
    assert "code" in error.value.message_dict
