"""Writes of products, orders and payments: permission and scope, validation, save, audit.

Orders and payments belong to a customer: whoever may change that customer's card may
record them (checked inside the transaction, like every card write). Products are
shared master data with their own permission (``PRODUCT``). After every write that
touches a customer, that customer's derived figures are recomputed.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tokui.audit.services import record_change
from tokui.customers.models import Customer
from tokui.users.roles import PRODUCT, has_permission

from .choices import OrderChannel, OrderStatus, PaymentMethod
from .models import Order, OrderLine, Payment, Product

PRODUCT_FIELDS = (
    "code",
    "name",
    "brand",
    "category",
    "unit",
    "list_price",
    "launch_date",
    "is_active",
)
CENT = Decimal("0.01")


def _plain(value):
    """A value as the audit log stores it: JSON-safe and readable."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def product_snapshot(product: Product) -> dict:
    return {name: _plain(getattr(product, name)) for name in PRODUCT_FIELDS}


def order_snapshot(order: Order) -> dict:
    data = {
        "number": order.number,
        "customer": order.customer.code,
        "date": _plain(order.date),
        "channel": order.channel,
        "status": order.status,
        "total_amount": _plain(order.total_amount),
        "line_count": order.line_count,
    }
    return data


def payment_snapshot(payment: Payment) -> dict:
    return {
        "reference": payment.reference,
        "customer": payment.customer.code,
        "date": _plain(payment.date),
        "amount": _plain(payment.amount),
        "method": payment.method,
    }


def _require_product_permission(actor, action: str) -> None:
    if not has_permission(actor, PRODUCT, action):
        raise PermissionDenied(_("You may not change products."))


def _require_customer_scope(actor, customer: Customer) -> None:
    # Re-read inside the transaction: a card handed to someone else a moment ago is no
    # longer this actor's to record orders on.
    if not Customer.objects.restrict(actor, "change").filter(pk=customer.pk).exists():
        raise PermissionDenied(_("You may not change this customer."))


def _refresh_metrics(customer_id: int) -> None:
    # Imported here: the metrics app reads sales, so a module-level import would be circular.
    from tokui.metrics.services import metrics_refresh

    metrics_refresh(customer_ids=[customer_id])


def _money(value, field: str) -> Decimal:
    """``value`` as a Decimal; floats are refused, they cannot hold yen and won exactly."""
    if isinstance(value, float):
        raise TypeError(f"{field}: pass money as Decimal or str, not float")
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({field: [_("Enter a number.")]}) from exc


# --- products ---------------------------------------------------------------------------


def _apply_product_data(product: Product, data: dict) -> None:
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValueError(f"unknown product fields: {sorted(unknown)}")
    for name, value in data.items():
        if name == "list_price" and value is not None:
            value = _money(value, name)
            if value.is_finite():
                value = value.quantize(CENT, rounding=ROUND_HALF_UP)
        if value is None and name not in ("list_price", "launch_date"):
            value = ""
        setattr(product, name, value)
    product.full_clean()


@transaction.atomic
def product_create(*, actor, data: dict) -> Product:
    _require_product_permission(actor, "add")
    product = Product()
    _apply_product_data(product, data)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:  # a concurrent create took the code after full_clean
        raise ValidationError({"code": [_("A product with this code already exists.")]}) from exc
    record_change(
        actor=actor, action="create", instance=product, before=None, after=product_snapshot(product)
    )
    return product


@transaction.atomic
def product_update(*, actor, product: Product, data: dict) -> Product:
    _require_product_permission(actor, "change")
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = product_snapshot(product)
    _apply_product_data(product, data)
    after = product_snapshot(product)
    if after == before:
        return product
    product.save()
    record_change(actor=actor, action="update", instance=product, before=before, after=after)
    return product


