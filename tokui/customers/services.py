"""Writes to the customer card: scope check, validation, save and audit in one transaction."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.audit.selectors import changes_since
from tokui.audit.services import record_change
from tokui.core.exceptions import EditConflict
from tokui.fields.selectors import active_field_definitions
from tokui.fields.services import clean_field_values
from tokui.users.choices import Role

from .models import Address, Consent, Customer, Person, Tag

CUSTOMER_FIELDS = (
    "code",
    "kind",
    "name",
    "name_reading",
    "status",
    "phone",
    "email",
    "preferred_channel",
    "notes",
)
PERSON_FIELDS = (
    "relation",
    "name",
    "name_reading",
    "gender",
    "birthday",
    "anniversary",
    "phone",
    "mobile",
    "email",
    "hobbies",
    "preferences",
    "notes",
)
ADDRESS_FIELDS = (
    "kind",
    "postal_code",
    "region",
    "locality",
    "line1",
    "line2",
    "latitude",
    "longitude",
    "is_primary",
)
CONSENT_FIELDS = ("channel", "granted", "recorded_on", "source")
# What a customer payload may carry besides CUSTOMER_FIELDS.
CUSTOMER_RELATIONS = ("owner", "area", "tags", "assigned_users", "field_values")


def _plain(value):
    """A value as the audit log stores it: JSON-safe, and readable by people."""
    if value is None or isinstance(value, (bool, int, str, list)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def customer_snapshot(customer: Customer) -> dict:
    data = {name: _plain(getattr(customer, name)) for name in CUSTOMER_FIELDS}
    data["owner"] = customer.owner.username if customer.owner_id else None
    data["area"] = customer.area.code if customer.area_id else None
    if customer.pk:
        data["tags"] = sorted(t.name for t in customer.tags.all())
        data["assigned_users"] = sorted(u.username for u in customer.assigned_users.all())
    for key, value in (customer.field_values or {}).items():
        data[f"fields.{key}"] = value
    return data


def _row_snapshot(instance, fields) -> dict:
    return {name: _plain(getattr(instance, name)) for name in fields}


def _in_scope(actor, action: str, customer_id: int) -> bool:
    return Customer.objects.restrict(actor, action).filter(pk=customer_id).exists()


def _require_scope(actor, action: str, customer_id: int) -> None:
    if not _in_scope(actor, action, customer_id):
        raise PermissionDenied(_("You may not change this customer."))


def _check_version(instance, expected_version: int) -> None:
    if instance.version == expected_version:
        return
    changes = list(
        changes_since(
            object_type=instance._meta.label_lower, object_id=instance.pk, version=expected_version
        )
    )
    who = "; ".join(
        _("%(user)s changed %(fields)s at %(time)s")
        % {
            "user": change.actor_name,
            "fields": ", ".join(change.changes) or _("nothing visible"),
            "time": timezone.localtime(change.time).strftime("%Y-%m-%d %H:%M"),
        }
        for change in changes
    )
    raise EditConflict(
        _("This record was changed after you opened it: %(who)s. Your input was not saved.")
        % {"who": who or _("by somebody else")},
        current_version=instance.version,
        changes=changes,
    )


def _apply_customer_data(customer: Customer, data: dict, *, partial: bool) -> dict:
    """Set plain fields and card fields from ``data``; returns the errors found."""
    unknown = set(data) - set(CUSTOMER_FIELDS) - set(CUSTOMER_RELATIONS)
    if unknown:
        raise ValueError(f"unknown customer fields: {sorted(unknown)}")
    for name in CUSTOMER_FIELDS:
        if name in data:
            value = data[name]
            setattr(customer, name, "" if value is None else value)
    for name in ("owner", "area"):
        if name in data:
            setattr(customer, name, data[name])
    errors: dict[str, list[str]] = {}
    if "field_values" in data or not partial:
        try:
            customer.field_values = clean_field_values(
                data.get("field_values") or {},
                definitions=active_field_definitions(),
                current=customer.field_values,
                partial=partial,
            )
        except ValidationError as exc:
            errors.update({f"fields.{k}": v for k, v in exc.message_dict.items()})
    try:
        customer.full_clean(exclude=["field_values"], validate_unique=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    return errors


def _set_tags(customer: Customer, names) -> None:
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        tag = Tag.objects.filter(name=name).first()
        if tag is None:
            tag = Tag(name=name)
            tag.full_clean()
            tag.save()
        tags.append(tag)
    customer.tags.set(tags)


def _refresh_phone_digits(customer: Customer) -> None:
    phones = [p for row in customer.people.values_list("phone", "mobile") for p in row if p]
    customer.refresh_search(extra_phones=phones)


@transaction.atomic
def customer_create(*, actor, data: dict) -> Customer:
    """Open a new card. An account manager's new customer is theirs unless said otherwise."""
    data = dict(data)
    if data.get("owner") is None and getattr(actor, "role", None) == Role.ACCOUNT_MANAGER:
        data["owner"] = actor
    if data.get("area") is None and getattr(actor, "area_id", None):
        data["area"] = actor.area
    customer = Customer()
    errors = _apply_customer_data(customer, data, partial=False)
    if errors:
        raise ValidationError(errors)
    customer.refresh_search()
    try:
        # A savepoint, so a code taken by a concurrent create is reported, not a 500.
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        if Customer.objects.filter(code=customer.code).exists():
            raise ValidationError(
                {"code": [_("A customer with this code already exists.")]}
            ) from exc
        raise
    if data.get("tags"):
        _set_tags(customer, data["tags"])
    if data.get("assigned_users"):
        customer.assigned_users.set(data["assigned_users"])
    _require_scope(actor, "add", customer.pk)
    record_change(
        actor=actor,
        action="create",
        instance=customer,
        before=None,
        after=customer_snapshot(customer),
        customer_id=customer.pk,
    )
    return customer


