"""The customer endpoints of /api/v1/: permission matrix, search, filters, paging, writes, errors.

``customer`` (TKY-0001) belongs to the Tokyo account manager "am"; ``other_customer``
(OSK-0001) to an Osaka account manager, out of reach of "am" and the Tokyo manager.
"""

import datetime
import json

import pytest
from django.utils import timezone

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import CustomerFactory, FieldDefinitionFactory, UserFactory
from tokui.customers import services
from tokui.customers.models import Customer, Tag
from tokui.fields.choices import FieldType
from tokui.users.choices import Role, TokenScope
from tokui.users.services import token_create, token_revoke

LIST = "/api/v1/customers"
MINE = "/api/v1/customers/TKY-0001"
THEIRS = "/api/v1/customers/OSK-0001"
NEW = {"code": "NEW-1", "kind": "shop", "name": "新宿商店", "name_reading": "シンジュクショウテン"}


@pytest.fixture
def call(client):
    """``call(method, url, user_or_raw_token, body)``: one API request as that caller."""
    tokens = {}

    def _call(method, url, who=None, body=None):
        headers = {}
        if isinstance(who, str):
            headers["Authorization"] = f"Bearer {who}"
        elif who is not None:
            if who.pk not in tokens:
                tokens[who.pk] = token_create(user=who, name="test")[1]
            headers["Authorization"] = f"Bearer {tokens[who.pk]}"
        kwargs = {"headers": headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(url, **kwargs)

    return _call


@pytest.fixture
def am(users):
    return users[Role.ACCOUNT_MANAGER]


def snapshot(code):
    """What a refused request must leave untouched: the card and the audit log."""
    row = Customer.objects.filter(code=code).values("name", "status", "version").first()
    return row, ObjectChange.objects.count()


# Every customer endpoint, with a body that would succeed for an allowed caller.
ENDPOINTS = {
    "list": ("get", LIST, None),
    "retrieve": ("get", MINE, None),
    "create": ("post", LIST, NEW),
    "update": ("patch", MINE, {"name": "山田商店本店", "version": 1}),
    "delete": ("delete", MINE, None),
}
WRITES = ["create", "update", "delete"]


# -- permission matrix -------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_token_is_401_and_nothing_changes(call, customer, endpoint):
    method, url, body = ENDPOINTS[endpoint]
    before = snapshot("TKY-0001")

    response = call(method, url, None, body)

    assert response.status_code == 401
    assert snapshot("TKY-0001") == before
    assert not Customer.objects.filter(code="NEW-1").exists()


@pytest.mark.parametrize("kind", ["unknown", "revoked", "expired"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_revoked_or_expired_token_is_401(call, am, customer, endpoint, kind):
    if kind == "unknown":
        raw = "tokui_" + "x" * 43
    elif kind == "revoked":
        token, raw = token_create(user=am, name="old")
        token_revoke(token=token)
    else:
        yesterday = timezone.now() - datetime.timedelta(days=1)
        _, raw = token_create(user=am, name="old", expires_at=yesterday)
    method, url, body = ENDPOINTS[endpoint]
    before = snapshot("TKY-0001")

    response = call(method, url, raw, body)

    assert response.status_code == 401
    assert snapshot("TKY-0001") == before


@pytest.mark.parametrize("endpoint", WRITES)
def test_read_only_token_may_not_write(call, users, customer, endpoint):
    _, raw = token_create(user=users[Role.ADMINISTRATOR], name="ro", scope=TokenScope.READ)
    method, url, body = ENDPOINTS[endpoint]
    before = snapshot("TKY-0001")

    response = call(method, url, raw, body)

    assert response.status_code == 403
    assert snapshot("TKY-0001") == before
    assert not Customer.objects.filter(code="NEW-1").exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_analyst_has_no_access_to_cards(call, users, customer, endpoint):
    method, url, body = ENDPOINTS[endpoint]
    before = snapshot("TKY-0001")

    response = call(method, url, users[Role.ANALYST], body)

    assert response.status_code == 403
    assert snapshot("TKY-0001") == before
    assert not Customer.objects.filter(code="NEW-1").exists()


@pytest.mark.parametrize("role", [Role.SERVICE_AGENT, Role.AUDITOR])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_read_only_roles_read_every_card_but_write_none(call, users, customer, role, endpoint):
    method, url, body = ENDPOINTS[endpoint]
    before = snapshot("TKY-0001")

    response = call(method, url, users[role], body)

    if endpoint in WRITES:
        assert response.status_code == 403
        assert snapshot("TKY-0001") == before
        assert not Customer.objects.filter(code="NEW-1").exists()
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"name": "乗っ取り", "version": 1}), ("delete", None)],
)
@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.MANAGER])
def test_card_out_of_scope_is_404(call, users, other_customer, method, body, role):
    before = snapshot("OSK-0001")

    response = call(method, THEIRS, users[role], body)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert snapshot("OSK-0001") == before


