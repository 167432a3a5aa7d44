"""Writes to the customer card: scope check, validation, save and audit in one transaction."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.audit.selectors import changes_since
from tokui.audit.services import record_change
from tokui.core.exceptions import EditConflict
from tokui.fields.access import card_access, change_part, part_label
from tokui.fields.selectors import active_field_definitions
from tokui.fields.services import clean_field_values
from tokui.users.choices import Role
from tokui.users.roles import TRASH, has_permission

from .models import Address, Consent, Customer, CustomerMerge, Person, Tag

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


def customer_snapshot(customer: Customer, *, no_relations: bool = False) -> dict:
    """The card as the change log records it. ``no_relations``: the caller knows the card has
    no tags and no assigned users (it has just created it without them): nothing to read."""
    data = {name: _plain(getattr(customer, name)) for name in CUSTOMER_FIELDS}
    data["owner"] = customer.owner.username if customer.owner_id else None
    data["area"] = customer.area.code if customer.area_id else None
    if no_relations:
        data["tags"], data["assigned_users"] = [], []
    elif customer.pk:
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
    if "code" in errors and _code_in_trash(customer):
        errors["code"] = [_code_in_trash_message()]
    return errors


def _code_in_trash(customer: Customer) -> bool:
    """Whether another card, one in the trash, holds ``customer``'s code: it keeps it until
    it is purged, so it can still be restored as it was."""
    trashed = Customer._base_manager.filter(code=customer.code, deleted_at__isnull=False)
    return trashed.exclude(pk=customer.pk).exists() if customer.pk else trashed.exists()


def _code_in_trash_message() -> str:
    return _(
        "This code belongs to a card in the trash. An administrator can restore that card;"
        " the code is free again once the card is purged."
    )


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
        if _code_in_trash(customer):
            raise ValidationError({"code": [_code_in_trash_message()]}) from exc
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
    after = customer_snapshot(
        customer, no_relations=not data.get("tags") and not data.get("assigned_users")
    )
    _require_editable(actor, _changed_parts({}, after))
    # A new card is no way around approval: its controlled values are asked for instead.
    _refuse_unapproved_controlled_changes(actor, {}, after)
    record_change(
        actor=actor,
        action="create",
        instance=customer,
        before=None,
        after=after,
        customer_id=customer.pk,
    )
    return customer


def _changed_parts(before: dict, after: dict) -> list[str]:
    """The card parts (tokui.fields.access) two customer snapshots differ in; blank equals
    missing, so a new card's empty phone is no change."""

    def value(snapshot, name):
        found = snapshot.get(name)
        return None if found in ("", [], {}) else found

    parts = {
        change_part("customers.customer", name)
        for name in set(before) | set(after)
        if value(before, name) != value(after, name)
    }
    return sorted(part for part in parts if part)


def hidden_parts_named(actor, data: dict) -> list[str]:
    """The card parts ``data`` (as ``customer_update`` takes it) names that ``actor`` may
    not see: built-in parts, and card fields that exist (an unknown key is the card's
    validation's to name). Hidden parts are never editable (tokui.fields.access)."""
    access = card_access(actor)
    parts = {change_part("customers.customer", name) for name in data if name != "field_values"}
    hidden = {part for part in parts if part and not access.can_view(part)}
    hidden.update(access.hidden_keys.intersection(data.get("field_values") or {}))
    return sorted(hidden)


def _require_editable(actor, parts) -> None:
    """GOV-1, CARD-3: refuse a write to a part of the card the actor may not edit, naming it.

    Every path (form, API, import, merge) comes through here, so a hidden or read-only part
    cannot be written by sending it anyway. The caller's transaction undoes what came before.
    """

    access = card_access(actor)
    refused = [part for part in parts if not access.can_edit(part)]
    if refused:
        raise PermissionDenied(
            _("You may not change these parts of the card: %(parts)s.")
            % {"parts": ", ".join(part_label(part) for part in refused)}
        )


