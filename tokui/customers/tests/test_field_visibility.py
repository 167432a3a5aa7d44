"""Field rules on every read and write path, for every role (issue 3, point 1).

The rules in force here, besides the defaults (tokui.fields.access.DEFAULT_RULES):
- account managers may not see the network category (a configured CategoryRule);
- service agents may not see the personal category (phone, e-mail, people, addresses);
- ``licence_no`` is a sensitive field only managers and administrators see;
- ``credit_rank`` is management, which service agents do not see by default.

``customer`` (TKY-0001) belongs to the Tokyo account manager and is in every card
reader's scope; analysts read no cards at all.
"""

import csv
import io
import json

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import AddressFactory, FieldDefinitionFactory, PersonFactory
from tokui.customers import services
from tokui.customers.models import Customer, Person
from tokui.fields.choices import Category
from tokui.fields.models import CategoryRule
from tokui.sales import exports
from tokui.users.choices import Role
from tokui.users.services import token_create

pytestmark = pytest.mark.django_db

CARD_READERS = (
    Role.ADMINISTRATOR,
    Role.MANAGER,
    Role.ACCOUNT_MANAGER,
    Role.SERVICE_AGENT,
    Role.AUDITOR,
)
VALUES = {
    "shop_size": "SIZE-LARGE-7",
    "route": "ROUTE-NORTH-3",
    "credit_rank": "RANK-AAA-1",
    "licence_no": "LIC-4455-66",
}
# What each role sees of the card: its card fields, and whether the personal parts show.
VISIBLE = {
    Role.ADMINISTRATOR: ({"shop_size", "route", "credit_rank", "licence_no"}, True),
    Role.MANAGER: ({"shop_size", "route", "credit_rank", "licence_no"}, True),
    Role.ACCOUNT_MANAGER: ({"shop_size", "credit_rank"}, True),
    Role.SERVICE_AGENT: ({"shop_size", "route"}, False),
    Role.AUDITOR: ({"shop_size", "route", "credit_rank"}, True),
}
PHONE = "03-1234-5678"
EMAIL = "yamada@example.com"
PERSON = "山田太郎"
POSTAL = "100-0001"


@pytest.fixture
def card(users, customer):
    for key, category in (
        ("shop_size", Category.BASIC),
        ("route", Category.NETWORK),
        ("credit_rank", Category.MANAGEMENT),
    ):
        FieldDefinitionFactory(key=key, category=category)
    FieldDefinitionFactory(
        key="licence_no",
        category=Category.BASIC,
        view_roles=[Role.ADMINISTRATOR, Role.MANAGER],
        edit_roles=[Role.ADMINISTRATOR, Role.MANAGER],
    )
    CategoryRule.objects.create(
        category=Category.NETWORK, role=Role.ACCOUNT_MANAGER, can_view=False, can_edit=False
    )
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.SERVICE_AGENT, can_view=False, can_edit=False
    )
    customer.field_values = dict(VALUES)
    customer.email = EMAIL
    customer.save()
    PersonFactory(customer=customer, name=PERSON, phone="090-1111-2222")
    AddressFactory(customer=customer, postal_code=POSTAL, is_primary=True)
    customer.refresh_from_db()
    return customer


def fresh(user):
    """The user as a new request loads them (nothing kept from an earlier read)."""
    return type(user).objects.get(pk=user.pk)


def api(client, user, method, url, body=None):
    raw = token_create(user=user, name="test")[1]
    kwargs = {"headers": {"Authorization": f"Bearer {raw}"}}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **kwargs)


def hidden_values(role) -> list[str]:
    keys, personal = VISIBLE[role]
    hidden = [VALUES[k] for k in VALUES if k not in keys]
    if not personal:
        hidden += [PHONE, EMAIL, PERSON, POSTAL]
    return hidden


# --- the API payload ------------------------------------------------------------------


@pytest.mark.parametrize("role", CARD_READERS)
def test_the_api_payload_holds_only_what_the_role_may_see(client, users, card, role):
    keys, personal = VISIBLE[role]

    detail = api(client, users[role], "get", "/api/v1/customers/TKY-0001")
    listed = api(client, users[role], "get", "/api/v1/customers?search=TKY-0001")

    assert detail.status_code == 200
    assert listed.status_code == 200
    for payload in (detail.json(), listed.json()["items"][0]):
        assert payload["fields"] == {k: VALUES[k] for k in keys}
        assert ("phone" in payload) is personal
        assert ("email" in payload) is personal
        assert payload["code"] == "TKY-0001"
        if personal:
            assert (payload["phone"], payload["email"]) == (PHONE, EMAIL)
    for value in hidden_values(role):
        assert value not in detail.content.decode()


