"""The duplicates page and the merge screen, as staff use them, with their permission matrix."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import CustomerFactory, PersonFactory
from tokui.customers import services
from tokui.customers.models import Customer, CustomerMerge, Person
from tokui.users.choices import Role

ADMIN = Role.ADMINISTRATOR
MANAGER = Role.MANAGER
AM = Role.ACCOUNT_MANAGER
NOT_EDITORS = (Role.SERVICE_AGENT, Role.ANALYST, Role.AUDITOR)


@pytest.fixture
def twin(users, areas, customer):
    """A second card of ``customer``'s shop, same name and phone, also the account manager's."""
    card = CustomerFactory(
        code="TKY-0002",
        name="山田商店",
        name_reading="ヤマダショウテン",
        owner=users[AM],
        area=areas["TKY"],
        phone="03-1234-5678",
        email="yamada@example.jp",
        status="dormant",
    )
    PersonFactory(customer=card, name="佐藤次郎")
    return card


def merge_url(keep, merge):
    return reverse("customers:merge", kwargs={"keep_code": keep.code, "merge_code": merge.code})


def state():
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "code", "status", "version")),
        list(Person.objects.order_by("pk").values_list("pk", "customer_id")),
        ObjectChange.objects.count(),
        CustomerMerge.objects.count(),
    )


def confirm_data(keep, merge, **choices):
    data = {"confirm": "1", "version-keep": keep.version, "version-merge": merge.version}
    data.update({f"pick-{name}": choice for name, choice in choices.items()})
    return data


# --- the duplicates page --------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client, customer, twin):
    for url in (reverse("customers:duplicates"), merge_url(customer, twin)):
        before = state()
        response = client.post(url, confirm_data(customer, twin))
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={quote(url)}"
        assert state() == before


@pytest.mark.parametrize("role", NOT_EDITORS)
def test_roles_that_change_no_card_may_not_look_for_duplicates(client, users, role):
    client.force_login(users[role])

    assert client.get(reverse("customers:duplicates")).status_code == 403


def test_account_manager_sees_pairs_among_their_cards_without_a_merge_button(
    client, users, customer, twin, other_customer
):
    CustomerFactory(code="OSK-0002", name="大阪物産", area=other_customer.area, phone="")
    client.force_login(users[AM])

    response = client.get(reverse("customers:duplicates"))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r["pair"].first.code, r["pair"].second.code, r["can_merge"]) for r in rows] == [
        ("TKY-0001", "TKY-0002", False)
    ]
    assert [str(reason) for reason in rows[0]["reasons"]] == [
        "same name",
        "same reading",
        "same phone",
    ]
    assert merge_url(customer, twin) not in response.content.decode()


@pytest.mark.parametrize("role", [MANAGER, ADMIN])
def test_managers_and_administrators_get_a_merge_link(client, users, customer, twin, role):
    client.force_login(users[role])

    response = client.get(reverse("customers:duplicates"))

    assert [r["can_merge"] for r in response.context["rows"]] == [True]
    assert merge_url(customer, twin) in response.content.decode()


def test_customer_list_links_to_the_duplicates(client, users, customer):
    client.force_login(users[AM])

    assert reverse("customers:duplicates") in client.get(reverse("customers:list")).content.decode()


# --- the merge screen: who may open it ------------------------------------------------


@pytest.mark.parametrize("role", [AM, *NOT_EDITORS])
def test_roles_that_may_not_delete_cards_may_not_merge(client, users, customer, twin, role):
    client.force_login(users[role])
    before = state()

    assert client.get(merge_url(customer, twin)).status_code == 403
    assert client.post(merge_url(customer, twin), confirm_data(customer, twin)).status_code == 403
    assert state() == before


def test_a_manager_gets_not_found_for_a_card_outside_their_area(
    client, users, customer, other_customer
):
    client.force_login(users[MANAGER])
    before = state()

    for url in (merge_url(customer, other_customer), merge_url(other_customer, customer)):
        assert client.get(url).status_code == 404
        assert client.post(url, confirm_data(customer, other_customer)).status_code == 404
    assert state() == before


def test_merging_a_card_into_itself_is_not_found(client, users, customer):
    client.force_login(users[ADMIN])
    before = state()

    response = client.post(merge_url(customer, customer), confirm_data(customer, customer))

    assert response.status_code == 404
    assert state() == before


# --- the merge screen: choose, preview, confirm ---------------------------------------


@pytest.mark.parametrize("role", [MANAGER, ADMIN])
def test_the_screen_lists_the_differing_fields_with_defaults(client, users, customer, twin, role):
    client.force_login(users[role])

    response = client.get(merge_url(customer, twin))

    assert response.status_code == 200
    rows = {
        row["name"]: (row["kept"], row["merged"], row["choice"]) for row in response.context["rows"]
    }
    # The kept card has no e-mail: by default the merged card's fills it.
    assert rows == {
        "status": ("Active", "Dormant", "keep"),
        "email": ("—", "yamada@example.jp", "merge"),
    }
    assert 'name="pick-status"' in response.content.decode()


def test_the_screen_names_choices_by_their_labels(client, users, customer, twin):
    from tokui.core.testing.factories import FieldDefinitionFactory

    FieldDefinitionFactory(
        key="outlet_size",
        field_type="choice",
        choices=["large", "small"],
        choice_labels={"large": {"en": "Large", "ja": "大"}, "small": {"en": "Small", "ja": "小"}},
    )
    for card, size in ((customer, "small"), (twin, "large")):
        card.field_values = {"outlet_size": size}
        card.save()
    client.force_login(users[MANAGER])

    response = client.get(merge_url(customer, twin), HTTP_ACCEPT_LANGUAGE="ja")

    rows = {row["name"]: (row["kept"], row["merged"]) for row in response.context["rows"]}
    assert rows["fields.outlet_size"] == ("小", "大")


def test_preview_shows_the_card_as_it_will_be_and_changes_nothing(client, users, customer, twin):
    client.force_login(users[MANAGER])
    before = state()

    response = client.post(
        merge_url(customer, twin),
        {"preview": "1", "pick-status": "merge", "pick-email": "keep", "version-keep": 1},
    )

    assert response.status_code == 200
    assert response.templates[0].name == "customers/merge_preview.html"
    assert {row["name"]: row["result"] for row in response.context["rows"]} == {
        "status": "Dormant",
        "email": "—",
    }
    content = response.content.decode()
    assert '<input type="hidden" name="pick-status" value="merge">' in content
    assert state() == before


def test_confirm_merges_and_shows_the_kept_card(client, users, customer, twin):
    client.force_login(users[MANAGER])

    response = client.post(merge_url(customer, twin), confirm_data(customer, twin, status="merge"))

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", kwargs={"code": customer.code})
    card = Customer.objects.get(pk=customer.pk)
    assert (card.status, card.email) == ("dormant", "yamada@example.jp")
    assert not Customer.objects.filter(code="TKY-0002").exists()
    assert list(Person.objects.values_list("customer__code", "name")) == [("TKY-0001", "佐藤次郎")]


def test_a_card_changed_meanwhile_is_refused_with_the_current_values(client, users, customer, twin):
    client.force_login(users[MANAGER])
    stale = confirm_data(customer, twin, status="merge")
    services.customer_update(
        actor=users[ADMIN], customer=twin, data={"status": "lost"}, expected_version=twin.version
    )
    before = state()

    response = client.post(merge_url(customer, twin), stale)

    assert response.status_code == 409
    assert state() == before
    assert response.context["versions"] == {"keep": customer.version, "merge": twin.version + 1}
    rows = {row["name"]: row["merged"] for row in response.context["rows"]}
    assert rows["status"] == "Lost"


def test_the_kept_cards_history_page_shows_the_merged_cards_history(client, users, customer, twin):
    person = services.person_create(
        actor=users[ADMIN], customer=twin, data={"relation": "contact", "name": "高橋三郎"}
    )
    client.force_login(users[MANAGER])
    client.post(merge_url(customer, twin), confirm_data(customer, twin))

    response = client.get(reverse("customers:history", kwargs={"code": customer.code}))

    content = response.content.decode()
    assert response.status_code == 200
    assert person.name in content
    assert "TKY-0002" in content
