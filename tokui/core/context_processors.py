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
            **_approvals(user),
        }
    }


def _approvals(user) -> dict:
    """Change requests (GOV-2): the review queue for approvers, "My requests" with the
    count of unread decisions for the staff whose edits wait for approval."""
    from tokui.approvals import selectors

    if user is None or not user.is_authenticated:
        return {}
    asks = selectors.may_request(user)
    queue = selectors.may_review(user) and not asks
    return {
        # Operating staff follow their own requests; the queue is for deciders and readers.
        "approvals_queue": queue,
        "approvals_waiting": selectors.awaiting_decision(user=user) if queue else 0,
        "approvals_mine": asks,
        "approvals_unread": selectors.unread_outcomes(user=user) if asks else 0,
    }
