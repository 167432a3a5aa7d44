"""Change requests of controlled card fields (GOV-2): ask, decide, withdraw.

A request holds proposed card-field values, the reason and the card version they were
proposed against. Approving applies them through ``customer_update`` with that version,
so a card that moved on since is a conflict for the approver, never a silent overwrite.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.audit.services import record_change
from tokui.core.querysets import customer_scope_q
from tokui.customers import services as customer_services
from tokui.customers.models import Customer
from tokui.fields.access import card_access
from tokui.fields.selectors import active_field_definitions
from tokui.fields.services import clean_field_values
from tokui.users.choices import Scope
from tokui.users.roles import CHANGE_REQUEST, scope_for

from .choices import RequestSource, RequestStatus
from .models import ChangeRequest

IMPORT_REFERENCE_PREFIX = "import %s row "


def _snapshot(request: ChangeRequest) -> dict:
    """What the audit row keeps of a request: its state, and each proposed value by key."""
    data = {
        "status": request.status,
        "reason": request.reason,
        "source": request.source,
        "base_version": request.base_version,
    }
    if request.source_reference:
        data["source_reference"] = request.source_reference
    if request.decision_comment:
        data["decision_comment"] = request.decision_comment
    for key, value in proposed_values(request).items():
        data[f"fields.{key}"] = value
    return data


def import_reference(job, row_number: int) -> str:
    """How a request made by an import names its job and row (``selectors.import_requests``
    finds them by it)."""
    return f"{IMPORT_REFERENCE_PREFIX % job.pk}{row_number}"


def proposed_values(request: ChangeRequest) -> dict:
    return dict((request.proposed or {}).get("field_values") or {})


def controlled_differences(*, customer: Customer, values: dict) -> dict:
    """The values among ``values`` that would change the card, cleaned as the card stores
    them (``None`` clears). Raises ValidationError keyed ``fields.<key>`` for bad input."""
    if not values:
        return {}
    current = customer.field_values or {}
    try:
        cleaned = clean_field_values(
            values, definitions=active_field_definitions(), current=current, partial=True
        )
    except ValidationError as exc:
        raise ValidationError({f"fields.{k}": v for k, v in exc.message_dict.items()}) from exc
    return {key: cleaned.get(key) for key in values if cleaned.get(key) != current.get(key)}


def _may(actor, action: str, customer_id: int) -> bool:
    """Whether ``actor``'s change-request scope for ``action`` reaches the customer.

    Requests hang off a customer, so their scope is the customer's, read through the
    request's own resource so its rows in the roles table decide (a manager decides for
    their area, an administrator for all). A card in the trash takes no requests.
    """
    scope = scope_for(actor, CHANGE_REQUEST, action)
    if scope is None:
        return False
    customers = Customer.objects.filter(pk=customer_id, deleted_at__isnull=True)
    if scope != Scope.ALL:
        customers = customers.filter(customer_scope_q(actor, scope, ""))
    return customers.exists()


@transaction.atomic
def change_request_create(
    *,
    actor,
    customer: Customer,
    proposed: dict,
    reason: str,
    source: str = RequestSource.WEB,
    source_reference: str = "",
) -> ChangeRequest:
    """Ask for ``proposed`` card-field values (``{key: value}``) on ``customer``.

    Only controlled fields the actor may edit go through a request; values equal to the
    card's are left out, and a request that would change nothing is refused.
    """
    if not _may(actor, "add", customer.pk) or not customer_services._in_scope(
        actor, "change", customer.pk
    ):
        raise PermissionDenied(_("You may not ask for changes on this customer."))
    customer = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
    access = card_access(actor)
    errors: dict[str, list[str]] = {}
    for key in proposed:
        if not access.can_edit(key):
            errors[f"fields.{key}"] = [_("You may not change this field.")]
        elif not access.needs_approval(key):
            errors[f"fields.{key}"] = [
                _("This field does not need approval; change it on the card directly.")
            ]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the controlled fields should change.")]
    if errors:
        raise ValidationError(errors)
    changes = controlled_differences(customer=customer, values=proposed)
    if not changes:
        raise ValidationError(
            {"__all__": [_("The card already has these values: there is nothing to approve.")]}
        )
    current = customer.field_values or {}
    request = ChangeRequest(
        customer=customer,
        requested_by=actor,
        proposed={"field_values": changes},
        current={key: current.get(key) for key in changes},
        base_version=customer.version,
        reason=reason,
        source=source,
        source_reference=source_reference[:200],
    )
    request.full_clean()
    request.save()
    record_change(
        actor=actor,
        action="create",
        instance=request,
        before=None,
        after=_snapshot(request),
        customer_id=customer.pk,
    )
    return request


def _lock_pending(request: ChangeRequest) -> ChangeRequest:
    request = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "requested_by")
        .get(pk=request.pk)
    )
    if not request.is_pending:
        raise ValidationError(
            _("This request was already decided (%(status)s); nothing was changed.")
            % {"status": request.get_status_display()}
        )
    return request


def _require_decider(actor, request: ChangeRequest) -> None:
    if request.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("Nobody decides their own change request."))
    if not _may(actor, "change", request.customer_id):
        raise PermissionDenied(_("You may not decide change requests for this customer."))


def _decide(actor, request: ChangeRequest, status: str, comment: str) -> ChangeRequest:
    before = _snapshot(request)
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_comment = comment
    request.outcome_seen_at = None
    request.full_clean()
    request.save()
    record_change(
        actor=actor,
        action="update",
        instance=request,
        before=before,
        after=_snapshot(request),
        customer_id=request.customer_id,
    )
    return request


@transaction.atomic
def change_request_approve(
    *, actor, request: ChangeRequest, comment: str = "", seen_version: int | None = None
) -> ChangeRequest:
    """Apply the proposed values to the card as ``actor`` and mark the request approved.

    The values apply against the version the requester saw, so a card changed since
    raises ``EditConflict`` and nothing is written: the request stays pending. After
    looking at what changed, the approver may approve against the card as it is now by
    passing the version they saw as ``seen_version``; a card that moved again since is a
    conflict again.
    """
    request = _lock_pending(request)
    _require_decider(actor, request)
    expected = request.base_version if seen_version is None else seen_version
    customer_services.customer_update(
        actor=actor,
        customer=request.customer,
        data={"field_values": proposed_values(request)},
        expected_version=expected,
    )
    return _decide(actor, request, RequestStatus.APPROVED, (comment or "").strip())


@transaction.atomic
def change_request_reject(*, actor, request: ChangeRequest, comment: str) -> ChangeRequest:
    """Refuse the request; the comment tells the requester why, so it is required."""
    request = _lock_pending(request)
    _require_decider(actor, request)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": [_("Tell the requester why the change is rejected.")]})
    return _decide(actor, request, RequestStatus.REJECTED, comment)


@transaction.atomic
def change_request_withdraw(*, actor, request: ChangeRequest) -> ChangeRequest:
    """The requester takes back a request nobody decided yet."""
    request = _lock_pending(request)
    if request.requested_by_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the requester may withdraw a change request."))
    before = _snapshot(request)
    request.status = RequestStatus.WITHDRAWN
    request.decided_at = timezone.now()
    # Nobody else decided: the requester knows the outcome already.
    request.outcome_seen_at = request.decided_at
    request.full_clean()
    request.save()
    record_change(
        actor=actor,
        action="update",
        instance=request,
        before=before,
        after=_snapshot(request),
        customer_id=request.customer_id,
    )
    return request


def change_requests_mark_seen(*, actor, requests) -> int:
    """The requester has read these decisions: they leave the unread count."""
    ids = [r.pk for r in requests if r.requested_by_id == actor.pk and r.outcome_seen_at is None]
    if not ids:
        return 0
    return ChangeRequest.objects.filter(
        pk__in=ids, status__in=[RequestStatus.APPROVED, RequestStatus.REJECTED]
    ).update(outcome_seen_at=timezone.now())


@transaction.atomic
def customer_edit_with_approval(
    *,
    actor,
    customer: Customer,
    data: dict,
    expected_version: int,
    reason: str = "",
    source: str = RequestSource.WEB,
    source_reference: str = "",
) -> tuple[Customer, ChangeRequest | None]:
    """One card edit, split: controlled fields the actor needs approval for and whose value
    differs go into a change request; everything else applies through ``customer_update``.

    All or nothing: a conflict, a bad value or a missing reason writes neither part.
    """
    locked = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
    # A stale form is refused as a whole, before any part of it is split off.
    customer_services._require_scope(actor, "change", locked.pk)
    customer_services._check_version(locked, expected_version)
    access = card_access(actor)
    field_values = dict(data.get("field_values") or {})
    asked = {k: field_values.pop(k) for k in list(field_values) if access.needs_approval(k)}
    changes = controlled_differences(customer=locked, values=asked)
    if changes and not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the controlled fields should change.")]})
    rest = dict(data)
    if "field_values" in rest:
        rest["field_values"] = field_values
    customer = customer_services.customer_update(
        actor=actor, customer=locked, data=rest, expected_version=expected_version
    )
    if not changes:
        return customer, None
    request = change_request_create(
        actor=actor,
        customer=customer,
        proposed=changes,
        reason=reason,
        source=source,
        source_reference=source_reference,
    )
    return customer, request


@transaction.atomic
def customer_create_with_approval(
    *,
    actor,
    data: dict,
    reason: str = "",
    source: str = RequestSource.WEB,
    source_reference: str = "",
) -> tuple[Customer, ChangeRequest | None]:
    """A new card whose controlled fields, when the actor needs approval for them, are
    left blank and asked for in a change request on the new card; all or nothing."""
    access = card_access(actor)
    field_values = dict(data.get("field_values") or {})
    asked = {k: field_values.pop(k) for k in list(field_values) if access.needs_approval(k)}
    rest = dict(data)
    if "field_values" in rest:
        rest["field_values"] = field_values
    customer = customer_services.customer_create(actor=actor, data=rest)
    changes = controlled_differences(customer=customer, values=asked)
    if not changes:
        return customer, None
    request = change_request_create(
        actor=actor,
        customer=customer,
        proposed=changes,
        reason=reason,
        source=source,
        source_reference=source_reference,
    )
    return customer, request