def _refuse_unapproved_controlled_changes(actor, before: dict, after: dict) -> None:
    """GOV-2, defence in depth: a controlled field changed by someone whose edits of it
    need approval goes through a change request (tokui.approvals), never onto the card,
    whatever path the write took."""

    access = card_access(actor)
    keys = sorted(
        name.removeprefix("fields.")
        for name in set(before) | set(after)
        if name.startswith("fields.")
        and before.get(name) != after.get(name)
        and access.needs_approval(name.removeprefix("fields."))
    )
    if keys:
        raise PermissionDenied(
            _("These fields change only with a manager's approval: %(fields)s.")
            % {"fields": ", ".join(keys)}
        )


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
    # A part the actor may not see is refused whatever value is sent: "unchanged" for the
    # stored value and "refused" for any other would tell them the value.
    _require_editable(actor, hidden_parts_named(actor, data))
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
    _require_editable(actor, _changed_parts(before, after))
    _refuse_unapproved_controlled_changes(actor, before, after)
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
    """Move a card to the trash, orders or not: ``restrict()`` hides it and everything
    hanging off it from then on, until an administrator restores it or the purge deletes
    it for good after ``TOKUI_TRASH_RETENTION_DAYS`` (docs/trash.md)."""
    _require_scope(actor, "delete", customer.pk)
    customer = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("owner", "area")
        .get(pk=customer.pk)
    )
    before = customer_snapshot(customer)
    record_change(
        actor=actor,
        action="delete",
        instance=customer,
        before=before,
        after=None,
        customer_id=customer.pk,
    )
    customer.deleted_at = timezone.now()
    customer.deleted_by = actor if getattr(actor, "pk", None) else None
    customer.save(update_fields=["deleted_at", "deleted_by", "updated_at"])


def _require_trash(actor, action: str, customer_id: int) -> Customer:
    """The trashed card, locked; refused unless ``actor`` may ``action`` it in the trash."""

    if not has_permission(actor, TRASH, action):
        raise PermissionDenied(_("You may not do this in the trash."))
    customer = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("owner", "area", "deleted_by")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None or customer.deleted_at is None:
        raise ValidationError(_("This customer is not in the trash."))
    if not Customer.objects.restrict_trash(actor, action).filter(pk=customer_id).exists():
        raise PermissionDenied(_("You may not do this in the trash."))
    return customer


def _trash_snapshot(customer: Customer) -> dict:
    return {
        "deleted_at": _plain(customer.deleted_at),
        "deleted_by": customer.deleted_by.username if customer.deleted_by_id else None,
    }


@transaction.atomic
def customer_restore(*, actor, customer: Customer) -> Customer:
    """Bring a card back from the trash as it was, with its people, orders and history.

    Nothing else can have taken its code meanwhile: a trashed card keeps its row."""
    customer = _require_trash(actor, "change", customer.pk)
    before = _trash_snapshot(customer)
    customer.deleted_at = None
    customer.deleted_by = None
    customer.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    record_change(
        actor=actor,
        action="restore",
        instance=customer,
        before=before,
        after=_trash_snapshot(customer),
        customer_id=customer.pk,
    )
    return customer


def trash_retention_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "TOKUI_TRASH_RETENTION_DAYS", 30))


def trash_purge_cutoff_delta():
    """How long a card stays in the trash before the purge may delete it."""
    import datetime

    return datetime.timedelta(days=trash_retention_days())


def trash_purge_cutoff(now=None):
    """Cards moved to the trash before this moment are due for the purge."""
    return (now or timezone.now()) - trash_purge_cutoff_delta()


def customers_purge(*, actor=None, older_than=None) -> list[str]:
    """Delete for good the cards in the trash since before ``older_than`` (default: the
    retention, ``trash_purge_cutoff()``), with their people, addresses, consents, orders,
    lines, payments, figures and change requests. Returns the purged codes.

    One transaction per card, so a long purge holds no lock on the whole trash and a card
    restored meanwhile is skipped. ``actor`` None is the scheduled purge; a person needs
    the trash's "delete" permission. The change log and access records stay: each purged
    card leaves a "purge" row, its earlier rows keep its history (append-only).
    """

    if actor is not None and not has_permission(actor, TRASH, "delete"):
        raise PermissionDenied(_("You may not do this in the trash."))
    cutoff = older_than or trash_purge_cutoff()
    due = Customer._base_manager.filter(deleted_at__isnull=False, deleted_at__lt=cutoff)
    purged = []
    for customer_id in due.order_by("deleted_at", "pk").values_list("pk", flat=True):
        code = _purge_one(actor=actor, customer_id=customer_id, cutoff=cutoff)
        if code is not None:
            purged.append(code)
    return purged


