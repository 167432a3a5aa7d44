"""The card page, its forms and its history, as a member of staff uses them."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import (
    AddressFactory,
    CustomerFactory,
    FieldDefinitionFactory,
    PersonFactory,
)
from tokui.customers import services
from tokui.customers.models import Address, Consent, Customer, Person, Tag
from tokui.fields.choices import Category, FieldType, Maintenance
from tokui.fields.models import CategoryRule
from tokui.users.choices import Role

ADMIN = Role.ADMINISTRATOR
MANAGER = Role.MANAGER
AM = Role.ACCOUNT_MANAGER


def url(name, customer, **kwargs):
    return reverse(f"customers:{name}", kwargs={"code": customer.code, **kwargs})


def state():
    """What a refused or invalid submission must leave as it was."""
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "code", "name", "version", "owner")),
        list(Person.objects.order_by("pk").values_list("pk", "name", "version")),
        Address.objects.count(),
        Consent.objects.count(),
        Tag.objects.count(),
        ObjectChange.objects.count(),
    )


@pytest.fixture
def card_fields(db):
    """A small card configuration touching every kind of display."""
    return {
        "shop_name": FieldDefinitionFactory(
            key="shop_name", label="Shop name", category=Category.BASIC, required=True
        ),
        "staff_count": FieldDefinitionFactory(
            key="staff_count",
            label="Staff count",
            field_type=FieldType.INTEGER,
            category=Category.BASIC,
            min_value=0,
        ),
        "monitor": FieldDefinitionFactory(
            key="monitor",
            label="Monitor store",
            field_type=FieldType.BOOLEAN,
            category=Category.MANAGEMENT,
        ),
        "valid_until": FieldDefinitionFactory(
            key="valid_until",
            label="Valid until",
            field_type=FieldType.DATE,
            category=Category.MANAGEMENT,
        ),
        "traits": FieldDefinitionFactory(
            key="traits",
            label="Business traits",
            field_type=FieldType.MULTI_CHOICE,
            choices=["friendly", "price-sensitive", "loyal"],
            category=Category.BUSINESS,
        ),
        "purchase_amount": FieldDefinitionFactory(
            key="purchase_amount",
            label="Purchase amount",
            field_type=FieldType.DECIMAL,
            category=Category.NETWORK,
            maintenance=Maintenance.DERIVED,
        ),
    }


def customer_form_data(customer, **changes):
    """What the edit form posts when the user changes ``changes`` and nothing else."""
    data = {
        "kind": customer.kind,
        "name": customer.name,
        "name_reading": customer.name_reading,
        "status": customer.status,
        "owner": customer.owner.username if customer.owner_id else "",
        "area": customer.area.code if customer.area_id else "",
        "tags": ", ".join(t.name for t in customer.tags.all()),
        "phone": customer.phone,
        "email": customer.email,
        "preferred_channel": customer.preferred_channel,
        "notes": customer.notes,
        "version": customer.version,
    }
    data.update(changes)
    return data


def new_customer_data(**changes):
    data = {
        "code": "TKY-0100",
        "kind": "shop",
        "name": "鈴木酒店",
        "name_reading": "スズキサケテン",
        "status": "prospect",
        "owner": "",
        "area": "",
        "tags": "VIP、 酒屋, VIP",
        "phone": "03-2222-3333",
        "email": "",
        "preferred_channel": "",
        "notes": "",
    }
    data.update(changes)
    return data


# --- the card page --------------------------------------------------------------------


def test_card_shows_the_header_and_each_category(client, users, customer, card_fields):
    customer.field_values = {
        "shop_name": "山田本店",
        "staff_count": 1234,
        "monitor": True,
        "valid_until": "2027-03-31",
        "traits": ["friendly", "loyal"],
        "purchase_amount": "98765.5",
    }
    customer.email = "info@yamada.example"
    customer.save()
    customer.tags.add(Tag.objects.create(name="VIP"))
    client.force_login(users[AM])

    response = client.get(url("detail", customer))
    html = response.content.decode()

    assert response.status_code == 200
    for text in ("TKY-0001", "山田商店", "ヤマダショウテン", "Active", "Tokyo", "VIP"):
        assert text in html
    assert "03-1234-5678" in html and "info@yamada.example" in html
    assert [c["label"] for c in response.context["categories"]] == [
        "Basic",
        "Network",
        "Management",
        "Business",
        "Personal",
    ]
    assert "山田本店" in html
    assert "March 31, 2027" in html
    assert "friendly, loyal" in html
    assert "98765.5" in html
    monitor_row = next(
        row
        for category in response.context["categories"]
        for row in category["rows"]
        if row["definition"].key == "monitor"
    )
    assert monitor_row["value"] == "Yes"
    assert ">computed<" in html
    assert "No fields are configured in this category." in html  # Personal has none here


def test_card_dates_follow_the_users_language(client, users, customer, card_fields):
    customer.field_values = {"shop_name": "山田本店", "valid_until": "2027-03-31"}
    customer.save()
    client.force_login(users[AM])

    html = client.get(url("detail", customer), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "2027年3月31日" in html


def test_card_lists_people_addresses_and_consent(client, users, customer):
    PersonFactory(
        customer=customer,
        name="山田花子",
        name_reading="ヤマダハナコ",
        relation="spouse",
        birthday=datetime.date(1970, 5, 4),
        anniversary=datetime.date(1995, 6, 1),
        phone="090-1111-2222",
        hobbies="茶道",
        preferences="和菓子",
    )
    AddressFactory(customer=customer, is_primary=True)
    services.consent_set(
        actor=users[ADMIN],
        customer=customer,
        data={"channel": "letter", "granted": True, "recorded_on": datetime.date(2025, 1, 10)},
    )
    client.force_login(users[AM])

    html = client.get(url("detail", customer)).content.decode()

    for text in ("山田花子", "ヤマダハナコ", "Spouse", "May 4, 1970", "June 1, 1995", "茶道"):
        assert text in html
    assert "和菓子" in html and "090-1111-2222" in html
    assert "千代田区" in html and "primary" in html
    assert "Accepts" in html and "Not asked" in html


def test_card_offers_changes_only_to_those_who_may_make_them(client, users, customer):
    edit_url = url("edit", customer)

    client.force_login(users[AM])
    owner_view = client.get(url("detail", customer)).content.decode()
    client.force_login(users[Role.SERVICE_AGENT])
    agent_view = client.get(url("detail", customer)).content.decode()

    assert edit_url in owner_view
    assert url("person_create", customer) in owner_view
    assert url("delete", customer) not in owner_view  # account managers do not delete
    assert edit_url not in agent_view
    assert url("person_create", customer) not in agent_view
    assert url("consent", customer) not in agent_view
    assert "Timeline" not in agent_view  # the service desk has no access to the history


def test_timeline_shows_the_cards_latest_changes(client, users, customer):
    services.customer_update(
        actor=users[MANAGER], customer=customer, data={"phone": "03-9999-0000"}, expected_version=1
    )
    client.force_login(users[AM])

    response = client.get(url("detail", customer))
    timeline = response.context["timeline"]

    assert len(timeline) == 1
    assert timeline[0]["change"].actor_name == "manager"
    assert timeline[0]["fields"] == ["phone"]
    assert url("history", customer) in response.content.decode()


def test_markup_stored_in_a_name_is_shown_escaped(client, users, areas):
    stored = CustomerFactory(
        code="X-1", name="<b>x</b>", name_reading="<script>alert(1)</script>", area=areas["TKY"]
    )
    PersonFactory(customer=stored, name="<img src=x onerror=alert(1)>")
    client.force_login(users[ADMIN])

    html = client.get(url("detail", stored)).content.decode()

    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html


# --- creating a card ------------------------------------------------------------------


def test_account_manager_creates_a_card_of_their_own(client, users, areas, card_fields):
    client.force_login(users[AM])
    data = new_customer_data(
        field__shop_name="鈴木酒店 本店",
        field__staff_count="12",
        field__monitor="true",
        field__valid_until="2027-04-01",
        field__traits=["friendly", "loyal"],
    )

    response = client.post(reverse("customers:create"), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", kwargs={"code": "TKY-0100"})
    created = Customer.objects.get(code="TKY-0100")
    assert created.owner == users[AM]
    assert created.area == areas["TKY"]
    assert sorted(t.name for t in created.tags.all()) == ["VIP", "酒屋"]
    assert created.field_values == {
        "shop_name": "鈴木酒店 本店",
        "staff_count": 12,
        "monitor": True,
        "valid_until": "2027-04-01",
        "traits": ["friendly", "loyal"],
    }
    assert ObjectChange.objects.filter(action="create", object_id=created.pk).count() == 1


def test_a_required_field_the_user_cannot_see_is_named_when_it_stops_a_new_card(
    client, users, areas, card_fields
):
    # Account managers may not see the basic category here, where "Shop name" is required.
    CategoryRule.objects.create(category=Category.BASIC, role=AM, can_view=False, can_edit=False)
    client.force_login(users[AM])

    response = client.post(reverse("customers:create"), new_customer_data())

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Shop name: This field is required."]
    assert not Customer.objects.filter(code="TKY-0100").exists()


def test_new_card_starts_with_the_creator_and_their_area(client, users):
    client.force_login(users[AM])

    form = client.get(reverse("customers:create")).context["form"]

    assert form.initial == {"owner": "am", "area": "TKY"}
    assert [u.username for u in form.fields["owner"].queryset] == ["am"]
    assert [a.code for a in form.fields["area"].queryset] == ["TKY"]


def test_create_form_groups_card_fields_by_category(client, users, card_fields):
    client.force_login(users[ADMIN])

    response = client.get(reverse("customers:create"))
    groups = response.context["form"].card_field_groups()

    assert [g["category"] for g in groups] == ["basic", "network", "management", "business"]
    assert [f.name for f in groups[0]["fields"]] == ["field__shop_name", "field__staff_count"]
    assert 'name="field__purchase_amount"' in response.content.decode()
    assert response.context["form"].fields["field__purchase_amount"].disabled


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "長" * 10_000}, "name", "Ensure this value has at most 200 characters"),
        ({"name": "<script>alert(1)</script>"}, "name", "cannot contain the characters"),
        ({"name": ""}, "name", "This field is required."),
        ({"status": "bogus"}, "status", "Select a valid choice"),
        ({"code": "bad code!"}, "code", "Use letters, digits"),
        ({"code": "TKY-0001"}, "code", "already exists"),
        ({"phone": "call me"}, "phone", "Enter a phone number"),
        ({"tags": "ok, <b>bad</b>"}, "tags", "cannot contain the characters"),
        ({"field__staff_count": "many"}, "field__staff_count", "Enter a whole number."),
        ({"field__staff_count": "-1"}, "field__staff_count", "greater than or equal to 0"),
        ({"field__shop_name": ""}, "field__shop_name", "This field is required."),
        ({"field__traits": ["rude"]}, "field__traits", "Select a valid choice"),
        ({"field__valid_until": "yesterday"}, "field__valid_until", "Enter a valid date."),
    ],
)
def test_bad_input_shows_inline_errors_and_saves_nothing(
    client, users, customer, card_fields, changes, field, message
):
    client.force_login(users[ADMIN])
    before = state()
    data = new_customer_data(**{"field__shop_name": "鈴木酒店", **changes})

    response = client.post(reverse("customers:create"), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert "Nothing was saved" in response.content.decode()
    assert state() == before


def test_markup_typed_into_the_form_comes_back_escaped(client, users, card_fields):
    client.force_login(users[ADMIN])

    response = client.post(
        reverse("customers:create"),
        new_customer_data(name="<script>alert(1)</script>", field__shop_name="<b>shop</b>"),
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "<b>shop</b>" not in html
    assert not Customer.objects.filter(code="TKY-0100").exists()


def test_account_manager_cannot_hand_a_card_to_someone_else(
    client, users, customer, other_account_manager
):
    client.force_login(users[AM])
    before = state()

    response = client.post(
        url("edit", customer), customer_form_data(customer, owner=other_account_manager.username)
    )

    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["form"].errors["owner"])
    assert state() == before


def test_owner_choices_follow_the_actors_reach(client, users, customer, other_account_manager):
    def offered(role):
        client.force_login(users[role])
        form = client.get(url("edit", customer)).context["form"]
        return sorted(u.username for u in form.fields["owner"].queryset)

    assert offered(AM) == ["am"]
    assert offered(MANAGER) == ["am", "manager"]
    assert offered(ADMIN) == ["admin", "agent", "am", "am_osaka", "analyst", "auditor", "manager"]


# --- editing a card -------------------------------------------------------------------


def test_edit_saves_the_change_and_the_history_shows_it(client, users, customer, card_fields):
    client.force_login(users[AM])
    data = customer_form_data(
        customer, name="山田商店 本店", tags="常連", field__shop_name="山田本店"
    )

    response = client.post(url("edit", customer), data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "山田商店 本店"
    assert customer.version == 2
    assert customer.field_values == {"shop_name": "山田本店"}
    history = client.get(url("history", customer))
    rows = {(r["field"], r["old"], r["new"]) for r in history.context["rows"]}
    assert ("name", "山田商店", "山田商店 本店") in rows
    assert ("Shop name", "—", "山田本店") in rows
    assert ("tags", "—", "常連") in rows
    assert all(r["change"].actor_name == "am" for r in history.context["rows"])


def test_edit_form_shows_the_current_values(client, users, customer, card_fields):
    customer.field_values = {"shop_name": "山田本店", "monitor": False, "traits": ["loyal"]}
    customer.save()
    client.force_login(users[AM])

    response = client.get(url("edit", customer))
    html = response.content.decode()

    assert 'name="version" value="1"' in html
    assert 'value="山田本店"' in html
    assert '<option value="false" selected>' in html
    assert 'value="loyal"' in html and "checked" in html
    assert 'name="code"' in html and "disabled" in html


def test_stale_edit_is_refused_with_who_changed_what_and_keeps_the_input(client, users, customer):
    client.force_login(users[AM])
    opened = client.get(url("edit", customer)).context["form"].initial["version"]
    # Meanwhile the manager changes the phone number.
    services.customer_update(
        actor=users[MANAGER],
        customer=customer,
        data={"phone": "03-9999-0000"},
        expected_version=opened,
    )
    stale = customer_form_data(customer, name="山田商店 新館", phone="03-1234-5678")
    stale["version"] = opened

    response = client.post(url("edit", customer), stale)
    html = response.content.decode()

    assert response.status_code == 409
    assert 'id="edit-conflict"' in html
    assert "manager changed phone" in html
    assert "03-1234-5678 → 03-9999-0000" in html
    assert 'value="山田商店 新館"' in html
    assert 'name="version" value="2"' in html
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.version) == ("山田商店", "03-9999-0000", 2)

    # Re-submitting the kept input applies it on top of the manager's change.
    resubmit = response.context["form"].data.copy()
    resubmit["phone"] = "03-9999-0000"
    again = client.post(url("edit", customer), resubmit)

    assert again.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.version) == ("山田商店 新館", "03-9999-0000", 3)


def test_derived_fields_cannot_be_typed_in(client, users, customer, card_fields):
    customer.field_values = {"shop_name": "山田本店", "purchase_amount": "100"}
    customer.save()
    client.force_login(users[ADMIN])

    response = client.post(
        url("edit", customer),
        customer_form_data(customer, field__shop_name="山田本店", field__purchase_amount="999"),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.field_values["purchase_amount"] == "100"


# --- delete ---------------------------------------------------------------------------


def test_manager_deletes_a_card_after_confirming(client, users, customer):
    client.force_login(users[MANAGER])

    confirm = client.get(url("delete", customer))
    response = client.post(url("delete", customer))

    assert "山田商店" in confirm.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")
    # Deleting moves the card to the trash (docs/trash.md): hidden, not yet erased.
    assert not Customer.objects.restrict(users[MANAGER]).filter(pk=customer.pk).exists()
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    assert ObjectChange.objects.filter(action="delete", customer_id=customer.pk).count() == 1


# --- history --------------------------------------------------------------------------


def test_history_lists_one_row_per_changed_field_in_local_time(client, users, customer):
    services.customer_update(
        actor=users[MANAGER],
        customer=customer,
        data={"phone": "03-9999-0000", "status": "dormant"},
        expected_version=1,
    )
    person = services.person_create(
        actor=users[AM], customer=customer, data={"relation": "owner", "name": "山田太郎"}
    )
    change = ObjectChange.objects.filter(customer_id=customer.pk).order_by("id").first()
    client.force_login(users[Role.AUDITOR])

    response = client.get(url("history", customer))
    rows = response.context["rows"]
    html = response.content.decode()

    updates = [(r["field"], r["old"], r["new"]) for r in rows if r["change"].action == "update"]
    assert updates == [("phone", "03-1234-5678", "03-9999-0000"), ("status", "active", "dormant")]
    person_rows = [r for r in rows if r["change"].object_type == "customers.person"]
    assert {r["field"] for r in person_rows} >= {"name", "relation"}
    assert {r["change"].object_id for r in person_rows} == {person.pk}
    assert all(r["object_label"] == "person" for r in person_rows)
    local = change.time.astimezone(datetime.timezone(datetime.timedelta(hours=9)))
    assert local.strftime("%H:%M") in html  # shown in the site's time zone, Asia/Tokyo


def test_history_is_paginated(client, users, customer):
    for number in range(55):
        services.customer_update(
            actor=users[ADMIN],
            customer=customer,
            data={"notes": f"note {number}"},
            expected_version=number + 1,
        )
    client.force_login(users[ADMIN])

    first = client.get(url("history", customer))
    second = client.get(url("history", customer), {"page": 2})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 5
    assert "Page 1 of 2" in first.content.decode()


# --- people ---------------------------------------------------------------------------


def test_person_is_added_edited_and_removed(client, users, customer):
    client.force_login(users[AM])

    created = client.post(
        url("person_create", customer),
        {
            "relation": "owner",
            "name": "山田太郎",
            "name_reading": "ヤマダタロウ",
            "birthday": "1960-02-03",
            "mobile": "090-3333-4444",
            "hobbies": "釣り",
        },
    )
    person = Person.objects.get(customer=customer)
    edited = client.post(
        url("person_edit", customer, pk=person.pk),
        {"relation": "owner", "name": "山田太郎", "hobbies": "釣り、将棋", "version": 1},
    )
    person.refresh_from_db()
    removed = client.post(url("person_delete", customer, pk=person.pk))

    assert created.status_code == edited.status_code == removed.status_code == 302
    assert person.hobbies == "釣り、将棋"
    assert person.version == 2
    assert not Person.objects.filter(pk=person.pk).exists()
    actions = list(
        ObjectChange.objects.filter(object_type="customers.person")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


def test_person_search_by_phone_after_adding_through_the_page(client, users, customer):
    client.force_login(users[AM])

    client.post(
        url("person_create", customer),
        {"relation": "contact", "name": "田中一郎", "mobile": "080-7777-6666"},
    )
    response = client.get(reverse("customers:list"), {"q": "08077776666"})

    assert [c.code for c in response.context["table"].page_rows()] == ["TKY-0001"]


def test_bad_person_input_saves_nothing(client, users, customer):
    client.force_login(users[AM])
    before = state()

    response = client.post(
        url("person_create", customer),
        {"relation": "owner", "name": "<b>x</b>", "birthday": "not a date"},
    )

    assert response.status_code == 200
    assert "Enter a valid date." in str(response.context["form"].errors["birthday"])
    assert state() == before
    response = client.post(
        url("person_create", customer), {"relation": "owner", "name": "<b>x</b>"}
    )
    assert "cannot contain the characters" in str(response.context["form"].errors["name"])
    assert "<b>x</b>" not in response.content.decode()
    assert state() == before


def test_stale_person_edit_is_refused_and_keeps_the_input(client, users, customer):
    person = PersonFactory(customer=customer, name="山田太郎", relation="owner")
    services.person_update(
        actor=users[MANAGER], person=person, data={"hobbies": "囲碁"}, expected_version=1
    )
    client.force_login(users[AM])

    response = client.post(
        url("person_edit", customer, pk=person.pk),
        {"relation": "owner", "name": "山田太郎", "hobbies": "釣り", "version": 1},
    )
    html = response.content.decode()

    assert response.status_code == 409
    assert "manager changed hobbies" in html
    assert "釣り</textarea>" in html
    assert 'name="version" value="2"' in html
    person.refresh_from_db()
    assert person.hobbies == "囲碁"


# --- addresses ------------------------------------------------------------------------


def test_address_is_added_edited_and_removed(client, users, customer):
    client.force_login(users[AM])

    created = client.post(
        url("address_create", customer),
        {
            "kind": "business",
            "postal_code": "150-0001",
            "region": "東京都",
            "locality": "渋谷区",
            "line1": "神宮前1-2-3",
            "latitude": "35.6702",
            "longitude": "139.7027",
            "is_primary": "on",
        },
    )
    address = Address.objects.get(customer=customer)
    edited = client.post(
        url("address_edit", customer, pk=address.pk),
        {"kind": "delivery", "region": "東京都", "locality": "渋谷区", "line1": "神宮前9-9"},
    )
    address.refresh_from_db()
    removed = client.post(url("address_delete", customer, pk=address.pk))

    assert created.status_code == edited.status_code == removed.status_code == 302
    assert (address.kind, address.line1, address.is_primary) == ("delivery", "神宮前9-9", False)
    assert not Address.objects.filter(pk=address.pk).exists()


def test_bad_address_input_saves_nothing(client, users, customer):
    client.force_login(users[AM])
    before = state()

    missing = client.post(url("address_create", customer), {"kind": "home", "line1": ""})
    # The service's own checks (here the latitude's range) come back next to the input too.
    off_the_map = client.post(
        url("address_create", customer), {"kind": "home", "line1": "1-1", "latitude": "123"}
    )

    assert missing.status_code == off_the_map.status_code == 200
    assert missing.context["form"].errors["line1"] == ["This field is required."]
    assert off_the_map.context["form"].errors["latitude"] == [
        "Ensure this value is less than or equal to 90."
    ]
    assert state() == before


# --- consent --------------------------------------------------------------------------


def consent_data(version, **answers):
    data = {"version": version, "preferred_channel": ""}
    for channel in ("letter", "phone", "email", "sms", "visit"):
        data[f"{channel}_granted"] = ""
        data[f"{channel}_recorded_on"] = ""
        data[f"{channel}_source"] = ""
    data.update(answers)
    return data


def test_consent_and_preferred_channel_are_saved_together(client, users, customer):
    client.force_login(users[AM])

    response = client.post(
        url("consent", customer),
        consent_data(
            1,
            letter_granted="yes",
            letter_recorded_on="2025-04-01",
            letter_source="申込書",
            email_granted="no",
            preferred_channel="letter",
        ),
    )

    assert response.status_code == 302
    consents = {c.channel: c for c in Consent.objects.filter(customer=customer)}
    assert set(consents) == {"letter", "email"}
    assert consents["letter"].granted is True
    assert consents["letter"].recorded_on == datetime.date(2025, 4, 1)
    assert consents["letter"].source == "申込書"
    assert consents["email"].granted is False
    customer.refresh_from_db()
    assert customer.preferred_channel == "letter"
    assert customer.version == 2


def test_recorded_consent_cannot_be_taken_back_to_not_asked(client, users, customer):
    services.consent_set(
        actor=users[AM],
        customer=customer,
        data={"channel": "sms", "granted": True, "recorded_on": datetime.date(2025, 1, 1)},
    )
    client.force_login(users[AM])
    before = state()

    response = client.post(url("consent", customer), consent_data(1, sms_granted=""))

    assert response.status_code == 200
    assert "This field is required." in response.context["form"].errors["sms_granted"]
    assert state() == before


def test_stale_consent_form_saves_nothing(client, users, customer):
    services.customer_update(
        actor=users[MANAGER], customer=customer, data={"status": "dormant"}, expected_version=1
    )
    client.force_login(users[AM])
    before = state()

    response = client.post(url("consent", customer), consent_data(1, phone_granted="yes"))

    assert response.status_code == 409
    assert "manager changed status" in response.content.decode()
    assert state() == before


def test_unchanged_consent_writes_no_history(client, users, customer):
    services.consent_set(
        actor=users[AM],
        customer=customer,
        data={"channel": "visit", "granted": True, "recorded_on": datetime.date(2025, 1, 1)},
    )
    client.force_login(users[AM])
    before = ObjectChange.objects.count()

    response = client.post(
        url("consent", customer),
        consent_data(1, visit_granted="yes", visit_recorded_on="2025-01-01"),
    )

    assert response.status_code == 302
    assert ObjectChange.objects.count() == before


def test_decimal_display_value_keeps_precision():
    from tokui.customers.views import display_value

    definition = FieldDefinitionFactory.build(field_type=FieldType.DECIMAL)

    assert display_value(definition, "12.50") == Decimal("12.50")
    assert display_value(definition, None) is None
