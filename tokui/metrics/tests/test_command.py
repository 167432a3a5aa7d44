"""``tokui metrics``: the full run and the run for named customers."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tokui.metrics.models import CustomerMetrics
from tokui.sales.models import Payment


def pay(customer, reference, amount):
    Payment.objects.create(
        reference=reference, customer=customer, date=datetime.date(2026, 1, 5), amount=amount
    )


def test_full_run_writes_every_customer_with_payments(customer, other_customer):
    pay(customer, "P-1", Decimal("100"))
    pay(other_customer, "P-2", Decimal("250"))
    out = StringIO()

    call_command("metrics", "--full", stdout=out)

    assert dict(CustomerMetrics.objects.values_list("customer__code", "payments_total")) == {
        "TKY-0001": Decimal("100.00"),
        "OSK-0001": Decimal("250.00"),
    }
    assert "2 row(s) written" in out.getvalue()


def test_named_customers_only(customer, other_customer):
    pay(customer, "P-1", Decimal("100"))
    pay(other_customer, "P-2", Decimal("250"))

    call_command("metrics", "--customers", "OSK-0001", stdout=StringIO())

    assert list(CustomerMetrics.objects.values_list("customer__code", flat=True)) == ["OSK-0001"]


def test_an_unknown_code_writes_nothing(customer):
    pay(customer, "P-1", Decimal("100"))

    with pytest.raises(CommandError, match="Unknown customer code: NOPE"):
        call_command("metrics", "--customers", "TKY-0001", "NOPE", stdout=StringIO())

    assert not CustomerMetrics.objects.exists()