# --- orders -----------------------------------------------------------------------------


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """Quantity x unit price, rounded half up to the cent as invoices do."""
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def _build_lines(order: Order, lines: list[dict]) -> tuple[list[OrderLine], dict]:
    built, errors = [], {}
    for index, line in enumerate(lines, start=1):
        unknown = set(line) - {"product", "quantity", "unit_price", "amount", "line_no"}
        if unknown:
            raise ValueError(f"unknown order line fields: {sorted(unknown)}")
        try:
            quantity = _money(line.get("quantity"), "quantity")
            unit_price = _money(line.get("unit_price"), "unit_price")
            amount = line.get("amount")
            amount = (
                line_amount(quantity, unit_price) if amount is None else _money(amount, "amount")
            )
        except ValidationError as exc:
            errors[f"lines.{index}"] = exc.messages
            continue
        row = OrderLine(
            order=order,
            line_no=line.get("line_no") or index,
            customer_id=order.customer_id,
            date=order.date,
            product=line.get("product"),
            quantity=quantity,
            unit_price=unit_price,
            amount=amount,
        )
        try:
            row.full_clean(exclude=["order", "customer"], validate_unique=False)
        except ValidationError as exc:
            errors[f"lines.{index}"] = [
                f"{name}: {message}" if name != "__all__" else message
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
            continue
        built.append(row)
    numbers = [row.line_no for row in built]
    if len(numbers) != len(set(numbers)):
        errors["lines"] = [_("Two lines have the same line number.")]
    return built, errors


@transaction.atomic
def order_create(
    *,
    actor,
    customer: Customer,
    number: str,
    date: datetime.date,
    lines: list[dict],
    channel: str = OrderChannel.OTHER,
    status: str = OrderStatus.CONFIRMED,
) -> Order:
    """Record an order with its lines; ``amount`` of a line defaults to quantity x unit price.

    Each line is ``{"product": Product, "quantity": Decimal, "unit_price": Decimal,
    "amount": Decimal | None}``. The order's total and line count follow from the lines.
    """
    _require_customer_scope(actor, customer)
    order = Order(customer=customer, number=number, date=date, channel=channel, status=status)
    errors: dict[str, list[str]] = {}
    try:
        order.full_clean(exclude=["total_amount", "line_count"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not lines:
        errors["lines"] = [_("An order needs at least one line.")]
    built, line_errors = ([], {}) if "date" in errors else _build_lines(order, lines)
    errors.update(line_errors)
    if errors:
        raise ValidationError(errors)
    order.total_amount = sum((row.amount for row in built), Decimal(0))
    order.line_count = len(built)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as exc:
        raise ValidationError({"number": [_("An order with this number already exists.")]}) from exc
    for row in built:
        row.order = order
    OrderLine.objects.bulk_create(built)
    record_change(
        actor=actor,
        action="create",
        instance=order,
        before=None,
        after=order_snapshot(order),
        customer_id=customer.pk,
    )
    _refresh_metrics(customer.pk)
    return order


@transaction.atomic
def order_cancel(*, actor, order: Order) -> Order:
    """Mark an order cancelled; its lines stay for the record but no longer count."""
    _require_customer_scope(actor, order.customer)
    order = (
        Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
    )
    if order.status == OrderStatus.CANCELLED:
        raise ValidationError(_("This order is already cancelled."))
    before = order_snapshot(order)
    order.status = OrderStatus.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    record_change(
        actor=actor,
        action="update",
        instance=order,
        before=before,
        after=order_snapshot(order),
        customer_id=order.customer_id,
    )
    _refresh_metrics(order.customer_id)
    return order


# --- payments ---------------------------------------------------------------------------


@transaction.atomic
def payment_create(
    *,
    actor,
    customer: Customer,
    reference: str,
    date: datetime.date,
    amount,
    method: str = PaymentMethod.TRANSFER,
) -> Payment:
    """Record money received. The amount is positive, as the payments import requires."""
    _require_customer_scope(actor, customer)
    payment = Payment(
        customer=customer,
        reference=reference,
        date=date,
        amount=_money(amount, "amount"),
        method=method,
    )
    errors: dict[str, list[str]] = {}
    try:
        payment.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "amount" not in errors and payment.amount.is_finite() and payment.amount <= 0:
        errors["amount"] = [_("A payment is an amount above zero.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"reference": [_("A payment with this reference already exists.")]}
        ) from exc
    record_change(
        actor=actor,
        action="create",
        instance=payment,
        before=None,
        after=payment_snapshot(payment),
        customer_id=customer.pk,
    )
    _refresh_metrics(customer.pk)
    return payment
