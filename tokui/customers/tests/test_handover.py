"""Handover of an account manager's customers (CARD-9): service, page and command."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import CustomerFactory, UserFactory
from tokui.customers.models import Customer
from tokui.customers.services import customers_reassign
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaving(areas):
    return UserFactory(username="leaving", role=Role.ACCOUNT_MANAGER, area=areas["TKY"])


@pytest.fixture
def successor(areas):
    return UserFactory(username="successor", role=Role.ACCOUNT_MANAGER, area=areas["TKY"])


@pytest.fixture
def tokyo_cards(leaving, areas):
    return [
        CustomerFactory(code=f"TKY-H{n}", owner=leaving, area=areas["TKY"], status=status)
        for n, status in enumerate(["active", "active", "prospect"])
    ]


def _owners(codes):
    return dict(Customer.objects.filter(code__in=codes).values_list("code", "owner__username"))


def test_manager_hands_over_every_card_of_their_area(users, leaving, successor, tokyo_cards):
    versions = {c.pk: c.version for c in tokyo_cards}

    moved = customers_reassign(actor=users[Role.MANAGER], from_user=leaving, to_user=successor)

    assert moved == 3
    codes = [c.code for c in tokyo_cards]
    assert _owners(codes) == dict.fromkeys(codes, "successor")
    for card in Customer.objects.filter(code__in=codes):
        assert card.version == versions[card.pk] + 1
    rows = ObjectChange.objects.filter(customer_id__in=versions, action="update")
    assert rows.count() == 3
    assert {row.actor_name for row in rows} == {"manager"}
    assert [row.changes for row in rows] == [{"owner": {"old": "leaving", "new": "successor"}}] * 3


def test_assigned_links_move_to_the_successor(users, leaving, successor, customer):
    customer.assigned_users.add(leaving)

    moved = customers_reassign(actor=users[Role.MANAGER], from_user=leaving, to_user=successor)

    assert moved == 1
    customer.refresh_from_db()
    assert customer.owner == users[Role.ACCOUNT_MANAGER]
    assert sorted(customer.assigned_users.values_list("username", flat=True)) == ["successor"]
    row = ObjectChange.objects.get(customer_id=customer.pk)
    assert row.changes == {"assigned_users": {"old": ["leaving"], "new": ["successor"]}}


def test_manager_cannot_hand_over_cards_outside_their_area(
    users, leaving, successor, tokyo_cards, areas
):
    outside = CustomerFactory(code="OSK-H1", owner=leaving, area=areas["OSK"])
    codes = [c.code for c in tokyo_cards] + [outside.code]

    with pytest.raises(PermissionDenied):
        customers_reassign(actor=users[Role.MANAGER], from_user=leaving, to_user=successor)

    assert _owners(codes) == dict.fromkeys(codes, "leaving")
    assert not ObjectChange.objects.filter(customer_id__isnull=False).exists()
    assert set(Customer.objects.filter(code__in=codes).values_list("version", flat=True)) == {1}


def test_chosen_cards_only(users, leaving, successor, tokyo_cards):
    moved = customers_reassign(
        actor=users[Role.ADMINISTRATOR],
        from_user=leaving,
        to_user=successor,
        customer_ids=[tokyo_cards[0].pk],
    )

    assert moved == 1
    assert _owners([c.code for c in tokyo_cards]) == {
        "TKY-H0": "successor",
        "TKY-H1": "leaving",
        "TKY-H2": "leaving",
    }


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.AUDITOR])
def test_roles_without_area_reach_may_not_hand_over(users, role, leaving, successor, tokyo_cards):
    with pytest.raises(PermissionDenied):
        customers_reassign(actor=users[role], from_user=leaving, to_user=successor)
    assert _owners([c.code for c in tokyo_cards]) == dict.fromkeys(
        [c.code for c in tokyo_cards], "leaving"
    )


@pytest.mark.parametrize("receiver", ["inactive", "auditor", "osaka", "same"])
def test_receiver_must_be_an_active_account_manager_in_reach(
    users, leaving, tokyo_cards, areas, receiver
):
    to_user = {
        "inactive": lambda: UserFactory(
            role=Role.ACCOUNT_MANAGER, area=areas["TKY"], is_active=False
        ),
        "auditor": lambda: users[Role.AUDITOR],
        "osaka": lambda: UserFactory(role=Role.ACCOUNT_MANAGER, area=areas["OSK"]),
        "same": lambda: leaving,
    }[receiver]()

    with pytest.raises(ValidationError):
        customers_reassign(actor=users[Role.MANAGER], from_user=leaving, to_user=to_user)

    assert _owners([c.code for c in tokyo_cards]) == dict.fromkeys(
        [c.code for c in tokyo_cards], "leaving"
    )


def test_page_previews_the_count_then_hands_over(client, users, leaving, successor, tokyo_cards):
    client.force_login(users[Role.MANAGER])
    query = {"from_user": "leaving", "to_user": "successor", "status": "active"}

    preview = client.get(reverse("customers:handover"), query)

    assert preview.status_code == 200
    assert preview.context["count"] == 2
    assert _owners(["TKY-H0"]) == {"TKY-H0": "leaving"}

    response = client.post(reverse("customers:handover"), query)

    assert response.status_code == 302
    assert _owners([c.code for c in tokyo_cards]) == {
        "TKY-H0": "successor",
        "TKY-H1": "successor",
        "TKY-H2": "leaving",
    }


def test_history_page_shows_the_owner_change(client, users, leaving, successor, tokyo_cards):
    customers_reassign(actor=users[Role.ADMINISTRATOR], from_user=leaving, to_user=successor)
    client.force_login(users[Role.MANAGER])

    response = client.get(reverse("customers:history", args=["TKY-H0"]))

    rows = [(r["old"], r["new"]) for r in response.context["rows"]]
    assert ("leaving", "successor") in [(str(old), str(new)) for old, new in rows]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMINISTRATOR, 200),
        (Role.MANAGER, 200),
        (Role.ACCOUNT_MANAGER, 403),
        (Role.SERVICE_AGENT, 403),
        (Role.ANALYST, 403),
        (Role.AUDITOR, 403),
    ],
)
def test_page_permissions(client, users, role, status):
    client.force_login(users[role])
    assert client.get(reverse("customers:handover")).status_code == status


def test_page_refuses_anonymous(client, leaving, successor, tokyo_cards):
    response = client.post(
        reverse("customers:handover"), {"from_user": "leaving", "to_user": "successor"}
    )
    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]
    assert _owners(["TKY-H0"]) == {"TKY-H0": "leaving"}


def test_command_hands_over_by_status(users, leaving, successor, tokyo_cards, capsys):
    call_command("handover", "leaving", "successor", "--status", "prospect")

    assert "1 customers handed from leaving to successor." in capsys.readouterr().out
    assert _owners([c.code for c in tokyo_cards]) == {
        "TKY-H0": "leaving",
        "TKY-H1": "leaving",
        "TKY-H2": "successor",
    }


def test_command_refuses_an_account_manager(users, leaving, successor, tokyo_cards):
    with pytest.raises(CommandError):
        call_command("handover", "leaving", "successor", "--as", "am")
    assert _owners(["TKY-H0"]) == {"TKY-H0": "leaving"}
