from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    URL = "url", _("URL")


class Category(models.TextChoices):
    """The five groups of the customer card (CARD-2)."""

    BASIC = "basic", _("Basic")
    NETWORK = "network", _("Network")
    MANAGEMENT = "management", _("Management")
    BUSINESS = "business", _("Business")
    PERSONAL = "personal", _("Personal")


class Maintenance(models.TextChoices):
    """How a field is kept current (CARD-4)."""

    STATIC = "static", _("Static")
    DYNAMIC = "dynamic", _("Dynamic")
    DERIVED = "derived", _("Derived")
