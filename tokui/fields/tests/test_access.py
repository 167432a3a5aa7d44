"""Who may see and edit which part of the card: the rules, their page and their service."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import FieldDefinitionFactory, UserFactory
from tokui.fields import services
from tokui.fields.access import DEFAULT_RULES, card_access, category_rules
from tokui.fields.choices import Category
from tokui.fields.models import CategoryRule, FieldDefinition
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

ALL = set(Category.values)
URL = "/fields/rules/"


def fresh(user):
    """The user as the next request sees them: no access kept from an earlier read."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def fields_by_category(db):
    return {
        category: FieldDefinitionFactory(key=f"{category}_field", category=category)
        for category in Category.values
    }


# --- card_access ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees", "edits"),
    [
        (Role.ADMINISTRATOR, ALL, ALL),
        (Role.MANAGER, ALL, ALL),
        (Role.ACCOUNT_MANAGER, ALL, ALL),
        (Role.SERVICE_AGENT, ALL - {Category.MANAGEMENT}, set()),
        (Role.ANALYST, set(), set()),
        (Role.AUDITOR, ALL, set()),
    ],
)
def test_without_rules_each_role_gets_the_defaults(users, fields_by_category, role, sees, edits):
    access = card_access(users[role])

    assert set(access.viewable_categories) == sees
    assert set(access.editable_categories) == edits
    assert access.visible_keys == {f"{c}_field" for c in sees}
    assert access.editable_keys == {f"{c}_field" for c in edits}
    assert access.can_view("phone") is (Category.PERSONAL in sees)
    assert access.can_view("tags") is (Category.BASIC in sees)


def test_a_rule_row_overrides_the_default_for_that_role_only(users, fields_by_category):
    CategoryRule.objects.create(
        category=Category.NETWORK, role=Role.ACCOUNT_MANAGER, can_view=False, can_edit=False
    )
    CategoryRule.objects.create(
        category=Category.MANAGEMENT, role=Role.SERVICE_AGENT, can_view=True, can_edit=False
    )

    am = card_access(users[Role.ACCOUNT_MANAGER])
    agent = card_access(users[Role.SERVICE_AGENT])
    manager = card_access(users[Role.MANAGER])

    assert not am.can_view("network_field") and not am.can_edit("network_field")
    assert am.can_view("basic_field") and am.can_edit("basic_field")
    assert agent.can_view("management_field") and not agent.can_edit("management_field")
    assert manager.can_view("network_field") and manager.can_edit("network_field")


def test_a_field_with_roles_of_its_own_ignores_its_category_rule(users):
    FieldDefinitionFactory(
        key="credit_limit",
        category=Category.BASIC,
        view_roles=[Role.ADMINISTRATOR, Role.MANAGER],
        edit_roles=[Role.ADMINISTRATOR],
    )

    seen = {role for role in Role.values if card_access(users[role]).can_view("credit_limit")}
    edited = {role for role in Role.values if card_access(users[role]).can_edit("credit_limit")}

    assert seen == {Role.ADMINISTRATOR, Role.MANAGER}
    assert edited == {Role.ADMINISTRATOR}
    assert (
        card_access(users[Role.ACCOUNT_MANAGER]).visible_values({"credit_limit": 5, "other": 1})
        == {}
    )


def test_an_inactive_or_anonymous_user_sees_nothing(db, fields_by_category):
    from django.contrib.auth.models import AnonymousUser

    gone = UserFactory(username="gone", role=Role.ADMINISTRATOR, is_active=False)

    for access in (card_access(gone), card_access(AnonymousUser()), card_access(None)):
        assert not access.viewable_categories
        assert not access.visible_keys
        assert not access.can_view("phone")
        assert not access.can_view("name")
        assert not access.sees_everything


def test_identity_is_always_visible_to_a_role_that_opens_cards(users):
    CategoryRule.objects.create(
        category=Category.BASIC, role=Role.SERVICE_AGENT, can_view=False, can_edit=False
    )

    access = card_access(users[Role.SERVICE_AGENT])

    assert all(access.can_view(part) for part in ("code", "name", "status", "owner", "area"))
    assert not access.can_view("tags")


def test_history_masking_follows_the_part_of_the_changed_field(users, fields_by_category):
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.AUDITOR, can_view=False, can_edit=False
    )
    access = card_access(users[Role.AUDITOR])

    assert not access.can_view_change("customers.customer", "phone")
    assert not access.can_view_change("customers.customer", "fields.personal_field")
    assert not access.can_view_change("customers.person", "birthday")
    assert access.can_view_change("customers.customer", "name")
    assert access.can_view_change("customers.customer", "fields.basic_field")
    assert access.can_view_change("sales.order", "status")


# --- the service ----------------------------------------------------------------------


def test_an_administrator_saves_rules_and_each_change_is_audited(users):
    admin = users[Role.ADMINISTRATOR]

    changed = services.category_rules_set(
        actor=admin,
        rules={
            (Category.NETWORK, Role.ACCOUNT_MANAGER): (False, False),
            (Category.BASIC, Role.ADMINISTRATOR): (True, True),  # the default: no change
        },
    )

    assert changed == 1
    rule = CategoryRule.objects.get()
    assert (rule.category, rule.role, rule.can_view, rule.can_edit) == (
        Category.NETWORK,
        Role.ACCOUNT_MANAGER,
        False,
        False,
    )
    change = ObjectChange.objects.get(object_type="fields.categoryrule")
    assert change.actor == admin
    assert change.changes == {
        "can_edit": {"old": True, "new": False},
        "can_view": {"old": True, "new": False},
    }
    assert Category.NETWORK not in category_rules()[Role.ACCOUNT_MANAGER][0]
    assert not card_access(fresh(users[Role.ACCOUNT_MANAGER])).can_view("route")


