"""Writes for card field definitions, and validation of the values customers hold."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from tokui.audit.services import record_change
from tokui.users.choices import Role
from tokui.users.roles import FIELD_DEFINITION, has_permission

from .access import DEFAULT_RULES, forget_card_access
from .choices import Category, FieldType
from .models import CategoryRule, FieldDefinition

PRESET_DIR = Path(__file__).parent / "presets"
PRESETS = ("retail_store", "wholesale_distributor")

_DEFINITION_FIELDS = [
    "key",
    "label",
    "label_ja",
    "label_ko",
    "field_type",
    "category",
    "maintenance",
    "required",
    "choices",
    "choice_labels",
    "min_value",
    "max_value",
    "max_length",
    "pattern",
    "help_text",
    "order",
    "is_active",
    "controlled",
    "view_roles",
    "edit_roles",
]


# What a yes/no field accepts: JSON booleans from the API, the strings forms and files send.
_BOOLEAN_INPUTS = (None, True, False, "", "unknown", "true", "false", "True", "False", "1", "0")


def to_json_value(value):
    """What a cleaned form value is stored as in the card's JSON."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


def clean_field_values(
    values: dict,
    *,
    definitions: list[FieldDefinition],
    current: dict | None = None,
    partial: bool = False,
) -> dict:
    """Validate card field values and return the card's new set of values.

    ``values`` may hold strings (forms, files) or JSON values (API). With ``partial``
    only the keys given are checked and changed; otherwise every active field is, so a
    missing required value is an error. Unknown keys and derived fields are refused.
    Raises ``ValidationError`` keyed by field key.
    """
    by_key = {d.key: d for d in definitions if d.is_active}
    result = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in by_key:
            errors[key] = [_("There is no card field with the key “%(key)s”.") % {"key": key}]
        elif by_key[key].is_derived and values[key] not in (None, "", (current or {}).get(key)):
            errors[key] = [_("This field is computed by the system and cannot be typed in.")]
    for key, definition in by_key.items():
        if definition.is_derived or key in errors:
            continue
        if partial and key not in values:
            continue
        raw = values.get(key)
        if definition.field_type == FieldType.BOOLEAN:
            # The form field reads anything it does not recognise as "unknown", which would
            # silently erase a value sent as "yes" or "maybe"; refuse it instead.
            if raw not in _BOOLEAN_INPUTS:
                errors[key] = [_("Choose yes, no or unknown.")]
                continue
            if raw in ("unknown", ""):
                raw = None
        elif (
            isinstance(raw, (list, tuple, dict)) and definition.field_type != FieldType.MULTI_CHOICE
        ):
            errors[key] = [_("Enter a single value.")]
            continue
        try:
            cleaned = definition.form_field().clean(raw)
        except ValidationError as exc:
            errors[key] = list(exc.messages)
            continue
        if cleaned in (None, "", []):
            result.pop(key, None)
        else:
            result[key] = to_json_value(cleaned)
    if errors:
        raise ValidationError(errors)
    return result


def _snapshot(definition: FieldDefinition) -> dict:
    data = model_to_dict(definition, fields=_DEFINITION_FIELDS)
    return {k: to_json_value(v) for k, v in data.items()}


def _require(actor, action: str) -> None:
    if not has_permission(actor, FIELD_DEFINITION, action):
        raise PermissionDenied(_("You may not change the card's fields."))


@transaction.atomic
def field_definition_create(*, actor, **data) -> FieldDefinition:
    _require(actor, "add")
    return _definition_create(actor, data)


def _definition_create(actor, data: dict) -> FieldDefinition:
    definition = FieldDefinition(**data)
    definition.full_clean()
    definition.save()
    record_change(
        actor=actor, action="create", instance=definition, before=None, after=_snapshot(definition)
    )
    return definition


@transaction.atomic
def field_definition_update(*, actor, definition: FieldDefinition, **data) -> FieldDefinition:
    _require(actor, "change")
    return _definition_update(actor, definition, data)


