"""Forms of the approval pages and the reason input on the card's edit page."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tokui.accounts.selectors import area_list
from tokui.fields.access import card_access

from .choices import RequestStatus

REASON_MAX = 2000


class ControlledChangeForm(forms.Form):
    """The reason for changing controlled fields, next to the card's edit form.

    ``controlled_keys`` are the card fields whose changes by this user wait for approval;
    the edit page marks them and shows the reason input only when there are any.
    """

    change_reason = forms.CharField(
        label=_("Reason for the controlled change"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Changes to fields marked “needs approval” are sent to a manager with this reason."
        ),
    )

    def __init__(self, *args, controlled_keys=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.controlled_keys = frozenset(controlled_keys)

    @classmethod
    def for_edit(cls, request, definitions) -> "ControlledChangeForm":
        """The form for ``request.user`` editing a card with these field definitions."""
        access = card_access(request.user)
        keys = {d.key for d in definitions if not d.is_derived and access.needs_approval(d.key)}
        return cls(request.POST or None, controlled_keys=keys)

    @property
    def reason(self) -> str:
        return (self.cleaned_data.get("change_reason") or "") if self.is_bound else ""

    def take_reason_errors(self, error: ValidationError) -> ValidationError | None:
        """Show a service's complaint about the reason here; return the rest (or None)."""
        if not hasattr(error, "error_dict") or "reason" not in error.error_dict:
            return error
        self.add_error("change_reason", error.error_dict["reason"])
        rest = {k: v for k, v in error.error_dict.items() if k != "reason"}
        return ValidationError(rest) if rest else None


class DecisionForm(forms.Form):
    """Approve or reject, with a comment; ``seen_version`` re-bases a stale request."""

    APPROVE, REJECT = "approve", "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when rejecting: the requester reads it."),
    )
    seen_version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *RequestStatus.choices],
    )
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=None, required=False, to_field_name="code"
    )
    requester = forms.CharField(label=_("Requested by (user name)"), required=False, max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = area_list()
