"""REST endpoints for customer cards and the people around them.

The endpoints stay thin: reads come from ``selectors`` (already restricted to the
caller's scope), writes go through ``services`` (which re-check scope, validate, and
audit). Order of checks on every call: the role reads no cards at all → 403; the card is
unknown or outside the caller's scope → 404; visible, but the role or scope does not
allow this action on it → 403.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from tokui.accounts.selectors import area_get_by_code
from tokui.approvals.choices import RequestSource
from tokui.approvals.schemas import (
    ChangeRequestOut,
    CustomerCreateWithReasonIn,
    CustomerPatchWithReasonIn,
)
from tokui.approvals.services import customer_create_with_approval, customer_edit_with_approval
from tokui.audit.decorators import record_card_read, records_list_read
from tokui.core.api_schemas import LIST_ERRORS, READ_ERRORS, UPDATE_ERRORS, WRITE_ERRORS
from tokui.fields.access import card_access
from tokui.fields.choices import FieldType
from tokui.fields.selectors import active_field_definitions
from tokui.users.roles import CUSTOMER, require_permission

from . import selectors, services
from .models import Customer, Person
from .schemas import (
    CustomerFilters,
    CustomerOut,
    PersonCreateIn,
    PersonOut,
    PersonPatchIn,
)

router = Router()

CUSTOMERS = ["customers"]
PEOPLE = ["people"]


# A page number so large that its offset overflows the database's integers is refused
# with a 422 instead of failing in SQL; no list comes near ten million pages.
MAX_PAGE = 10_000_000


class CustomerPages(PageNumberPagination):
    """``?page=`` and ``?page_size=``; a page size above the maximum is cut to it."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)

    def _get_page_size(self, requested_page_size: int | None) -> int:
        # Read at request time, so the limit follows the settings in force.
        if requested_page_size is None:
            return settings.TOKUI_PAGE_SIZE
        return min(requested_page_size, settings.TOKUI_API_MAX_PAGE_SIZE)


def _require_role(request, action: str) -> None:
    require_permission(request.auth, CUSTOMER, action)


def _customer_or_404(request, code: str, action: str = "view") -> Customer:
    """The card if the caller may see it and do ``action`` on it.

    A role that reads no cards at all gets 403; a card the caller cannot see is 404
    whatever the action, so a refusal never tells that it exists; a visible card the
    caller may not ``action`` on is 403.
    """
    _require_role(request, "view")
    customer = selectors.customer_get(user=request.auth, code=code)
    if customer is None:
        raise Http404
    _require_action(request, customer, action)
    return customer


def _require_people(request, action: str = "view") -> None:
    """Field rules (tokui.fields.access): the people of a card are personal data; a role
    that may not see them gets 403 on every people endpoint, one that may see but not
    edit them 403 on writes."""
    access = card_access(request.auth)
    if not access.can_view("people"):
        raise PermissionDenied(_("Your role may not see the people of a card."))
    if action != "view" and not access.can_edit("people"):
        raise PermissionDenied(_("Your role may not change the people of a card."))


def _person_or_404(request, person_id: int, action: str = "view") -> Person:
    _require_role(request, "view")
    _require_people(request, action)
    person = selectors.person_get(user=request.auth, pk=person_id)
    if person is None:
        raise Http404
    _require_action(request, person.customer, action)
    return person


def _require_action(request, customer: Customer, action: str) -> None:
    if action == "view":
        return
    _require_role(request, action)
    if not selectors.can_act_on(user=request.auth, customer=customer, action=action):
        raise PermissionDenied(_("You may not change this customer."))


# What a card field's JSON value must be, before the field's own rules are checked:
# the card-field validation also reads form input, where everything is text, so on
# its own it would take 5 for a date or "yes" for a yes/no field.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    FieldType.INTEGER: (int,),
    FieldType.DECIMAL: (int, float, str),  # a string keeps every digit of a decimal
    FieldType.BOOLEAN: (bool,),
    FieldType.MULTI_CHOICE: (list,),
}


