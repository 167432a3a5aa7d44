"""The shapes of products, orders and payments in the REST API (/api/v1/).

Money and quantities are JSON strings (``"1200.00"``): a decimal number survives the trip
exactly, which a JSON float would not promise.
"""

import datetime
from decimal import Decimal

from ninja import Field, Schema

from .choices import OrderChannel, OrderStatus, PaymentMethod
from .models import Order, OrderLine, Payment


class ProductFilters(Schema):
    search: str | None = Field(None, description="Part of the code, name or brand.")
    brand: str | None = None
    category: str | None = None


class ProductOut(Schema):
    code: str
    name: str
    brand: str
    category: str
    unit: str
    list_price: Decimal | None
    launch_date: datetime.date | None
    is_active: bool


class OrderFilters(Schema):
    customer: str | None = Field(
        None,
        description=(
            "Customer code. A customer you may not see gives an empty list, exactly like a "
            "code that does not exist."
        ),
    )
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    status: OrderStatus | None = None


class OrderOut(Schema):
    number: str
    customer: str = Field(description="Customer code.")
    date: datetime.date
    channel: OrderChannel
    status: OrderStatus
    total_amount: Decimal
    line_count: int

    @staticmethod
    def resolve_customer(obj: Order) -> str:
        return obj.customer.code


class OrderLineOut(Schema):
    line_no: int
    product: str = Field(description="Product code.")
    product_name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal

    @staticmethod
    def resolve_product(obj: OrderLine) -> str:
        return obj.product.code

    @staticmethod
    def resolve_product_name(obj: OrderLine) -> str:
        return obj.product.name


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: Order) -> list[OrderLine]:
        return list(obj.lines.all())


class PaymentFilters(Schema):
    customer: str | None = Field(
        None, description="Customer code; one you may not see gives an empty list."
    )
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


class PaymentOut(Schema):
    reference: str
    customer: str = Field(description="Customer code.")
    date: datetime.date
    amount: Decimal
    method: PaymentMethod

    @staticmethod
    def resolve_customer(obj: Payment) -> str:
        return obj.customer.code