def test_an_analyst_gets_no_card_from_the_api(client, users, card):
    response = api(client, users[Role.ANALYST], "get", "/api/v1/customers/TKY-0001")

    assert response.status_code == 403
    assert all(value not in response.content.decode() for value in [*VALUES.values(), PHONE])


@pytest.mark.parametrize("role", CARD_READERS)
def test_people_endpoints_follow_the_personal_rule(client, users, card, role):
    person = Person.objects.get(customer=card)

    listed = api(client, users[role], "get", "/api/v1/customers/TKY-0001/people")
    one = api(client, users[role], "get", f"/api/v1/people/{person.pk}")

    if VISIBLE[role][1]:
        assert (listed.status_code, one.status_code) == (200, 200)
        assert [p["name"] for p in listed.json()] == [PERSON]
    else:
        assert (listed.status_code, one.status_code) == (403, 403)
        assert listed.json() == {"detail": "Your role may not see the people of a card."}
        assert PERSON not in listed.content.decode() + one.content.decode()


def test_the_openapi_schema_says_the_hideable_parts_are_optional(client, users):
    schema = client.get("/api/v1/openapi.json").json()
    customer = schema["components"]["schemas"]["CustomerOut"]

    assert not {"phone", "email", "tags", "notes", "preferred_channel"} & set(customer["required"])
    assert {"code", "name", "fields", "version"} <= set(customer["required"])


# --- exports --------------------------------------------------------------------------


def csv_rows(user, kind="customers"):
    table = exports.export_table(kind, user=user)
    data = b"".join(exports.csv_chunks(table)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data, newline="")))


def xlsx_rows(user):
    table = exports.export_table("customers", user=user)
    buffer = io.BytesIO()
    exports.write_xlsx(table, buffer)
    buffer.seek(0)
    return list(openpyxl.load_workbook(buffer).active.iter_rows(values_only=True))


@pytest.mark.parametrize("role", CARD_READERS)
def test_customer_exports_leave_out_hidden_columns(users, card, role):
    keys, personal = VISIBLE[role]
    identity = ["code", "kind", "name", "name_reading", "status", "owner", "area"]
    personal_columns = ["phone", "email", "postal_code", "address"] if personal else []
    expected = identity + personal_columns + sorted(keys, key=list(VALUES).index)
    # Definitions come in display order: category, then order, then key.
    user = fresh(users[role])

    for header, *rows in (csv_rows(user), [list(r) for r in xlsx_rows(user)]):
        assert sorted(header) == sorted(expected)
        row = dict(zip(header, next(r for r in rows if r[0] == "TKY-0001"), strict=True))
        assert all(row[k] == VALUES[k] for k in keys)
        flat = " ".join(str(v) for r in rows for v in r)
        assert all(value not in flat for value in hidden_values(role))


def test_the_system_export_keeps_every_column(card):
    table = exports.export_table("customers", system=True)

    assert {"phone", "email", "postal_code", "address", *VALUES} <= set(table.header)


@pytest.mark.parametrize("role", CARD_READERS)
def test_the_people_export_is_refused_to_a_role_that_may_not_see_people(users, card, role):
    if VISIBLE[role][1]:
        assert [row[2] for row in csv_rows(fresh(users[role]), "people")[1:]] == [PERSON]
    else:
        with pytest.raises(exports.ExportError, match="may not see the people of a card"):
            exports.export_table("people", user=fresh(users[role]))


def test_the_export_download_leaves_out_hidden_columns(client, users, card):
    client.force_login(users[Role.SERVICE_AGENT])

    response = client.get(reverse("sales:export", args=["customers"]), {"format": "csv"})
    people = client.get(reverse("sales:export", args=["people"]), {"format": "csv"})

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "code,kind,name,name_reading,status,owner,area,shop_size,route"
    assert PHONE not in body
    assert people.status_code == 400


# --- the card page, the list and search -----------------------------------------------


@pytest.mark.parametrize("role", CARD_READERS)
def test_the_card_page_shows_only_what_the_role_may_see(client, users, card, role):
    keys, personal = VISIBLE[role]
    client.force_login(users[role])

    html = client.get(reverse("customers:detail", args=["TKY-0001"])).content.decode()

    for key, value in VALUES.items():
        assert (value in html) is (key in keys)
        assert (f">\n                  {key.replace('_', ' ').capitalize()}" in html) is (
            key in keys
        )
    assert (PHONE in html) is personal
    assert (PERSON in html) is personal
    assert ('id="people-heading"' in html) is personal
    assert ('id="addresses-heading"' in html) is personal
    # A category with nothing the role may see is left out, not shown empty.
    assert ('id="category-network"' in html) is ("route" in keys)
    assert ('id="category-management"' in html) is ("credit_rank" in keys)


