from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderChannel(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone")
    FAX = "fax", _("Fax")
    WEB = "web", _("Web")
    STORE = "store", _("In store")
    OTHER = "other", _("Other")


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")
    CARD = "card", _("Card")
    BILL = "bill", _("Promissory note")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    OTHER = "other", _("Other")


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    PEOPLE = "people", _("People")
    PRODUCTS = "products", _("Products")
    ORDERS = "orders", _("Orders")
    PAYMENTS = "payments", _("Payments")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    VALIDATING = "validating", _("Checking")
    REJECTED = "rejected", _("Rejected rows: nothing written")
    IMPORTING = "importing", _("Writing")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled: nothing written")
    FAILED = "failed", _("Failed: nothing written")
