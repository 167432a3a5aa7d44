"""REST endpoints for products, orders and payments. Read-only; writes go through the pages.

Same conventions as the customer endpoints: a role that may not read these at all gets
403; an order outside the caller's scope is 404, never a hint that it exists; a list
filtered by a customer the caller cannot see is empty, the same answer as for a code
that does not exist.
"""

from django.http import Http404
from ninja import Query, Router
from ninja.pagination import paginate

from tokui.core.api_schemas import LIST_ERRORS, READ_ERRORS
from tokui.customers.api import CustomerPages
from tokui.users.roles import CUSTOMER, PRODUCT, require_permission

from . import selectors
from .schemas import (
    OrderDetailOut,
    OrderFilters,
    OrderOut,
    PaymentFilters,
    PaymentOut,
    ProductFilters,
    ProductOut,
)

router = Router()

PRODUCTS = ["products"]
ORDERS = ["orders"]
PAYMENTS = ["payments"]


def _require(request, resource: str) -> None:
    require_permission(request.auth, resource, "view")


@router.get(
    "/products",
    response={200: list[ProductOut], **LIST_ERRORS},
    tags=PRODUCTS,
    summary="List products",
)
@paginate(CustomerPages)
def product_list(request, filters: Query[ProductFilters]):
    """Products by code; `search` matches part of the code, name or brand."""
    _require(request, PRODUCT)
    products = selectors.product_list(user=request.auth)
    if filters.search:
        products = selectors.product_search(products, filters.search)
    if filters.brand:
        products = products.filter(brand=filters.brand)
    if filters.category:
        products = products.filter(category=filters.category)
    return products


@router.get(
    "/products/{code}",
    response={200: ProductOut, **READ_ERRORS},
    tags=PRODUCTS,
    summary="Get a product",
)
def product_detail(request, code: str):
    _require(request, PRODUCT)
    product = selectors.product_get(user=request.auth, code=code)
    if product is None:
        raise Http404
    return product


def _dated(rows, filters):
    if filters.customer:
        rows = rows.filter(customer__code=filters.customer)
    if filters.date_from:
        rows = rows.filter(date__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(date__lte=filters.date_to)
    return rows


@router.get(
    "/orders",
    response={200: list[OrderOut], **LIST_ERRORS},
    tags=ORDERS,
    summary="List orders",
)
@paginate(CustomerPages)
def order_list(request, filters: Query[OrderFilters]):
    """Orders of the customers the caller may see, newest first."""
    _require(request, CUSTOMER)
    orders = _dated(selectors.order_list(user=request.auth), filters)
    if filters.status:
        orders = orders.filter(status=filters.status)
    return orders


@router.get(
    "/orders/{number}",
    response={200: OrderDetailOut, **READ_ERRORS},
    tags=ORDERS,
    summary="Get an order with its lines",
)
def order_detail(request, number: str):
    _require(request, CUSTOMER)
    order = selectors.order_get(user=request.auth, number=number)
    if order is None:
        raise Http404
    return order


@router.get(
    "/payments",
    response={200: list[PaymentOut], **LIST_ERRORS},
    tags=PAYMENTS,
    summary="List payments",
)
@paginate(CustomerPages)
def payment_list(request, filters: Query[PaymentFilters]):
    """Payments of the customers the caller may see, newest first."""
    _require(request, CUSTOMER)
    return _dated(selectors.payment_list(user=request.auth), filters)
