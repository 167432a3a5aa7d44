"""REST endpoints of change requests (GOV-2).

Order of checks: a role that reads no requests → 403; a request outside the caller's
scope → 404; visible, but the caller may not decide it → 403. Deciding a request whose
card moved on answers 409 with the card's current version, which the approver may send
back as ``version`` to approve against the card as it is now.
"""

from django.http import Http404
from ninja import Query, Router
from ninja.pagination import paginate

from tokui.core.api_schemas import LIST_ERRORS, READ_ERRORS, UPDATE_ERRORS
from tokui.customers.api import CustomerPages
from tokui.users.roles import CHANGE_REQUEST, require_permission

from . import selectors, services
from .models import ChangeRequest
from .schemas import ApproveIn, ChangeRequestFilters, ChangeRequestOut, RejectIn

router = Router()

TAGS = ["change requests"]


def _require(request, action: str) -> None:
    require_permission(request.auth, CHANGE_REQUEST, action)


def _request_or_404(request, pk: int, action: str = "view") -> ChangeRequest:
    _require(request, "view")
    change_request = selectors.change_request_get(user=request.auth, pk=pk)
    if change_request is None:
        raise Http404
    if action != "view":
        _require(request, action)
    return change_request


@router.get(
    "/change-requests",
    response={200: list[ChangeRequestOut], **LIST_ERRORS},
    tags=TAGS,
    summary="List change requests",
)
@paginate(CustomerPages)
def change_request_list(request, filters: Query[ChangeRequestFilters]):
    """Requests on the caller's customers, newest first."""
    _require(request, "view")
    requests = selectors.change_request_list(user=request.auth)
    if filters.status:
        requests = requests.filter(status=filters.status)
    if filters.customer:
        requests = requests.filter(customer__code=filters.customer)
    if filters.requested_by:
        requests = requests.filter(requested_by__username=filters.requested_by)
    return requests


@router.get(
    "/change-requests/{int:pk}",
    response={200: ChangeRequestOut, **READ_ERRORS},
    tags=TAGS,
    summary="Get a change request",
)
def change_request_detail(request, pk: int):
    return _request_or_404(request, pk)


@router.post(
    "/change-requests/{int:pk}/approve",
    response={200: ChangeRequestOut, **UPDATE_ERRORS},
    tags=TAGS,
    summary="Approve a change request",
)
def change_request_approve(request, pk: int, payload: ApproveIn):
    """Applies the proposal to the card; 409 when the card changed since the request."""
    change_request = _request_or_404(request, pk, "change")
    return services.change_request_approve(
        actor=request.auth,
        request=change_request,
        comment=payload.comment,
        seen_version=payload.version,
    )


@router.post(
    "/change-requests/{int:pk}/reject",
    response={200: ChangeRequestOut, **UPDATE_ERRORS},
    tags=TAGS,
    summary="Reject a change request",
)
def change_request_reject(request, pk: int, payload: RejectIn):
    change_request = _request_or_404(request, pk, "change")
    return services.change_request_reject(
        actor=request.auth, request=change_request, comment=payload.comment
    )


@router.post(
    "/change-requests/{int:pk}/withdraw",
    response={200: ChangeRequestOut, **UPDATE_ERRORS},
    tags=TAGS,
    summary="Withdraw one's own change request",
)
def change_request_withdraw(request, pk: int):
    change_request = _request_or_404(request, pk, "add")
    return services.change_request_withdraw(actor=request.auth, request=change_request)
