"""Pages of the customer card. Thin: selectors read, services write, forms check input.

Every view answers in the same order: anonymous → log-in page, a role that may not do
the action at all → 403, a card outside the user's scope → 404.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from tokui.approvals.forms import ControlledChangeForm
from tokui.approvals.services import customer_create_with_approval, customer_edit_with_approval
from tokui.audit.selectors import card_history
from tokui.audit.services import record_access
from tokui.core.exceptions import EditConflict
from tokui.fields.access import BUILT_IN_PARTS, card_access
from tokui.fields.choices import Category, FieldType
from tokui.fields.models import CHOICE_TYPES
from tokui.fields.selectors import active_field_definitions
from tokui.metrics.selectors import (
    DERIVED_FIELD_SOURCES,
    customer_figures,
    derived_field_values,
)
from tokui.sales.selectors import customer_purchase_summary, customer_transactions, order_list
from tokui.users.roles import CARD_HISTORY, CUSTOMER, has_permission

from . import services
from .choices import Channel
from .filtersets import CustomerFilterSet
from .forms import AddressForm, ConsentForm, CustomerForm, PersonForm
from .selectors import (
    address_get,
    can_act_on,
    consents_by_channel,
    customer_get,
    customer_list,
    may_export_personal_data,
    person_get,
)
from .tables import CustomerTable

TIMELINE_LENGTH = 20
LATEST_ORDERS = 5
HISTORY_PAGE_SIZE = 50


def _require(user, action: str, resource: str = CUSTOMER) -> None:
    if not has_permission(user, resource, action):
        raise PermissionDenied


def _require_part(user, part: str) -> None:
    """Pages that change people, addresses or consent: only for who may edit that part."""
    if not card_access(user).can_edit(part):
        raise PermissionDenied


def _customer_or_404(request, code: str, action: str):
    _require(request.user, action)
    customer = customer_get(user=request.user, code=code, action=action)
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


# --- list -----------------------------------------------------------------------------


@login_required
def customer_list_view(request):
    """The list, or with htmx just its results, so search and filters refresh in place."""
    _require(request.user, "view")
    queryset = customer_list(user=request.user).prefetch_related(
        Prefetch("tags", to_attr="tag_list")
    )
    filterset = CustomerFilterSet(request.GET or None, queryset=queryset, request=request)
    access = card_access(request.user)
    table = CustomerTable(
        filterset.qs, exclude=[part for part in ("tags", "phone") if not access.can_view(part)]
    )
    RequestConfig(request, paginate={"per_page": settings.TOKUI_PAGE_SIZE}).configure(table)
    template = "customers/customer_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    response = render(request, template, {"filter": filterset, "table": table})
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the card -------------------------------------------------------------------------


@login_required
def customer_detail(request, code):
    customer = _customer_or_404(request, code, "view")
    record_access(actor=request.user, action="view", customer_ids=[customer.pk], request=request)
    user = request.user
    may_read_history = has_permission(user, CARD_HISTORY, "view")
    history = []
    if may_read_history:
        history = list(card_history(customer_id=customer.pk)[:TIMELINE_LENGTH])
    consents = consents_by_channel(customer=customer)
    can_change = can_act_on(user=user, customer=customer, action="change")
    timeline = _timeline(history)
    if may_read_history:
        timeline = _merge_transactions(timeline, user, customer)
    figures = customer_figures(user=user, customer=customer)
    access = card_access(user)
    # A part the user may not see is left out of the page, not shown blank: what is
    # absent cannot be read off the HTML either (GOV-1).
    shown = {part: access.can_view(part) for part in BUILT_IN_PARTS}
    context = {
        "customer": customer,
        "shown": shown,
        "can_edit_people": access.can_edit("people"),
        "can_edit_addresses": access.can_edit("addresses"),
        "can_edit_consent": access.can_edit("consent"),
        "tags": list(customer.tags.all()) if shown["tags"] else [],
        "categories": _card_categories(
            customer, active_field_definitions(), derived_field_values(figures), access=access
        ),
        "figures": figures,
        "hidden_figures": _hidden_figures(access),
        "people": list(customer.people.all()) if shown["people"] else [],
        "addresses": list(customer.addresses.all()) if shown["addresses"] else [],
        "consents": [
            {"channel": channel, "label": label, "consent": consents.get(channel)}
            for channel, label in Channel.choices
        ]
        if shown["consent"]
        else [],
        "timeline": _mask_timeline(timeline, access),
        "may_read_history": may_read_history,
        "orders": list(order_list(user=user, customer=customer)[:LATEST_ORDERS]),
        "purchase_summary": customer_purchase_summary(user=user, customer=customer),
        "can_change": can_change,
        "can_delete": can_act_on(user=user, customer=customer, action="delete"),
        "may_export_personal_data": may_export_personal_data(user),
    }
    return render(request, "customers/customer_detail.html", context)


def _card_categories(customer, definitions, derived=None, *, access) -> list[dict]:
    """The card's categories with the fields ``access`` may see.

    A category the user sees but that has no fields yet says so; a category with nothing
    the user may see is left out, so the page does not even hint at what it holds.
    """
    # Derived fields show the system's figure (tokui.metrics), never a typed value.
    values = {**(customer.field_values or {}), **(derived or {})}
    categories = []
    for category, label in Category.choices:
        in_category = [d for d in definitions if d.category == category]
        rows = [
            {"definition": d, "value": display_value(d, values.get(d.key))}
            for d in in_category
            if access.can_view(d.key)
        ]
        if rows or (not in_category and category in access.viewable_categories):
            categories.append({"category": category, "label": label, "rows": rows})
    return categories


def _hidden_figures(access) -> set[str]:
    """Figures of the panel that back a derived card field the user may not see."""
    return {source for key, source in DERIVED_FIELD_SOURCES.items() if not access.can_view(key)}


def _mask_timeline(timeline: list[dict], access) -> list[dict]:
    """Timeline entries of hidden people, addresses or consent lose their record's name."""
    for entry in timeline:
        change = entry.get("change")
        if change is not None:
            entry["record_hidden"] = not access.can_view_change(change.object_type, None)
    return timeline