@transaction.atomic
def customer_update(*, actor, customer: Customer, data: dict, expected_version: int) -> Customer:
    """Change a card if nobody else changed it since ``expected_version`` was read.

    Only the keys present in ``data`` change; ``field_values`` merges key by key.
    """
    _require_scope(actor, "change", customer.pk)
    customer = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("owner", "area")
        .get(pk=customer.pk)
    )
    _check_version(customer, expected_version)
    before = customer_snapshot(customer)
    errors = _apply_customer_data(customer, data, partial=True)
    if errors:
        raise ValidationError(errors)
    if "tags" in data:
        _set_tags(customer, data["tags"] or [])
    if "assigned_users" in data:
        customer.assigned_users.set(data["assigned_users"] or [])
    after = customer_snapshot(customer)
    if after == before:
        return customer
    customer.version += 1
    _refresh_phone_digits(customer)
    customer.save()
    # Moving a card out of one's own reach (another owner, another area) is a handover,
    # which only someone whose scope covers the new place may do.
    _require_scope(actor, "change", customer.pk)
    record_change(
        actor=actor,
        action="update",
        instance=customer,
        before=before,
        after=after,
        customer_id=customer.pk,
    )
    return customer


@transaction.atomic
def customer_delete(*, actor, customer: Customer) -> None:
    _require_scope(actor, "delete", customer.pk)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = customer_snapshot(customer)
    record_change(
        actor=actor,
        action="delete",
        instance=customer,
        before=before,
        after=None,
        customer_id=customer.pk,
    )
    try:
        customer.delete()
    except ProtectedError as exc:
        # Orders and payments are the company's books: a card that has them stays.
        raise ValidationError(
            _("This customer has orders or payments and cannot be deleted.")
        ) from exc


def _touch_customer_search(customer_id: int) -> None:
    customer = Customer.objects.get(pk=customer_id)
    _refresh_phone_digits(customer)
    Customer.objects.filter(pk=customer_id).update(phone_digits=customer.phone_digits)


def _clean_row(instance, data: dict, fields) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()


