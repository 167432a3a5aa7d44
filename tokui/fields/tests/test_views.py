"""The card-field pages: who may see them, who may change fields, and how errors show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import FieldDefinitionFactory
from tokui.fields import services
from tokui.fields.choices import Category, FieldType
from tokui.fields.models import FieldDefinition
from tokui.users.choices import Role

READERS = (Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR)
NON_READERS = (Role.ACCOUNT_MANAGER, Role.ANALYST, Role.SERVICE_AGENT)
NON_ADMINS = (Role.MANAGER, Role.AUDITOR, *NON_READERS)


@pytest.fixture
def admin(users):
    return users[Role.ADMINISTRATOR]


@pytest.fixture
def outlet_size(db):
    return FieldDefinitionFactory(
        key="outlet_size",
        label="Outlet size",
        label_ja="店舗規模",
        label_ko="매장 규모",
        field_type=FieldType.CHOICE,
        category=Category.NETWORK,
        choices=["large", "medium", "small"],
    )


def form_data(**overrides):
    data = {
        "key": "payment_method",
        "label": "Payment method",
        "label_ja": "支払方法",
        "label_ko": "결제 방법",
        "field_type": "choice",
        "category": "basic",
        "maintenance": "dynamic",
        "choices": "cash\r\nbank_transfer\r\n\r\n  direct_debit  \r\n",
        "min_value": "",
        "max_value": "",
        "max_length": "",
        "pattern": "",
        "help_text": "How the customer usually pays.",
        "order": "40",
    }
    data.update(overrides)
    return data


def login_redirect(url):
    return f"{reverse('login')}?next={url}"


# --- permission matrix -------------------------------------------------------------------


READ_URLS = [reverse("fields:list"), reverse("fields:presets")]


@pytest.mark.parametrize("url", READ_URLS)
def test_anonymous_is_sent_to_log_in_for_reading(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == login_redirect(url)


@pytest.mark.parametrize("url", READ_URLS)
@pytest.mark.parametrize("role", READERS)
def test_administrator_manager_and_auditor_read_the_fields(client, users, outlet_size, role, url):
    client.force_login(users[role])
    response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("url", READ_URLS)
@pytest.mark.parametrize("role", NON_READERS)
def test_roles_without_field_permission_are_refused_reading(client, users, role, url):
    client.force_login(users[role])
    assert client.get(url).status_code == 403


def write_requests(key):
    """Every request that changes card fields: (method, url, data)."""
    return [
        ("get", reverse("fields:create"), None),
        ("post", reverse("fields:create"), form_data(key="other")),
        ("get", reverse("fields:edit", args=[key]), None),
        ("post", reverse("fields:edit", args=[key]), form_data(key=key, label="Changed")),
        ("post", reverse("fields:retire", args=[key]), {}),
        ("post", reverse("fields:presets"), {"name": "retail_store"}),
    ]


def test_anonymous_is_sent_to_log_in_for_every_write_and_nothing_changes(client, outlet_size):
    for method, url, data in write_requests("outlet_size"):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"] == login_redirect(url), url
    assert_unchanged(outlet_size)


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_administrators_are_refused_every_write_and_nothing_changes(
    client, users, outlet_size, role
):
    client.force_login(users[role])
    for method, url, data in write_requests("outlet_size"):
        assert getattr(client, method)(url, data).status_code == 403, (method, url)
    assert_unchanged(outlet_size)


def assert_unchanged(outlet_size):
    assert list(FieldDefinition.objects.values_list("key", "label", "is_active")) == [
        ("outlet_size", "Outlet size", True)
    ]
    assert not ObjectChange.objects.exists()


def test_retire_only_answers_post(client, admin, outlet_size):
    client.force_login(admin)
    assert client.get(reverse("fields:retire", args=["outlet_size"])).status_code == 405
    outlet_size.refresh_from_db()
    assert outlet_size.is_active is True


@pytest.mark.parametrize("name", ["fields:edit", "fields:retire"])
def test_unknown_key_is_not_found(client, admin, name):
    client.force_login(admin)
    url = reverse(name, args=["no_such_field"])
    response = client.post(url, form_data(key="no_such_field"))
    assert response.status_code == 404
    assert not FieldDefinition.objects.exists()


# --- list --------------------------------------------------------------------------------


def test_list_groups_fields_by_category_in_card_order_with_all_labels(client, admin, outlet_size):
    FieldDefinitionFactory(key="trade_name", label="Trade name", category=Category.BASIC)
    FieldDefinitionFactory(key="contact_person", label="Contact", category=Category.PERSONAL)
    client.force_login(admin)
    response = client.get(reverse("fields:list"))
    groups = response.context["groups"]
    assert [g["category"] for g in groups] == ["basic", "network", "personal"]
    assert [row.key for row in groups[1]["table"].data] == ["outlet_size"]
    html = response.content.decode()
    assert "店舗規模" in html
    assert "매장 규모" in html
    assert html.index('id="category-basic"') < html.index('id="category-network"')
    assert reverse("fields:edit", args=["outlet_size"]) in html
    assert reverse("fields:retire", args=["outlet_size"]) in html


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AUDITOR])
def test_readers_see_no_edit_buttons(client, users, outlet_size, role):
    client.force_login(users[role])
    html = client.get(reverse("fields:list")).content.decode()
    assert "outlet_size" in html
    assert reverse("fields:edit", args=["outlet_size"]) not in html
    assert reverse("fields:retire", args=["outlet_size"]) not in html
    assert reverse("fields:create") not in html


def test_list_query_count_does_not_grow_with_fields(client, admin):
    client.force_login(admin)
    for n in range(3):
        FieldDefinitionFactory(key=f"few_{n}")
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("fields:list")).status_code == 200
    for n in range(30):
        FieldDefinitionFactory(key=f"many_{n}", category=Category.values[n % 5])
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("fields:list")).status_code == 200
    assert len(many) == len(few)


# --- create ------------------------------------------------------------------------------


def test_administrator_creates_a_choice_field_with_one_choice_per_line(client, admin):
    client.force_login(admin)
    response = client.post(reverse("fields:create"), form_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("fields:list")
    definition = FieldDefinition.objects.get(key="payment_method")
    assert definition.choices == ["cash", "bank_transfer", "direct_debit"]
    assert (definition.label_ja, definition.label_ko) == ("支払方法", "결제 방법")
    assert definition.order == 40
    row = ObjectChange.objects.get(object_type="fields.fielddefinition")
    assert (row.action, row.actor) == ("create", admin)
    followed = client.get(response["Location"])
    assert "Card field “Payment method” added." in followed.content.decode()


def test_administrator_creates_an_integer_field_with_limits(client, admin):
    client.force_login(admin)
    data = form_data(
        key="order_frequency",
        label="Order frequency",
        field_type="integer",
        choices="",
        min_value="0",
        max_value="31",
    )
    assert client.post(reverse("fields:create"), data).status_code == 302
    definition = FieldDefinition.objects.get(key="order_frequency")
    assert (definition.min_value, definition.max_value, definition.choices) == (0, 31, [])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"choices": "\r\n  \r\n"}, "choices", "List at least one choice."),
        ({"choices": "cash\r\ncash"}, "choices", "Each choice may appear only once: cash."),
        ({"field_type": "text"}, "choices", "Only choice fields have choices."),
        ({"field_type": "text", "choices": "", "pattern": "(["}, "pattern", "Not a valid"),
        (
            {"field_type": "decimal", "choices": "", "min_value": "10", "max_value": "1"},
            "max_value",
            "The maximum must not be below the minimum.",
        ),
        ({"key": "Payment Method"}, "key", "Use lower-case letters"),
        ({"label": ""}, "label", "This field is required."),
        ({"label": "<script>alert(1)</script>"}, "label", "cannot contain the characters"),
        ({"field_type": "planet"}, "field_type", "Select a valid choice."),
    ],
)
def test_create_errors_show_next_to_the_input_and_nothing_is_saved(
    client, admin, overrides, field, message
):
    client.force_login(admin)
    response = client.post(reverse("fields:create"), form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert any(message in e for e in errors[field])
    html = response.content.decode()
    assert "invalid-feedback" in html
    assert "<script>alert(1)</script>" not in html
    assert not FieldDefinition.objects.exists()
    assert not ObjectChange.objects.exists()


def test_choices_carry_their_labels_per_language_after_a_bar(client, admin):
    client.force_login(admin)
    choices = (
        "cash | Cash | 現金 | 현금\nbank_transfer | Bank transfer\ndirect_debit |  | 口座振替\n"
    )

    response = client.post(reverse("fields:create"), form_data(choices=choices))

    assert response.status_code == 302
    definition = FieldDefinition.objects.get(key="payment_method")
    assert definition.choices == ["cash", "bank_transfer", "direct_debit"]
    assert definition.choice_labels == {
        "cash": {"en": "Cash", "ja": "現金", "ko": "현금"},
        "bank_transfer": {"en": "Bank transfer"},
        "direct_debit": {"ja": "口座振替"},
    }
    edit = client.get(reverse("fields:edit", args=["payment_method"])).context["form"]
    assert edit.initial["choices"] == (
        "cash | Cash | 現金 | 현금\nbank_transfer | Bank transfer\ndirect_debit |  | 口座振替"
    )


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ("cash | Cash | 現金 | 현금 | Bargeld", "at most three labels"),
        (" | Cash", "the choice comes first"),
        ("cash | <b>Cash</b>", "cannot contain the characters"),
    ],
)
def test_bad_choice_labels_are_refused_naming_the_problem(client, admin, choices, message):
    client.force_login(admin)

    response = client.post(reverse("fields:create"), form_data(choices=choices))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["choices"])
    assert not FieldDefinition.objects.exists()


def test_create_keeps_the_typed_choices_on_error(client, admin):
    client.force_login(admin)
    response = client.post(reverse("fields:create"), form_data(label=""))
    assert response.status_code == 200
    assert "cash\nbank_transfer" in response.content.decode().replace("\r\n", "\n")


def test_key_already_taken_is_refused(client, admin, outlet_size):
    client.force_login(admin)
    response = client.post(reverse("fields:create"), form_data(key="outlet_size"))
    assert response.status_code == 200
    assert "key" in response.context["form"].errors
    outlet_size.refresh_from_db()
    assert outlet_size.label == "Outlet size"
    assert FieldDefinition.objects.count() == 1


# --- edit --------------------------------------------------------------------------------


def test_edit_form_shows_choices_one_per_line_and_a_fixed_key(client, admin, outlet_size):
    client.force_login(admin)
    response = client.get(reverse("fields:edit", args=["outlet_size"]))
    form = response.context["form"]
    assert form.fields["key"].disabled is True
    assert form.initial["choices"] == "large\nmedium\nsmall"
    assert 'name="key" value="outlet_size"' in response.content.decode()


def test_administrator_edits_a_field_but_cannot_change_its_key(client, admin, outlet_size):
    client.force_login(admin)
    data = form_data(
        key="shop_size",
        label="Shop size",
        label_ja="店舗規模",
        label_ko="매장 규모",
        category="network",
        choices="large\nmedium\nsmall\ntiny",
    )
    response = client.post(reverse("fields:edit", args=["outlet_size"]), data)
    assert response.status_code == 302
    outlet_size.refresh_from_db()
    assert outlet_size.key == "outlet_size"
    assert outlet_size.label == "Shop size"
    assert outlet_size.choices == ["large", "medium", "small", "tiny"]
    assert not FieldDefinition.objects.filter(key="shop_size").exists()
    row = ObjectChange.objects.get(action="update")
    assert row.changes["choices"] == {
        "old": ["large", "medium", "small"],
        "new": ["large", "medium", "small", "tiny"],
    }
    assert "key" not in row.changes


def test_edit_can_bring_a_retired_field_back(client, admin, outlet_size):
    services.field_definition_delete(actor=admin, definition=outlet_size)
    client.force_login(admin)
    data = form_data(
        key="outlet_size",
        label="Outlet size",
        category="network",
        choices="large\nmedium\nsmall",
        is_active="on",
    )
    assert client.post(reverse("fields:edit", args=["outlet_size"]), data).status_code == 302
    outlet_size.refresh_from_db()
    assert outlet_size.is_active is True


def test_edit_errors_show_inline_and_nothing_changes(client, admin, outlet_size):
    client.force_login(admin)
    data = form_data(key="outlet_size", label="Shop size", choices="")
    response = client.post(reverse("fields:edit", args=["outlet_size"]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["choices"] == ["List at least one choice."]
    outlet_size.refresh_from_db()
    assert (outlet_size.label, outlet_size.choices) == ("Outlet size", ["large", "medium", "small"])
    assert not ObjectChange.objects.exists()


# --- retire ------------------------------------------------------------------------------


def test_administrator_retires_a_field(client, admin, outlet_size):
    client.force_login(admin)
    response = client.post(reverse("fields:retire", args=["outlet_size"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("fields:list")
    outlet_size.refresh_from_db()
    assert outlet_size.is_active is False
    row = ObjectChange.objects.get()
    assert (row.actor, row.changes) == (admin, {"is_active": {"old": True, "new": False}})


# --- presets -----------------------------------------------------------------------------


def test_preset_page_lists_both_presets_with_their_fields(client, admin, outlet_size):
    client.force_login(admin)
    response = client.get(reverse("fields:presets"))
    presets = {p["name"]: p for p in response.context["presets"]}
    assert sorted(presets) == ["retail_store", "wholesale_distributor"]
    assert len(presets["wholesale_distributor"]["fields"]) == 38
    assert len(presets["retail_store"]["fields"]) == 20
    wholesale = {f["key"]: f for f in presets["wholesale_distributor"]["fields"]}
    assert wholesale["outlet_size"]["exists"] is True
    assert wholesale["licence_number"]["exists"] is False
    html = response.content.decode()
    assert html.count('name="name" value="') == 2
    assert "許可番号" in html
    assert "허가 번호" in html


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AUDITOR])
def test_readers_see_presets_without_a_load_button(client, users, role):
    client.force_login(users[role])
    html = client.get(reverse("fields:presets")).content.decode()
    assert "Wholesale distributor" in html
    assert 'name="name" value="' not in html


def test_administrator_loads_a_preset_from_the_page(client, admin):
    client.force_login(admin)
    response = client.post(reverse("fields:presets"), {"name": "wholesale_distributor"})
    assert response.status_code == 302
    assert response["Location"] == reverse("fields:list")
    assert FieldDefinition.objects.count() == 38
    followed = client.get(response["Location"]).content.decode()
    assert "Preset “Wholesale distributor” loaded: 38 fields added, 0 updated." in followed

    client.post(reverse("fields:presets"), {"name": "wholesale_distributor"})
    assert FieldDefinition.objects.count() == 38


def test_unknown_preset_name_loads_nothing(client, admin):
    client.force_login(admin)
    response = client.post(reverse("fields:presets"), {"name": "bakery"})
    assert response.status_code == 302
    assert response["Location"] == reverse("fields:presets")
    assert not FieldDefinition.objects.exists()
    followed = client.get(response["Location"]).content.decode()
    assert "Choose one of the presets listed." in followed
