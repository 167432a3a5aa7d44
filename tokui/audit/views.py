"""The access log: who viewed, exported, printed or read through the API which cards.

Auditors and administrators read it; every other role gets 403, anonymous users the
log-in page. There is no page to change or delete a record (see docs/access-records.md).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tokui.customers.selectors import customer_list
from tokui.users.roles import ACCESS_LOG, has_permission

from .filtersets import AccessEventFilterSet
from .selectors import access_alerts, access_log

ACCESS_LOG_PAGE_SIZE = 50
ALERTS_SHOWN = 20


@login_required
@require_GET
def access_log_view(request):
    user = request.user
    if not has_permission(user, ACCESS_LOG, "view"):
        raise PermissionDenied
    filterset = AccessEventFilterSet(request.GET or None, queryset=access_log(user=user), user=user)
    page = Paginator(filterset.qs, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page)
    # One query for the codes of the single cards on this page; a deleted card keeps its id.
    ids = {event.customer_id for event in events if event.customer_id}
    codes = dict(customer_list(user=user).filter(pk__in=ids).values_list("pk", "code"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "rows": [{"event": event, "code": codes.get(event.customer_id)} for event in events],
        "customer": filterset.customer,
        "alerts": list(access_alerts(user=user)[:ALERTS_SHOWN]),
        "query": query.urlencode(),
    }
    return render(request, "audit/access_log.html", context)
