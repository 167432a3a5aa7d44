"""Likely duplicate cards and the screen that merges two of them (CARD-12).

Who sees what: anyone who may change cards sees the pairs among the cards they may
change (an account manager spots duplicates among their own cards and asks a manager);
merging deletes a card, so the merge screen needs the right to delete both cards — a
manager whose area holds both, or an administrator. Order of answers as everywhere:
anonymous → log-in page, a role that may not do it at all → 403, a card outside the
user's scope → 404.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tokui.core.exceptions import EditConflict
from tokui.fields.access import card_access
from tokui.fields.choices import FieldType
from tokui.fields.models import CHOICE_TYPES
from tokui.fields.selectors import active_field_definitions
from tokui.users.roles import CUSTOMER, has_permission

from . import services
from .choices import Channel
from .models import Consent, Customer
from .selectors import customer_get, customer_ids_in_scope, duplicate_pairs, merge_counts

CHOICE_PREFIX = "pick-"
REASON_LABELS = {
    "name": gettext_lazy("same name"),
    "reading": gettext_lazy("same reading"),
    "phone": gettext_lazy("same phone"),
    "address": gettext_lazy("same address"),
    # tokui.customers.selectors.HIDDEN_REASON: a part the user may not see matched.
    "hidden": gettext_lazy("a field you may not see"),
}


def _require(user, action: str) -> None:
    if not has_permission(user, CUSTOMER, action):
        raise PermissionDenied


@login_required
def duplicates_view(request):
    """Pairs of cards that look like one customer, likeliest first."""
    _require(request.user, "change")
    pairs = duplicate_pairs(user=request.user)
    ids = {card.pk for pair in pairs for card in (pair.first, pair.second)}
    mergeable = (
        customer_ids_in_scope(user=request.user, action="delete", ids=ids)
        if has_permission(request.user, CUSTOMER, "delete")
        else set()
    )
    rows = [
        {
            "pair": pair,
            "reasons": [str(REASON_LABELS[reason]) for reason in pair.reasons],
            "can_merge": pair.first.pk in mergeable and pair.second.pk in mergeable,
        }
        for pair in pairs
    ]
    return render(request, "customers/duplicates.html", {"rows": rows})


def _merge_cards(request, keep_code: str, merge_code: str) -> tuple[Customer, Customer]:
    _require(request.user, "delete")
    if keep_code == merge_code:
        raise Http404(_("A card cannot be merged into itself."))
    keep = customer_get(user=request.user, code=keep_code, action="delete")
    merge = customer_get(user=request.user, code=merge_code, action="delete")
    if keep is None or merge is None:
        raise Http404(_("No such customer."))
    return keep, merge


def _label(name: str, definitions: dict) -> str:
    if name.startswith("fields."):
        definition = definitions.get(name.removeprefix("fields."))
        return definition.display_label if definition else name
    if name.startswith("consent."):
        channel = dict(Channel.choices).get(name.removeprefix("consent."), name)
        return _("Consent: %(channel)s") % {"channel": channel}
    return str(Customer._meta.get_field(name).verbose_name)


def _shown(name: str, value, definitions: dict) -> str:
    """A value as the merge screen shows it; "—" for nothing."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, Consent):
        answer = _("accepts") if value.granted else _("refuses")
        parts = [answer, value.recorded_on.isoformat(), value.source]
        return ", ".join(part for part in parts if part)
    if name.startswith("fields."):
        definition = definitions.get(name.removeprefix("fields."))
        if definition and definition.field_type == FieldType.BOOLEAN:
            return _("Yes") if value else _("No")
        if definition and definition.field_type in CHOICE_TYPES:
            return definition.choice_text(value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if name in services.MERGE_PLAIN_FIELDS:
        choices = dict(Customer._meta.get_field(name).flatchoices)
        return str(choices.get(value, value))
    return str(value)


def _comparison(request, keep, merge):
    """One row per differing field, with the choice posted (or the default) marked."""
    definition_list = active_field_definitions()
    definitions = {d.key: d for d in definition_list}
    differences = services.merge_differences(keep, merge, definition_list)
    access = card_access(request.user)
    rows, choices = [], {}
    for name, (kept_value, merged_value) in differences.items():
        visible = (
            access.can_view("consent")
            if name.startswith("consent.")
            else access.can_view_change("customers.customer", name)
        )
        if not visible:
            # A part the user may not see keeps the kept card's value and is not shown.
            choices[name] = services.KEEP
            continue
        posted = request.POST.get(CHOICE_PREFIX + name)
        choice = (
            posted
            if posted in (services.KEEP, services.TAKE_MERGED)
            else services.default_merge_choice(kept_value, merged_value)
        )
        choices[name] = choice
        rows.append(
            {
                "name": name,
                "input": CHOICE_PREFIX + name,
                "label": _label(name, definitions),
                "kept": _shown(name, kept_value, definitions),
                "merged": _shown(name, merged_value, definitions),
                "choice": choice,
                "result": _shown(
                    name,
                    merged_value if choice == services.TAKE_MERGED else kept_value,
                    definitions,
                ),
            }
        )
    return rows, choices


def _versions(request, keep, merge) -> dict[str, int]:
    """The versions the user compared: from the form when posted, else the current ones."""
    versions = {}
    for role, card in (("keep", keep), ("merge", merge)):
        try:
            versions[card.code] = int(request.POST.get(f"version-{role}", card.version))
        except (TypeError, ValueError):
            versions[card.code] = card.version
    return versions


@login_required
@require_http_methods(["GET", "POST"])
def merge_view(request, keep_code, merge_code):
    """Compare two cards, choose per field which value stays, preview, then merge.

    GET shows the choices; POST with ``preview`` shows the card as it will be, any other
    POST the choices again as posted; POST with ``confirm`` merges. A card changed by
    someone else meanwhile is refused (409) and the comparison shows again, current.
    """
    keep, merge = _merge_cards(request, keep_code, merge_code)
    rows, choices = _comparison(request, keep, merge)
    versions = _versions(request, keep, merge)
    context = {
        "keep": keep,
        "merge": merge,
        "rows": rows,
        "versions": {"keep": versions[keep.code], "merge": versions[merge.code]},
        "tags": sorted({t.name for t in keep.tags.all()} | {t.name for t in merge.tags.all()})
        if card_access(request.user).can_view("tags")
        else [],
        "moving": merge_counts(merge),
        "error": None,
        "conflict": None,
    }
    status = 200
    template = "customers/merge.html"
    if request.method == "POST" and "confirm" in request.POST:
        try:
            services.customers_merge(
                actor=request.user,
                keep=keep,
                merge=merge,
                choices=choices,
                expected_versions=versions,
            )
        except EditConflict as error:
            context["conflict"] = error.message
            context["versions"] = {"keep": keep.version, "merge": merge.version}
            status = 409
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
            status = 400
        except PermissionDenied as error:
            context["error"] = str(error) or _("You may not merge these customers.")
            status = 403
        else:
            messages.success(
                request,
                _("%(merged)s (%(merged_code)s) was merged into this card.")
                % {"merged": merge.name, "merged_code": merge.code},
            )
            return redirect("customers:detail", code=keep.code)
    elif request.method == "POST" and "preview" in request.POST:
        template = "customers/merge_preview.html"
    return render(request, template, context, status=status)
