"""Products, orders and payments for the sales tests, built through the services."""

import datetime
from decimal import Decimal

from tokui.sales import services
from tokui.sales.models import Product
from tokui.users.choices import Role


def product(code="P-001", **data) -> Product:
    fields = {"name": "ポロシャツ", "brand": "Tokui", "category": "Shirts", "unit": "pc"}
    fields.update(data)
    return Product.objects.create(code=code, **fields)


def order(users, customer, number="SO-1", lines=None, date=datetime.date(2026, 1, 31), **kwargs):
    if lines is None:
        lines = [
            {"product": product_for("P-001"), "quantity": Decimal(2), "unit_price": Decimal(500)}
        ]
    return services.order_create(
        actor=users[Role.ADMINISTRATOR],
        customer=customer,
        number=number,
        date=date,
        lines=lines,
        **kwargs,
    )


def payment(users, customer, reference="PAY-1", amount=Decimal(1000), **kwargs):
    return services.payment_create(
        actor=users[Role.ADMINISTRATOR],
        customer=customer,
        reference=reference,
        date=kwargs.pop("date", datetime.date(2026, 2, 10)),
        amount=amount,
        **kwargs,
    )


def product_for(code: str) -> Product:
    return Product.objects.filter(code=code).first() or product(code)
