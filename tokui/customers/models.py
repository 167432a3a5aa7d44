"""The customer card: the customer, the people around them, addresses and consent."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tokui.core.bulk_writes import UnrecordedBulkWrite, bulk_writes_allowed
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


class CustomerQuerySet(RestrictedQuerySet):
    """Refuses ``update()`` of card fields outside a service: it would bypass the history.

    Derived search columns (sort_key, search_text, phone_digits, name_key) and
    bookkeeping stay updatable; ``bulk_update()`` is checked the same way.
    """

    def update(self, **kwargs):
        _refuse_unrecorded(kwargs)
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        # Checked before Django opens its transaction, which the refusal would spoil.
        _refuse_unrecorded(fields)
        return super().bulk_update(objs, fields, *args, **kwargs)


def _refuse_unrecorded(field_names) -> None:
    from .services import CUSTOMER_FIELDS  # the service owns the list of card fields

    card_fields = {*CUSTOMER_FIELDS, "owner", "owner_id", "area", "area_id", "field_values"}
    touched = sorted(card_fields.intersection(field_names))
    if touched and not bulk_writes_allowed():
        raise UnrecordedBulkWrite(
            f"Bulk update of card fields {touched} outside a service would leave no history."
        )


# The fixed pages under /customers/ (customers/urls.py): a card with one of these codes
# could not be opened at /customers/<code>/, so no card may take one.
RESERVED_CODES = frozenset({"new", "duplicates", "handover", "trash"})


def validate_customer_code(value: str) -> None:
    if value.lower() in RESERVED_CODES:
        raise ValidationError(
            _("“%(code)s” is the name of a page: choose another code."),
            params={"code": value},
            code="reserved_code",
        )


class Customer(BaseModel):
    """One card per customer (CARD-1). Configurable card fields live in ``field_values``."""

    scope_resource = CUSTOMER
    scope_customer_path = ""

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[validate_code, validate_customer_code],
    )
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
    # The trash: a deleted card is hidden everywhere until restored or purged.
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Kept by ``refresh_search`` on every save: what search and sorting use.
    sort_key = models.CharField(max_length=200, editable=False, db_index=True)
    search_text = models.TextField(editable=False, blank=True)
    phone_digits = models.CharField(max_length=200, editable=False, blank=True)
    # The folded name alone, which duplicate detection groups on (CARD-12).
    name_key = models.CharField(max_length=200, editable=False, blank=True, db_index=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["sort_key", "code"]
        indexes = [
            models.Index(fields=["status", "sort_key"], name="customer_status_sort_idx"),
            models.Index(fields=["owner", "sort_key"], name="customer_owner_sort_idx"),
            models.Index(fields=["area", "sort_key"], name="customer_area_sort_idx"),
            # The few trashed cards, which restrict() leaves out of every read of the rows
            # hanging off a card: without it that lookup would scan the whole card table.
            models.Index(
                fields=["deleted_at"],
                name="customer_trashed_idx",
                condition=models.Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def refresh_search(self, extra_phones: list[str] | tuple[str, ...] = ()) -> None:
        self.sort_key = search_key(self.name_reading or self.name)[:200]
        self.name_key = search_key(self.name)[:200]
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
    # Postal code and first line folded alike, which duplicate detection groups on (CARD-12).
    match_key = models.CharField(max_length=250, editable=False, blank=True, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["customer", "-is_primary", "kind", "id"]

    def __str__(self) -> str:
        return " ".join(filter(None, [self.postal_code, self.region, self.locality, self.line1]))

    def save(self, *args, **kwargs):
        self.match_key = address_match_key(self.postal_code, self.line1)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"postal_code", "line1"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "match_key"}
        super().save(*args, **kwargs)


def address_match_key(postal_code: str, line1: str) -> str:
    """The folded postal code and first line: "100-0001 千代田１－１" and "1000001 千代田1-1"
    agree. Empty without a postal code: a street line alone ("1-1") is shared by too many
    places to suggest a duplicate."""
    postal = digits_only(postal_code)
    if not postal or not line1:
        return ""
    return f"{postal} {search_key(line1).translate(_DASHES)}"[:250]


# Dashes NFKC leaves alone but people type for the hyphen in "1-2-3".
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—−", "-"))


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


class CustomerMerge(BaseModel):
    """Two cards found to be one customer, merged into the card kept (CARD-12).

    The merged card's row is gone; this record keeps what it was (code, name and a
    snapshot of its fields), who merged it, which value won for each field, and what
    moved over. ``merged_customer_id`` is the old card's id, under which its history
    stays in the audit log: the kept card's history reads it through these records.
    """

    scope_resource = CUSTOMER
    scope_customer_path = "kept__"

    kept = models.ForeignKey(
        Customer,
        verbose_name=_("kept card"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="merges",
        help_text=_("The card that holds the merged card's orders and history now."),
    )
    kept_code = models.CharField(_("kept card's code"), max_length=32)
    merged_customer_id = models.BigIntegerField(_("merged card's id"), unique=True)
    merged_code = models.CharField(_("merged card's code"), max_length=32)
    merged_name = models.CharField(_("merged card's name"), max_length=200)
    merged_snapshot = models.JSONField(_("merged card as it was"), default=dict, blank=True)
    choices = models.JSONField(_("values taken from the merged card"), default=dict, blank=True)
    moved = models.JSONField(_("rows moved"), default=dict, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    merged_by_name = models.CharField(_("merged by"), max_length=150)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("card merge")
        verbose_name_plural = _("card merges")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_name} ({self.merged_code}) → {self.kept_code}"
