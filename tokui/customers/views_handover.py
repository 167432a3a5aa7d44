"""Handing an account manager's customers to someone else (CARD-9).

Managers hand over within their area, administrators anywhere; account managers and the
other roles may not (403). The page is two steps: choose who, to whom and optionally which
cards (the list page's status, area and tag filters) and see how many cards that is; then
confirm. The confirmation repeats the choice, so what is handed over is what was counted.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tokui.users.choices import Scope
from tokui.users.roles import CUSTOMER, scope_for

from . import services
from .filtersets import CustomerFilterSet
from .selectors import assignable_owners, customer_list, handover_customers, handover_sources

# The list filters that make sense for choosing which cards move.
HANDOVER_FILTERS = ("status", "area", "tag")


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(
        label=gettext_lazy("Hand over from"), queryset=None, to_field_name="username"
    )
    to_user = forms.ModelChoiceField(
        label=gettext_lazy("Hand over to"), queryset=None, to_field_name="username"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_user"].queryset = handover_sources(user=user)
        self.fields["to_user"].queryset = assignable_owners(user=user).filter(
            is_active=True, role__in=services.HANDOVER_RECEIVER_ROLES
        )
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"

    def clean(self):
        data = super().clean()
        if data.get("from_user") and data.get("from_user") == data.get("to_user"):
            raise ValidationError(_("Choose another person to receive the customers."))
        return data


def _require_handover(user) -> None:
    if scope_for(user, CUSTOMER, "change") not in (Scope.ALL, Scope.AREA):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def handover_view(request):
    _require_handover(request.user)
    params = request.POST if request.method == "POST" else request.GET
    form = HandoverForm(params or None, user=request.user)
    filter_params = {name: params.get(name, "") for name in HANDOVER_FILTERS}
    count = None
    filterset = None
    if form.is_valid():
        from_user, to_user = form.cleaned_data["from_user"], form.cleaned_data["to_user"]
        # The request gives the filters the user's field rules (phone search, tag filter).
        filterset = CustomerFilterSet(
            filter_params,
            queryset=handover_customers(user=request.user, from_user=from_user),
            request=request,
        )
        cards = filterset.qs
        if request.method == "POST":
            try:
                moved = services.customers_reassign(
                    actor=request.user,
                    from_user=from_user,
                    to_user=to_user,
                    customer_ids=cards.values_list("pk", flat=True),
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(count)s customers handed from %(from)s to %(to)s.")
                    % {"count": moved, "from": from_user, "to": to_user},
                )
                return redirect("customers:handover")
        count = cards.count()
    if filterset is None:
        filterset = CustomerFilterSet(
            filter_params, queryset=customer_list(user=request.user).none(), request=request
        )
    for name in set(filterset.form.fields) - set(HANDOVER_FILTERS):
        del filterset.form.fields[name]
    return render(
        request,
        "customers/handover.html",
        {"form": form, "filter_form": filterset.form, "count": count},
    )
