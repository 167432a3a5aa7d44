"""The access log (who read which cards) and the change log (who changed what).

Auditors and administrators read them; every other role gets 403, anonymous users the
log-in page. There is no page to change or delete a record (see docs/access-records.md
and docs/security.md, "Change log"): both logs are append-only.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tokui.customers.selectors import customer_list, trash_list
from tokui.customers.views import FieldLabels, history_value
from tokui.fields.access import card_access
from tokui.users.roles import ACCESS_LOG, has_permission

from .filtersets import AccessEventFilterSet, ObjectChangeFilterSet
from .selectors import access_alerts, access_log, change_log, may_read_change_log

ACCESS_LOG_PAGE_SIZE = 50
ALERTS_SHOWN = 20
CHANGE_LOG_PAGE_SIZE = 50


@login_required
@require_GET
def access_log_view(request):
    user = request.user
    if not has_permission(user, ACCESS_LOG, "view"):
        raise PermissionDenied
    filterset = AccessEventFilterSet(request.GET or None, queryset=access_log(user=user), user=user)
    page = Paginator(filterset.qs, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page)
    codes, trashed = card_codes(user, {event.customer_id for event in events})
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "rows": [
            {
                "event": event,
                "code": codes.get(event.customer_id),
                "trashed": event.customer_id in trashed,
            }
            for event in events
        ],
        "customer": filterset.customer,
        "alerts": list(access_alerts(user=user)[:ALERTS_SHOWN]),
        "query": query.urlencode(),
    }
    return render(request, "audit/access_log.html", context)


def card_codes(user, ids) -> tuple[dict[int, str], set[int]]:
    """The codes of the cards with these ids that the user may see, live or in the trash,
    and which of them are in the trash: two queries a page. A card the user may not see, or
    one purged, keeps its id."""
    ids = {pk for pk in ids if pk}
    codes = dict(customer_list(user=user).filter(pk__in=ids).values_list("pk", "code"))
    trashed = dict(
        trash_list(user=user).filter(pk__in=ids - codes.keys()).values_list("pk", "code")
    )
    return {**codes, **trashed}, set(trashed)


# --- the change log -------------------------------------------------------------------


def change_rows(
    changes, codes: dict[int, str], *, access, trashed: set[int] = frozenset()
) -> list[dict]:
    """One row per changed field (a change without fields gets one row), as on the card.

    A field ``access`` (tokui.fields.access) may not see keeps its name and says it changed,
    without the old and new values; a person, address or consent the user may not see also
    loses its name (the row's ``object_repr`` is that person's name or that address).
    """
    labels = FieldLabels()
    rows = []
    for change in changes:
        object_label = labels.object_label(change.object_type)
        record_hidden = not access.can_view_change(change.object_type, None)
        for name, values in sorted(change.changes.items()) or [(None, {})]:
            hidden = bool(name) and not access.can_view_change(change.object_type, name)
            show = bool(name) and not hidden
            definition = labels.definition(name) if show else None
            rows.append(
                {
                    "change": change,
                    "code": codes.get(change.customer_id),
                    "trashed": change.customer_id in trashed,
                    "object_label": object_label,
                    "record_hidden": record_hidden,
                    "field": labels(change.object_type, name) if name else "",
                    "hidden": hidden,
                    "old": history_value(values.get("old"), definition) if show else "",
                    "new": history_value(values.get("new"), definition) if show else "",
                }
            )
    return rows


@login_required
@require_GET
def change_log_view(request):
    """Every change made through a service, filtered by user, record type, action, period."""
    user = request.user
    if not may_read_change_log(user):
        raise PermissionDenied
    filterset = ObjectChangeFilterSet(request.GET or None, queryset=change_log(user=user))
    page = Paginator(filterset.qs, CHANGE_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    changes = list(page)
    codes, trashed = card_codes(user, {change.customer_id for change in changes})
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "rows": change_rows(changes, codes, access=card_access(user), trashed=trashed),
        "query": query.urlencode(),
    }
    return render(request, "audit/change_log.html", context)