def test_unknown_code_is_404_like_an_out_of_scope_one(call, users):
    response = call("get", "/api/v1/customers/NOPE-9", users[Role.ADMINISTRATOR])

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_account_manager_may_not_delete_even_their_own_card(call, am, customer):
    response = call("delete", MINE, am)

    assert response.status_code == 403
    assert Customer.objects.filter(code="TKY-0001").exists()


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER])
def test_allowed_roles_read_the_card(call, users, customer, role):
    response = call("get", MINE, users[role])

    assert response.status_code == 200
    assert response.json() == {
        "code": "TKY-0001",
        "kind": "shop",
        "name": "山田商店",
        "name_reading": "ヤマダショウテン",
        "status": "active",
        "owner": "am",
        "area": "TKY",
        "tags": [],
        "fields": {},
        "phone": "03-1234-5678",
        "email": "",
        "preferred_channel": "",
        "notes": "",
        "version": 1,
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER])
def test_allowed_roles_create_a_card(call, users, role):
    response = call("post", LIST, users[role], {**NEW, "tags": ["VIP", "新規"]})

    assert response.status_code == 201
    body = response.json()
    assert (body["code"], body["version"], body["tags"]) == ("NEW-1", 1, ["VIP", "新規"])
    created = Customer.objects.get(code="NEW-1")
    assert created.name == "新宿商店"
    assert sorted(created.tags.values_list("name", flat=True)) == ["VIP", "新規"]
    row = ObjectChange.objects.get(object_type="customers.customer", object_id=created.pk)
    assert (row.action, row.actor) == ("create", users[role])


def test_account_manager_owns_the_card_they_create(call, am):
    response = call("post", LIST, am, NEW)

    assert response.json()["owner"] == "am"
    assert response.json()["area"] == "TKY"
    assert Customer.objects.get(code="NEW-1").owner == am


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER])
def test_allowed_roles_change_a_card(call, users, customer, role):
    response = call("patch", MINE, users[role], {"name": "山田商店本店", "version": 1})

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["version"]) == ("山田商店本店", 2)
    customer.refresh_from_db()
    assert (customer.name, customer.version, customer.phone) == ("山田商店本店", 2, "03-1234-5678")
    row = ObjectChange.objects.get(action="update")
    assert row.changes == {"name": {"old": "山田商店", "new": "山田商店本店"}}
    assert row.actor == users[role]


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER])
def test_administrator_and_manager_delete_a_card(call, users, customer, role):
    response = call("delete", MINE, users[role])

    assert response.status_code == 204
    assert response.content == b""
    # Deleting moves the card to the trash (docs/trash.md): hidden, not yet erased.
    assert not Customer.objects.restrict(users[role]).filter(code="TKY-0001").exists()
    assert Customer.objects.get(code="TKY-0001").deleted_by == users[role]
    assert ObjectChange.objects.get(action="delete").actor == users[role]


# -- list: search, filters, paging ---------------------------------------------------


def codes(response):
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


