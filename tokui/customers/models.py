"""The customer card: the customer, the people around them, addresses and consent."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tokui.core.models import BaseModel
from tokui.core.querysets import RestrictedQuerySet
from tokui.core.text import digits_only, search_key
from tokui.core.validators import validate_code, validate_phone, validate_plain_name
from tokui.users.roles import CUSTOMER

from .choices import AddressKind, Channel, CustomerKind, CustomerStatus, Gender, Relation


class Tag(BaseModel):
    """A free label that groups customers across areas and owners."""

    name = models.CharField(_("name"), max_length=50, unique=True, validators=[validate_plain_name])

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(BaseModel):
    """One card per customer (CARD-1). Configurable card fields live in ``field_values``."""

    scope_resource = CUSTOMER
    scope_customer_path = ""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[validate_code])
    kind = models.CharField(_("kind"), max_length=16, choices=CustomerKind.choices)
    name = models.CharField(_("name"), max_length=200, validators=[validate_plain_name])
    name_reading = models.CharField(
        _("reading"),
        max_length=200,
        blank=True,
        validators=[validate_plain_name],
        help_text=_("How the name is read (kana for Japanese names); used to sort and search."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CustomerStatus.choices,
        default=CustomerStatus.PROSPECT,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    assigned_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("also assigned to"),
        blank=True,
        related_name="assigned_customers",
    )
    area = models.ForeignKey(
        "accounts.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=Channel.choices, blank=True
    )
    notes = models.TextField(_("notes"), max_length=10_000, blank=True)
    field_values = models.JSONField(_("card fields"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # Kept by ``refresh_search`` on every save: what search and sorting use.
    sort_key = models.CharField(max_length=200, editable=False, db_index=True)
    search_text = models.TextField(editable=False, blank=True)
    phone_digits = models.CharField(max_length=200, editable=False, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["sort_key", "code"]
        indexes = [
            models.Index(fields=["status", "sort_key"], name="customer_status_sort_idx"),
            models.Index(fields=["owner", "sort_key"], name="customer_owner_sort_idx"),
            models.Index(fields=["area", "sort_key"], name="customer_area_sort_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def refresh_search(self, extra_phones: list[str] | tuple[str, ...] = ()) -> None:
        self.sort_key = search_key(self.name_reading or self.name)[:200]
        self.search_text = " ".join(
            filter(None, [search_key(self.code), search_key(self.name), self.sort_key])
        )
        self.phone_digits = " ".join(
            filter(None, [digits_only(p) for p in (self.phone, *extra_phones)])
        )[:200]


class Person(BaseModel):
    """Someone who matters around the customer: contact, owner, family (CARD-5)."""

    scope_resource = CUSTOMER
    scope_customer_path = "customer__"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="people"
    )
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    name = models.CharField(_("name"), max_length=200, validators=[validate_plain_name])
    name_reading = models.CharField(
        _("reading"), max_length=200, blank=True, validators=[validate_plain_name]
    )
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    anniversary = models.DateField(_("anniversary"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[validate_phone])
    mobile = models.CharField(_("mobile"), max_length=32, blank=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), blank=True)
    hobbies = models.TextField(_("hobbies"), max_length=2000, blank=True)
    preferences = models.TextField(_("preferences"), max_length=2000, blank=True)
    notes = models.TextField(_("notes"), max_length=10_000, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["customer", "relation", "name"]

    def __str__(self) -> str:
        return self.name


class Address(BaseModel):
    """A postal address of the customer, with a map position when known."""

    scope_resource = CUSTOMER
    scope_customer_path = "customer__"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=AddressKind.choices, default=AddressKind.BUSINESS
    )
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    region = models.CharField(
        _("prefecture / province"), max_length=100, blank=True, validators=[validate_plain_name]
    )
    locality = models.CharField(
        _("city"), max_length=100, blank=True, validators=[validate_plain_name]
    )
    line1 = models.CharField(_("address line 1"), max_length=200, validators=[validate_plain_name])
    line2 = models.CharField(
        _("address line 2"), max_length=200, blank=True, validators=[validate_plain_name]
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    is_primary = models.BooleanField(_("primary"), default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["customer", "-is_primary", "kind", "id"]

    def __str__(self) -> str:
        return " ".join(filter(None, [self.postal_code, self.region, self.locality, self.line1]))


class Consent(BaseModel):
    """Whether the customer accepts contact through one channel, and since when (CARD-10)."""

    scope_resource = CUSTOMER
    scope_customer_path = "customer__"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    granted = models.BooleanField(_("accepts"))
    recorded_on = models.DateField(_("date"))
    source = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        validators=[validate_plain_name],
        help_text=_("Where the answer came from, e.g. a signed form or a phone call."),
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["customer", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel"], name="customer_consent_one_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.granted}"
