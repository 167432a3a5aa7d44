"""Reading change requests, always within the reader's scope."""

from django.db.models import Q, QuerySet

from tokui.fields.access import APPROVER_ROLES
from tokui.users.roles import CHANGE_REQUEST, has_permission

from .choices import RequestSource, RequestStatus
from .models import ChangeRequest

DECIDED = (RequestStatus.APPROVED, RequestStatus.REJECTED)


def change_request_list(*, user, action: str = "view") -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.restrict(user, action).select_related(
        "customer", "customer__area", "requested_by", "decided_by"
    )


def change_request_get(*, user, pk: int) -> ChangeRequest | None:
    """A request the user may see: one on a card in their scope, or one they made (the
    outcome is theirs even after the card was handed to someone else)."""
    if not has_permission(user, CHANGE_REQUEST, "view"):
        return None
    visible = ChangeRequest.objects.restrict(user, "view").values("pk")
    return (
        ChangeRequest.objects.select_related(
            "customer", "customer__area", "requested_by", "decided_by"
        )
        .filter(Q(pk__in=visible) | Q(requested_by_id=user.pk), pk=pk)
        .first()
    )


def review_queue(
    *, user, status: str = "", area=None, requester: str = ""
) -> QuerySet[ChangeRequest]:
    """Requests the user may see, filtered as the review page asks, oldest pending first."""
    requests = change_request_list(user=user)
    if status:
        requests = requests.filter(status=status)
    if area is not None:
        requests = requests.filter(customer__area__path__startswith=area.path)
    if requester:
        requests = requests.filter(requested_by__username=requester)
    if status == RequestStatus.PENDING:
        return requests.order_by("created_at", "pk")
    return requests


def import_requests(*, user, job) -> QuerySet[ChangeRequest]:
    """The change requests an import job made, in the order of the file's rows."""
    from .services import IMPORT_REFERENCE_PREFIX

    if not has_permission(user, CHANGE_REQUEST, "view"):
        return ChangeRequest.objects.none()
    visible = ChangeRequest.objects.restrict(user, "view").values("pk")
    return (
        ChangeRequest.objects.filter(
            Q(pk__in=visible) | Q(requested_by_id=user.pk),
            source=RequestSource.IMPORT,
            source_reference__startswith=IMPORT_REFERENCE_PREFIX % job.pk,
        )
        .select_related("customer")
        .order_by("pk")
    )


def my_change_requests(*, user) -> QuerySet[ChangeRequest]:
    if not has_permission(user, CHANGE_REQUEST, "add"):
        return ChangeRequest.objects.none()
    return ChangeRequest.objects.filter(requested_by_id=user.pk).select_related(
        "customer", "decided_by"
    )


def unread_outcomes(*, user) -> int:
    """Decisions on the user's requests they have not opened yet (the menu's count)."""
    if not may_request(user):
        return 0
    return ChangeRequest.objects.filter(
        requested_by_id=user.pk, status__in=DECIDED, outcome_seen_at__isnull=True
    ).count()


def awaiting_decision(*, user) -> int:
    """Pending requests the user may decide (the menu's count for approvers): on cards in
    their scope, and not their own, since nobody approves their own request."""
    if not may_decide(user):
        return 0
    return (
        ChangeRequest.objects.restrict(user, "change")
        .filter(status=RequestStatus.PENDING)
        .exclude(requested_by_id=user.pk)
        .count()
    )


def pending_for_customer(*, user, customer) -> list[ChangeRequest]:
    """The card's requests waiting for a decision, as the card page lists them."""
    if not has_permission(user, CHANGE_REQUEST, "view"):
        return []
    return list(
        ChangeRequest.objects.restrict(user, "view")
        .filter(customer_id=customer.pk, status=RequestStatus.PENDING)
        .select_related("customer", "requested_by")
        .order_by("created_at", "pk")
    )


def may_request(user) -> bool:
    """Operating staff whose edits of controlled fields wait for approval."""
    return has_permission(user, CHANGE_REQUEST, "add") and user.role not in APPROVER_ROLES


def may_decide(user) -> bool:
    return has_permission(user, CHANGE_REQUEST, "change")


def may_review(user) -> bool:
    """The review queue lists the requests the user may see; deciding needs more."""
    return has_permission(user, CHANGE_REQUEST, "view")
