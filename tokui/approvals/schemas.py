"""The shapes of change requests in the REST API (/api/v1/change-requests)."""

import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from tokui.customers.schemas import CustomerCreateIn, CustomerPatchIn
from tokui.fields.access import card_access

from .choices import RequestSource, RequestStatus
from .forms import REASON_MAX
from .models import ChangeRequest


class CustomerCreateWithReasonIn(CustomerCreateIn):
    """The new card plus the reason its controlled fields need (GOV-2)."""

    reason: str | None = Field(
        None,
        max_length=REASON_MAX,
        description=(
            "Why the new card's controlled fields should have these values. Required when "
            "the caller may not set a controlled field directly (422 naming `reason`); the "
            "card is then created without them and the answer is 202 with the request."
        ),
    )


class CustomerPatchWithReasonIn(CustomerPatchIn):
    """The card's PATCH body plus the reason that controlled fields need (GOV-2)."""

    reason: str | None = Field(
        None,
        max_length=REASON_MAX,
        description=(
            "Why controlled card fields should change. Required when the patch changes a "
            "controlled field the caller may not change directly (422 naming `reason`)."
        ),
    )


def _visible(context, values: dict | None) -> dict[str, Any]:
    """The values the caller may see, as the card shows them (GOV-1)."""
    user = getattr((context or {}).get("request"), "auth", None)
    return card_access(user).visible_values(values)


class ChangeRequestOut(Schema):
    id: int
    customer: str = Field(description="Code of the customer the request is about.")
    status: RequestStatus
    proposed: dict[str, Any] = Field(description="Proposed card field values by field key.")
    current: dict[str, Any] = Field(description="The card's values when the request was made.")
    base_version: int = Field(description="The card's version the proposal was made against.")
    reason: str
    source: RequestSource
    source_reference: str
    requested_by: str = Field(description="Username of the requester.")
    created_at: datetime.datetime
    decided_by: str | None = Field(None, description="Username of who approved or rejected.")
    decided_at: datetime.datetime | None
    decision_comment: str

    @staticmethod
    def resolve_customer(obj: ChangeRequest) -> str:
        return obj.customer.code

    @staticmethod
    def resolve_proposed(obj: ChangeRequest, context) -> dict[str, Any]:
        return _visible(context, (obj.proposed or {}).get("field_values"))

    @staticmethod
    def resolve_current(obj: ChangeRequest, context) -> dict[str, Any]:
        return _visible(context, obj.current)

    @staticmethod
    def resolve_requested_by(obj: ChangeRequest) -> str:
        return obj.requested_by.username

    @staticmethod
    def resolve_decided_by(obj: ChangeRequest) -> str | None:
        return obj.decided_by.username if obj.decided_by_id else None


class ChangeRequestFilters(Schema):
    status: RequestStatus | None = None
    customer: str | None = Field(None, description="Customer code.")
    requested_by: str | None = Field(None, description="Username of the requester.")


class _Input(Schema):
    model_config = ConfigDict(extra="forbid")


class ApproveIn(_Input):
    comment: str = Field("", max_length=REASON_MAX)
    version: int | None = Field(
        None,
        description=(
            "Approve against the card as it is now: the card version the approver saw after "
            "a 409. Without it the request's own base version is checked."
        ),
    )


class RejectIn(_Input):
    comment: str = Field(max_length=REASON_MAX, description="Why; the requester reads it.")