def _definition_update(actor, definition: FieldDefinition, data: dict) -> FieldDefinition:
    definition = FieldDefinition.objects.select_for_update().get(pk=definition.pk)
    before = _snapshot(definition)
    if "key" in data and data["key"] != definition.key:
        # Values are stored under the key: renaming it would orphan every card's value.
        raise ValidationError({"key": _("A field's key cannot be changed once created.")})
    for name, value in data.items():
        setattr(definition, name, value)
    definition.full_clean()
    definition.save()
    record_change(
        actor=actor,
        action="update",
        instance=definition,
        before=before,
        after=_snapshot(definition),
    )
    return definition


@transaction.atomic
def field_definition_delete(*, actor, definition: FieldDefinition) -> None:
    """Fields are retired, not erased, so values already on cards stay readable in history."""
    _require(actor, "delete")
    _definition_update(actor, definition, {"is_active": False})


def preset_definitions(name: str) -> list[dict]:
    if name not in PRESETS:
        raise ValidationError(
            _("Unknown preset “%(name)s”. Choose one of: %(choices)s.")
            % {"name": name, "choices": ", ".join(PRESETS)}
        )
    return json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))


@transaction.atomic
def field_preset_load(*, actor, name: str, system: bool = False) -> tuple[int, int]:
    """Add a preset's fields, updating those whose key already exists. Returns (added, updated).

    ``system=True`` is for the installation itself (``tokui load_field_preset``, demo data):
    there is no user to check, and the audit rows name "system" unless an actor is given.
    """
    if not system:
        _require(actor, "add")
        _require(actor, "change")
    added = updated = 0
    existing = {d.key: d for d in FieldDefinition.objects.select_for_update()}
    for data in preset_definitions(name):
        definition = existing.get(data["key"])
        if definition is None:
            _definition_create(actor, data)
            added += 1
        else:
            _definition_update(actor, definition, {**data, "is_active": True})
            updated += 1
    return added, updated


# --- who sees what (GOV-1, CARD-3) ----------------------------------------------------


@transaction.atomic
def category_rules_set(*, actor, rules: dict[tuple[str, str], tuple[bool, bool]]) -> int:
    """Store whether each (category, role) may see and edit; returns how many changed.

    ``rules`` maps (category, role) to (may see, may edit) and may cover only part of the
    grid: what it leaves out keeps its rule. A pair whose rule changes gets its row (made
    on first change, so the defaults stay the defaults until someone decides otherwise)
    and an audit row. Editing without seeing is refused for the whole set: nothing is saved.
    """
    _require(actor, "change")
    errors = []
    for (category, role), (can_view, can_edit) in rules.items():
        if category not in Category.values or role not in Role.values:
            errors.append(
                _("Unknown category or role: %(category)s / %(role)s.")
                % {"category": category, "role": role}
            )
        elif can_edit and not can_view:
            errors.append(
                _("%(role)s may not edit %(category)s fields without seeing them.")
                % {"role": Role(role).label, "category": Category(category).label}
            )
    if errors:
        raise ValidationError(errors)
    existing = {
        (rule.category, rule.role): rule for rule in CategoryRule.objects.select_for_update()
    }
    changed = 0
    for (category, role), (can_view, can_edit) in rules.items():
        rule = existing.get((category, role))
        if rule is None:
            view, edit = DEFAULT_RULES.get(role, (frozenset(), frozenset()))
            before = {"can_view": category in view, "can_edit": category in edit}
            rule = CategoryRule(category=category, role=role)
        else:
            before = {"can_view": rule.can_view, "can_edit": rule.can_edit}
        after = {"can_view": bool(can_view), "can_edit": bool(can_edit)}
        if after == before:
            continue
        rule.can_view, rule.can_edit = after["can_view"], after["can_edit"]
        rule.full_clean()
        is_new = rule.pk is None
        rule.save()
        record_change(
            actor=actor,
            action="create" if is_new else "update",
            instance=rule,
            # A new row starts from the default it replaces, so the log says what changed.
            before=before,
            after=after,
        )
        changed += 1
    forget_card_access(actor)
    return changed
