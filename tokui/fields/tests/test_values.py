"""Card field values are validated on every write: forms send strings, the API sends JSON."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tokui.core.testing.factories import FieldDefinitionFactory
from tokui.fields.choices import FieldType, Maintenance
from tokui.fields.services import clean_field_values


@pytest.fixture
def definitions(db):
    """One field of every type, none required."""
    return [
        FieldDefinitionFactory(key="trade_name", field_type=FieldType.TEXT, max_length=20),
        FieldDefinitionFactory(key="business_traits", field_type=FieldType.LONG_TEXT),
        FieldDefinitionFactory(
            key="order_frequency",
            field_type=FieldType.INTEGER,
            min_value=Decimal(0),
            max_value=Decimal(100),
        ),
        FieldDefinitionFactory(key="registered_capital", field_type=FieldType.DECIMAL),
        FieldDefinitionFactory(key="issue_date", field_type=FieldType.DATE),
        FieldDefinitionFactory(key="monitor_flag", field_type=FieldType.BOOLEAN),
        FieldDefinitionFactory(
            key="outlet_size", field_type=FieldType.CHOICE, choices=["large", "medium", "small"]
        ),
        FieldDefinitionFactory(
            key="clothing_sizes", field_type=FieldType.MULTI_CHOICE, choices=["s", "m", "l"]
        ),
        FieldDefinitionFactory(key="mobile_phone", field_type=FieldType.PHONE),
        FieldDefinitionFactory(key="contact_email", field_type=FieldType.EMAIL),
        FieldDefinitionFactory(key="website", field_type=FieldType.URL),
        FieldDefinitionFactory(
            key="licence_number", field_type=FieldType.TEXT, pattern=r"^[0-9]{3}-[0-9]{4}$"
        ),
        FieldDefinitionFactory(
            key="purchase_amount_12m",
            field_type=FieldType.DECIMAL,
            maintenance=Maintenance.DERIVED,
        ),
    ]


FORM_INPUT = {
    "trade_name": "山田商店",
    "business_traits": "朝が早い。\n월요일 휴무.",
    "order_frequency": "4",
    "registered_capital": "3000000.50",
    "issue_date": "2026-04-01",
    "monitor_flag": "true",
    "outlet_size": "medium",
    "clothing_sizes": ["s", "l"],
    "mobile_phone": "090-1234-5678",
    "contact_email": "yamada@example.jp",
    "website": "https://example.jp/shop",
    "licence_number": "123-4567",
}

STORED = {
    "trade_name": "山田商店",
    "business_traits": "朝が早い。\n월요일 휴무.",
    "order_frequency": 4,
    "registered_capital": "3000000.50",
    "issue_date": "2026-04-01",
    "monitor_flag": True,
    "outlet_size": "medium",
    "clothing_sizes": ["s", "l"],
    "mobile_phone": "090-1234-5678",
    "contact_email": "yamada@example.jp",
    "website": "https://example.jp/shop",
    "licence_number": "123-4567",
}


def test_good_form_values_of_every_type_are_stored_as_json_values(definitions):
    result = clean_field_values(FORM_INPUT, definitions=definitions)
    assert result == STORED
    assert json.loads(json.dumps(result)) == STORED


def test_json_values_from_the_api_are_accepted_as_well(definitions):
    api_input = {
        **FORM_INPUT,
        "order_frequency": 4,
        "registered_capital": 3000000.5,
        "monitor_flag": False,
    }
    result = clean_field_values(api_input, definitions=definitions)
    assert result["order_frequency"] == 4
    assert result["registered_capital"] == "3000000.5"
    assert result["monitor_flag"] is False


def test_whole_decimals_are_stored_without_trailing_zeros(definitions):
    result = clean_field_values(
        {"registered_capital": "5000000.00"}, definitions=definitions, partial=True
    )
    assert result == {"registered_capital": "5000000"}


def test_empty_values_remove_the_value_and_unknown_clears_a_yes_no(definitions):
    current = {"trade_name": "Old", "monitor_flag": True, "clothing_sizes": ["m"]}
    result = clean_field_values(
        {"trade_name": "", "monitor_flag": "unknown", "clothing_sizes": []},
        definitions=definitions,
        current=current,
        partial=True,
    )
    assert result == {}


def test_partial_update_changes_only_the_given_keys(definitions):
    current = {"trade_name": "Old", "order_frequency": 2}
    result = clean_field_values(
        {"order_frequency": "3"}, definitions=definitions, current=current, partial=True
    )
    assert result == {"trade_name": "Old", "order_frequency": 3}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("trade_name", "x" * 21),
        ("trade_name", ["a", "b"]),
        ("order_frequency", "abc"),
        ("order_frequency", "1.5"),
        ("order_frequency", 1.5),
        ("order_frequency", "-1"),
        ("order_frequency", "101"),
        ("registered_capital", "abc"),
        ("registered_capital", "NaN"),
        ("issue_date", "2026-13-40"),
        ("issue_date", "yesterday"),
        ("monitor_flag", "maybe"),
        ("monitor_flag", "yes please"),
        ("outlet_size", "huge"),
        ("outlet_size", ["large"]),
        ("clothing_sizes", ["s", "xxxl"]),
        ("clothing_sizes", "s"),
        ("mobile_phone", "call me"),
        ("contact_email", "yamada@"),
        ("website", "not a url"),
        ("licence_number", "1234567"),
    ],
)
def test_wrong_values_are_refused_keyed_by_field(definitions, key, value):
    current = {"trade_name": "Kept"}
    with pytest.raises(ValidationError) as excinfo:
        clean_field_values({key: value}, definitions=definitions, current=current, partial=True)
    assert list(excinfo.value.message_dict) == [key]
    assert current == {"trade_name": "Kept"}


def test_every_wrong_value_is_reported_at_once(definitions):
    with pytest.raises(ValidationError) as excinfo:
        clean_field_values(
            {"order_frequency": "abc", "issue_date": "2026-13-40", "website": "nope"},
            definitions=definitions,
            partial=True,
        )
    assert sorted(excinfo.value.message_dict) == ["issue_date", "order_frequency", "website"]
    assert excinfo.value.message_dict["order_frequency"] == ["Enter a whole number."]
    assert excinfo.value.message_dict["issue_date"] == ["Enter a valid date."]


def test_missing_required_value_is_refused(definitions):
    required = FieldDefinitionFactory(key="licence_type", field_type=FieldType.TEXT, required=True)
    with pytest.raises(ValidationError) as excinfo:
        clean_field_values({"trade_name": "山田商店"}, definitions=[*definitions, required])
    assert excinfo.value.message_dict == {"licence_type": ["This field is required."]}


def test_partial_update_does_not_demand_required_fields_it_does_not_touch(definitions):
    required = FieldDefinitionFactory(key="licence_type", field_type=FieldType.TEXT, required=True)
    result = clean_field_values(
        {"trade_name": "山田商店"}, definitions=[*definitions, required], partial=True
    )
    assert result == {"trade_name": "山田商店"}


def test_unknown_key_is_refused(definitions):
    with pytest.raises(ValidationError) as excinfo:
        clean_field_values({"favourite_colour": "red"}, definitions=definitions, partial=True)
    assert excinfo.value.message_dict == {
        "favourite_colour": ["There is no card field with the key “favourite_colour”."]
    }


def test_retired_field_is_refused_like_an_unknown_one(definitions):
    retired = FieldDefinitionFactory(key="old_code", is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        clean_field_values({"old_code": "X"}, definitions=[*definitions, retired], partial=True)
    assert list(excinfo.value.message_dict) == ["old_code"]


def test_derived_field_cannot_be_typed_in(definitions):
    current = {"purchase_amount_12m": "120000"}
    with pytest.raises(ValidationError) as excinfo:
        clean_field_values(
            {"purchase_amount_12m": "999999"},
            definitions=definitions,
            current=current,
            partial=True,
        )
    assert excinfo.value.message_dict == {
        "purchase_amount_12m": ["This field is computed by the system and cannot be typed in."]
    }


def test_derived_value_sent_back_unchanged_is_kept(definitions):
    """A form or API client that echoes the card back must not trip over derived values."""
    current = {"purchase_amount_12m": "120000"}
    result = clean_field_values(
        {"purchase_amount_12m": "120000", "trade_name": "山田商店"},
        definitions=definitions,
        current=current,
        partial=True,
    )
    assert result == {"purchase_amount_12m": "120000", "trade_name": "山田商店"}
