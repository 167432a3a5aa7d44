"""Figures the system derives per customer from orders and payments (CARD-4, CARD-7)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from tokui.core.querysets import RestrictedQuerySet
from tokui.users.roles import CUSTOMER

PERCENT = Decimal("0.1")


class CustomerMetrics(models.Model):
    """One row per customer with orders or payments; recomputed, never typed by hand."""

    scope_resource = CUSTOMER
    scope_customer_path = "customer__"

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="metrics",
        # No database constraint: every row is derived from orders or payments, which hold the
        # customer against deletion themselves (PROTECT), and Django still deletes the row with
        # its customer. The constraint's check per row, deferred to COMMIT and locking each
        # customer row, cost more than the rest of a full recompute of a million customers.
        db_constraint=False,
    )
    first_order_date = models.DateField(_("first order"), null=True)
    last_order_date = models.DateField(_("last order"), null=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    order_count_12m = models.PositiveIntegerField(_("orders, last 12 months"), default=0)
    quantity_total = models.DecimalField(_("quantity"), max_digits=16, decimal_places=3, default=0)
    amount_total = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0)
    average_unit_price = models.DecimalField(
        _("average unit price"), max_digits=14, decimal_places=2, null=True
    )
    average_order_value = models.DecimalField(
        _("average order value"), max_digits=16, decimal_places=2, null=True
    )
    amount_12m = models.DecimalField(
        _("amount, last 12 months"), max_digits=16, decimal_places=2, default=0
    )
    monthly_quantity_12m = models.DecimalField(
        _("monthly average quantity, last 12 months"), max_digits=16, decimal_places=3, default=0
    )
    monthly_amount_12m = models.DecimalField(
        _("monthly average amount, last 12 months"), max_digits=16, decimal_places=2, default=0
    )
    mean_days_between_orders = models.DecimalField(
        _("mean days between orders"), max_digits=10, decimal_places=1, null=True
    )
    tenure_days = models.PositiveIntegerField(_("tenure in days"), null=True)
    top_brand = models.CharField(_("top brand"), max_length=100, blank=True)
    top_brand_share = models.DecimalField(
        _("top brand share of quantity"), max_digits=5, decimal_places=4, null=True
    )
    category_mix = models.JSONField(_("category mix"), default=dict)
    payments_total = models.DecimalField(_("payments"), max_digits=16, decimal_places=2, default=0)
    balance = models.DecimalField(_("balance"), max_digits=16, decimal_places=2, default=0)
    computed_at = models.DateTimeField(_("computed"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer figures")
        verbose_name_plural = _("customer figures")

    def __str__(self) -> str:
        return str(self.customer_id)

    @property
    def top_brand_percent(self) -> Decimal | None:
        if self.top_brand_share is None:
            return None
        return (self.top_brand_share * 100).quantize(PERCENT)

    @property
    def category_percents(self) -> list[tuple[str, Decimal]]:
        """(category, percent of the amount), largest first; "" is products without one."""
        shares = [
            (category, (Decimal(str(share)) * 100).quantize(PERCENT))
            for category, share in (self.category_mix or {}).items()
        ]
        return sorted(shares, key=lambda item: (-item[1], item[0]))
