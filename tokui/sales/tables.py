"""The product, order and payment lists as tables: sortable columns, one page at a time."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import Order, Payment, Product

ATTRS = {"class": "table table-sm table-hover align-middle"}
NUMBER = {"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}}


class ProductTable(tables.Table):
    code = tables.Column(
        verbose_name=_("Code"), linkify=("sales:product_detail", [tables.A("code")])
    )
    name = tables.Column(verbose_name=_("Name"))
    brand = tables.Column(verbose_name=_("Brand"))
    category = tables.Column(verbose_name=_("Category"))
    unit = tables.Column(verbose_name=_("Unit"), orderable=False)
    list_price = tables.Column(verbose_name=_("List price"), attrs=NUMBER)
    launch_date = tables.DateColumn(verbose_name=_("Launch date"), short=True)

    class Meta:
        model = Product
        fields = ("code", "name", "brand", "category", "unit", "list_price", "launch_date")
        template_name = "sales/table.html"
        order_by_field = "sort"
        empty_text = _("No products match.")
        attrs = ATTRS


class OrderTable(tables.Table):
    number = tables.Column(
        verbose_name=_("Order number"), linkify=("sales:order_detail", [tables.A("number")])
    )
    date = tables.DateColumn(verbose_name=_("Date"), short=True)
    customer = tables.Column(
        verbose_name=_("Customer"),
        linkify=("customers:detail", [tables.A("customer__code")]),
        order_by=("customer__code",),
    )
    channel = tables.Column(verbose_name=_("Order channel"))
    status = tables.Column(verbose_name=_("Status"))
    line_count = tables.Column(verbose_name=_("Lines"), attrs=NUMBER)
    total_amount = tables.Column(verbose_name=_("Amount"), attrs=NUMBER)

    class Meta:
        model = Order
        fields = ("number", "date", "customer", "channel", "status", "line_count", "total_amount")
        template_name = "sales/table.html"
        order_by_field = "sort"
        empty_text = _("No orders match.")
        attrs = ATTRS


class PaymentTable(tables.Table):
    reference = tables.Column(verbose_name=_("Reference"))
    date = tables.DateColumn(verbose_name=_("Date"), short=True)
    customer = tables.Column(
        verbose_name=_("Customer"),
        linkify=("customers:detail", [tables.A("customer__code")]),
        order_by=("customer__code",),
    )
    method = tables.Column(verbose_name=_("Method"))
    amount = tables.Column(verbose_name=_("Amount"), attrs=NUMBER)

    class Meta:
        model = Payment
        fields = ("reference", "date", "customer", "method", "amount")
        template_name = "sales/table.html"
        order_by_field = "sort"
        empty_text = _("No payments match.")
        attrs = ATTRS
