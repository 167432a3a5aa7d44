"""The card page's pending-changes panel reads its own data, so the card's view stays as is."""

from django import template

from tokui.approvals import selectors
from tokui.approvals.views import _labels, comparison_rows

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_change_requests(context, customer) -> list[dict]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or customer is None:
        return []
    pending = selectors.pending_for_customer(user=user, customer=customer)
    labels = _labels() if pending else {}
    return [
        {"request": change_request, "fields": comparison_rows(change_request, labels)}
        for change_request in pending
    ]
