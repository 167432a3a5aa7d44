"""Forms for administrators who shape the customer card."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tokui.core.validators import validate_plain_name
from tokui.users.choices import Role

from .models import LABEL_LANGUAGES, FieldDefinition
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
    """Add or change a card field. Choices are typed one per line, each optionally followed
    by its labels in English, Japanese and Korean: ``e_money | E-money | 電子マネー | 전자화폐``.

    The key is fixed once the field exists: every card stores its value under the key.
    """

    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "For choice and multiple-choice fields: one choice per line, optionally followed "
            "by what cards show for it in English, Japanese and Korean, separated by |: "
            "e_money | E-money | 電子マネー | 전자화폐"
        ),
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
                self.initial["choices"] = choice_lines(self.instance)
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
        # Blank lines are layout, not choices; the model checks the list and the labels
        # (present for choice types, unique, short, plain) so presets get the same rules.
        choices, labels = [], {}
        for number, line in enumerate(self.cleaned_data["choices"].splitlines(), start=1):
            choice, *texts = (cell.strip() for cell in line.split("|"))
            if not choice and any(texts):
                raise ValidationError(
                    _("Line %(line)d: the choice comes first, then its labels.") % {"line": number}
                )
            if len(texts) > len(LABEL_LANGUAGES):
                raise ValidationError(
                    _(
                        "Line %(line)d: a choice and at most three labels (English, Japanese, "
                        "Korean), separated by |."
                    )
                    % {"line": number}
                )
            if choice:
                choices.append(choice)
                given = zip(LABEL_LANGUAGES, texts, strict=False)
                if named := {lang: text for lang, text in given if text}:
                    labels[choice] = named
        self.choice_labels = labels
        return choices

    def definition_data(self) -> dict:
        """What the service is given: every editable attribute, the key only on creation."""
        names = list(DEFINITION_FIELDS)
        if self.instance.pk:
            names.remove("key")
            names.append("is_active")
        return {name: self.cleaned_data[name] for name in names} | {
            "choice_labels": self.choice_labels
        }


def choice_lines(definition: FieldDefinition) -> str:
    """The choices as the form shows them: one a line, with the labels it has."""
    lines = []
    for choice in definition.choices or []:
        texts = (definition.choice_labels or {}).get(choice, {})
        cells = [choice, *(texts.get(lang, "") for lang in LABEL_LANGUAGES)]
        while len(cells) > 1 and not cells[-1]:
            cells.pop()
        lines.append(" | ".join(cells))
    return "\n".join(lines)


class PresetLoadForm(forms.Form):
    name = forms.ChoiceField(choices=[(name, name) for name in PRESETS])
