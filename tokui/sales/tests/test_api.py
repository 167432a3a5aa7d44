"""The product, order and payment endpoints: permission matrix, scope and shapes."""

import datetime
from decimal import Decimal

import pytest

from tokui.sales.tests import builders
from tokui.users.choices import Role
from tokui.users.services import token_create

ALL_ROLES = list(Role)
READERS = (Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.AUDITOR)
ENDPOINTS = [
    "/api/v1/products",
    "/api/v1/products/P-001",
    "/api/v1/orders",
    "/api/v1/orders/SO-1",
    "/api/v1/payments",
]


@pytest.fixture
def get(client):
    """``get(url, user)``: a GET with the user's API token (anonymous when None)."""

    def _get(url, user=None):
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {token_create(user=user, name='t')[1]}"
        return client.get(url, headers=headers)

    return _get


@pytest.fixture
def sales(users, customer, other_customer):
    builders.product("P-001", name="ポロシャツ", brand="Alpha", list_price=Decimal("2980"))
    builders.product("P-002", name="ジャケット", brand="Beta")
    builders.order(
        users,
        customer,
        number="SO-1",
        lines=[
            {
                "product": builders.product_for("P-001"),
                "quantity": Decimal("2"),
                "unit_price": Decimal("2980"),
            },
            {
                "product": builders.product_for("P-002"),
                "quantity": Decimal("1.5"),
                "unit_price": Decimal("1000"),
                "amount": Decimal("1400"),
            },
        ],
    )
    builders.order(users, other_customer, number="SO-2")
    builders.payment(users, customer, reference="PAY-1", amount=Decimal("300"))
    builders.payment(users, other_customer, reference="PAY-2")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_gets_401(get, sales, url):
    response = get(url)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required."}


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_reads_or_gets_403(get, users, sales, url, role):
    response = get(url, users[role])
    assert response.status_code == (200 if role in READERS else 403)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNT_MANAGER])
def test_order_out_of_scope_is_404(get, users, sales, role):
    response = get("/api/v1/orders/SO-2", users[role])
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_orders_of_a_customer_out_of_scope_are_an_empty_list(get, users, sales):
    am = users[Role.ACCOUNT_MANAGER]
    assert get("/api/v1/orders?customer=OSK-0001", am).json() == {"items": [], "count": 0}
    assert get("/api/v1/orders?customer=NO-SUCH", am).json() == {"items": [], "count": 0}
    assert get("/api/v1/payments?customer=OSK-0001", am).json() == {"items": [], "count": 0}


def test_order_list_holds_only_orders_in_scope(get, users, sales):
    body = get("/api/v1/orders", users[Role.ACCOUNT_MANAGER]).json()
    assert body == {
        "items": [
            {
                "number": "SO-1",
                "customer": "TKY-0001",
                "date": "2026-01-31",
                "channel": "other",
                "status": "confirmed",
                "total_amount": "7360.00",
                "line_count": 2,
            }
        ],
        "count": 1,
    }
    assert get("/api/v1/orders", users[Role.ADMINISTRATOR]).json()["count"] == 2


def test_order_detail_has_its_lines(get, users, sales):
    body = get("/api/v1/orders/SO-1", users[Role.ACCOUNT_MANAGER]).json()
    assert body["lines"] == [
        {
            "line_no": 1,
            "product": "P-001",
            "product_name": "ポロシャツ",
            "quantity": "2.000",
            "unit_price": "2980.00",
            "amount": "5960.00",
        },
        {
            "line_no": 2,
            "product": "P-002",
            "product_name": "ジャケット",
            "quantity": "1.500",
            "unit_price": "1000.00",
            "amount": "1400.00",
        },
    ]


def test_orders_filter_by_customer_and_date(get, users, sales, customer):
    admin = users[Role.ADMINISTRATOR]
    assert get("/api/v1/orders?customer=TKY-0001", admin).json()["count"] == 1
    later = (datetime.date(2026, 2, 1)).isoformat()
    assert get(f"/api/v1/orders?date_from={later}", admin).json()["count"] == 0


def test_payments_in_scope(get, users, sales):
    body = get("/api/v1/payments", users[Role.ACCOUNT_MANAGER]).json()
    assert body == {
        "items": [
            {
                "reference": "PAY-1",
                "customer": "TKY-0001",
                "date": "2026-02-10",
                "amount": "300.00",
                "method": "transfer",
            }
        ],
        "count": 1,
    }


def test_products_search_and_page(get, users, sales):
    agent = users[Role.SERVICE_AGENT]
    body = get("/api/v1/products?search=ポロ", agent).json()
    assert [p["code"] for p in body["items"]] == ["P-001"]
    assert body["items"][0]["list_price"] == "2980.00"
    assert get("/api/v1/products?brand=Beta", agent).json()["count"] == 1
    paged = get("/api/v1/products?page_size=1&page=2", agent).json()
    assert (paged["count"], [p["code"] for p in paged["items"]]) == (2, ["P-002"])


def test_unknown_product_is_404(get, users, sales):
    assert get("/api/v1/products/NOPE", users[Role.AUDITOR]).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/products", "/api/v1/orders", "/api/v1/payments"])
def test_a_page_number_past_any_list_is_422_not_a_database_error(get, users, sales, url):
    response = get(f"{url}?page=99999999999999999999", users[Role.ADMINISTRATOR])
    assert response.status_code == 422
    assert get(f"{url}?page=10000000", users[Role.ADMINISTRATOR]).json()["items"] == []
