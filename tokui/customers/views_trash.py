"""The trash of deleted cards: who deleted which card when, when it will be purged, and
Restore for those who may (docs/trash.md).

Administrators and auditors see the trash (the TRASH permission); administrators restore
and purge. Every other role gets 403. A card that is not in the trash, or is outside the
user's reach there, is 404.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tokui.users.roles import TRASH, has_permission

from . import services
from .selectors import trash_get, trash_list


def _require(user, action: str) -> None:
    if not has_permission(user, TRASH, action):
        raise PermissionDenied


@login_required
@require_GET
def trash_view(request):
    _require(request.user, "view")
    page = Paginator(trash_list(user=request.user), settings.TOKUI_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    retention = services.trash_retention_days()
    rows = [
        {
            "customer": customer,
            "purge_after": customer.deleted_at + services.trash_purge_cutoff_delta(),
        }
        for customer in page
    ]
    context = {
        "page": page,
        "rows": rows,
        "retention_days": retention,
        "can_restore": has_permission(request.user, TRASH, "change"),
        "can_purge": has_permission(request.user, TRASH, "delete"),
    }
    return render(request, "customers/trash.html", context)


@login_required
@require_POST
def trash_restore(request, code):
    _require(request.user, "change")
    customer = trash_get(user=request.user, code=code, action="change")
    if customer is None:
        raise Http404(_("No such card in the trash."))
    try:
        customer = services.customer_restore(actor=request.user, customer=customer)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:trash")
    messages.success(
        request, _("Customer %(name)s restored from the trash.") % {"name": customer.name}
    )
    return redirect("customers:detail", code=customer.code)


@login_required
@require_POST
def trash_purge(request):
    """Purge now what the scheduled purge would: the cards past the retention."""
    _require(request.user, "delete")
    purged = services.customers_purge(actor=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d card past the retention was deleted for good.",
            "%(count)d cards past the retention were deleted for good.",
            len(purged),
        )
        % {"count": len(purged)},
    )
    return redirect("customers:trash")
