"""Privacy requests: everything held about one customer, as JSON and as a printable page.

Who: whoever may view the card and keeps its personal data — administrators, the manager
and account manager in scope, auditors (read-only). The service desk and analysts get 403
even for cards they can see; a card out of scope is 404. Every export is an access record.
"""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tokui.audit.services import record_access

from .selectors import customer_get, customer_privacy_export, may_export_personal_data

PURPOSE = "privacy request"


def _export(request, code: str) -> dict:
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
    return data


@login_required
@require_GET
def privacy_export_json(request, code):
    data = _export(request, code)
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
    data = _export(request, code)
    response = render(request, "customers/privacy_export.html", {"data": data, "code": code})
    response["Cache-Control"] = "no-store"
    return response
