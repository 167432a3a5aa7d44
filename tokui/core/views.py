from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from tokui.customers.selectors import customer_counts_by_status
from tokui.users.roles import CUSTOMER, has_permission


@login_required
def home(request):
    """Staff who work with cards go to the list; analysts see the aggregate overview."""
    if has_permission(request.user, CUSTOMER, "view"):
        return redirect("customers:list")
    return render(request, "core/overview.html", {"counts": customer_counts_by_status()})


def not_found(request, exception):
    """A path under /api/ that no route matches (``/api/v1/people/abc``) answers in the API's
    JSON, like a missing record does, so a client never has to parse an HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Not found.")}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return page_not_found(request, exception)