def test_editing_without_seeing_is_refused_and_nothing_is_saved(users):
    with pytest.raises(ValidationError) as error:
        services.category_rules_set(
            actor=users[Role.ADMINISTRATOR],
            rules={
                (Category.NETWORK, Role.ACCOUNT_MANAGER): (False, False),
                (Category.BUSINESS, Role.SERVICE_AGENT): (False, True),
            },
        )

    assert "Service agent may not edit Business fields without seeing them." in error.value.messages
    assert not CategoryRule.objects.exists()
    assert not ObjectChange.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_only_administrators_may_change_the_rules(users, role):
    with pytest.raises(PermissionDenied):
        services.category_rules_set(
            actor=users[role], rules={(Category.NETWORK, Role.ACCOUNT_MANAGER): (False, False)}
        )

    assert not CategoryRule.objects.exists()


def test_defaults_stay_in_sync_with_the_role_list():
    assert set(DEFAULT_RULES) == set(Role.values)


# --- the page -------------------------------------------------------------------------


def grid_post(**overrides) -> dict:
    """The whole grid as the page posts it: the defaults, with ``overrides`` applied."""
    data = {}
    for role, (view, edit) in DEFAULT_RULES.items():
        for category in Category.values:
            see, change = overrides.get(f"{category}-{role}", (category in view, category in edit))
            if see:
                data[f"view-{category}-{role}"] = "on"
            if change:
                data[f"edit-{category}-{role}"] = "on"
    return data


def test_the_administrator_sees_the_grid_and_saves_it(client, users):
    client.force_login(users[Role.ADMINISTRATOR])

    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="view-network-account_manager" checked' in html
    assert 'name="edit-management-service_agent">' in html  # unticked, enabled

    response = client.post(URL, grid_post(**{"network-account_manager": (False, False)}))

    assert response.status_code == 302
    assert response.url == reverse("fields:rules")
    assert list(CategoryRule.objects.values_list("category", "role", "can_view", "can_edit")) == [
        (Category.NETWORK, Role.ACCOUNT_MANAGER, False, False)
    ]
    html = client.get(URL).content.decode()
    assert 'name="view-network-account_manager">' in html


def test_a_grid_that_edits_without_seeing_shows_the_error_and_saves_nothing(client, users):
    client.force_login(users[Role.ADMINISTRATOR])

    response = client.post(URL, grid_post(**{"business-auditor": (False, True)}))

    assert response.status_code == 400
    assert "Auditor may not edit Business fields without seeing them." in response.content.decode()
    assert not CategoryRule.objects.exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AUDITOR])
def test_readers_of_the_card_fields_see_the_grid_read_only(client, users, role):
    client.force_login(users[role])

    page = client.get(URL)
    response = client.post(URL, grid_post(**{"network-account_manager": (False, False)}))

    assert page.status_code == 200
    assert 'name="view-basic-manager" checked disabled' in page.content.decode()
    assert response.status_code == 403
    assert not CategoryRule.objects.exists()


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST])
def test_other_roles_may_not_open_the_grid(client, users, role):
    client.force_login(users[role])

    assert client.get(URL).status_code == 403
    assert client.post(URL, grid_post()).status_code == 403
    assert not CategoryRule.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- the field form -------------------------------------------------------------------


def definition_form(**overrides):
    data = {
        "key": "credit_limit",
        "label": "Credit limit",
        "field_type": "integer",
        "category": "management",
        "maintenance": "dynamic",
        "order": "10",
    }
    data.update(overrides)
    return data


def test_the_field_form_saves_its_own_readers_and_editors(client, users):
    client.force_login(users[Role.ADMINISTRATOR])

    response = client.post(
        reverse("fields:create"),
        definition_form(
            view_roles=["manager", "administrator"], edit_roles=["administrator"], controlled="on"
        ),
    )

    assert response.status_code == 302
    definition = FieldDefinition.objects.get(key="credit_limit")
    assert definition.view_roles == ["administrator", "manager"]
    assert definition.edit_roles == ["administrator"]
    assert definition.controlled is True
    created = ObjectChange.objects.get(object_type="fields.fielddefinition")
    assert created.changes["view_roles"] == {"old": None, "new": ["administrator", "manager"]}
    page = client.get(reverse("fields:edit", args=["credit_limit"])).content.decode()
    assert re.search(r'name="view_roles"\s+value="manager"\s+id="id_view_roles_1" checked', page)


def test_a_role_that_edits_a_field_must_also_see_it(client, users):
    client.force_login(users[Role.ADMINISTRATOR])

    response = client.post(
        reverse("fields:create"),
        definition_form(view_roles=["administrator"], edit_roles=["administrator", "manager"]),
    )

    assert response.status_code == 200
    assert "Roles that may edit the field must also see it: Manager." in response.content.decode()
    assert not FieldDefinition.objects.filter(key="credit_limit").exists()


def test_an_unknown_role_is_refused_by_the_form(client, users):
    client.force_login(users[Role.ADMINISTRATOR])

    response = client.post(reverse("fields:create"), definition_form(view_roles=["owner"]))

    assert response.status_code == 200
    assert "Select a valid choice. owner is not one of the available choices." in (
        response.content.decode()
    )
    assert not FieldDefinition.objects.filter(key="credit_limit").exists()