def test_list_shows_only_the_callers_cards(call, users, customer, other_customer):
    assert codes(call("get", LIST, users[Role.ACCOUNT_MANAGER])) == ["TKY-0001"]
    assert codes(call("get", LIST, users[Role.ADMINISTRATOR])) == ["OSK-0001", "TKY-0001"]


def test_a_page_number_past_any_list_is_422_not_a_database_error(call, users, customer):
    admin = users[Role.ADMINISTRATOR]
    assert call("get", f"{LIST}?page=99999999999999999999", admin).status_code == 422
    assert call("get", f"{LIST}?page=10000000", admin).json()["items"] == []


@pytest.mark.parametrize(
    "query",
    ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "山田", "tky-0001", "0312345678", "1234-5678"],
    ids=["hiragana", "katakana", "half-width", "kanji", "code", "phone", "phone-part"],
)
def test_search_matches_reading_name_code_and_phone(call, users, customer, other_customer, query):
    response = call("get", f"{LIST}?search={query}", users[Role.ADMINISTRATOR])

    assert codes(response) == ["TKY-0001"]
    assert response.json()["count"] == 1


def test_search_never_reaches_beyond_scope(call, am, customer, other_customer):
    assert codes(call("get", f"{LIST}?search=オオサカ", am)) == []


def test_filters_by_status_owner_area_and_tag(call, users, areas, customer, other_customer):
    admin = users[Role.ADMINISTRATOR]
    services.customer_update(
        actor=admin, customer=other_customer, data={"status": "dormant"}, expected_version=1
    )
    services.customer_update(
        actor=admin, customer=customer, data={"tags": ["VIP"]}, expected_version=1
    )

    assert codes(call("get", f"{LIST}?status=dormant", admin)) == ["OSK-0001"]
    assert codes(call("get", f"{LIST}?owner=am", admin)) == ["TKY-0001"]
    assert codes(call("get", f"{LIST}?area=OSK", admin)) == ["OSK-0001"]
    assert codes(call("get", f"{LIST}?area=JP", admin)) == ["OSK-0001", "TKY-0001"]
    assert codes(call("get", f"{LIST}?area=NOWHERE", admin)) == []
    assert codes(call("get", f"{LIST}?tag=VIP", admin)) == ["TKY-0001"]
    assert codes(call("get", f"{LIST}?tag=VIP&status=dormant", admin)) == []


def test_unknown_status_filter_is_422_naming_it(call, users):
    response = call("get", f"{LIST}?status=asleep", users[Role.ADMINISTRATOR])

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "status"]


def test_pages_are_counted_and_cut_at_the_maximum_size(call, users, areas, settings):
    settings.TOKUI_API_MAX_PAGE_SIZE = 4
    for n in range(7):
        CustomerFactory(code=f"P-{n}", name_reading=f"ア{n}", area=areas["TKY"])
    admin = users[Role.ADMINISTRATOR]

    first = call("get", f"{LIST}?page_size=3", admin)
    third = call("get", f"{LIST}?page_size=3&page=3", admin)
    too_big = call("get", f"{LIST}?page_size=1000", admin)

    assert first.json()["count"] == 7
    assert codes(first) == ["P-0", "P-1", "P-2"]
    assert codes(third) == ["P-6"]
    assert len(too_big.json()["items"]) == 4


def test_list_costs_the_same_queries_for_many_cards(call, users, areas, django_assert_num_queries):
    admin = users[Role.ADMINISTRATOR]
    call("get", LIST, admin)  # the token's first use writes last_used_at
    for n in range(30):
        customer = CustomerFactory(code=f"Q-{n}", area=areas["TKY"], owner=admin)
        customer.tags.add(Tag.objects.get_or_create(name=f"tag{n % 3}")[0])

    # token, field rules (category rules, field definitions), count, page with owner and
    # area, tags of the page, one access record (GOV-1): not one query per card.
    with django_assert_num_queries(7):
        response = call("get", f"{LIST}?page_size=30", admin)

    items = response.json()["items"]
    assert len(items) == 30
    assert all(item["owner"] == "admin" and item["area"] == "TKY" for item in items)
    tags = {item["code"]: item["tags"] for item in items}
    assert (tags["Q-0"], tags["Q-4"], tags["Q-29"]) == (["tag0"], ["tag1"], ["tag2"])