@pytest.mark.parametrize("role", CARD_READERS)
def test_the_list_has_no_hidden_column_and_search_by_phone_follows_the_rule(
    client, users, card, role
):
    personal = VISIBLE[role][1]
    client.force_login(users[role])

    listing = client.get(reverse("customers:list")).content.decode()
    by_phone = client.get(reverse("customers:list"), {"q": "0312345678"}).content.decode()

    assert (PHONE in listing) is personal
    assert ("TKY-0001" in by_phone) is personal
    api_search = api(client, users[role], "get", "/api/v1/customers?search=0312345678")
    assert [c["code"] for c in api_search.json()["items"]] == (["TKY-0001"] if personal else [])


# --- history --------------------------------------------------------------------------


@pytest.fixture
def changed(users, card):
    """The administrator changes a field of every kind, the phone and the person."""
    admin = users[Role.ADMINISTRATOR]
    services.customer_update(
        actor=admin,
        customer=card,
        data={
            "phone": "03-9999-0000",
            "field_values": {k: f"{v}-NEW" for k, v in VALUES.items()},
        },
        expected_version=card.version,
    )
    person = Person.objects.get(customer=card)
    services.person_update(
        actor=admin, person=person, data={"hobbies": "HOBBY-GOLF"}, expected_version=person.version
    )
    return card


HISTORY_READERS = (Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER, Role.AUDITOR)


@pytest.mark.parametrize("role", HISTORY_READERS)
def test_history_names_a_hidden_change_without_its_values(client, users, changed, role):
    keys = VISIBLE[role][0]
    client.force_login(users[role])

    html = client.get(reverse("customers:history", args=["TKY-0001"])).content.decode()

    for key, value in VALUES.items():
        assert (value in html) is (key in keys)
        assert (f"{value}-NEW" in html) is (key in keys)
        # Every changed field is named, seen or not.
        assert key.replace("_", " ").capitalize() in html
    hidden_rows = html.count('class="value text-body-secondary hidden-change" colspan="2">changed')
    assert hidden_rows == len(VALUES) - len(keys)


def test_the_change_log_masks_the_same_way(client, users, changed):
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.AUDITOR, can_view=False, can_edit=False
    )
    client.force_login(users[Role.AUDITOR])

    html = client.get(reverse("audit:change_log")).content.decode()

    assert "03-9999-0000" not in html and PHONE not in html
    assert "HOBBY-GOLF" not in html
    assert PERSON not in html  # the person's name is the row's record name
    assert "RANK-AAA-1-NEW" in html  # management: the auditor sees it
    assert "LIC-4455-66" not in html
    admin = client
    admin.force_login(users[Role.ADMINISTRATOR])
    html = admin.get(reverse("audit:change_log")).content.decode()
    assert all(v in html for v in ("03-9999-0000", "HOBBY-GOLF", PERSON, "LIC-4455-66-NEW"))


# --- writes ---------------------------------------------------------------------------


def state(code="TKY-0001"):
    customer = Customer.objects.get(code=code)
    return (
        customer.field_values,
        customer.phone,
        customer.notes,
        customer.version,
        Person.objects.filter(customer=customer).count(),
        ObjectChange.objects.count(),
    )


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"field_values": {"route": "SOUTH"}}, "Route"),
        ({"field_values": {"licence_no": "LIC-0"}}, "Licence no"),
        ({"field_values": {"shop_size": "S", "licence_no": "LIC-0"}}, "Licence no"),
    ],
)
def test_an_account_manager_may_not_change_a_field_they_may_not_see(users, card, data, named):
    before = state()

    with pytest.raises(PermissionDenied, match=f"parts of the card: {named}"):
        services.customer_update(
            actor=fresh(users[Role.ACCOUNT_MANAGER]),
            customer=card,
            data=data,
            expected_version=card.version,
        )

    assert state() == before


