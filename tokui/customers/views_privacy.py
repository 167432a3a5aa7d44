"""Privacy requests: everything held about one customer, as JSON and as a printable page.

Anonymising a person (erasing their personal data, keeping the customer's orders and
figures) needs the right to delete the card: administrators, and managers in their area.

Who exports: whoever may view the card and keeps its personal data — administrators, the manager
and account manager in scope, auditors (read-only). The service desk and analysts get 403
even for cards they can see; a card out of scope is 404. Every export is an access record.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tokui.audit.services import record_access
from tokui.users.roles import CUSTOMER, has_permission

from . import services
from .selectors import (
    can_act_on,
    customer_get,
    customer_privacy_export,
    may_export_personal_data,
    person_get,
)

PURPOSE = "privacy request"


def _export(request, code: str):
    if not may_export_personal_data(request.user):
        raise PermissionDenied
    customer = customer_get(user=request.user, code=code, action="view")
    if customer is None:
        raise Http404(_("No such customer."))
    data = customer_privacy_export(customer)
    record_access(
        actor=request.user,
        action="export",
        customer_ids=[customer.pk],
        request=request,
        purpose=request.GET.get("purpose", "").strip() or PURPOSE,
    )
    return customer, data


@login_required
@require_GET
def privacy_export_json(request, code):
    _customer, data = _export(request, code)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{code}-privacy.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def privacy_export_page(request, code):
    customer, data = _export(request, code)
    can_anonymise = can_act_on(user=request.user, customer=customer, action="delete")
    response = render(
        request,
        "customers/privacy_export.html",
        {"data": data, "code": code, "can_anonymise": can_anonymise},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def person_anonymise(request, code, pk):
    """Erase one person's personal data on request, after a confirmation."""
    if not has_permission(request.user, CUSTOMER, "delete"):
        raise PermissionDenied
    person = person_get(user=request.user, pk=pk, action="delete")
    if person is None or person.customer.code != code:
        raise Http404(_("No such person."))
    if request.method == "POST":
        services.person_anonymise(actor=request.user, person=person)
        messages.success(request, _("The person's personal data was erased."))
        return redirect("customers:privacy_export", code=code)
    return render(
        request, "customers/privacy_anonymise.html", {"person": person, "customer": person.customer}
    )
