"""Which requests leave an access record (GOV-1): card pages and API reads, not refusals."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tokui.audit.models import AccessEvent, AccessEventCustomer
from tokui.audit.selectors import access_log, accesses_to_customer
from tokui.audit.services import record_access
from tokui.core.testing.factories import CustomerFactory, PersonFactory
from tokui.users.choices import Role
from tokui.users.services import token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_get(client):
    """``api_get(url, user, **headers)``: a GET with the user's bearer token."""

    def _get(url, user, **extra):
        token = token_create(user=user, name="test")[1]
        return client.get(url, headers={"Authorization": f"Bearer {token}"}, **extra)

    return _get


def only_event():
    return AccessEvent.objects.get()


# --- pages ----------------------------------------------------------------------------


def test_opening_a_card_records_a_view_with_address_and_browser(client, users, customer):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    response = client.get(
        "/customers/TKY-0001/", REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT="Mozilla/5.0 Test"
    )

    assert response.status_code == 200
    event = only_event()
    assert (event.actor_name, event.action, event.customer_id, event.count) == (
        "am",
        "view",
        customer.pk,
        1,
    )
    assert (event.ip_address, event.user_agent) == ("198.51.100.20", "Mozilla/5.0 Test")
    assert event.path == "/customers/TKY-0001/"


def test_a_card_view_costs_one_insert(client, users, customer):
    client.force_login(users[Role.ACCOUNT_MANAGER])
    client.get("/customers/TKY-0001/")  # warm the session and caches
    baseline = AccessEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        client.get("/customers/TKY-0001/")

    inserts = [q["sql"] for q in queries if "audit_access" in q["sql"]]
    assert len(inserts) == 1 and inserts[0].startswith("INSERT")
    assert AccessEvent.objects.count() == baseline + 1


def test_opening_the_history_of_a_card_records_a_view(client, users, customer):
    client.force_login(users[Role.AUDITOR])

    assert client.get("/customers/TKY-0001/history/").status_code == 200

    event = only_event()
    assert (event.action, event.customer_id, event.path) == (
        "view",
        customer.pk,
        "/customers/TKY-0001/history/",
    )


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.ACCOUNT_MANAGER, "/customers/OSK-0001/", 404),  # out of scope
        (Role.ANALYST, "/customers/TKY-0001/", 403),  # no cards at all
        (Role.SERVICE_AGENT, "/customers/TKY-0001/history/", 403),  # no history
        (Role.ACCOUNT_MANAGER, "/customers/NOPE/", 404),
    ],
)
def test_a_refused_page_records_nothing(client, users, customer, other_customer, role, url, status):
    client.force_login(users[role])

    assert client.get(url).status_code == status

    assert AccessEvent.objects.count() == 0


def test_browsing_the_html_list_is_not_recorded(client, users, customer):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    assert client.get("/customers/?q=ヤマダ").status_code == 200

    assert AccessEvent.objects.count() == 0


# --- API ------------------------------------------------------------------------------


def test_api_get_of_a_customer_records_an_api_read(api_get, users, customer):
    response = api_get("/api/v1/customers/TKY-0001", users[Role.ACCOUNT_MANAGER])

    assert response.status_code == 200
    event = only_event()
    assert (event.actor_name, event.action, event.customer_id, event.count) == (
        "am",
        "api_read",
        customer.pk,
        1,
    )


def test_api_reads_of_people_record_the_card_they_belong_to(api_get, users, customer):
    person = PersonFactory(customer=customer)
    user = users[Role.SERVICE_AGENT]

    assert api_get("/api/v1/customers/TKY-0001/people", user).status_code == 200
    assert api_get(f"/api/v1/people/{person.pk}", user).status_code == 200

    events = list(AccessEvent.objects.order_by("id"))
    assert [(e.action, e.customer_id, e.path) for e in events] == [
        ("api_read", customer.pk, "/api/v1/customers/TKY-0001/people"),
        ("api_read", customer.pk, f"/api/v1/people/{person.pk}"),
    ]


def test_an_api_list_page_is_one_record_with_its_size_and_query(api_get, users, areas):
    admin = users[Role.ADMINISTRATOR]
    for n in range(5):
        CustomerFactory(code=f"L-{n}", area=areas["TKY"], status="active")
    CustomerFactory(code="L-lost", area=areas["TKY"], status="lost")

    response = api_get("/api/v1/customers?status=active&page_size=3&page=2", admin)

    assert response.status_code == 200
    assert len(response.json()["items"]) == 2
    event = only_event()
    assert (event.action, event.count, event.customer_id) == ("api_read", 2, None)
    assert event.filters == {"status": "active", "page_size": "3", "page": "2"}
    assert AccessEventCustomer.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.ACCOUNT_MANAGER, "/api/v1/customers/OSK-0001", 404),
        (Role.ACCOUNT_MANAGER, "/api/v1/customers/OSK-0001/people", 404),
        (Role.ANALYST, "/api/v1/customers/TKY-0001", 403),
        (Role.ANALYST, "/api/v1/customers", 403),
    ],
)
def test_a_refused_api_read_records_nothing(
    api_get, users, customer, other_customer, role, url, status
):
    assert api_get(url, users[role]).status_code == status

    assert AccessEvent.objects.count() == 0


def test_a_person_out_of_scope_is_404_and_not_recorded(api_get, users, other_customer):
    person = PersonFactory(customer=other_customer)

    response = api_get(f"/api/v1/people/{person.pk}", users[Role.ACCOUNT_MANAGER])

    assert response.status_code == 404
    assert AccessEvent.objects.count() == 0


def test_anonymous_api_read_is_401_and_not_recorded(client, customer):
    assert client.get("/api/v1/customers/TKY-0001").status_code == 401
    assert AccessEvent.objects.count() == 0


# --- who looked at this card ----------------------------------------------------------


def test_who_looked_at_a_card_finds_single_views_and_sets_but_not_other_cards(
    users, customer, other_customer
):
    auditor = users[Role.AUDITOR]
    am = users[Role.ACCOUNT_MANAGER]
    seen_alone = record_access(actor=am, action="view", customer_ids=[customer.pk])
    in_an_export = record_access(
        actor=auditor, action="export", customer_ids=[customer.pk, other_customer.pk]
    )
    record_access(actor=am, action="view", customer_ids=[other_customer.pk])
    record_access(actor=am, action="api_read", count=20, filters={"search": "x"})

    found = accesses_to_customer(access_log(user=auditor), customer.pk)

    assert list(found) == [in_an_export, seen_alone]
