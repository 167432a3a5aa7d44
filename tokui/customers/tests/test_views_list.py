"""The customer list: search, filters, sorting, paging, htmx fragments and query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.core.testing.factories import CustomerFactory
from tokui.customers.choices import CustomerStatus
from tokui.customers.models import Tag
from tokui.users.choices import Role

LIST_URL = reverse("customers:list")


def codes_on_page(response) -> list[str]:
    return [customer.code for customer in response.context["table"].page_rows()]


@pytest.fixture
def admin_client(client, users):
    client.force_login(users[Role.ADMINISTRATOR])
    return client


@pytest.mark.parametrize(
    "query",
    [
        "TKY-0001",
        "山田",
        "ヤマダ",
        "やまだ",
        "ﾔﾏﾀﾞ",
        "ヤマダ　ショウテン",
        "0312345678",
        "03-1234-5678",
    ],
)
def test_search_finds_the_card_by_code_name_reading_or_phone(
    admin_client, customer, other_customer, query
):
    response = admin_client.get(LIST_URL, {"q": query})

    assert response.status_code == 200
    assert codes_on_page(response) == ["TKY-0001"]


def test_search_never_reaches_beyond_the_scope(client, users, customer, other_customer):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    response = client.get(LIST_URL, {"q": "オオサカ"})

    assert codes_on_page(response) == []
    assert "大阪物産" not in response.content.decode()


def test_list_without_filters_shows_only_the_users_customers(
    client, users, customer, other_customer
):
    client.force_login(users[Role.MANAGER])

    assert codes_on_page(client.get(LIST_URL)) == ["TKY-0001"]


def test_filters_by_status_owner_area_and_tag(admin_client, users, areas, customer, other_customer):
    dormant = CustomerFactory(code="TKY-0002", status=CustomerStatus.DORMANT, area=areas["TKY"])
    tag = Tag.objects.create(name="VIP")
    other_customer.tags.add(tag)

    assert codes_on_page(admin_client.get(LIST_URL, {"status": "dormant"})) == ["TKY-0002"]
    assert codes_on_page(admin_client.get(LIST_URL, {"owner": "am_osaka"})) == ["OSK-0001"]
    assert codes_on_page(admin_client.get(LIST_URL, {"tag": "VIP"})) == ["OSK-0001"]
    assert sorted(codes_on_page(admin_client.get(LIST_URL, {"area": "TKY"}))) == [
        "TKY-0001",
        "TKY-0002",
    ]
    # Areas form a tree: the region includes its sub-areas.
    assert len(codes_on_page(admin_client.get(LIST_URL, {"area": "JP"}))) == 3
    assert codes_on_page(admin_client.get(LIST_URL, {"area": "TKY", "status": "active"})) == [
        "TKY-0001"
    ]
    assert dormant.pk


def test_unknown_filter_value_is_reported_and_ignored(admin_client, customer, other_customer):
    response = admin_client.get(LIST_URL, {"owner": "nobody", "q": "山田"})

    assert response.status_code == 200
    assert codes_on_page(response) == ["TKY-0001"]
    assert "Some filters were not understood" in response.content.decode()


def test_name_sorts_by_reading_not_by_characters(admin_client, db):
    # By code point 山 (U+5C71) comes before 青 (U+9752); by reading アオキ comes before ヤマダ.
    CustomerFactory(code="B", name="山田", name_reading="ヤマダ")
    CustomerFactory(code="A", name="青木", name_reading="アオキ")
    CustomerFactory(code="C", name="Smith", name_reading="")

    assert codes_on_page(admin_client.get(LIST_URL)) == ["C", "A", "B"]
    assert codes_on_page(admin_client.get(LIST_URL, {"sort": "name"})) == ["C", "A", "B"]
    assert codes_on_page(admin_client.get(LIST_URL, {"sort": "-name"})) == ["B", "A", "C"]
    assert codes_on_page(admin_client.get(LIST_URL, {"sort": "code"})) == ["A", "B", "C"]
    assert codes_on_page(admin_client.get(LIST_URL, {"sort": "-code"})) == ["C", "B", "A"]


def test_sort_by_status_and_update_time(admin_client, db):
    CustomerFactory(code="P", status=CustomerStatus.PROSPECT)
    CustomerFactory(code="A", status=CustomerStatus.ACTIVE)
    last = CustomerFactory(code="D", status=CustomerStatus.DORMANT)
    last.notes = "touched"
    last.save()

    assert codes_on_page(admin_client.get(LIST_URL, {"sort": "status"})) == ["A", "D", "P"]
    assert codes_on_page(admin_client.get(LIST_URL, {"sort": "-updated"}))[0] == "D"
    assert codes_on_page(admin_client.get(LIST_URL, {"sort": "updated"}))[-1] == "D"


def test_unknown_sort_falls_back_to_the_reading(admin_client, db):
    CustomerFactory(code="B", name="山田", name_reading="ヤマダ")
    CustomerFactory(code="A", name="青木", name_reading="アオキ")

    response = admin_client.get(LIST_URL, {"sort": "password"})

    assert response.status_code == 200
    assert codes_on_page(response) == ["A", "B"]


def test_pages_hold_fifty_customers(admin_client, settings, db):
    CustomerFactory.create_batch(51)

    first = admin_client.get(LIST_URL)
    second = admin_client.get(LIST_URL, {"page": 2})

    assert settings.TOKUI_PAGE_SIZE == 50
    assert len(codes_on_page(first)) == 50
    assert len(codes_on_page(second)) == 1
    assert set(codes_on_page(first)).isdisjoint(codes_on_page(second))
    assert "51 customers" in first.content.decode()


def test_htmx_request_gets_only_the_results_fragment(admin_client, customer):
    full = admin_client.get(LIST_URL, {"q": "やまだ"}).content.decode()
    fragment = admin_client.get(LIST_URL, {"q": "やまだ"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()

    assert "<html" in full and 'id="customer-filter"' in full
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert 'id="customer-filter"' not in html
    assert "TKY-0001" in html
    assert "HX-Request" in fragment["Vary"]


def test_search_form_refreshes_the_results_with_htmx(admin_client, customer):
    html = admin_client.get(LIST_URL).content.decode()

    assert 'hx-get="/customers/"' in html
    assert 'hx-target="#results"' in html
    assert 'hx-push-url="true"' in html


def test_names_are_escaped_in_the_list(admin_client, db):
    CustomerFactory(code="X1", name="<b>x</b>", name_reading="<i>y</i>")

    html = admin_client.get(LIST_URL).content.decode()

    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html
    assert "<i>y</i>" not in html


def _list_queries(client, count: int, areas, users) -> int:
    tag = Tag.objects.get_or_create(name="VIP")[0]
    for _ in range(count):
        card = CustomerFactory(area=areas["TKY"], owner=users[Role.ACCOUNT_MANAGER])
        card.tags.add(tag)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(
    client, users, areas, django_assert_max_num_queries
):
    client.force_login(users[Role.MANAGER])
    few = _list_queries(client, 3, areas, users)
    many = _list_queries(client, 40, areas, users)

    assert many == few
    # session, user, second-factor device, area, field rules (category rules, field
    # definitions), tag lookup, count, owner/area/tag choices, page, tags, the menu's count
    # of change requests waiting for this manager, session save
    with django_assert_max_num_queries(17):
        client.get(LIST_URL, {"q": "c0", "status": "active", "tag": "VIP", "sort": "-name"})


def test_list_query_orders_by_the_indexed_reading(admin_client, customer):
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(LIST_URL)

    page_query = next(q["sql"] for q in queries if "LIMIT" in q["sql"] and "sort_key" in q["sql"])
    assert 'ORDER BY "customers_customer"."sort_key" ASC' in page_query