def test_a_hidden_field_is_refused_alike_whether_the_guess_is_right_or_wrong(client, users, card):
    """Answering "unchanged" to the stored value and "refused" to any other would tell it."""
    am = users[Role.ACCOUNT_MANAGER]
    before = state()

    answers = [
        api(
            client,
            am,
            "patch",
            "/api/v1/customers/TKY-0001",
            {"version": card.version, "fields": {"route": guess}},
        )
        for guess in (VALUES["route"], "ROUTE-SOUTH-1")
    ]

    assert [answer.status_code for answer in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()
    assert state() == before


def test_a_read_only_category_refuses_changes_through_every_path(client, users, card):
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.ACCOUNT_MANAGER, can_view=True, can_edit=False
    )
    am = users[Role.ACCOUNT_MANAGER]
    before = state()

    patched = api(
        client, am, "patch", "/api/v1/customers/TKY-0001", {"version": 1, "phone": "03-0000-0000"}
    )
    person = api(
        client,
        am,
        "post",
        "/api/v1/customers/TKY-0001/people",
        {"relation": "contact", "name": "X"},
    )
    with pytest.raises(PermissionDenied, match="phone"):
        services.customer_create(
            actor=fresh(am), data={"code": "NEW-1", "kind": "shop", "name": "N", "phone": "0312"}
        )
    with pytest.raises(PermissionDenied, match="addresses"):
        services.address_create(
            actor=fresh(am), customer=card, data={"line1": "x", "postal_code": "1"}
        )
    with pytest.raises(PermissionDenied, match="consent"):
        services.consent_set(
            actor=fresh(am),
            customer=card,
            data={"channel": "email", "granted": True, "recorded_on": "2026-01-01"},
        )

    assert patched.status_code == 403
    assert "phone" in patched.json()["detail"]
    assert person.status_code == 403
    assert state() == before
    assert not Customer.objects.filter(code="NEW-1").exists()


def test_sending_back_an_unchanged_read_only_value_is_no_change(client, users, card):
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.ACCOUNT_MANAGER, can_view=True, can_edit=False
    )

    response = api(
        client,
        users[Role.ACCOUNT_MANAGER],
        "patch",
        "/api/v1/customers/TKY-0001",
        {"version": card.version, "phone": PHONE, "fields": {"shop_size": "SMALL"}},
    )

    assert response.status_code == 200
    assert Customer.objects.get(pk=card.pk).field_values["shop_size"] == "SMALL"


def test_the_edit_form_leaves_out_hidden_fields_and_disables_read_only_ones(client, users, card):
    CategoryRule.objects.create(
        category=Category.MANAGEMENT, role=Role.ACCOUNT_MANAGER, can_view=True, can_edit=False
    )
    client.force_login(users[Role.ACCOUNT_MANAGER])
    url = reverse("customers:edit", args=["TKY-0001"])

    html = client.get(url).content.decode()

    assert 'name="field__route"' not in html
    assert 'name="field__licence_no"' not in html
    assert "ROUTE-NORTH-3" not in html and "LIC-4455-66" not in html
    assert 'name="field__credit_rank"' in html
    field = html[
        html.index('name="field__credit_rank"') - 300 : html.index('name="field__credit_rank"')
        + 300
    ]
    assert "disabled" in field
    # A post that carries a hidden or read-only field anyway changes nothing of them.
    response = client.post(
        url,
        {
            "code": "TKY-0001",
            "kind": card.kind,
            "name": card.name,
            "status": card.status,
            "owner": "am",
            "area": "TKY",
            "phone": PHONE,
            "email": EMAIL,
            "version": card.version,
            "field__shop_size": "SIZE-NEW",
            "field__route": "HACKED",
            "field__licence_no": "HACKED",
            "field__credit_rank": "HACKED",
        },
    )
    assert response.status_code == 302
    saved = Customer.objects.get(pk=card.pk).field_values
    assert saved == {**VALUES, "shop_size": "SIZE-NEW"}


def test_person_pages_are_refused_to_a_role_that_may_not_edit_people(client, users, card):
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.ACCOUNT_MANAGER, can_view=True, can_edit=False
    )
    client.force_login(users[Role.ACCOUNT_MANAGER])

    response = client.post(
        reverse("customers:person_create", args=["TKY-0001"]), {"relation": "contact", "name": "X"}
    )

    assert response.status_code == 403
    assert Person.objects.filter(customer=card).count() == 1


# --- duplicates and the privacy export ------------------------------------------------