@transaction.atomic
def _purge_one(*, actor, customer_id: int, cutoff) -> str | None:
    from tokui.approvals.models import ChangeRequest
    from tokui.metrics.models import CustomerMetrics
    from tokui.sales.models import Order, OrderLine, Payment

    customer = (
        Customer._base_manager.select_for_update(of=("self",))
        .select_related("deleted_by")
        .filter(pk=customer_id, deleted_at__isnull=False, deleted_at__lt=cutoff)
        .first()
    )
    if customer is None:  # restored (or purged) since the list was read
        return None
    mine = {"customer_id": customer_id}
    # Lines before orders and payments: the books are PROTECTed against a card's delete.
    removed = {
        "order_lines": OrderLine.objects.filter(**mine).delete()[0],
        "orders": Order.objects.filter(**mine).delete()[0],
        "payments": Payment.objects.filter(**mine).delete()[0],
        "figures": CustomerMetrics.objects.filter(**mine).delete()[0],
        "change_requests": ChangeRequest.objects.filter(**mine).delete()[0],
        "people": Person.objects.filter(**mine).delete()[0],
        "addresses": Address.objects.filter(**mine).delete()[0],
        "consents": Consent.objects.filter(**mine).delete()[0],
    }
    before = {"code": customer.code, **_trash_snapshot(customer)}
    after = {"removed": ", ".join(f"{name}: {count}" for name, count in removed.items() if count)}
    record_change(
        actor=actor,
        action="purge",
        instance=customer,
        before=before,
        after=after,
        customer_id=customer_id,
    )
    customer.delete()
    return customer.code


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
    _require_editable(actor, ["people"])
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
    _require_editable(actor, ["people"])
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
    _require_editable(actor, ["people"])
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
    _require_editable(actor, ["addresses"])
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
    _require_editable(actor, ["addresses"])
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
    _require_editable(actor, ["addresses"])
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
    _require_editable(actor, ["consent"])
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


# --- merging duplicate cards (CARD-12) ------------------------------------------------

KEEP, TAKE_MERGED = "keep", "merge"
# Plain fields a merge may take from either card. The code is not among them: the kept
# card keeps its code, and the merged code is recorded on the merge.
MERGE_PLAIN_FIELDS = tuple(name for name in CUSTOMER_FIELDS if name != "code")
MERGE_RELATION_FIELDS = ("owner", "area")


def _is_empty(value) -> bool:
    return value in (None, "", [], {})


def merge_field_values(customer: Customer, definitions) -> dict:
    """What a merge compares: each choosable field's value on ``customer``.

    Plain fields by name, owner and area as objects, card fields as ``fields.<key>``
    (derived ones are left out: the system recomputes them), consent as
    ``consent.<channel>``.
    """
    values = {name: getattr(customer, name) for name in MERGE_PLAIN_FIELDS}
    values["owner"] = customer.owner
    values["area"] = customer.area
    for definition in definitions:
        if definition.is_active and not definition.is_derived:
            values[f"fields.{definition.key}"] = (customer.field_values or {}).get(definition.key)
    for consent in customer.consents.all():
        values[f"consent.{consent.channel}"] = consent
    return values


def merge_differences(keep: Customer, merge: Customer, definitions) -> dict:
    """The choosable fields whose values differ, as ``{name: (kept value, merged value)}``."""
    kept, merged = merge_field_values(keep, definitions), merge_field_values(merge, definitions)
    differences = {}
    for name in dict.fromkeys([*kept, *merged]):
        old, new = kept.get(name), merged.get(name)
        if name.startswith("consent."):
            # A channel only one card has moves over anyway; a choice is needed when both do
            # and they disagree.
            if old is None or new is None or _consent_tuple(old) == _consent_tuple(new):
                continue
        elif old == new or (_is_empty(old) and _is_empty(new)):
            continue
        differences[name] = (old, new)
    return differences


def _consent_tuple(consent: Consent) -> tuple:
    return (consent.granted, consent.recorded_on, consent.source)


def default_merge_choice(kept_value, merged_value) -> str:
    """Nothing is dropped by default: an empty value on the kept card takes the merged one."""
    return TAKE_MERGED if _is_empty(kept_value) and not _is_empty(merged_value) else KEEP