# -- writes: versions, validation, hostile input -------------------------------------


def test_stale_version_is_409_naming_who_changed_what_and_nothing_is_saved(
    call, users, am, customer
):
    services.customer_update(
        actor=users[Role.MANAGER],
        customer=customer,
        data={"phone": "03-0000-0000"},
        expected_version=1,
    )
    before = snapshot("TKY-0001")

    response = call("patch", MINE, am, {"name": "古い画面から", "version": 1})

    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    assert "manager" in body["detail"]
    assert "phone" in body["detail"]
    assert snapshot("TKY-0001") == before


def test_patch_without_version_is_422_and_nothing_is_saved(call, am, customer):
    response = call("patch", MINE, am, {"name": "版なし"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "version"]
    assert snapshot("TKY-0001")[0]["name"] == "山田商店"


def test_patch_changes_only_what_was_sent(call, am, customer):
    response = call("patch", MINE, am, {"status": "dormant", "tags": ["休眠"], "version": 1})

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.status, customer.name, customer.phone) == (
        "dormant",
        "山田商店",
        "03-1234-5678",
    )
    assert list(customer.tags.values_list("name", flat=True)) == ["休眠"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [("post", LIST, NEW), ("patch", MINE, {"version": 1})],
    ids=["create", "update"],
)
@pytest.mark.parametrize(
    "name", ["x" * 10_000, "<script>alert(1)</script>"], ids=["10000-chars", "script"]
)
def test_oversized_or_markup_name_is_422_naming_name_and_nothing_is_saved(
    call, am, customer, method, url, body, name
):
    before = snapshot("TKY-0001")

    response = call(method, url, am, {**body, "name": name})

    assert response.status_code == 422
    assert ["body", "name"] in [error["loc"] for error in response.json()["detail"]]
    assert snapshot("TKY-0001") == before
    assert not Customer.objects.filter(code="NEW-1").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "planet"),
        ("status", "asleep"),
        ("name", 42),
        ("tags", "VIP"),
        ("fields", ["not", "an", "object"]),
        ("unknown_field", "x"),
    ],
)
def test_wrong_type_or_unknown_field_is_422_naming_it(call, am, field, value):
    response = call("post", LIST, am, {**NEW, field: value})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert not Customer.objects.filter(code="NEW-1").exists()


def test_service_validation_error_is_422_naming_the_field(call, am, customer):
    response = call("post", LIST, am, {**NEW, "code": "TKY-0001", "email": "not-an-email"})

    assert response.status_code == 422
    locs = sorted(tuple(error["loc"]) for error in response.json()["detail"])
    assert locs == [("body", "code"), ("body", "email")]
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(("field", "value"), [("owner", "nobody"), ("area", "ATLANTIS")])
def test_unknown_owner_or_area_is_422_naming_it(call, users, customer, field, value):
    before = snapshot("TKY-0001")

    response = call("patch", MINE, users[Role.ADMINISTRATOR], {field: value, "version": 1})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert value in response.json()["detail"][0]["msg"]
    assert snapshot("TKY-0001") == before


def test_owner_and_area_are_set_by_username_and_code(call, users, areas, customer):
    response = call(
        "patch", MINE, users[Role.ADMINISTRATOR], {"owner": "manager", "area": "OSK", "version": 1}
    )

    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["area"]) == ("manager", "OSK")
    customer.refresh_from_db()
    assert (customer.owner, customer.area) == (users[Role.MANAGER], areas["OSK"])


def test_account_manager_cannot_hand_their_card_to_someone_else(call, am, customer):
    UserFactory(username="colleague", role=Role.ACCOUNT_MANAGER)

    response = call("patch", MINE, am, {"owner": "colleague", "version": 1})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "owner"]
    customer.refresh_from_db()
    assert customer.owner == am


