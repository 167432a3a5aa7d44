"""REST endpoints of the trash: list the deleted cards, restore one, purge those past the
retention (docs/trash.md). ``DELETE /customers/{code}`` is what puts a card here.

Administrators and auditors list the trash; administrators restore and purge; every other
role gets 403. A code that is not in the trash (or not in the caller's reach there) is 404.
"""

import datetime

from django.http import Http404
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from tokui.core.api_schemas import LIST_ERRORS, WRITE_ERRORS, ErrorOut
from tokui.users.roles import TRASH, require_permission

from . import selectors, services
from .api import CustomerPages, _customer_out
from .models import Customer
from .schemas import CustomerOut

router = Router()

TRASH_TAGS = ["trash"]


class TrashedCustomerOut(Schema):
    code: str
    name: str
    owner: str | None = Field(None, description="Username of the account manager.")
    area: str | None = Field(None, description="Code of the sales area.")
    deleted_at: datetime.datetime
    deleted_by: str | None = Field(None, description="Username of who moved it to the trash.")
    purge_after: datetime.datetime = Field(
        description="From this moment the daily purge deletes the card for good."
    )

    @staticmethod
    def resolve_owner(obj: Customer) -> str | None:
        return obj.owner.username if obj.owner_id else None

    @staticmethod
    def resolve_area(obj: Customer) -> str | None:
        return obj.area.code if obj.area_id else None

    @staticmethod
    def resolve_deleted_by(obj: Customer) -> str | None:
        return obj.deleted_by.username if obj.deleted_by_id else None

    @staticmethod
    def resolve_purge_after(obj: Customer) -> datetime.datetime:
        return obj.deleted_at + services.trash_purge_cutoff_delta()


class PurgeOut(Schema):
    purged: list[str] = Field(description="Codes of the cards deleted for good.")


def _require(request, action: str) -> None:
    require_permission(request.auth, TRASH, action)


@router.get(
    "/trash",
    response={200: list[TrashedCustomerOut], **LIST_ERRORS},
    tags=TRASH_TAGS,
    summary="List the cards in the trash",
)
@paginate(CustomerPages)
def trash_list(request):
    """Deleted cards, the latest deletion first, with when the purge may delete them."""
    _require(request, "view")
    return selectors.trash_list(user=request.auth)


@router.post(
    "/trash/{code}/restore",
    response={200: CustomerOut, **WRITE_ERRORS},
    tags=TRASH_TAGS,
    summary="Restore a card from the trash",
)
def trash_restore(request, code: str):
    """The card comes back as it was, with its people, orders and history."""
    _require(request, "change")
    customer = selectors.trash_get(user=request.auth, code=code, action="change")
    if customer is None:
        raise Http404
    customer = services.customer_restore(actor=request.auth, customer=customer)
    return _customer_out(customer, request.auth)


@router.post(
    "/trash/purge",
    response={200: PurgeOut, 401: ErrorOut, 403: ErrorOut},
    tags=TRASH_TAGS,
    summary="Purge the cards past the retention",
)
def trash_purge(request):
    """Delete for good, now, what the daily purge would: cards in the trash for longer
    than ``TOKUI_TRASH_RETENTION_DAYS``. Their change log and access records stay."""
    _require(request, "delete")
    return {"purged": services.customers_purge(actor=request.auth)}
