"""Who gets into /api/v1/: bearer tokens, the browser session, and the OpenAPI document."""

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from tokui.customers.models import Customer
from tokui.users.choices import Role, TokenScope
from tokui.users.services import token_create, token_revoke

CUSTOMER_URL = "/api/v1/customers/TKY-0001"


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def patch(client, url, body, **kwargs):
    return client.patch(url, json.dumps(body), content_type="application/json", **kwargs)


@pytest.fixture
def am(users):
    return users[Role.ACCOUNT_MANAGER]


def test_a_valid_token_reads_as_its_user(client, am, customer, other_customer):
    _, raw = token_create(user=am, name="laptop")

    response = client.get("/api/v1/customers", headers=bearer(raw))

    assert response.status_code == 200
    assert [c["code"] for c in response.json()["items"]] == ["TKY-0001"]


def test_a_token_used_is_marked_with_the_time(client, am, customer):
    token, raw = token_create(user=am, name="laptop")

    client.get(CUSTOMER_URL, headers=bearer(raw))

    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer tokui_not-a-real-token"},
        {"Authorization": "Bearer not-even-our-prefix"},
        {"Authorization": "Basic YWRtaW46cGFzc3dvcmQ="},
    ],
    ids=["none", "empty", "unknown", "foreign", "basic"],
)
def test_missing_or_unknown_token_is_401_with_a_bearer_challenge(client, customer, headers):
    response = client.get(CUSTOMER_URL, headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="tokui"'
    assert response.json()["detail"]


def test_revoked_token_is_401(client, am, customer):
    token, raw = token_create(user=am, name="old laptop")
    token_revoke(token=token)

    assert client.get(CUSTOMER_URL, headers=bearer(raw)).status_code == 401


def test_expired_token_is_401(client, am, customer):
    _, raw = token_create(
        user=am, name="temp", expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    assert client.get(CUSTOMER_URL, headers=bearer(raw)).status_code == 401


def test_token_of_a_deactivated_user_is_401(client, am, customer):
    _, raw = token_create(user=am, name="laptop")
    am.is_active = False
    am.save()

    assert client.get(CUSTOMER_URL, headers=bearer(raw)).status_code == 401


def test_a_wrong_token_is_refused_even_with_a_signed_in_session(client, am, customer):
    client.force_login(am)

    response = client.get(CUSTOMER_URL, headers=bearer("tokui_wrong"))

    assert response.status_code == 401


def test_read_only_token_reads_but_may_not_write(client, am, customer):
    _, raw = token_create(user=am, name="dashboard", scope=TokenScope.READ)

    read = client.get(CUSTOMER_URL, headers=bearer(raw))
    write = patch(client, CUSTOMER_URL, {"name": "変更", "version": 1}, headers=bearer(raw))

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json() == {"detail": "This API token may only read."}
    customer.refresh_from_db()
    assert (customer.name, customer.version) == ("山田商店", 1)


def test_bearer_writes_need_no_csrf_token(am, customer):
    strict = Client(enforce_csrf_checks=True)
    _, raw = token_create(user=am, name="script")

    response = patch(
        strict, CUSTOMER_URL, {"name": "山田商店本店", "version": 1}, headers=bearer(raw)
    )

    assert response.status_code == 200
    assert Customer.objects.get(code="TKY-0001").name == "山田商店本店"


def test_signed_in_browser_session_reads_the_api(client, am, customer):
    client.force_login(am)

    response = client.get(CUSTOMER_URL)

    assert response.status_code == 200
    assert response.json()["code"] == "TKY-0001"


def test_session_writes_need_the_csrf_token(am, customer):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(am)

    refused = patch(strict, CUSTOMER_URL, {"name": "偽装", "version": 1})
    strict.get("/api/v1/docs")  # sets the CSRF cookie, as the docs page does for a browser
    token = strict.cookies["csrftoken"].value
    accepted = patch(strict, CUSTOMER_URL, {"name": "本物", "version": 1}, HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert Customer.objects.get(code="TKY-0001").name == "本物"


def test_anonymous_write_is_401_not_a_csrf_error(customer):
    strict = Client(enforce_csrf_checks=True)

    response = patch(strict, CUSTOMER_URL, {"name": "x", "version": 1})

    assert response.status_code == 401
    assert Customer.objects.get(code="TKY-0001").name == "山田商店"


def test_openapi_document_lists_every_path_with_its_error_responses(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/customers",
        "/api/v1/customers/{code}",
        "/api/v1/customers/{code}/people",
        "/api/v1/people/{person_id}",
        "/api/v1/products",
        "/api/v1/products/{code}",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/payments",
        # change requests (GOV-2)
        "/api/v1/change-requests",
        "/api/v1/change-requests/{pk}",
        "/api/v1/change-requests/{pk}/approve",
        "/api/v1/change-requests/{pk}/reject",
        "/api/v1/change-requests/{pk}/withdraw",
        # the trash
        "/api/v1/trash",
        "/api/v1/trash/{code}/restore",
        "/api/v1/trash/purge",
        # field rules (who sees what)
        "/api/v1/field-rules",
    }
    expected = {
        ("/api/v1/customers", "get"): {"200", "401", "403", "422"},
        ("/api/v1/customers", "post"): {"201", "202", "401", "403", "404", "422"},
        ("/api/v1/customers/{code}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/customers/{code}", "patch"): {
            "200",
            "202",  # a controlled field's change became a change request (GOV-2)
            "401",
            "403",
            "404",
            "409",
            "422",
        },
        ("/api/v1/customers/{code}", "delete"): {"204", "401", "403", "404"},
        ("/api/v1/customers/{code}/people", "get"): {"200", "401", "403", "404"},
        ("/api/v1/customers/{code}/people", "post"): {"201", "401", "403", "404", "422"},
        ("/api/v1/people/{person_id}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/people/{person_id}", "patch"): {"200", "401", "403", "404", "409", "422"},
        ("/api/v1/people/{person_id}", "delete"): {"204", "401", "403", "404"},
        ("/api/v1/products", "get"): {"200", "401", "403", "422"},
        ("/api/v1/products/{code}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/orders", "get"): {"200", "401", "403", "422"},
        ("/api/v1/orders/{number}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/payments", "get"): {"200", "401", "403", "422"},
        ("/api/v1/change-requests", "get"): {"200", "401", "403", "422"},
        ("/api/v1/change-requests/{pk}", "get"): {"200", "401", "403", "404"},
        ("/api/v1/change-requests/{pk}/approve", "post"): {
            "200",
            "401",
            "403",
            "404",
            "409",
            "422",
        },
        ("/api/v1/change-requests/{pk}/reject", "post"): {"200", "401", "403", "404", "409", "422"},
        ("/api/v1/change-requests/{pk}/withdraw", "post"): {
            "200",
            "401",
            "403",
            "404",
            "409",
            "422",
        },
        ("/api/v1/trash", "get"): {"200", "401", "403", "422"},
        ("/api/v1/trash/{code}/restore", "post"): {"200", "401", "403", "404", "422"},
        ("/api/v1/trash/purge", "post"): {"200", "401", "403"},
        ("/api/v1/field-rules", "get"): {"200", "401", "403"},
        ("/api/v1/field-rules", "put"): {"200", "401", "403", "422"},
    }
    found = {
        (path, method): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert found == expected
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }
    conflict = schema["components"]["schemas"]["ConflictOut"]
    assert set(conflict["required"]) == {"detail", "current_version"}
    customer = schema["components"]["schemas"]["CustomerOut"]["properties"]
    assert {"code", "kind", "name", "name_reading", "status", "owner", "area"} <= set(customer)
    assert {"tags", "fields", "version"} <= set(customer)


def test_docs_page_is_served_from_our_own_static_files(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_names_are_sent_as_utf8_not_escapes(client, am, customer):
    _, raw = token_create(user=am, name="laptop")

    response = client.get(CUSTOMER_URL, headers=bearer(raw))

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert '"name": "山田商店"' in response.content.decode("utf-8")


@pytest.mark.parametrize("path", ["/api/v1/people/abc", "/api/v1/no-such-thing", "/api/v2/"])
def test_an_api_path_that_matches_no_route_answers_404_in_json(client, am, path):
    _, raw = token_create(user=am, name="laptop")

    response = client.get(path, headers=bearer(raw))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_page_that_does_not_exist_is_still_an_html_page(client, am):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
