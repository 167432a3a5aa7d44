"""Permission matrix for every card page: anonymous, wrong role, out of scope, allowed.

Given the shared fixtures (``customer`` in Tokyo owned by the account manager,
``other_customer`` in Osaka), each page answers: anonymous → log-in page with ``next``,
a role without the permission → 403, a card outside the user's scope → 404, and an
allowed user → the page. Refused POSTs change nothing.
"""

from urllib.parse import quote

import pytest
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import AddressFactory, PersonFactory
from tokui.customers.models import Address, Customer, Person
from tokui.users.choices import Role

ADMIN = Role.ADMINISTRATOR
MANAGER = Role.MANAGER
AM = Role.ACCOUNT_MANAGER
AGENT = Role.SERVICE_AGENT
ANALYST = Role.ANALYST
AUDITOR = Role.AUDITOR

READERS = (ADMIN, MANAGER, AM, AGENT, AUDITOR)
HISTORY_READERS = (ADMIN, MANAGER, AM, AUDITOR)
EDITORS = (ADMIN, MANAGER, AM)
DELETERS = (ADMIN, MANAGER)
ALL_ROLES = (ADMIN, MANAGER, AM, AGENT, ANALYST, AUDITOR)
# Roles whose scope does not reach Osaka: they get 404 for ``other_customer``.
SCOPED = (MANAGER, AM)

# (url name, roles allowed, takes a card, needs a row: "person" / "address" / None)
PAGES = [
    ("customers:list", READERS, False, None),
    ("customers:create", EDITORS, False, None),
    ("customers:detail", READERS, True, None),
    ("customers:edit", EDITORS, True, None),
    ("customers:history", HISTORY_READERS, True, None),
    ("customers:delete", DELETERS, True, None),
    ("customers:consent", EDITORS, True, None),
    ("customers:person_create", EDITORS, True, None),
    ("customers:person_edit", EDITORS, True, "person"),
    ("customers:person_delete", EDITORS, True, "person"),
    ("customers:address_create", EDITORS, True, None),
    ("customers:address_edit", EDITORS, True, "address"),
    ("customers:address_delete", EDITORS, True, "address"),
]
PAGE_IDS = [page[0].split(":")[1] for page in PAGES]


def page_url(name, card, row_kind):
    if card is None:
        return reverse(name)
    if row_kind == "person":
        row = PersonFactory(customer=card, name="佐藤花子")
        return reverse(name, kwargs={"code": card.code, "pk": row.pk})
    if row_kind == "address":
        row = AddressFactory(customer=card)
        return reverse(name, kwargs={"code": card.code, "pk": row.pk})
    return reverse(name, kwargs={"code": card.code})


def card_state():
    """Everything a refused request must leave untouched."""
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "name", "version")),
        Person.objects.count(),
        Address.objects.count(),
        ObjectChange.objects.count(),
    )


@pytest.mark.parametrize(("name", "allowed", "takes_card", "row_kind"), PAGES, ids=PAGE_IDS)
def test_anonymous_is_sent_to_log_in(client, customer, name, allowed, takes_card, row_kind):
    url = page_url(name, customer if takes_card else None, row_kind)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(url)}"


@pytest.mark.parametrize(("name", "allowed", "takes_card", "row_kind"), PAGES, ids=PAGE_IDS)
def test_anonymous_post_changes_nothing(client, customer, name, allowed, takes_card, row_kind):
    url = page_url(name, customer if takes_card else None, row_kind)
    before = card_state()

    response = client.post(url, {"name": "Changed", "code": "NEW-1", "kind": "shop"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert card_state() == before


@pytest.mark.parametrize(
    ("name", "role", "takes_card", "row_kind"),
    [
        (name, role, takes_card, row_kind)
        for name, allowed, takes_card, row_kind in PAGES
        for role in ALL_ROLES
        if role not in allowed
    ],
)
def test_role_without_the_permission_is_refused(
    client, users, customer, name, role, takes_card, row_kind
):
    url = page_url(name, customer if takes_card else None, row_kind)
    client.force_login(users[role])
    before = card_state()

    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Changed", "code": "NEW-1", "kind": "shop"}).status_code == 403
    assert card_state() == before


@pytest.mark.parametrize(
    ("name", "role", "row_kind"),
    [
        (name, role, row_kind)
        for name, allowed, takes_card, row_kind in PAGES
        if takes_card
        for role in SCOPED
        if role in allowed
    ],
)
def test_card_outside_the_scope_is_not_found(
    client, users, customer, other_customer, name, role, row_kind
):
    url = page_url(name, other_customer, row_kind)
    client.force_login(users[role])
    before = card_state()

    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Changed", "kind": "shop"}).status_code == 404
    assert card_state() == before


@pytest.mark.parametrize(
    ("name", "role", "takes_card", "row_kind"),
    [
        (name, role, takes_card, row_kind)
        for name, allowed, takes_card, row_kind in PAGES
        for role in allowed
    ],
)
def test_allowed_user_gets_the_page(client, users, customer, name, role, takes_card, row_kind):
    url = page_url(name, customer if takes_card else None, row_kind)
    client.force_login(users[role])

    response = client.get(url)

    assert response.status_code == 200
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("row_kind", ["person", "address"])
def test_row_of_another_card_is_not_found_under_this_card(
    client, users, customer, other_customer, row_kind
):
    """A person or address id only answers under the card it belongs to."""
    client.force_login(users[ADMIN])
    factory = PersonFactory if row_kind == "person" else AddressFactory
    foreign = factory(customer=other_customer)
    prefix = "person" if row_kind == "person" else "address"

    for action in ("edit", "delete"):
        url = reverse(
            f"customers:{prefix}_{action}", kwargs={"code": customer.code, "pk": foreign.pk}
        )
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert factory._meta.model.objects.filter(pk=foreign.pk).exists()


def test_unknown_code_is_not_found(client, users):
    client.force_login(users[ADMIN])

    assert client.get(reverse("customers:detail", kwargs={"code": "NOPE"})).status_code == 404


def test_delete_refused_for_account_manager_even_on_own_card(client, users, customer):
    client.force_login(users[AM])

    response = client.post(reverse("customers:delete", kwargs={"code": customer.code}))

    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()
