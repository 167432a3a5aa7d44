from tokui.users.choices import Scope
from tokui.users.roles import CUSTOMER, FIELD_DEFINITION, TRASH, has_permission, scope_for


def navigation(request):
    """What the menu may offer the signed-in user."""
    user = getattr(request, "user", None)
    return {
        "nav": {
            "customers": has_permission(user, CUSTOMER, "view"),
            "add_customer": has_permission(user, CUSTOMER, "add"),
            "field_definitions": has_permission(user, FIELD_DEFINITION, "view"),
            # Handing customers over needs a reach wider than one's own cards.
            "handover": scope_for(user, CUSTOMER, "change") in (Scope.ALL, Scope.AREA),
            "trash": has_permission(user, TRASH, "view"),
            **_approvals(request, user),
        }
    }


def _approvals(request, user) -> dict:
    """Change requests (GOV-2): the review queue for approvers with the count of requests
    waiting for them, "My requests" with the count of unread decisions for the staff whose
    edits wait for approval.

    The counts are kept on the request: a page that renders parts of itself with the
    request (table cells, included forms) runs the context processors again for each.
    """
    from tokui.approvals import selectors

    if user is None or not user.is_authenticated:
        return {}
    if not hasattr(request, "_approval_counts"):
        asks = selectors.may_request(user)
        queue = selectors.may_review(user) and not asks
        request._approval_counts = {
            # Operating staff follow their own requests; the queue is for deciders and readers.
            "approvals_queue": queue,
            "approvals_waiting": selectors.awaiting_decision(user=user) if queue else 0,
            "approvals_mine": asks,
            "approvals_unread": selectors.unread_outcomes(user=user) if asks else 0,
        }
    return request._approval_counts
