"""The two presets an administrator can load, and the command that loads them."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tokui.audit.models import ObjectChange
from tokui.fields import services
from tokui.fields.choices import Category, FieldType, Maintenance
from tokui.fields.models import FieldDefinition
from tokui.users.choices import Role

KANA_OR_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
EXPECTED_COUNTS = {"retail_store": 20, "wholesale_distributor": 38}


@pytest.fixture
def admin(users):
    return users[Role.ADMINISTRATOR]


@pytest.mark.parametrize("name", services.PRESETS)
def test_preset_loads_every_field_once_with_an_audit_row_each(admin, name):
    added, updated = services.field_preset_load(actor=admin, name=name)
    assert (added, updated) == (EXPECTED_COUNTS[name], 0)
    assert FieldDefinition.objects.count() == EXPECTED_COUNTS[name]
    rows = ObjectChange.objects.filter(object_type="fields.fielddefinition", action="create")
    assert rows.count() == EXPECTED_COUNTS[name]
    assert set(rows.values_list("actor_name", flat=True)) == {"admin"}


@pytest.mark.parametrize("name", services.PRESETS)
def test_loading_a_preset_again_updates_instead_of_duplicating(admin, name):
    services.field_preset_load(actor=admin, name=name)
    first = dict(FieldDefinition.objects.values_list("key", "pk"))
    audit_rows = ObjectChange.objects.count()

    added, updated = services.field_preset_load(actor=admin, name=name)

    assert (added, updated) == (0, EXPECTED_COUNTS[name])
    assert dict(FieldDefinition.objects.values_list("key", "pk")) == first
    # Nothing differed, so the second load changed nothing worth recording.
    assert ObjectChange.objects.count() == audit_rows


def test_reloading_restores_a_retired_or_edited_preset_field(admin):
    services.field_preset_load(actor=admin, name="wholesale_distributor")
    outlet = FieldDefinition.objects.get(key="outlet_size")
    services.field_definition_update(actor=admin, definition=outlet, label="Shop size")
    services.field_definition_delete(actor=admin, definition=outlet)

    services.field_preset_load(actor=admin, name="wholesale_distributor")

    outlet.refresh_from_db()
    assert (outlet.label, outlet.is_active) == ("Outlet size", True)


def test_fields_added_by_hand_survive_a_preset_load(admin):
    services.field_definition_create(
        actor=admin, key="parking", label="Parking", field_type="boolean", category="business"
    )
    services.field_preset_load(actor=admin, name="retail_store")
    assert FieldDefinition.objects.filter(key="parking", is_active=True).exists()


def test_both_presets_can_be_loaded_one_after_the_other(admin):
    services.field_preset_load(actor=admin, name="wholesale_distributor")
    added, updated = services.field_preset_load(actor=admin, name="retail_store")
    shared = {"customer_class", "annual_review_date", "purchase_amount_12m"}
    assert (added, updated) == (20 - len(shared), len(shared))
    assert FieldDefinition.objects.count() == 38 + 20 - len(shared)


def test_fields_the_presets_share_are_defined_identically():
    retail = {d["key"]: d for d in services.preset_definitions("retail_store")}
    wholesale = {d["key"]: d for d in services.preset_definitions("wholesale_distributor")}
    shared = set(retail) & set(wholesale)
    assert shared == {"customer_class", "annual_review_date", "purchase_amount_12m"}
    for key in shared:
        assert retail[key] == wholesale[key], key


@pytest.mark.parametrize("name", services.PRESETS)
def test_every_preset_field_has_real_japanese_and_korean_labels(name):
    for data in services.preset_definitions(name):
        assert KANA_OR_KANJI.search(data["label_ja"]), data["key"]
        assert HANGUL.search(data["label_ko"]), data["key"]
        assert not HANGUL.search(data["label_ja"]), data["key"]
        assert data["label"].isascii(), data["key"]


@pytest.mark.parametrize("name", services.PRESETS)
def test_preset_entries_use_known_attributes_and_codes(name):
    allowed = {
        "key", "label", "label_ja", "label_ko", "field_type", "category", "maintenance",
        "required", "choices", "choice_labels", "help_text", "order", "min_value",
        "max_value", "max_length",
        "pattern", "controlled", "view_roles", "edit_roles",
    }  # fmt: skip
    for data in services.preset_definitions(name):
        assert set(data) <= allowed, data["key"]
        assert data["field_type"] in FieldType.values
        assert data["category"] in Category.values
        assert data["maintenance"] in Maintenance.values
        for choice in data["choices"]:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", choice), (data["key"], choice)


@pytest.mark.parametrize("name", services.PRESETS)
def test_every_preset_choice_has_a_label_in_each_language(name):
    for data in services.preset_definitions(name):
        labels = data.get("choice_labels", {})
        assert set(labels) == set(data["choices"]), data["key"]
        for choice, texts in labels.items():
            assert set(texts) == {"en", "ja", "ko"}, (data["key"], choice)
            assert texts["en"].isascii(), (data["key"], choice)
            assert not HANGUL.search(texts["ja"]), (data["key"], choice)
            assert not KANA_OR_KANJI.search(texts["ko"]), (data["key"], choice)


def test_presets_control_the_fields_that_protect_against_fraud():
    # GOV-2: licence and credit terms change only with a manager's approval, and the
    # licence number, a sensitive identifier, is not shown to the service desk.
    wholesale = {d["key"]: d for d in services.preset_definitions("wholesale_distributor")}
    controlled = {key for key, d in wholesale.items() if d.get("controlled")}
    assert controlled == {
        "licence_number",
        "licence_valid_until",
        "credit_rating",
        "payment_method",
    }
    assert "service_agent" not in wholesale["licence_number"]["view_roles"]
    retail = services.preset_definitions("retail_store")
    assert {d["key"] for d in retail if d.get("controlled")} == {"membership_number"}


def test_wholesale_preset_covers_the_card_of_card_2():
    by_category: dict[str, set[str]] = {}
    for data in services.preset_definitions("wholesale_distributor"):
        by_category.setdefault(data["category"], set()).add(data["key"])
    assert by_category["basic"] == {
        "trade_name",
        "licence_number",
        "legal_representative",
        "payment_method",
        "order_cycle",
    }
    assert len(by_category["network"]) == 11
    assert {"licence_type", "compliance", "credit_rating", "monitor_flag", "demo_flag"} <= (
        by_category["management"]
    )
    assert {"business_condition", "cooperation", "business_traits", "trade_area"} <= (
        by_category["business"]
    )
    assert by_category["personal"] == {
        "contact_person",
        "mobile_phone",
        "mailing_address",
        "representative_birthday",
    }
    derived = {
        d["key"]
        for d in services.preset_definitions("wholesale_distributor")
        if d["maintenance"] == Maintenance.DERIVED
    }
    assert derived == {
        "customer_class",
        "monthly_average_volume",
        "purchase_amount_12m",
        "average_unit_price",
    }


def test_loaded_preset_fields_validate_values(admin):
    services.field_preset_load(actor=admin, name="wholesale_distributor")
    definitions = list(FieldDefinition.objects.all())
    result = services.clean_field_values(
        {"outlet_size": "small", "order_frequency": "8", "monitor_flag": "false"},
        definitions=definitions,
        partial=True,
    )
    assert result == {"outlet_size": "small", "order_frequency": 8, "monitor_flag": False}


def test_unknown_preset_is_refused(admin):
    with pytest.raises(services.ValidationError):
        services.field_preset_load(actor=admin, name="bakery")
    assert not FieldDefinition.objects.exists()


def test_command_loads_a_preset_as_the_system(db):
    out = StringIO()
    call_command("load_field_preset", "wholesale_distributor", stdout=out)
    assert out.getvalue().strip() == "Preset wholesale_distributor: 38 fields added, 0 updated."
    assert FieldDefinition.objects.count() == 38
    assert set(ObjectChange.objects.values_list("actor_name", flat=True)) == {"system"}
    assert not ObjectChange.objects.filter(actor__isnull=False).exists()

    out = StringIO()
    call_command("load_field_preset", "wholesale_distributor", stdout=out)
    assert out.getvalue().strip() == "Preset wholesale_distributor: 0 fields added, 38 updated."


def test_command_refuses_an_unknown_preset(db):
    with pytest.raises(CommandError):
        call_command("load_field_preset", "bakery")
    assert not FieldDefinition.objects.exists()