def _merge_choices(differences: dict, choices: dict) -> dict[str, str]:
    unknown = set(choices) - set(differences)
    if unknown:
        raise ValidationError(
            _("These fields do not differ between the two cards: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    bad = {name for name, choice in choices.items() if choice not in (KEEP, TAKE_MERGED)}
    if bad:
        raise ValidationError(
            _("Choose which card's value to keep for: %(fields)s")
            % {"fields": ", ".join(sorted(bad))}
        )
    return {
        name: choices.get(name) or default_merge_choice(*values)
        for name, values in differences.items()
    }


def _merged_card_data(keep: Customer, merge: Customer, resolved: dict) -> tuple[dict, dict]:
    """The ``customer_update`` payload for the kept card, and what it takes from the merged
    card (for the merge record)."""
    data: dict = {}
    taken: dict = {}
    field_values: dict = {}
    for name, choice in resolved.items():
        if choice != TAKE_MERGED or name.startswith("consent."):
            continue
        if name.startswith("fields."):
            key = name.removeprefix("fields.")
            field_values[key] = (merge.field_values or {}).get(key)
            taken[name] = field_values[key]
        else:
            data[name] = getattr(merge, name)
            taken[name] = _plain(data[name])
    if field_values:
        data["field_values"] = field_values
    # Labels and assignees are not either-or: the kept card carries both cards' sets.
    keep_tags = {t.name for t in keep.tags.all()}
    merge_tags = {t.name for t in merge.tags.all()}
    if merge_tags - keep_tags:
        data["tags"] = sorted(keep_tags | merge_tags)
    keep_users = set(keep.assigned_users.all())
    merge_users = set(merge.assigned_users.all())
    if merge_users - keep_users:
        data["assigned_users"] = sorted(keep_users | merge_users, key=lambda u: u.pk)
    return data, taken


def _merge_consents(*, actor, keep: Customer, merge: Customer, resolved: dict) -> int:
    """Move the merged card's consents; where both cards answered for a channel, the answer
    not chosen is deleted with an audit row. Returns how many rows moved."""
    kept = {c.channel: c for c in Consent.objects.select_for_update().filter(customer=keep)}
    moving = []
    for consent in Consent.objects.select_for_update().filter(customer=merge):
        current = kept.get(consent.channel)
        takes_merged = current is None or (
            _consent_tuple(current) != _consent_tuple(consent)
            and resolved.get(f"consent.{consent.channel}") == TAKE_MERGED
        )
        loser = current if takes_merged else consent
        if takes_merged:
            moving.append(consent.pk)
        if loser is not None:
            record_change(
                actor=actor,
                action="delete",
                instance=loser,
                before=_row_snapshot(loser, CONSENT_FIELDS),
                after=None,
                customer_id=loser.customer_id,
            )
            loser.delete()
    return Consent.objects.filter(pk__in=moving).update(customer=keep)


def _move_rows(keep: Customer, merge: Customer) -> dict[str, int]:
    """Re-point everything else that hangs off the merged card at the kept one.

    Orders, order lines and payments belong to the sales app; a merge is the one write that
    moves them between cards, done here with plain updates so it shares the merge's
    transaction. Any other app's rows pointing at a card move the same way, so a module
    added later loses nothing either.
    """
    from tokui.metrics.models import CustomerMetrics
    from tokui.sales.models import Order, OrderLine, Payment

    if Address.objects.filter(customer=keep, is_primary=True).exists():
        Address.objects.filter(customer=merge, is_primary=True).update(is_primary=False)
    moved = {
        "people": Person.objects.filter(customer=merge).update(customer=keep),
        "addresses": Address.objects.filter(customer=merge).update(customer=keep),
        "orders": Order.objects.filter(customer=merge).update(customer=keep),
        "order_lines": OrderLine.objects.filter(customer=merge).update(customer=keep),
        "payments": Payment.objects.filter(customer=merge).update(customer=keep),
    }
    # Earlier merges into the merged card now belong to the kept one, so their history
    # follows along.
    CustomerMerge.objects.filter(kept=merge).update(kept=keep)
    # Figures are derived: the merged card's row goes, the kept card's is recomputed.
    CustomerMetrics.objects.filter(customer=merge).delete()
    handled = {Person, Address, Consent, Order, OrderLine, Payment, CustomerMerge}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if relation.many_to_many or relation.one_to_one or model in handled:
            continue
        count = model._base_manager.filter(**{relation.field.name: merge}).update(
            **{relation.field.name: keep}
        )
        if count:
            moved[model._meta.label_lower] = count
    return moved


def _merge_record_snapshot(record: CustomerMerge) -> dict:
    return {
        "kept_code": record.kept_code,
        "merged_code": record.merged_code,
        "merged_name": record.merged_name,
        "choices": sorted(record.choices),
        "moved": ", ".join(f"{name}: {count}" for name, count in record.moved.items() if count),
    }


@transaction.atomic
def customers_merge(
    *, actor, keep: Customer, merge: Customer, choices: dict, expected_versions: dict
) -> CustomerMerge:
    """Fold the card ``merge`` into ``keep``: one customer found on two cards.

    ``choices`` says per differing field (see ``merge_differences``) whose value stays,
    ``"keep"`` or ``"merge"``; a field left out keeps the kept card's value unless that is
    empty. Tags and assignees are united. People, addresses, consents, orders, order
    lines and payments move to the kept card; the merged card is recorded and deleted.
    ``expected_versions`` maps each card's code to the version the caller read: a card
    changed since is refused and nothing is written. Merging deletes a card, so only
    someone who may delete both (a manager of both areas, an administrator) may merge.
    """
    if keep.pk == merge.pk:
        raise ValidationError(_("A card cannot be merged into itself."))
    for card in sorted((keep, merge), key=lambda c: c.pk):
        if not _in_scope(actor, "delete", card.pk):
            raise PermissionDenied(_("You may not merge these customers."))
    locked = Customer.objects.select_for_update(of=("self",)).select_related("owner", "area")
    locked = {c.pk: c for c in locked.filter(pk__in=[keep.pk, merge.pk]).order_by("pk")}
    keep, merge = locked[keep.pk], locked[merge.pk]
    for card in (keep, merge):
        if card.code not in expected_versions:
            raise ValueError(f"expected_versions lacks {card.code}")
        _check_version(card, expected_versions[card.code])
    definitions = active_field_definitions()
    resolved = _merge_choices(merge_differences(keep, merge, definitions), choices)
    merged_snapshot = customer_snapshot(merge)
    data, taken = _merged_card_data(keep, merge, resolved)
    keep = customer_update(actor=actor, customer=keep, data=data, expected_version=keep.version)
    moved_consents = _merge_consents(actor=actor, keep=keep, merge=merge, resolved=resolved)
    moved = _move_rows(keep, merge)
    moved["consents"] = moved_consents
    record = CustomerMerge(
        kept=keep,
        kept_code=keep.code,
        merged_customer_id=merge.pk,
        merged_code=merge.code,
        merged_name=merge.name,
        merged_snapshot=merged_snapshot,
        choices=taken,
        moved=moved,
        merged_by=actor if getattr(actor, "pk", None) else None,
        merged_by_name=getattr(actor, "username", "") or "system",
    )
    record.full_clean(exclude=["kept", "merged_by"])
    record.save()
    record_change(
        actor=actor,
        action="create",
        instance=record,
        before=None,
        after=_merge_record_snapshot(record),
        customer_id=keep.pk,
    )
    # The merged card's last row: its values, and the code it lives on under now.
    record_change(
        actor=actor,
        action="delete",
        instance=merge,
        before=merged_snapshot,
        after={"code": keep.code},
        customer_id=merge.pk,
    )
    merge.delete()
    _touch_customer_search(keep.pk)
    if moved["orders"] or moved["payments"] or moved["order_lines"]:
        from tokui.metrics.services import metrics_refresh

        metrics_refresh(customer_ids=[keep.pk])
    return record


# --- handover of an account manager's customers (CARD-9) ------------------------------

# Who may receive cards: the people who look after customers day to day.
HANDOVER_RECEIVER_ROLES = (Role.ACCOUNT_MANAGER, Role.MANAGER)


def _handover_receiver_errors(*, actor, from_user, to_user) -> list[str]:
    from .selectors import assignable_owners

    if to_user.pk == from_user.pk:
        return [_("Choose another person to receive the customers.")]
    if not to_user.is_active or to_user.role not in HANDOVER_RECEIVER_ROLES:
        return [_("Customers can only be handed to an active account manager or manager.")]
    if not assignable_owners(user=actor).filter(pk=to_user.pk).exists():
        return [_("You may not hand customers to %(user)s.") % {"user": to_user}]
    return []


@transaction.atomic
def customers_reassign(*, actor, from_user, to_user, customer_ids=None) -> int:
    """Hand ``from_user``'s customers (all, or those among ``customer_ids``) to ``to_user``.

    The cards they own change owner; the cards they are assigned to get ``to_user``
    assigned instead. One UPDATE for the owners, one audit row per card, every version
    bumped so an edit opened before the handover is refused as a conflict. If any of the
    cards is outside the actor's reach, nothing changes. Returns the number of cards.
    """
    from django.db.models import F, Q

    from tokui.audit.services import record_changes_bulk
    from tokui.core.bulk_writes import bulk_write_allowed
    from tokui.users.choices import Scope
    from tokui.users.roles import CUSTOMER, scope_for

    # Handing over is a manager's decision: an account manager's reach is their own cards.
    if scope_for(actor, CUSTOMER, "change") not in (Scope.ALL, Scope.AREA):
        raise PermissionDenied(_("You may not hand over customers."))
    errors = _handover_receiver_errors(actor=actor, from_user=from_user, to_user=to_user)
    if errors:
        raise ValidationError({"to_user": errors})
    links = Customer.assigned_users.through.objects
    # Cards in the trash stay with whoever had them: they are not anyone's work now.
    selection = Customer.objects.filter(
        Q(owner_id=from_user.pk)
        | Q(pk__in=links.filter(user_id=from_user.pk).values("customer_id")),
        deleted_at__isnull=True,
    )
    if customer_ids is not None:
        selection = selection.filter(pk__in=list(customer_ids))
    # Locked first, so the rows checked are the rows written.
    cards = list(
        selection.select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "code", "name", "version", "owner_id")
    )
    if not cards:
        return 0
    ids = [card[0] for card in cards]
    allowed = Customer.objects.restrict(actor, "change").filter(pk__in=ids).count()
    if allowed != len(ids):
        raise PermissionDenied(
            _("%(count)s of these customers are outside your reach; nothing was handed over.")
            % {"count": len(ids) - allowed}
        )
    assigned: dict[int, list[str]] = {pk: [] for pk in ids}
    for customer_id, username in links.filter(customer_id__in=ids).values_list(
        "customer_id", "user__username"
    ):
        assigned[customer_id].append(username)
    now = timezone.now()
    owned_ids = [pk for pk, _code, _name, _version, owner_id in cards if owner_id == from_user.pk]
    # The history rows are written below, in the same transaction.
    with bulk_write_allowed():
        Customer.objects.filter(pk__in=owned_ids).update(owner_id=to_user.pk)
        Customer.objects.filter(pk__in=ids).update(version=F("version") + 1, updated_at=now)
    linked_ids = [pk for pk in ids if from_user.username in assigned[pk]]
    links.filter(customer_id__in=linked_ids, user_id=from_user.pk).delete()
    already = set(
        links.filter(customer_id__in=linked_ids, user_id=to_user.pk).values_list(
            "customer_id", flat=True
        )
    )
    links.bulk_create(
        [links.model(customer_id=pk, user_id=to_user.pk) for pk in linked_ids if pk not in already],
        batch_size=1000,
    )
    rows = []
    for pk, code, name, version, owner_id in cards:
        before, after = {}, {}
        if owner_id == from_user.pk:
            before["owner"], after["owner"] = from_user.username, to_user.username
        if pk in linked_ids:
            before["assigned_users"] = sorted(assigned[pk])
            after["assigned_users"] = sorted(
                {*assigned[pk], to_user.username} - {from_user.username}
            )
        rows.append((Customer(pk=pk, code=code, name=name, version=version + 1), before, after, pk))
    record_changes_bulk(actor=actor, action="update", rows=rows)
    return len(cards)


# --- anonymising a person on request (privacy) ----------------------------------------

# What a person's card row keeps after anonymisation: the relation and the link to the
# customer (orders and figures are the customer's, not the person's). Everything else is
# personal and is erased.
ANONYMISED_NAME = "(anonymised)"
PERSON_PERSONAL_FIELDS = tuple(f for f in PERSON_FIELDS if f != "relation")
# Stands in the audit row for an erased value: the log records that it was erased, never
# what it was (earlier rows keep what they recorded; the log is append-only).
ERASED = "***"


@transaction.atomic
def person_anonymise(*, actor, person: Person) -> Person:
    """Erase a person's personal data on their request, keeping the customer's orders and
    figures. Erasing is as final as deleting, so it needs the right to delete the card."""
    _require_scope(actor, "delete", person.customer_id)
    person = Person.objects.select_for_update().get(pk=person.pk)
    erased = {}
    for name in PERSON_PERSONAL_FIELDS:
        value = getattr(person, name)
        if value not in (None, "") and not (name == "name" and value == ANONYMISED_NAME):
            erased[name] = value
    if not erased:
        return person
    for name in PERSON_PERSONAL_FIELDS:
        field = Person._meta.get_field(name)
        setattr(person, name, None if field.null else "")
    person.name = ANONYMISED_NAME
    person.version += 1
    person.save()
    _touch_customer_search(person.customer_id)
    record_change(
        actor=actor,
        action="update",
        instance=person,
        before=dict.fromkeys(erased, ERASED),
        after={name: _plain(getattr(person, name)) for name in erased},
        customer_id=person.customer_id,
    )
    return person