def _type_message(field_type: str) -> str:
    messages = {
        FieldType.INTEGER: _("Enter a whole number."),
        FieldType.DECIMAL: _("Enter a number."),
        FieldType.BOOLEAN: _("Enter true or false."),
        FieldType.MULTI_CHOICE: _("Enter a list of choices."),
    }
    return messages.get(field_type, _("Enter text."))


def _has_json_type(value: Any, field_type: str) -> bool:
    allowed = _JSON_TYPES.get(field_type, (str,))
    if isinstance(value, bool) and bool not in allowed:
        return False  # JSON true is not the number 1, though Python's bool is an int
    if not isinstance(value, allowed):
        return False
    return not isinstance(value, list) or all(isinstance(item, str) for item in value)


def _card_field_type_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    types = {d.key: d.field_type for d in active_field_definitions()}
    return {
        f"fields.{key}": [_type_message(types[key])]
        for key, value in values.items()
        # null and "" clear a value; unknown keys are reported by the service
        if value not in (None, "") and key in types and not _has_json_type(value, types[key])
    }


def _service_data(request, payload: dict[str, Any], customer: Customer | None = None) -> dict:
    """The service's data dict from an API payload: usernames, codes and keys resolved."""
    data = dict(payload)
    errors: dict[str, list[str]] = {}
    if "fields" in data:
        data["field_values"] = data.pop("fields") or {}
        errors.update(_card_field_type_errors(data["field_values"]))
    if data.get("owner") is not None:
        # The card's current owner stays acceptable, so sending back what was read works.
        owners = selectors.assignable_owners(
            user=request.auth, keep_pk=customer.owner_id if customer else None
        )
        data["owner"] = owners.filter(username=data["owner"]).first()
        if data["owner"] is None:
            errors["owner"] = [
                _("There is no active user “%(username)s” you may make the owner.")
                % {"username": payload["owner"]}
            ]
    if data.get("area") is not None:
        data["area"] = area_get_by_code(data["area"])
        if data["area"] is None:
            errors["area"] = [
                _("There is no area with the code “%(code)s”.") % {"code": payload["area"]}
            ]
    if "tags" in data:
        data["tags"] = data["tags"] or []
    if errors:
        raise ValidationError(errors)
    return data


def _customer_out(customer: Customer, user) -> Customer:
    """The card as saved, re-read with its owner, area and tags in three queries at most."""
    fresh = selectors.customer_list(user=user).prefetch_related("tags").filter(pk=customer.pk)
    return fresh.first() or customer


@router.get(
    "/customers",
    response={200: list[CustomerOut], **LIST_ERRORS},
    tags=CUSTOMERS,
    summary="List customers",
)
@records_list_read
@paginate(CustomerPages)
def customer_list(request, filters: Query[CustomerFilters]):
    """Customers the caller may see, sorted by reading; `page_size` up to 200 by default."""
    _require_role(request, "view")
    customers = selectors.customer_list(user=request.auth).prefetch_related("tags")
    if filters.search:
        customers = selectors.customer_search(customers, filters.search, user=request.auth)
    if filters.status:
        customers = customers.filter(status=filters.status)
    if filters.owner:
        customers = customers.filter(owner__username=filters.owner)
    if filters.area:
        area = area_get_by_code(filters.area)
        # Areas form a tree: a region's list includes its sub-areas.
        customers = customers.filter(area__path__startswith=area.path) if area else customers.none()
    if filters.tag:
        if not card_access(request.auth).can_view("tags"):
            # Filtering by a tag one may not see would tell which cards carry it.
            raise PermissionDenied(_("Your role may not see tags."))
        customers = customers.filter(tags__name=filters.tag)
    return customers


@router.get(
    "/customers/{code}",
    response={200: CustomerOut, **READ_ERRORS},
    tags=CUSTOMERS,
    summary="Get a customer",
)
def customer_detail(request, code: str):
    customer = _customer_or_404(request, code)
    record_card_read(request, customer.pk)
    return customer