def test_account_manager_may_send_back_the_owner_they_read(call, am, customer):
    response = call("patch", MINE, am, {"owner": "am", "notes": "訪問済み", "version": 1})

    assert response.status_code == 200
    assert Customer.objects.get(code="TKY-0001").notes == "訪問済み"


def test_moving_a_card_out_of_ones_reach_is_403_and_nothing_changes(call, users, areas, customer):
    before = snapshot("TKY-0001")

    response = call("patch", MINE, users[Role.MANAGER], {"area": "OSK", "version": 1})

    assert response.status_code == 403
    assert snapshot("TKY-0001") == before
    assert Customer.objects.get(code="TKY-0001").area == areas["TKY"]


# -- configurable card fields --------------------------------------------------------


@pytest.fixture
def card_fields(db):
    return {
        "staff_count": FieldDefinitionFactory(key="staff_count", field_type=FieldType.INTEGER),
        "opened_on": FieldDefinitionFactory(key="opened_on", field_type=FieldType.DATE),
        "has_parking": FieldDefinitionFactory(key="has_parking", field_type=FieldType.BOOLEAN),
        "payment": FieldDefinitionFactory(
            key="payment", field_type=FieldType.CHOICE, choices=["cash", "invoice"]
        ),
    }


def test_card_fields_are_written_and_read_by_key(call, am, customer, card_fields):
    body = {
        "fields": {"staff_count": 12, "opened_on": "1998-04-01", "has_parking": True},
        "version": 1,
    }

    response = call("patch", MINE, am, body)

    assert response.status_code == 200
    expected = {"staff_count": 12, "opened_on": "1998-04-01", "has_parking": True}
    assert response.json()["fields"] == expected
    assert Customer.objects.get(code="TKY-0001").field_values == expected
    # A later PATCH changes only the keys it sends.
    again = call("patch", MINE, am, {"fields": {"payment": "cash"}, "version": 2})
    assert again.json()["fields"] == {**expected, "payment": "cash"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("staff_count", "twelve"),
        ("staff_count", True),
        ("staff_count", 1.5),
        ("opened_on", 1998),
        ("opened_on", "last spring"),
        ("has_parking", "yes"),
        ("payment", "barter"),
    ],
)
def test_wrong_card_field_value_is_422_naming_the_key(call, am, customer, card_fields, key, value):
    before = snapshot("TKY-0001")

    response = call("patch", MINE, am, {"fields": {key: value}, "version": 1})

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "fields", key]]
    assert snapshot("TKY-0001") == before
    assert Customer.objects.get(code="TKY-0001").field_values == {}


def test_unknown_card_field_key_is_422_naming_it(call, am, customer, card_fields):
    response = call("patch", MINE, am, {"fields": {"shoe_size": 42}, "version": 1})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "fields", "shoe_size"]


@pytest.mark.parametrize("empty", [None, ""])
def test_null_or_empty_string_clears_a_card_field(call, am, customer, card_fields, empty):
    call("patch", MINE, am, {"fields": {"staff_count": 12, "payment": "cash"}, "version": 1})

    response = call("patch", MINE, am, {"fields": {"staff_count": empty}, "version": 2})

    assert response.status_code == 200
    assert response.json()["fields"] == {"payment": "cash"}
    assert Customer.objects.get(code="TKY-0001").field_values == {"payment": "cash"}


def test_every_lookup_and_type_error_is_reported_at_once(call, users, customer, card_fields):
    body = {"owner": "nobody", "area": "ATLANTIS", "fields": {"staff_count": "x"}, "version": 1}

    response = call("patch", MINE, users[Role.ADMINISTRATOR], body)

    assert response.status_code == 422
    locs = sorted(tuple(error["loc"]) for error in response.json()["detail"])
    assert locs == [("body", "area"), ("body", "fields", "staff_count"), ("body", "owner")]
    assert snapshot("TKY-0001")[0]["version"] == 1
