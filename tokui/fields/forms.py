"""Forms for administrators who shape the customer card."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.core.validators import validate_plain_name
from tokui.users.choices import Role

from .models import FieldDefinition
from .services import PRESETS

DEFINITION_FIELDS = [
    "key",
    "label",
    "label_ja",
    "label_ko",
    "field_type",
    "category",
    "maintenance",
    "required",
    "choices",
    "min_value",
    "max_value",
    "max_length",
    "pattern",
    "help_text",
    "order",
    "controlled",
    "view_roles",
    "edit_roles",
]


class FieldDefinitionForm(forms.ModelForm):
    """Add or change a card field. Choices are typed one per line.

    The key is fixed once the field exists: every card stores its value under the key.
    """

    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For choice and multiple-choice fields: one choice per line."),
    )
    # Sensitive fields (credit, licence, personal identifiers) name their own readers.
    view_roles = forms.MultipleChoiceField(
        label=_("Roles that may see it"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to follow the rule of the field's category."),
    )
    edit_roles = forms.MultipleChoiceField(
        label=_("Roles that may edit it"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Leave all unticked to follow the rule of the field's category. "
            "A role that may edit it must also see it."
        ),
    )

    class Meta:
        model = FieldDefinition
        fields = DEFINITION_FIELDS
        widgets = {"help_text": forms.TextInput()}
        help_texts = {
            "maintenance": _(
                "Static: rarely changes. Dynamic: changes with the business. "
                "Derived: computed by the system from transactions, never typed in."
            ),
            "order": _("Within its category, the card shows fields by this number."),
            "help_text": _("Shown under the input on the card."),
            "max_length": _("For text fields."),
            "min_value": _("For integer and decimal fields."),
            "max_value": _("For integer and decimal fields."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("label", "label_ja", "label_ko"):
            self.fields[name].validators.append(validate_plain_name)
        if self.instance.pk:
            self.fields["key"].disabled = True
            self.fields["key"].help_text = _("The key cannot be changed once the field exists.")
            self.fields["is_active"] = forms.BooleanField(
                label=_("Active"),
                required=False,
                initial=self.instance.is_active,
                help_text=_("Retired fields are hidden from cards; their values are kept."),
            )
            if not self.is_bound:
                self.initial["choices"] = "\n".join(self.instance.choices or [])
        else:
            self.fields["key"].help_text = _(
                "Lower-case letters, digits and underscores. Cards, imports and the API use it."
            )

    def clean_view_roles(self) -> list[str]:
        # Stored in the order of the role list, so the same choice never reads as a change.
        return [role for role in Role.values if role in self.cleaned_data["view_roles"]]

    def clean_edit_roles(self) -> list[str]:
        return [role for role in Role.values if role in self.cleaned_data["edit_roles"]]

    def clean_choices(self) -> list[str]:
        # Blank lines are layout, not choices; the model checks the list itself
        # (present for choice types, unique, short) so the API and presets get the same rules.
        lines = (line.strip() for line in self.cleaned_data["choices"].splitlines())
        return [line for line in lines if line]

    def definition_data(self) -> dict:
        """What the service is given: every editable attribute, the key only on creation."""
        names = list(DEFINITION_FIELDS)
        if self.instance.pk:
            names.remove("key")
            names.append("is_active")
        return {name: self.cleaned_data[name] for name in names}


class PresetLoadForm(forms.Form):
    name = forms.ChoiceField(choices=[(name, name) for name in PRESETS])
