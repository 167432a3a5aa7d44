"""What customers buy and pay (CARD-6, CARD-7), and the imports that bring it in (CARD-11)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from tokui.core.models import BaseModel
from tokui.core.querysets import RestrictedQuerySet
from tokui.core.validators import validate_code, validate_plain_name
from tokui.users.roles import CUSTOMER

from .choices import ImportKind, ImportStatus, OrderChannel, OrderStatus, PaymentMethod


class Product(BaseModel):
    """An article the company sells. Products are shared: every role that reads cards sees them."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[validate_code])
    name = models.CharField(_("name"), max_length=200, validators=[validate_plain_name])
    brand = models.CharField(
        _("brand"), max_length=100, blank=True, validators=[validate_plain_name]
    )
    category = models.CharField(
        _("category"), max_length=100, blank=True, validators=[validate_plain_name]
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, validators=[validate_plain_name])
    list_price = models.DecimalField(
        _("list price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    launch_date = models.DateField(_("launch date"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        indexes = [models.Index(fields=["brand"], name="sales_product_brand_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Order(BaseModel):
    """An order of one customer. ``total_amount`` and ``line_count`` follow its lines."""

    scope_resource = CUSTOMER
    scope_customer_path = "customer__"

    # Unique by a constraint, not unique=True: on PostgreSQL that also builds a second index
    # for LIKE prefix searches, which nothing asks of order numbers.
    number = models.CharField(_("order number"), max_length=32)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        # sales_order_customer_idx (customer, -date) serves every look-up by customer; a
        # second index on customer alone only slows the order import's writes.
        db_index=False,
    )
    date = models.DateField(_("date"))
    channel = models.CharField(
        _("channel"), max_length=16, choices=OrderChannel.choices, default=OrderChannel.OTHER
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    total_amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    # The database's clock too, for a big order import that copies orders in without them
    # (parsing two timestamps per order cost 500,000 orders 0.7 s on PostgreSQL).
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-date", "-number"]
        constraints = [models.UniqueConstraint(fields=["number"], name="sales_order_number_key")]
        indexes = [models.Index(fields=["customer", "-date"], name="sales_order_customer_idx")]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """One line of an order. Customer and date are copied from the order so figures per
    customer are computed from this table alone, without a join over millions of rows."""

    scope_resource = CUSTOMER
    scope_customer_path = "customer__"

    # No single-column indexes on order and customer: the unique (order, line_no) and the
    # (customer, date) index start with them and serve those look-ups; two more indexes
    # over millions of lines only slow the order import (issue 4).
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,
    )
    line_no = models.PositiveIntegerField(_("line"))
    # No database constraint either: the line's customer is its order's, copied by every
    # write, and the order's key already guards it. Checked again per line, it cost a big
    # import a look-up and a row lock per line, a fifth of its time on PostgreSQL (issue 4).
    # Django still refuses to delete a customer with lines (PROTECT).
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="order_lines",
        db_index=False,
        db_constraint=False,
    )
    date = models.DateField(_("date"))
    # No index on product either: nothing reads lines by product but the check that refuses
    # to delete a product with lines (rare; a scan of the lines), while every big order
    # import rebuilt it (1.1 s for 2,000,000 lines) and every line written updated it.
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="order_lines",
        db_index=False,
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="sales_orderline_unique_no")
        ]
        indexes = [models.Index(fields=["customer", "date"], name="sales_line_customer_date_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no}"


class Payment(BaseModel):
    """Money received from a customer, identified by the payer's or bank's reference."""

    scope_resource = CUSTOMER
    scope_customer_path = "customer__"

    reference = models.CharField(_("reference"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    method = models.CharField(
        _("method"), max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-reference"]
        indexes = [models.Index(fields=["customer", "-date"], name="sales_payment_customer_idx")]

    def __str__(self) -> str:
        return self.reference


class ColumnMapping(BaseModel):
    """A saved mapping from a file's column names to Tokui's, e.g. 得意先コード → code."""

    kind = models.CharField(_("data"), max_length=16, choices=ImportKind.choices)
    name = models.CharField(_("name"), max_length=100, validators=[validate_plain_name])
    mapping = models.JSONField(_("mapping"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="sales_mapping_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(BaseModel):
    """One import of one file: its options, its progress and its outcome."""

    kind = models.CharField(_("data"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    file_name = models.CharField(_("file"), max_length=255)
    file_path = models.CharField(max_length=500, editable=False)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    skip_invalid = models.BooleanField(_("write the valid rows, skip the rejected"), default=False)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    created_rows = models.PositiveIntegerField(_("rows added"), default=0)
    updated_rows = models.PositiveIntegerField(_("rows changed"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("rows unchanged"), default=0)
    rejected_rows = models.PositiveIntegerField(_("rows rejected"), default=0)
    cancel_requested = models.BooleanField(default=False)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The language of whoever started it: the task worker, which speaks no one's, writes
    # the report's reasons and the outcome in it.
    language = models.CharField(_("language"), max_length=8, blank=True, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name}"


class ImportRejection(models.Model):
    """A row the import refused, and why: the per-row report people fix their file from."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["job", "row_number", "id"]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.reason}"