def display_value(definition, raw):
    """A stored card value as the card shows it; None when there is nothing to show."""
    if raw in (None, "", []):
        return None
    kind = definition.field_type
    try:
        if kind == FieldType.BOOLEAN:
            return _("Yes") if raw else _("No")
        if kind == FieldType.DATE:
            return datetime.date.fromisoformat(raw)
        if kind == FieldType.DECIMAL:
            return Decimal(str(raw))
    except (TypeError, ValueError, InvalidOperation):
        return str(raw)  # a value stored before the field's type changed: show it as it is
    if kind in CHOICE_TYPES:
        return definition.choice_text(raw)
    return raw


# --- history --------------------------------------------------------------------------


class FieldLabels:
    """Human labels for the record types and field names audit rows carry, and the card
    field a ``fields.<key>`` name stands for, looked up once per page (the card's history
    and conflicts here, the global change log in tokui.audit)."""

    def __init__(self):
        self._card_fields = None

    def definition(self, name: str):
        """The card field a ``fields.<key>`` name stands for, or None."""
        if not name.startswith("fields."):
            return None
        if self._card_fields is None:
            self._card_fields = {d.key: d for d in active_field_definitions()}
        return self._card_fields.get(name.removeprefix("fields."))

    def __call__(self, object_type: str, name: str) -> str:
        if name.startswith("fields."):
            definition = self.definition(name)
            return definition.display_label if definition else name.removeprefix("fields.")
        try:
            model = apps.get_model(object_type)
            return str(model._meta.get_field(name).verbose_name)
        except (LookupError, ValueError, FieldDoesNotExist):
            return name

    @staticmethod
    def object_label(object_type: str) -> str:
        try:
            return str(apps.get_model(object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return object_type  # a model that has since gone: its rows stay


def _timeline(history) -> list[dict]:
    labels = FieldLabels()
    return [
        {
            "change": change,
            "object_label": labels.object_label(change.object_type),
            "fields": [labels(change.object_type, name) for name in change.changes],
        }
        for change in history
    ]


def _merge_transactions(timeline: list[dict], user, customer) -> list[dict]:
    """The card's changes and its orders and payments in one list, newest first (CARD-6).

    Orders and payments carry a date, not a time: they sort at the start of their day.
    """
    for entry in timeline:
        entry["kind"] = "change"
        entry["when"] = entry["change"].time
    entries = timeline + customer_transactions(user=user, customer=customer, limit=TIMELINE_LENGTH)
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    return entries[:TIMELINE_LENGTH]


def history_value(value, definition=None) -> str:
    """A stored value as history and change requests show it; with the card field's
    ``definition``, a choice by its label in the reader's language."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if definition is not None and definition.field_type in CHOICE_TYPES:
        return definition.choice_text(value) or "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


@login_required
def customer_history(request, code):
    """Every change on the card, one row per changed field, newest first."""
    _require(request.user, "view", CARD_HISTORY)
    customer = _customer_or_404(request, code, "view")
    record_access(actor=request.user, action="view", customer_ids=[customer.pk], request=request)
    page = Paginator(card_history(customer_id=customer.pk), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Imported here: the change log's views import this module for ``history_value``.
    from tokui.audit.views import change_rows

    rows = change_rows(page, {}, access=card_access(request.user))
    return render(
        request,
        "customers/customer_history.html",
        {"customer": customer, "page": page, "rows": rows},
    )


# --- create, edit, delete -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    _require(request.user, "add")
    definitions = active_field_definitions()
    form = CustomerForm(request.POST or None, actor=request.user, definitions=definitions)
    # GOV-2: a new card's controlled values from operating staff wait for approval too.
    approval = ControlledChangeForm.for_edit(request, definitions)
    if request.method == "POST" and form.is_valid() and approval.is_valid():
        try:
            customer, change_request = customer_create_with_approval(
                actor=request.user, data=form.service_data(), reason=approval.reason
            )
        except ValidationError as error:
            rest = approval.take_reason_errors(error)
            if rest is not None:
                form.add_service_errors(rest)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not create this customer."))
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            if change_request is not None:
                messages.info(
                    request,
                    _("Sent for approval: a manager decides the controlled fields you changed."),
                )
            return redirect("customers:detail", code=customer.code)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "customer": None, "approval": approval},
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, code):
    customer = _customer_or_404(request, code, "change")
    definitions = active_field_definitions()
    form = CustomerForm(
        request.POST or None, actor=request.user, definitions=definitions, customer=customer
    )
    # GOV-2: changes of controlled fields by operating staff become a change request.
    approval = ControlledChangeForm.for_edit(request, definitions)
    conflict = None
    if request.method == "POST" and form.is_valid() and approval.is_valid():
        try:
            _customer, change_request = customer_edit_with_approval(
                actor=request.user,
                customer=customer,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"] or 0,
                reason=approval.reason,
            )
        except EditConflict as error:
            conflict = error
            form = form.with_version(error.current_version)
        except ValidationError as error:
            rest = approval.take_reason_errors(error)
            if rest is not None:
                form.add_service_errors(rest)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not make this change."))
        else:
            if change_request is not None:
                messages.success(
                    request,
                    _("Sent for approval: a manager decides the controlled fields you changed."),
                )
            else:
                messages.success(request, _("Changes saved."))
            return redirect("customers:detail", code=customer.code)
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "conflict": _conflict_context(conflict, request.user),
            "approval": approval,
        },
        status=409 if conflict else 200,
    )


def _conflict_context(conflict: EditConflict | None, user=None) -> dict | None:
    """The refused save, with each colleague's change spelled out field by field; a field
    the user may not see is named, its values are not."""
    if conflict is None:
        return None
    labels = FieldLabels()
    access = card_access(user)
    return {
        "message": conflict.message,
        "changes": [
            {
                "change": change,
                "fields": [
                    {
                        "label": labels(change.object_type, name),
                        "old": history_value(values.get("old"), definition) if visible else "",
                        "new": history_value(values.get("new"), definition) if visible else "",
                        "hidden": not visible,
                    }
                    for name, values in sorted(change.changes.items())
                    for visible in [access.can_view_change(change.object_type, name)]
                    for definition in [labels.definition(name)]
                ],
            }
            for change in conflict.changes
        ],
    }


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request, code):
    customer = _customer_or_404(request, code, "delete")
    if request.method == "POST":
        services.customer_delete(actor=request.user, customer=customer)
        messages.success(
            request, _("Customer %(name)s moved to the trash.") % {"name": customer.name}
        )
        return redirect("customers:list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "customer": customer,
            "object": customer,
            "question": _(
                "Move the card of %(name)s to the trash, with its people, addresses, consent"
                " and orders?"
            )
            % {"name": customer.name},
            "trash": True,
            "retention_days": services.trash_retention_days(),
        },
    )


# --- people ---------------------------------------------------------------------------


def _person_or_404(request, customer, pk):
    person = person_get(user=request.user, pk=pk, action="change")
    if person is None or person.customer_id != customer.pk:
        raise Http404(_("No such person on this card."))
    return person


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request, code):
    customer = _customer_or_404(request, code, "change")
    _require_part(request.user, "people")
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_create(actor=request.user, customer=customer, data=form.service_data())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Person added."))
            return redirect("customers:detail", code=customer.code)
    return _row_form(request, customer, form, _("Add a person"))


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request, code, pk):
    customer = _customer_or_404(request, code, "change")
    _require_part(request.user, "people")
    person = _person_or_404(request, customer, pk)
    form = PersonForm(request.POST or None, person=person)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(
                actor=request.user,
                person=person,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"] or 0,
            )
        except EditConflict as error:
            conflict = error
            form = form.with_version(error.current_version)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:detail", code=customer.code)
    return _row_form(
        request,
        customer,
        form,
        _("Edit %(name)s") % {"name": person.name},
        conflict=conflict,
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_delete(request, code, pk):
    customer = _customer_or_404(request, code, "change")
    _require_part(request.user, "people")
    person = _person_or_404(request, customer, pk)
    if request.method == "POST":
        services.person_delete(actor=request.user, person=person)
        messages.success(request, _("%(name)s removed from the card.") % {"name": person.name})
        return redirect("customers:detail", code=customer.code)
    return _confirm(
        request,
        customer,
        person,
        _("Remove %(name)s from the card of %(customer)s?")
        % {"name": person.name, "customer": customer.name},
    )


# --- addresses ------------------------------------------------------------------------


def _address_or_404(request, customer, pk):
    address = address_get(user=request.user, pk=pk, action="change")
    if address is None or address.customer_id != customer.pk:
        raise Http404(_("No such address on this card."))
    return address


@login_required
@require_http_methods(["GET", "POST"])
def address_create(request, code):
    customer = _customer_or_404(request, code, "change")
    _require_part(request.user, "addresses")
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_create(actor=request.user, customer=customer, data=form.service_data())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Address added."))
            return redirect("customers:detail", code=customer.code)
    return _row_form(request, customer, form, _("Add an address"))


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, code, pk):
    customer = _customer_or_404(request, code, "change")
    _require_part(request.user, "addresses")
    address = _address_or_404(request, customer, pk)
    form = AddressForm(request.POST or None, address=address)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_update(actor=request.user, address=address, data=form.service_data())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:detail", code=customer.code)
    return _row_form(request, customer, form, _("Edit address"))


@login_required
@require_http_methods(["GET", "POST"])
def address_delete(request, code, pk):
    customer = _customer_or_404(request, code, "change")
    _require_part(request.user, "addresses")
    address = _address_or_404(request, customer, pk)
    if request.method == "POST":
        services.address_delete(actor=request.user, address=address)
        messages.success(request, _("Address removed."))
        return redirect("customers:detail", code=customer.code)
    return _confirm(
        request,
        customer,
        address,
        _("Remove the address “%(address)s” from the card?") % {"address": address},
    )


# --- consent --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def consent_edit(request, code):
    """All five channels and the preferred one in one form, saved together or not at all."""
    customer = _customer_or_404(request, code, "change")
    _require_part(request.user, "consent")
    consents = consents_by_channel(customer=customer)
    access = card_access(request.user)
    form = _ruled_consent_form(
        ConsentForm(request.POST or None, customer=customer, consents=consents), access
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        channel = form.fields["preferred_channel"]
        try:
            with transaction.atomic():
                services.customer_update(
                    actor=request.user,
                    customer=customer,
                    data={}
                    if channel.disabled
                    else {"preferred_channel": form.cleaned_data["preferred_channel"]},
                    expected_version=form.cleaned_data["version"],
                )
                for payload in form.changed_consents():
                    services.consent_set(actor=request.user, customer=customer, data=payload)
        except EditConflict as error:
            conflict = error
            form = _ruled_consent_form(form.with_version(error.current_version), access)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Consent saved."))
            return redirect("customers:detail", code=customer.code)
    return render(
        request,
        "customers/consent_form.html",
        {"customer": customer, "form": form, "conflict": _conflict_context(conflict, request.user)},
        status=409 if conflict else 200,
    )


def _ruled_consent_form(form: ConsentForm, access) -> ConsentForm:
    """The preferred channel is a basic part of the card, the answers personal: a user who
    may not edit it gets it disabled (never sent on), one who may not see it an empty
    hidden input, so its value is not in the page."""
    channel = form.fields["preferred_channel"]
    if not access.can_edit("preferred_channel"):
        channel.disabled = True
    if not access.can_view("preferred_channel"):
        channel.widget = forms.HiddenInput()
        form.initial["preferred_channel"] = ""
    return form


# --- shared page shapes ---------------------------------------------------------------


def _row_form(request, customer, form, title, conflict=None):
    return render(
        request,
        "customers/row_form.html",
        {
            "customer": customer,
            "form": form,
            "title": title,
            "conflict": _conflict_context(conflict, request.user),
        },
        status=409 if conflict else 200,
    )


def _confirm(request, customer, obj, question):
    return render(
        request,
        "customers/confirm_delete.html",
        {"customer": customer, "object": obj, "question": question},
    )
