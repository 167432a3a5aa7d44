"""Change requests: asking, deciding, and a card that moved on in between (GOV-2)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tokui.approvals.choices import RequestSource, RequestStatus
from tokui.approvals.models import ChangeRequest
from tokui.approvals.services import (
    change_request_approve,
    change_request_create,
    change_request_reject,
    change_request_withdraw,
    customer_edit_with_approval,
)
from tokui.audit.models import ObjectChange
from tokui.core.exceptions import EditConflict
from tokui.core.testing.factories import ChangeRequestFactory
from tokui.customers.models import Customer
from tokui.customers.services import customer_update
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


def fresh(customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def ask(users, customer, value="800000", reason="New contract"):
    """The account manager's edit of the controlled field, as the card's form sends it."""
    return customer_edit_with_approval(
        actor=users[Role.ACCOUNT_MANAGER],
        customer=customer,
        data={"field_values": {"credit_limit": value}},
        expected_version=fresh(customer).version,
        reason=reason,
    )


def test_account_manager_edit_of_controlled_field_becomes_a_request(
    users, customer, controlled, free_field
):
    before = fresh(customer).version

    _card, request = customer_edit_with_approval(
        actor=users[Role.ACCOUNT_MANAGER],
        customer=customer,
        data={"name": "山田商店 本店", "field_values": {"credit_limit": "800000", "hobby": "Golf"}},
        expected_version=before,
        reason="New contract",
    )

    card = fresh(customer)
    assert card.name == "山田商店 本店"
    assert card.field_values == {"hobby": "Golf"}  # the controlled value waits
    assert card.version == before + 1
    assert request.status == RequestStatus.PENDING
    assert request.proposed == {"field_values": {"credit_limit": 800000}}
    assert request.current == {"credit_limit": None}
    assert request.base_version == card.version  # the requester's own change is no conflict
    assert request.requested_by == users[Role.ACCOUNT_MANAGER]
    assert request.source == RequestSource.WEB
    audit = ObjectChange.objects.get(object_type="approvals.changerequest")
    assert audit.action == "create"
    assert audit.customer_id == customer.pk
    assert audit.changes["fields.credit_limit"] == {"old": None, "new": 800000}
    assert audit.changes["reason"] == {"old": None, "new": "New contract"}


def test_a_controlled_change_without_reason_writes_nothing(users, customer, controlled):
    before = fresh(customer).version

    with pytest.raises(ValidationError) as error:
        customer_edit_with_approval(
            actor=users[Role.ACCOUNT_MANAGER],
            customer=customer,
            data={"name": "Changed", "field_values": {"credit_limit": "800000"}},
            expected_version=before,
            reason="  ",
        )

    assert "reason" in error.value.message_dict
    assert fresh(customer).name == "山田商店"
    assert fresh(customer).version == before
    assert not ChangeRequest.objects.exists()


def test_an_unchanged_controlled_value_makes_no_request(users, customer, controlled):
    customer_update(
        actor=users[Role.MANAGER],
        customer=customer,
        data={"field_values": {"credit_limit": "800000"}},
        expected_version=customer.version,
    )

    _card, request = ask(users, customer, value="800000", reason="")

    assert request is None
    assert not ChangeRequest.objects.exists()


def test_a_bad_controlled_value_is_refused_naming_the_field(users, customer, controlled):
    with pytest.raises(ValidationError) as error:
        ask(users, customer, value="a lot")

    assert list(error.value.message_dict) == ["fields.credit_limit"]
    assert not ChangeRequest.objects.exists()


def test_managers_edit_controlled_fields_directly(users, customer, controlled):
    _card, request = customer_edit_with_approval(
        actor=users[Role.MANAGER],
        customer=customer,
        data={"field_values": {"credit_limit": "900000"}},
        expected_version=customer.version,
    )

    assert request is None
    assert fresh(customer).field_values == {"credit_limit": 900000}


def test_no_path_writes_a_controlled_field_without_approval(users, customer, controlled):
    with pytest.raises(PermissionDenied, match="credit_limit"):
        customer_update(
            actor=users[Role.ACCOUNT_MANAGER],
            customer=customer,
            data={"field_values": {"credit_limit": "800000"}},
            expected_version=customer.version,
        )

    assert fresh(customer).field_values == {}


def test_manager_of_the_area_approves_and_the_card_changes(users, customer, controlled):
    _card, request = ask(users, customer)
    manager = users[Role.MANAGER]

    change_request_approve(actor=manager, request=request, comment="Fine")

    card = fresh(customer)
    request.refresh_from_db()
    assert card.field_values == {"credit_limit": 800000}
    assert request.status == RequestStatus.APPROVED
    assert request.decided_by == manager
    assert request.decision_comment == "Fine"
    assert request.outcome_seen_at is None  # unread in the requester's inbox
    card_change = ObjectChange.objects.get(object_type="customers.customer", action="update")
    assert card_change.actor == manager
    assert card_change.changes == {"fields.credit_limit": {"old": None, "new": 800000}}
    decision = ObjectChange.objects.get(object_type="approvals.changerequest", action="update")
    assert decision.changes["status"] == {"old": "pending", "new": "approved"}


def test_nobody_approves_their_own_request(users, customer, controlled):
    manager = users[Role.MANAGER]
    request = ChangeRequestFactory(customer=customer, requested_by=manager)

    with pytest.raises(PermissionDenied, match="own"):
        change_request_approve(actor=manager, request=request)

    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert fresh(customer).field_values == {}


def test_a_manager_of_another_area_cannot_decide(users, customer, controlled, osaka_manager):
    _card, request = ask(users, customer)

    with pytest.raises(PermissionDenied):
        change_request_approve(actor=osaka_manager, request=request)
    with pytest.raises(PermissionDenied):
        change_request_reject(actor=osaka_manager, request=request, comment="No")

    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert fresh(customer).field_values == {}


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.AUDITOR, Role.SERVICE_AGENT])
def test_roles_that_do_not_decide_cannot_approve(users, customer, controlled, role):
    request = ChangeRequestFactory(customer=customer, requested_by=users[Role.MANAGER])

    with pytest.raises(PermissionDenied):
        change_request_approve(actor=users[role], request=request)

    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_a_stale_approval_is_refused_with_nothing_lost(users, customer, controlled, free_field):
    _card, request = ask(users, customer)
    manager = users[Role.MANAGER]
    moved = customer_update(
        actor=manager,
        customer=customer,
        data={"field_values": {"hobby": "Tennis"}},
        expected_version=request.base_version,
    )
    changes = ObjectChange.objects.count()

    with pytest.raises(EditConflict) as conflict:
        change_request_approve(actor=manager, request=request)

    assert conflict.value.current_version == moved.version
    assert [c.actor_name for c in conflict.value.changes] == ["manager"]
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert request.decided_by is None
    assert fresh(customer).field_values == {"hobby": "Tennis"}
    assert ObjectChange.objects.count() == changes


def test_approving_against_the_current_card_after_seeing_the_conflict(
    users, customer, controlled, free_field
):
    _card, request = ask(users, customer)
    manager = users[Role.MANAGER]
    moved = customer_update(
        actor=manager,
        customer=customer,
        data={"field_values": {"hobby": "Tennis"}},
        expected_version=request.base_version,
    )

    change_request_approve(actor=manager, request=request, seen_version=moved.version)

    assert fresh(customer).field_values == {"hobby": "Tennis", "credit_limit": 800000}
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_a_rebase_on_a_version_that_moved_again_is_a_conflict_again(
    users, customer, controlled, free_field
):
    _card, request = ask(users, customer)
    manager = users[Role.MANAGER]
    seen = customer_update(
        actor=manager,
        customer=customer,
        data={"field_values": {"hobby": "Tennis"}},
        expected_version=request.base_version,
    ).version
    customer_update(
        actor=manager,
        customer=customer,
        data={"field_values": {"hobby": "Chess"}},
        expected_version=seen,
    )

    with pytest.raises(EditConflict):
        change_request_approve(actor=manager, request=request, seen_version=seen)

    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert "credit_limit" not in fresh(customer).field_values


def test_reject_needs_a_comment_and_leaves_the_card(users, customer, controlled):
    _card, request = ask(users, customer)
    manager = users[Role.MANAGER]

    with pytest.raises(ValidationError) as error:
        change_request_reject(actor=manager, request=request, comment=" ")
    assert list(error.value.message_dict) == ["comment"]
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING

    change_request_reject(actor=manager, request=request, comment="Not agreed yet")

    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert request.decision_comment == "Not agreed yet"
    assert fresh(customer).field_values == {}


def test_a_decided_request_cannot_be_decided_again(users, customer, controlled):
    _card, request = ask(users, customer)
    change_request_reject(actor=users[Role.MANAGER], request=request, comment="No")

    with pytest.raises(ValidationError, match="already decided"):
        change_request_approve(actor=users[Role.ADMINISTRATOR], request=request)

    assert fresh(customer).field_values == {}


def test_the_requester_withdraws_and_nobody_else_may(users, customer, controlled):
    _card, request = ask(users, customer)

    with pytest.raises(PermissionDenied):
        change_request_withdraw(actor=users[Role.MANAGER], request=request)
    change_request_withdraw(actor=users[Role.ACCOUNT_MANAGER], request=request)

    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN
    assert request.decided_by is None


def test_requests_only_for_controlled_fields_and_cards_in_scope(
    users, customer, other_customer, controlled, free_field
):
    am = users[Role.ACCOUNT_MANAGER]
    with pytest.raises(ValidationError) as error:
        change_request_create(
            actor=am, customer=customer, proposed={"hobby": "Golf"}, reason="Because"
        )
    assert list(error.value.message_dict) == ["fields.hobby"]
    with pytest.raises(PermissionDenied):
        change_request_create(
            actor=am, customer=other_customer, proposed={"credit_limit": "1"}, reason="Because"
        )
    with pytest.raises(PermissionDenied):
        change_request_create(
            actor=users[Role.AUDITOR],
            customer=customer,
            proposed={"credit_limit": "1"},
            reason="Because",
        )
    assert not ChangeRequest.objects.exists()


def test_a_stale_edit_is_refused_as_a_whole(users, customer, controlled):
    with pytest.raises(EditConflict):
        customer_edit_with_approval(
            actor=users[Role.ACCOUNT_MANAGER],
            customer=customer,
            data={"name": "X", "field_values": {"credit_limit": "1"}},
            expected_version=customer.version - 1 if customer.version > 1 else 99,
            reason="Because",
        )

    assert not ChangeRequest.objects.exists()
    assert fresh(customer).name == "山田商店"


def test_a_new_card_by_an_account_manager_asks_for_its_controlled_values(
    users, areas, controlled, free_field
):
    from tokui.approvals.services import customer_create_with_approval

    card, request = customer_create_with_approval(
        actor=users[Role.ACCOUNT_MANAGER],
        data={
            "code": "NEW-1",
            "kind": "shop",
            "name": "新店",
            "field_values": {"credit_limit": "5", "hobby": "Go"},
        },
        reason="Opening terms",
    )

    assert Customer.objects.get(pk=card.pk).field_values == {"hobby": "Go"}
    assert request.proposed == {"field_values": {"credit_limit": 5}}
    assert request.base_version == card.version


def test_a_new_card_without_reason_for_its_controlled_values_is_not_made(users, areas, controlled):
    from tokui.approvals.services import customer_create_with_approval

    with pytest.raises(ValidationError) as error:
        customer_create_with_approval(
            actor=users[Role.ACCOUNT_MANAGER],
            data={
                "code": "NEW-1",
                "kind": "shop",
                "name": "新店",
                "field_values": {"credit_limit": "5"},
            },
        )

    assert "reason" in error.value.message_dict
    assert not Customer.objects.filter(code="NEW-1").exists()
