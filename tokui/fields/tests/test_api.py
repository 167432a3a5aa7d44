"""The field-rules endpoints: read by readers of the card fields, set by administrators."""

import json

import pytest

from tokui.audit.models import ObjectChange
from tokui.fields.models import CategoryRule
from tokui.users.choices import Role
from tokui.users.services import token_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/field-rules"
HIDE_NETWORK = {
    "rules": [
        {"category": "network", "role": "account_manager", "can_view": False, "can_edit": False}
    ]
}


def call(client, user, method, body=None):
    headers = {}
    if user is not None:
        headers["Authorization"] = f"Bearer {token_create(user=user, name='t')[1]}"
    kwargs = {"headers": headers}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(URL, **kwargs)


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR])
def test_readers_of_the_card_fields_get_the_whole_grid(client, users, role):
    CategoryRule.objects.create(
        category="network", role=Role.ACCOUNT_MANAGER, can_view=False, can_edit=False
    )

    response = call(client, users[role], "get")

    assert response.status_code == 200
    grid = {(r["category"], r["role"]): (r["can_view"], r["can_edit"]) for r in response.json()}
    assert len(grid) == 5 * 6
    assert grid[("network", "account_manager")] == (False, False)
    assert grid[("management", "service_agent")] == (False, False)  # the default
    assert grid[("personal", "auditor")] == (True, False)


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST])
def test_other_roles_may_not_read_the_rules(client, users, role):
    assert call(client, users[role], "get").status_code == 403


def test_anonymous_callers_get_401(client, db):
    assert call(client, None, "get").status_code == 401
    assert call(client, None, "put", HIDE_NETWORK).status_code == 401


def test_an_administrator_sets_a_rule_and_it_is_audited(client, users):
    response = call(client, users[Role.ADMINISTRATOR], "put", HIDE_NETWORK)

    assert response.status_code == 200
    grid = {(r["category"], r["role"]): r["can_view"] for r in response.json()}
    assert grid[("network", "account_manager")] is False
    assert CategoryRule.objects.get().can_view is False
    assert ObjectChange.objects.filter(object_type="fields.categoryrule").count() == 1


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AUDITOR, Role.ACCOUNT_MANAGER])
def test_only_administrators_set_rules(client, users, role):
    response = call(client, users[role], "put", HIDE_NETWORK)

    assert response.status_code == 403
    assert not CategoryRule.objects.exists()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"category": "network", "role": "auditor", "can_view": False, "can_edit": True},
            "Auditor may not edit Network fields without seeing them.",
        ),
        ({"category": "network", "role": "owner", "can_view": True, "can_edit": True}, None),
    ],
)
def test_a_bad_rule_is_refused_and_nothing_is_saved(client, users, rule, message):
    body = {"rules": [HIDE_NETWORK["rules"][0], rule]}

    response = call(client, users[Role.ADMINISTRATOR], "put", body)

    assert response.status_code == 422
    if message:
        assert [e["msg"] for e in response.json()["detail"]] == [message]
    assert not CategoryRule.objects.exists()
    assert not ObjectChange.objects.exists()
