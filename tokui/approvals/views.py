"""Pages of change requests: the review queue, one request, and the requester's own list.

Order of answers: anonymous → log-in page; a role without the permission → 403; a
request outside the user's scope → 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.audit.services import record_access
from tokui.core.exceptions import EditConflict
from tokui.customers.views import _conflict_context, history_value
from tokui.fields.access import card_access
from tokui.fields.selectors import active_field_definitions
from tokui.users.roles import CHANGE_REQUEST, has_permission

from . import selectors, services
from .forms import DecisionForm, QueueFilterForm

PAGE_SIZE = 50


def _definitions() -> dict:
    """The card fields by key, for their labels and their choices' labels."""
    return {d.key: d for d in active_field_definitions()}


def comparison_rows(request, definitions: dict | None = None, access=None) -> list[dict]:
    """Per proposed field: its label, the value the requester saw, the proposal, and the
    card's value now (which differs from the first when the card moved on).

    With ``access`` (the reader's ``card_access``), a field the reader may not see is left
    out, as it is on the card (GOV-1).
    """
    definitions = definitions if definitions is not None else _definitions()
    now = request.customer.field_values or {}
    rows = []
    for key, proposed in services.proposed_values(request).items():
        if access is not None and not access.can_view(key):
            continue
        then = (request.current or {}).get(key)
        definition = definitions.get(key)
        rows.append(
            {
                "key": key,
                "label": definition.display_label if definition else key,
                "then": history_value(then, definition),
                "proposed": history_value(proposed, definition),
                "now": history_value(now.get(key), definition),
                "moved": now.get(key) != then,
            }
        )
    return rows


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def queue(request):
    """The requests an approver may decide (pending first), with filters."""
    if not selectors.may_review(request.user):
        raise PermissionDenied
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "pending"
    form = QueueFilterForm(data)
    filters = form.cleaned_data if form.is_valid() else {"status": "pending"}
    requests = selectors.review_queue(
        user=request.user,
        status=filters.get("status") or "",
        area=filters.get("area"),
        requester=(filters.get("requester") or "").strip(),
    )
    page = _page(request, requests)
    definitions = _definitions()
    access = card_access(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "approvals/queue.html",
        {
            "form": form,
            "page": page,
            "rows": [
                {"request": r, "fields": comparison_rows(r, definitions, access)} for r in page
            ],
            "query": query.urlencode(),
        },
    )


@login_required
def mine(request):
    """The requester's inbox: what they asked for and what was decided."""
    if not has_permission(request.user, CHANGE_REQUEST, "add"):
        raise PermissionDenied
    page = _page(request, selectors.my_change_requests(user=request.user))
    definitions = _definitions()
    access = card_access(request.user)
    rows = [
        {
            "request": r,
            "fields": comparison_rows(r, definitions, access),
            "unread": r.status in selectors.DECIDED and r.outcome_seen_at is None,
        }
        for r in page
    ]
    # Shown once as new, then read: the menu's count drops.
    services.change_requests_mark_seen(actor=request.user, requests=list(page))
    return render(request, "approvals/mine.html", {"page": page, "rows": rows})


def _request_or_404(request, pk: int):
    if not has_permission(request.user, CHANGE_REQUEST, "view"):
        raise PermissionDenied
    change_request = selectors.change_request_get(user=request.user, pk=pk)
    if change_request is None:
        raise Http404
    return change_request


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, pk: int):
    """One request: proposed against then and now; approve or reject it with a comment.

    Approving a request whose card moved on shows the conflict and offers a second,
    explicit step: approve against the card as it is now.
    """
    change_request = _request_or_404(request, pk)
    user = request.user
    may_decide = (
        change_request.is_pending
        and change_request.requested_by_id != user.pk
        and selectors.may_decide(user)
        and selectors.change_request_list(user=user, action="change")
        .filter(pk=change_request.pk)
        .exists()
    )
    form = DecisionForm(request.POST or None)
    conflict = None
    status = 200
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied
        if form.is_valid():
            try:
                if form.cleaned_data["decision"] == DecisionForm.APPROVE:
                    services.change_request_approve(
                        actor=user,
                        request=change_request,
                        comment=form.cleaned_data["comment"],
                        seen_version=form.cleaned_data["seen_version"],
                    )
                    messages.success(request, _("Approved: the card now has the new values."))
                else:
                    services.change_request_reject(
                        actor=user, request=change_request, comment=form.cleaned_data["comment"]
                    )
                    messages.success(request, _("Rejected: the requester sees your comment."))
            except EditConflict as error:
                conflict = error
                status = 409
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for key, problems in error.message_dict.items():
                        form.add_error(key if key in form.fields else None, problems)
                else:
                    form.add_error(None, error.messages)
                status = 422
            except PermissionDenied as error:
                form.add_error(None, str(error))
                status = 403
            else:
                return redirect("approvals:detail", pk=change_request.pk)
        else:
            status = 422
    if user.pk == change_request.requested_by_id:
        services.change_requests_mark_seen(actor=user, requests=[change_request])
    change_request.customer.refresh_from_db()
    # The page shows the card's values: a read of the card like the card page (GOV-1).
    record_access(
        actor=user, action="view", customer_ids=[change_request.customer_id], request=request
    )
    return render(
        request,
        "approvals/detail.html",
        {
            "change_request": change_request,
            "fields": comparison_rows(change_request, access=card_access(user)),
            "form": form,
            "may_decide": may_decide,
            "may_withdraw": change_request.is_pending and change_request.requested_by_id == user.pk,
            "conflict": _conflict_context(conflict, user),
            "current_version": conflict.current_version if conflict else None,
        },
        status=status,
    )


@login_required
@require_POST
def withdraw(request, pk: int):
    change_request = _request_or_404(request, pk)
    try:
        services.change_request_withdraw(actor=request.user, request=change_request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your request was withdrawn."))
    return redirect("approvals:detail", pk=change_request.pk)