def test_a_duplicate_found_by_a_hidden_phone_does_not_say_which_field(client, users, card):
    twin = Customer.objects.create(
        code="TKY-0002",
        kind=card.kind,
        name="別の店",
        owner=card.owner,
        area=card.area,
        phone=PHONE,
    )
    twin.refresh_search()
    twin.save()
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.ACCOUNT_MANAGER, can_view=False, can_edit=False
    )
    client.force_login(users[Role.ACCOUNT_MANAGER])

    html = client.get(reverse("customers:duplicates")).content.decode()

    assert "TKY-0002" in html
    assert "same phone" not in html
    assert "a field you may not see" in html


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMINISTRATOR, True),
        (Role.MANAGER, True),
        (Role.ACCOUNT_MANAGER, False),  # licence_no and the network are hidden from them
        (Role.SERVICE_AGENT, False),
        (Role.AUDITOR, False),  # licence_no
    ],
)
def test_the_privacy_export_is_for_roles_that_see_the_whole_card(
    client, users, card, role, allowed
):
    client.force_login(users[role])

    response = client.get(reverse("customers:privacy_export", args=["TKY-0001"]))
    page = client.get(reverse("customers:detail", args=["TKY-0001"])).content.decode()

    assert (response.status_code == 200) is allowed
    assert (reverse("customers:privacy_export", args=["TKY-0001"]) in page) is allowed


# --- basic parts hidden: tags, preferred channel --------------------------------------


@pytest.fixture
def basic_hidden_from_am(card):
    card.preferred_channel = "letter"
    card.save()
    card.tags.create(name="VIP-SECRET")
    CategoryRule.objects.create(
        category=Category.BASIC, role=Role.ACCOUNT_MANAGER, can_view=False, can_edit=False
    )
    return card


def test_a_hidden_tag_cannot_be_seen_or_filtered_by(client, users, basic_hidden_from_am):
    am = users[Role.ACCOUNT_MANAGER]
    client.force_login(am)

    card_page = client.get(reverse("customers:detail", args=["TKY-0001"])).content.decode()
    listing = client.get(reverse("customers:list")).content.decode()
    by_tag = api(client, am, "get", "/api/v1/customers?tag=VIP-SECRET")
    payload = api(client, am, "get", "/api/v1/customers/TKY-0001").json()

    assert "VIP-SECRET" not in card_page + listing
    assert 'name="tag"' not in listing
    assert by_tag.status_code == 403
    assert "tags" not in payload and "preferred_channel" not in payload
    with pytest.raises(exports.ExportError, match="You may not filter by: tag"):
        exports.export_table("customers", user=fresh(am), params={"tag": "VIP-SECRET"})


def test_the_consent_page_hides_the_preferred_channel_and_keeps_it(
    client, users, basic_hidden_from_am
):
    client.force_login(users[Role.ACCOUNT_MANAGER])
    url = reverse("customers:consent", args=["TKY-0001"])

    html = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "version": basic_hidden_from_am.version,
            "preferred_channel": "email",
            "email_granted": "yes",
            "email_recorded_on": "2026-01-05",
        },
    )

    assert '<input type="hidden" name="preferred_channel" disabled' in html
    assert '<select name="preferred_channel"' not in html
    assert response.status_code == 302
    card = Customer.objects.get(pk=basic_hidden_from_am.pk)
    assert card.preferred_channel == "letter"
    assert card.consents.get().channel == "email"


def test_a_hidden_derived_field_is_left_out_of_the_figures_panel_too(client, users, customer):
    import datetime
    from decimal import Decimal

    from tokui.fields.choices import Maintenance
    from tokui.metrics.services import metrics_refresh
    from tokui.sales.models import Order, OrderLine, Product

    tea = Product.objects.create(code="TEA", name="Tea", brand="Kirin", category="Drinks")
    today = datetime.date.today()
    order = Order.objects.create(number="O-1", customer=customer, date=today)
    OrderLine.objects.create(
        order=order,
        line_no=1,
        customer=customer,
        date=today,
        product=tea,
        quantity=Decimal("7"),
        unit_price=Decimal("123.45"),
        amount=Decimal("864.15"),
    )
    metrics_refresh(customer_ids=[customer.pk])
    FieldDefinitionFactory(
        key="average_unit_price",
        label="Average unit price",
        field_type="decimal",
        category=Category.BUSINESS,
        maintenance=Maintenance.DERIVED,
        view_roles=[Role.ADMINISTRATOR, Role.MANAGER],
    )
    pages = {}
    for role in (Role.MANAGER, Role.ACCOUNT_MANAGER):
        client.force_login(users[role])
        pages[role] = client.get(reverse("customers:detail", args=["TKY-0001"])).content.decode()

    assert "123.45" in pages[Role.MANAGER]
    assert "Average unit price" in pages[Role.MANAGER]
    assert "123.45" not in pages[Role.ACCOUNT_MANAGER]
    assert "Average unit price" not in pages[Role.ACCOUNT_MANAGER]
    assert "Kirin (100.0 %)" in pages[Role.ACCOUNT_MANAGER]  # the other figures stay
