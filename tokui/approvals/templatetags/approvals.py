"""The card page's pending-changes panel reads its own data, so the card's view stays as is."""

from django import template

from tokui.approvals import selectors
from tokui.approvals.views import _definitions, comparison_rows
from tokui.fields.access import card_access

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_change_requests(context, customer) -> list[dict]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or customer is None:
        return []
    pending = selectors.pending_for_customer(user=user, customer=customer)
    definitions = _definitions() if pending else {}
    access = card_access(user)
    return [
        {"request": change_request, "fields": comparison_rows(change_request, definitions, access)}
        for change_request in pending
    ]


@register.simple_tag(takes_context=True)
def import_change_requests(context, job) -> list:
    """The rows of an import job that were sent for approval (the job's report)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or job is None:
        return []
    return list(selectors.import_requests(user=user, job=job))


@register.filter
def import_row(reference: str) -> str:
    """The file's row number out of an import request's reference ("import 12 row 5")."""
    return reference.rsplit(" ", 1)[-1] if reference else ""
