"""The purpose an export or printout of many cards must state (GOV-1)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import purpose_required, purpose_threshold


class PurposeForm(forms.Form):
    """Add to an export or print form; pass the number of cards it will contain.

    Below the threshold the purpose is optional; above it the form does not validate
    without one. Render it with ``{% include "audit/purpose_field.html" %}``.
    """

    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, count: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = count
        field = self.fields["purpose"]
        if purpose_required(count):
            field.required = True
            field.help_text = _(
                "Required: more than %(threshold)s cards. Say what they are for; "
                "the purpose is kept in the access log."
            ) % {"threshold": purpose_threshold()}
        else:
            field.help_text = _("Optional. Kept in the access log.")
        field.error_messages["required"] = _(
            "Say what these cards are for: more than %(threshold)s need a purpose."
        ) % {"threshold": purpose_threshold()}