@transaction.atomic
def person_create(*, actor, customer: Customer, data: dict) -> Person:
    _require_scope(actor, "change", customer.pk)
    person = Person(customer=customer)
    _clean_row(person, data, PERSON_FIELDS)
    person.save()
    _touch_customer_search(customer.pk)
    record_change(
        actor=actor,
        action="create",
        instance=person,
        before=None,
        after=_row_snapshot(person, PERSON_FIELDS),
        customer_id=customer.pk,
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, data: dict, expected_version: int) -> Person:
    _require_scope(actor, "change", person.customer_id)
    person = Person.objects.select_for_update().get(pk=person.pk)
    _check_version(person, expected_version)
    before = _row_snapshot(person, PERSON_FIELDS)
    _clean_row(person, data, PERSON_FIELDS)
    after = _row_snapshot(person, PERSON_FIELDS)
    if after == before:
        return person
    person.version += 1
    person.save()
    _touch_customer_search(person.customer_id)
    record_change(
        actor=actor,
        action="update",
        instance=person,
        before=before,
        after=after,
        customer_id=person.customer_id,
    )
    return person


@transaction.atomic
def person_delete(*, actor, person: Person) -> None:
    _require_scope(actor, "change", person.customer_id)
    record_change(
        actor=actor,
        action="delete",
        instance=person,
        before=_row_snapshot(person, PERSON_FIELDS),
        after=None,
        customer_id=person.customer_id,
    )
    customer_id = person.customer_id
    person.delete()
    _touch_customer_search(customer_id)


@transaction.atomic
def address_create(*, actor, customer: Customer, data: dict) -> Address:
    _require_scope(actor, "change", customer.pk)
    address = Address(customer=customer)
    _clean_row(address, data, ADDRESS_FIELDS)
    address.save()
    _keep_one_primary(address)
    record_change(
        actor=actor,
        action="create",
        instance=address,
        before=None,
        after=_row_snapshot(address, ADDRESS_FIELDS),
        customer_id=customer.pk,
    )
    return address


@transaction.atomic
def address_update(*, actor, address: Address, data: dict) -> Address:
    _require_scope(actor, "change", address.customer_id)
    address = Address.objects.select_for_update().get(pk=address.pk)
    before = _row_snapshot(address, ADDRESS_FIELDS)
    _clean_row(address, data, ADDRESS_FIELDS)
    address.save()
    _keep_one_primary(address)
    record_change(
        actor=actor,
        action="update",
        instance=address,
        before=before,
        after=_row_snapshot(address, ADDRESS_FIELDS),
        customer_id=address.customer_id,
    )
    return address


@transaction.atomic
def address_delete(*, actor, address: Address) -> None:
    _require_scope(actor, "change", address.customer_id)
    record_change(
        actor=actor,
        action="delete",
        instance=address,
        before=_row_snapshot(address, ADDRESS_FIELDS),
        after=None,
        customer_id=address.customer_id,
    )
    address.delete()


def _keep_one_primary(address: Address) -> None:
    if address.is_primary:
        Address.objects.filter(customer_id=address.customer_id, is_primary=True).exclude(
            pk=address.pk
        ).update(is_primary=False)


@transaction.atomic
def consent_set(*, actor, customer: Customer, data: dict) -> Consent:
    """Record the customer's answer for one channel, replacing the earlier one."""
    _require_scope(actor, "change", customer.pk)
    consent = (
        Consent.objects.select_for_update()
        .filter(customer=customer, channel=data.get("channel"))
        .first()
    )
    before = _row_snapshot(consent, CONSENT_FIELDS) if consent else None
    consent = consent or Consent(customer=customer)
    _clean_row(consent, data, CONSENT_FIELDS)
    consent.save()
    record_change(
        actor=actor,
        action="update" if before else "create",
        instance=consent,
        before=before,
        after=_row_snapshot(consent, CONSENT_FIELDS),
        customer_id=customer.pk,
    )
    return consent
