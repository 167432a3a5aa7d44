"""Pages where administrators shape the customer card (CARD-3) and others read its definition."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tokui.users.choices import Role
from tokui.users.roles import FIELD_DEFINITION, has_permission

from . import services
from .access import category_rules
from .choices import Category, FieldType, Maintenance
from .forms import FieldDefinitionForm, PresetLoadForm
from .selectors import field_definition_list, sensitive_definitions
from .tables import FieldDefinitionTable

PRESET_DESCRIPTIONS = {
    "retail_store": (
        gettext_lazy("Retail store"),
        gettext_lazy(
            "A clothing store with hundreds of regular customers: membership, sizes, "
            "tastes, response to promotions, purchases."
        ),
    ),
    "wholesale_distributor": (
        gettext_lazy("Wholesale distributor"),
        gettext_lazy(
            "A distributor serving small retail shops on delivery routes: the card of "
            "CARD-2 with licence, route, management and business fields."
        ),
    ),
}


def _require(user, action: str) -> None:
    if not has_permission(user, FIELD_DEFINITION, action):
        raise PermissionDenied


def _may_edit(user) -> bool:
    return all(has_permission(user, FIELD_DEFINITION, a) for a in ("add", "change", "delete"))


def _add_service_errors(form, exc: ValidationError) -> None:
    """Put a service's errors next to the inputs they concern; others at the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        name = "choices" if name == "choice_labels" else name  # typed in the same box
        form.add_error(name if name in form.fields else NON_FIELD_ERRORS, errors)


@login_required
def definition_list(request):
    _require(request.user, "view")
    definitions = list(field_definition_list(user=request.user))
    may_edit = _may_edit(request.user)
    groups = []
    for value, label in Category.choices:
        rows = [d for d in definitions if d.category == value]
        if rows:
            table = FieldDefinitionTable(rows, exclude=() if may_edit else ("actions",))
            groups.append({"category": value, "label": label, "table": table})
    return render(
        request,
        "fields/definition_list.html",
        {"groups": groups, "may_edit": may_edit, "total": len(definitions)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def definition_create(request):
    _require(request.user, "add")
    form = FieldDefinitionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            definition = services.field_definition_create(
                actor=request.user, **form.definition_data()
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Card field “%(label)s” added.") % {"label": definition.display_label},
            )
            return redirect("fields:list")
    return render(request, "fields/definition_form.html", {"form": form, "definition": None})


@login_required
@require_http_methods(["GET", "POST"])
def definition_edit(request, key: str):
    _require(request.user, "change")
    definition = get_object_or_404(field_definition_list(user=request.user), key=key)
    form = FieldDefinitionForm(
        request.POST if request.method == "POST" else None, instance=definition
    )
    if request.method == "POST" and form.is_valid():
        try:
            definition = services.field_definition_update(
                actor=request.user, definition=definition, **form.definition_data()
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Card field “%(label)s” saved.") % {"label": definition.display_label},
            )
            return redirect("fields:list")
    return render(request, "fields/definition_form.html", {"form": form, "definition": definition})


@login_required
@require_POST
def definition_retire(request, key: str):
    _require(request.user, "delete")
    definition = get_object_or_404(field_definition_list(user=request.user), key=key)
    services.field_definition_delete(actor=request.user, definition=definition)
    messages.success(
        request,
        _("Card field “%(label)s” retired. Values already on cards are kept.")
        % {"label": definition.display_label},
    )
    return redirect("fields:list")


@login_required
@require_http_methods(["GET", "POST"])
def preset_list(request):
    _require(request.user, "view")
    may_edit = _may_edit(request.user)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        form = PresetLoadForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose one of the presets listed."))
            return redirect("fields:presets")
        name = form.cleaned_data["name"]
        added, updated = services.field_preset_load(actor=request.user, name=name)
        messages.success(
            request,
            _("Preset “%(preset)s” loaded: %(added)d fields added, %(updated)d updated.")
            % {"preset": PRESET_DESCRIPTIONS[name][0], "added": added, "updated": updated},
        )
        return redirect("fields:list")
    existing = set(field_definition_list(user=request.user).values_list("key", flat=True))
    presets = [
        {
            "name": name,
            "title": PRESET_DESCRIPTIONS[name][0],
            "description": PRESET_DESCRIPTIONS[name][1],
            "fields": [
                _preset_row(data, exists=data["key"] in existing)
                for data in services.preset_definitions(name)
            ],
        }
        for name in services.PRESETS
    ]
    return render(request, "fields/preset_list.html", {"presets": presets, "may_edit": may_edit})


def _preset_row(data: dict, *, exists: bool) -> dict:
    """A preset's field as the page shows it, with the display names of its codes."""
    return {
        **data,
        "field_type": FieldType(data["field_type"]).label,
        "category": Category(data["category"]).label,
        "maintenance": Maintenance(data.get("maintenance", Maintenance.DYNAMIC)).label,
        "exists": exists,
    }


# --- who sees what --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def category_rules_view(request):
    """The category × role grid: administrators change it, other readers see it."""
    _require(request.user, "view")
    may_edit = has_permission(request.user, FIELD_DEFINITION, "change")
    current = category_rules()
    error = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        # An unticked checkbox sends nothing: the whole grid is posted, so absence is "no".
        wanted = {
            (category, role): (
                f"view-{category}-{role}" in request.POST,
                f"edit-{category}-{role}" in request.POST,
            )
            for category in Category.values
            for role in Role.values
        }
        try:
            changed = services.category_rules_set(actor=request.user, rules=wanted)
        except ValidationError as exc:
            error = " ".join(exc.messages)
            current = {
                role: (
                    frozenset(c for c in Category.values if wanted[(c, role)][0]),
                    frozenset(c for c in Category.values if wanted[(c, role)][1]),
                )
                for role in Role.values
            }
        else:
            messages.success(
                request,
                _("Rules saved: %(count)d changed.") % {"count": changed},
            )
            return redirect("fields:rules")
    rows = [
        {
            "category": category,
            "label": label,
            "cells": [
                {
                    "role": role,
                    "role_label": role_label,
                    "view": category in current.get(role, (frozenset(), frozenset()))[0],
                    "edit": category in current.get(role, (frozenset(), frozenset()))[1],
                }
                for role, role_label in Role.choices
            ],
        }
        for category, label in Category.choices
    ]
    return render(
        request,
        "fields/category_rules.html",
        {
            "rows": rows,
            "roles": Role.choices,
            "may_edit": may_edit,
            "error": error,
            "sensitive": [
                {
                    "definition": d,
                    "view": ", ".join(str(Role(r).label) for r in d.view_roles),
                    "edit": ", ".join(str(Role(r).label) for r in d.edit_roles),
                }
                for d in sensitive_definitions(user=request.user)
            ],
        },
        status=400 if error else 200,
    )
