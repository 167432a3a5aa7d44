"""Reads of products, orders and payments, restricted to what the user may see.

Orders, order lines and payments follow their customer's scope (``.restrict``);
products are shared master data behind the ``PRODUCT`` permission.
"""

import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from tokui.users.roles import PRODUCT, has_permission

from .choices import OrderStatus
from .models import Order, OrderLine, Payment, Product


def product_list(*, user) -> QuerySet[Product]:
    if not has_permission(user, PRODUCT, "view"):
        return Product.objects.none()
    return Product.objects.all()


def product_get(*, user, code: str) -> Product | None:
    return product_list(user=user).filter(code=code).first()


def product_search(queryset: QuerySet[Product], query: str) -> QuerySet[Product]:
    """Code, name or brand containing the query (case-insensitive for Latin letters)."""
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(
        Q(code__icontains=query) | Q(name__icontains=query) | Q(brand__icontains=query)
    )


def product_brands() -> list[str]:
    return list(
        Product.objects.exclude(brand="")
        .order_by("brand")
        .values_list("brand", flat=True)
        .distinct()
    )


def product_categories() -> list[str]:
    return list(
        Product.objects.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def order_list(*, user, customer=None, action: str = "view") -> QuerySet[Order]:
    orders = Order.objects.restrict(user, action).select_related("customer")
    if customer is not None:
        orders = orders.filter(customer=customer)
    return orders


def order_get(*, user, number: str, action: str = "view") -> Order | None:
    """The order with its lines and products, if the user may see its customer."""
    return (
        order_list(user=user, action=action)
        .prefetch_related("lines__product")
        .filter(number=number)
        .first()
    )


def order_line_list(*, user) -> QuerySet[OrderLine]:
    return OrderLine.objects.restrict(user, "view").select_related("order", "customer", "product")


def payment_list(*, user, customer=None) -> QuerySet[Payment]:
    payments = Payment.objects.restrict(user, "view").select_related("customer")
    if customer is not None:
        payments = payments.filter(customer=customer)
    return payments


def customer_purchase_summary(*, user, customer) -> dict:
    """Orders (not cancelled) and payments of one customer the user may see, in two queries."""
    orders = order_list(user=user, customer=customer).exclude(status=OrderStatus.CANCELLED)
    order_totals = orders.aggregate(count=Count("id"), amount=Sum("total_amount"))
    paid = payment_list(user=user, customer=customer).aggregate(amount=Sum("amount"))
    return {
        "order_count": order_totals["count"],
        "order_amount": order_totals["amount"] or 0,
        "paid_amount": paid["amount"] or 0,
    }


def customer_transactions(*, user, customer, limit: int) -> list[dict]:
    """The latest orders and payments of a customer as timeline entries, newest first.

    Each entry: ``kind`` ("order" or "payment"), ``date``, ``when`` (an aware datetime at
    the start of that day, to merge with the card's history), ``object`` and ``amount``.
    """
    orders = order_list(user=user, customer=customer).order_by("-date", "-number")[:limit]
    payments = payment_list(user=user, customer=customer).order_by("-date", "-reference")[:limit]
    entries = [
        {"kind": "order", "date": o.date, "object": o, "amount": o.total_amount} for o in orders
    ] + [{"kind": "payment", "date": p.date, "object": p, "amount": p.amount} for p in payments]
    zone = timezone.get_current_timezone()
    for entry in entries:
        entry["when"] = datetime.datetime.combine(entry["date"], datetime.time.min, tzinfo=zone)
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    return entries[:limit]


def export_base_queryset(kind: str, *, user, system: bool = False) -> QuerySet:
    """The rows an export of ``kind`` starts from: the user's scope, or for a system
    export (``tokui export --all``, run by whoever operates the server) every row."""
    from tokui.customers.models import Customer, Person
    from tokui.customers.selectors import customer_list, person_list

    if system:
        models = {
            "customers": Customer,
            "people": Person,
            "products": Product,
            "orders": Order,
            "lines": OrderLine,
            "payments": Payment,
        }
        rows = models[kind].objects.all()
        if kind == "products":
            return rows
        # Cards in the trash are not exported even by the server's operator (docs/trash.md).
        from tokui.core.querysets import not_trashed_q

        return rows.filter(not_trashed_q(models[kind].scope_customer_path))
    readers = {
        "customers": lambda: customer_list(user=user),
        "people": lambda: person_list(user=user),
        "products": lambda: product_list(user=user),
        "orders": lambda: order_list(user=user),
        "lines": lambda: order_line_list(user=user),
        "payments": lambda: payment_list(user=user),
    }
    return readers[kind]()