@router.post(
    "/customers",
    response={201: CustomerOut, 202: ChangeRequestOut, **WRITE_ERRORS},
    tags=CUSTOMERS,
    summary="Create a customer",
)
def customer_create(request, payload: CustomerCreateWithReasonIn):
    """Controlled card fields the caller may not set directly are left out of the new card
    and asked for in a change request (GOV-2): the answer is then 202 with the request."""
    _require_role(request, "add")
    data = payload.model_dump(exclude_unset=True)
    reason = data.pop("reason", None) or ""
    data = _service_data(request, data)
    customer, change_request = customer_create_with_approval(
        actor=request.auth, data=data, reason=reason, source=RequestSource.API
    )
    if change_request is not None:
        return Status(202, change_request)
    return Status(201, _customer_out(customer, request.auth))


@router.patch(
    "/customers/{code}",
    response={200: CustomerOut, 202: ChangeRequestOut, **UPDATE_ERRORS},
    tags=CUSTOMERS,
    summary="Change a customer",
)
def customer_update(request, code: str, payload: CustomerPatchWithReasonIn):
    """Only the fields sent change; ``version`` must be the one the client read.

    Controlled card fields that the caller may not change directly are not applied: they
    become a change request for a manager (GOV-2), answered with 202 and the request;
    ``reason`` is then required. Any other fields in the same patch are applied.
    """
    customer = _customer_or_404(request, code, "change")
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    reason = data.pop("reason", None) or ""
    data = _service_data(request, data, customer)
    customer, change_request = customer_edit_with_approval(
        actor=request.auth,
        customer=customer,
        data=data,
        expected_version=version,
        reason=reason,
        source=RequestSource.API,
    )
    if change_request is not None:
        return Status(202, change_request)
    return _customer_out(customer, request.auth)


@router.delete(
    "/customers/{code}",
    response={204: None, **READ_ERRORS},
    tags=CUSTOMERS,
    summary="Move a customer to the trash",
)
def customer_delete(request, code: str):
    """The card is hidden from then on (404 here too) until an administrator restores it
    (``POST /trash/{code}/restore``) or the purge deletes it after the retention."""
    customer = _customer_or_404(request, code, "delete")
    services.customer_delete(actor=request.auth, customer=customer)
    return Status(204, None)


def _person_data(payload: dict[str, Any]) -> dict[str, Any]:
    # Text columns store "" for "not given"; the API also takes null for it.
    dates = ("birthday", "anniversary")
    return {k: ("" if v is None and k not in dates else v) for k, v in payload.items()}


@router.get(
    "/customers/{code}/people",
    response={200: list[PersonOut], **READ_ERRORS},
    tags=PEOPLE,
    summary="List a customer's people",
)
def person_list(request, code: str):
    customer = _customer_or_404(request, code)
    _require_people(request)
    record_card_read(request, customer.pk)
    return selectors.person_list(user=request.auth).filter(customer=customer)


@router.post(
    "/customers/{code}/people",
    response={201: PersonOut, **WRITE_ERRORS},
    tags=PEOPLE,
    summary="Add a person to a customer",
)
def person_create(request, code: str, payload: PersonCreateIn):
    customer = _customer_or_404(request, code, "change")
    _require_people(request, "change")
    data = _person_data(payload.model_dump(exclude_unset=True))
    person = services.person_create(actor=request.auth, customer=customer, data=data)
    return Status(201, person)


@router.get(
    "/people/{int:person_id}",
    response={200: PersonOut, **READ_ERRORS},
    tags=PEOPLE,
    summary="Get a person",
)
def person_detail(request, person_id: int):
    person = _person_or_404(request, person_id)
    record_card_read(request, person.customer_id)
    return person


@router.patch(
    "/people/{int:person_id}",
    response={200: PersonOut, **UPDATE_ERRORS},
    tags=PEOPLE,
    summary="Change a person",
)
def person_update(request, person_id: int, payload: PersonPatchIn):
    """Only the fields sent change; ``version`` must be the one the client read."""
    person = _person_or_404(request, person_id, "change")
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    person = services.person_update(
        actor=request.auth, person=person, data=_person_data(data), expected_version=version
    )
    return person


@router.delete(
    "/people/{int:person_id}",
    response={204: None, **READ_ERRORS},
    tags=PEOPLE,
    summary="Delete a person",
)
def person_delete(request, person_id: int):
    person = _person_or_404(request, person_id, "change")
    services.person_delete(actor=request.auth, person=person)
    return Status(204, None)
