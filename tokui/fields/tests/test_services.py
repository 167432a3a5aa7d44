"""Defining card fields: what an administrator may set, and what is refused with a reason."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tokui.audit.models import ObjectChange
from tokui.fields import services
from tokui.fields.models import FieldDefinition
from tokui.users.choices import Role


@pytest.fixture
def admin(users):
    return users[Role.ADMINISTRATOR]


def create(actor, **data):
    base = {"key": "note", "label": "Note", "field_type": "text", "category": "basic"}
    return services.field_definition_create(actor=actor, **{**base, **data})


def test_administrator_creates_a_field_with_an_audit_row(admin):
    definition = create(
        admin,
        key="payment_method",
        label="Payment method",
        label_ja="支払方法",
        field_type="choice",
        choices=["cash", "bank_transfer"],
    )
    assert FieldDefinition.objects.get(key="payment_method") == definition
    row = ObjectChange.objects.get(object_type="fields.fielddefinition")
    assert row.action == "create"
    assert row.actor == admin
    assert row.changes["choices"] == {"old": None, "new": ["cash", "bank_transfer"]}
    assert row.changes["label_ja"] == {"old": None, "new": "支払方法"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"field_type": "choice", "choices": []}, "choices", "List at least one choice."),
        ({"field_type": "multi_choice", "choices": ["a", ""]}, "choices", "List at least one"),
        (
            {"field_type": "choice", "choices": ["a", "b", "a"]},
            "choices",
            "Each choice may appear only once: a.",
        ),
        ({"field_type": "choice", "choices": ["x" * 101]}, "choices", "at most 100 characters"),
        ({"field_type": "text", "choices": ["a"]}, "choices", "Only choice fields have choices."),
        ({"pattern": "[a-z"}, "pattern", "Not a valid regular expression"),
        ({"field_type": "date", "pattern": "^2"}, "pattern", "Only text and phone fields"),
        (
            {"field_type": "integer", "min_value": 10, "max_value": 5},
            "max_value",
            "The maximum must not be below the minimum.",
        ),
        (
            {"field_type": "integer", "min_value": Decimal("0.5")},
            "min_value",
            "must be whole numbers",
        ),
        ({"field_type": "text", "min_value": 1}, "min_value", "Only integer and decimal"),
        ({"field_type": "integer", "max_length": 5}, "max_length", "Only text fields"),
        ({"field_type": "text", "max_length": 501}, "max_length", "between 1 and 500"),
        ({"field_type": "long_text", "max_length": 0}, "max_length", "between 1 and 10000"),
        (
            {"field_type": "choice", "choices": ["a"], "choice_labels": {"b": {"en": "B"}}},
            "choice_labels",
            "Labels for choices the field does not have: b.",
        ),
        (
            {"field_type": "text", "choice_labels": {"a": {"en": "A"}}},
            "choice_labels",
            "Labels for choices the field does not have: a.",
        ),
        (
            {"field_type": "choice", "choices": ["a"], "choice_labels": {"a": {"fr": "A"}}},
            "choice_labels",
            "Labels are in en, ja, ko only.",
        ),
        (
            {"field_type": "choice", "choices": ["a"], "choice_labels": {"a": "A"}},
            "choice_labels",
            "Give the labels as",
        ),
        ({"key": "Bad Key"}, "key", "Use lower-case letters"),
        ({"field_type": "colour"}, "field_type", "is not a valid choice"),
    ],
)
def test_invalid_definition_is_refused_and_nothing_is_saved(admin, data, field, message):
    with pytest.raises(ValidationError) as excinfo:
        create(admin, **data)
    assert field in excinfo.value.message_dict
    assert any(message in m for m in excinfo.value.message_dict[field])
    assert not FieldDefinition.objects.exists()
    assert not ObjectChange.objects.exists()


def test_limits_that_fit_the_type_are_accepted(admin):
    definition = create(
        admin, key="visits", field_type="integer", min_value=0, max_value=Decimal("31")
    )
    assert (definition.min_value, definition.max_value) == (0, 31)
    text = create(admin, key="licence", max_length=40, pattern=r"^[0-9-]+$")
    assert (text.max_length, text.pattern) == (40, r"^[0-9-]+$")


def test_key_cannot_be_changed_once_created(admin):
    definition = create(admin, key="licence_number")
    with pytest.raises(ValidationError) as excinfo:
        services.field_definition_update(actor=admin, definition=definition, key="licence_no")
    assert "key" in excinfo.value.message_dict
    definition.refresh_from_db()
    assert definition.key == "licence_number"
    assert ObjectChange.objects.filter(action="update").count() == 0


def test_update_records_old_and_new_values(admin):
    definition = create(admin, label="Note")
    services.field_definition_update(actor=admin, definition=definition, label="Remarks")
    row = ObjectChange.objects.get(action="update")
    assert row.changes == {"label": {"old": "Note", "new": "Remarks"}}


def test_update_that_changes_nothing_writes_no_audit_row(admin):
    definition = create(admin, label="Note")
    services.field_definition_update(actor=admin, definition=definition, label="Note")
    assert ObjectChange.objects.filter(action="update").count() == 0


def test_retire_keeps_the_field_but_makes_it_inactive(admin):
    definition = create(admin)
    services.field_definition_delete(actor=admin, definition=definition)
    definition.refresh_from_db()
    assert definition.is_active is False
    row = ObjectChange.objects.get(action="update")
    assert row.changes == {"is_active": {"old": True, "new": False}}


@pytest.mark.parametrize(
    "role", [Role.MANAGER, Role.AUDITOR, Role.ACCOUNT_MANAGER, Role.ANALYST, Role.SERVICE_AGENT]
)
def test_only_administrators_change_fields(users, admin, role):
    definition = create(admin, label="Note")
    actor = users[role]
    with pytest.raises(PermissionDenied):
        create(actor, key="other")
    with pytest.raises(PermissionDenied):
        services.field_definition_update(actor=actor, definition=definition, label="Changed")
    with pytest.raises(PermissionDenied):
        services.field_definition_delete(actor=actor, definition=definition)
    with pytest.raises(PermissionDenied):
        services.field_preset_load(actor=actor, name="retail_store")
    definition.refresh_from_db()
    assert (definition.label, definition.is_active) == ("Note", True)
    assert list(FieldDefinition.objects.values_list("key", flat=True)) == ["note"]


def test_nobody_changes_fields_without_a_user_unless_acting_as_the_system(db):
    with pytest.raises(PermissionDenied):
        services.field_preset_load(actor=None, name="retail_store")
    assert not FieldDefinition.objects.exists()
