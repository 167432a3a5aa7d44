"""Configurable fields of the customer card (CARD-2, CARD-3, CARD-4)."""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tokui.core.models import BaseModel
from tokui.core.validators import validate_phone, validate_plain_name
from tokui.users.choices import Role

from .choices import Category, FieldType, Maintenance

validate_field_key = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}\Z",
    _("Use lower-case letters, digits and underscores, starting with a letter."),
)

TEXT_MAX_LENGTH = 500
LONG_TEXT_MAX_LENGTH = 10_000
CHOICE_MAX_LENGTH = 100

CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)
# The languages a choice's label is given in (settings.LANGUAGES).
LABEL_LANGUAGES = ("en", "ja", "ko")
NUMBER_TYPES = (FieldType.INTEGER, FieldType.DECIMAL)
TEXT_LIMITS = {FieldType.TEXT: TEXT_MAX_LENGTH, FieldType.LONG_TEXT: LONG_TEXT_MAX_LENGTH}
PATTERN_TYPES = (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE)


class FieldDefinition(BaseModel):
    """One field an administrator added to the card; values live on the customer by ``key``."""

    key = models.CharField(_("key"), max_length=63, unique=True, validators=[validate_field_key])
    label = models.CharField(_("label"), max_length=100)
    label_ja = models.CharField(_("label (Japanese)"), max_length=100, blank=True)
    label_ko = models.CharField(_("label (Korean)"), max_length=100, blank=True)
    field_type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    maintenance = models.CharField(
        _("maintenance class"),
        max_length=16,
        choices=Maintenance.choices,
        default=Maintenance.DYNAMIC,
    )
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("For choice fields: the allowed values."),
    )
    # What the card shows for each choice, per language: {"e_money": {"en": "E-money",
    # "ja": "電子マネー", "ko": "전자화폐"}}. Cards store the choice itself, so a label can
    # change without touching a card; a choice without a label shows as it is stored.
    choice_labels = models.JSONField(_("choice labels"), default=dict, blank=True)
    min_value = models.DecimalField(
        _("minimum"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    pattern = models.CharField(
        _("pattern"),
        max_length=200,
        blank=True,
        help_text=_("A regular expression that text values must match."),
    )
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    # GOV-2: operating staff's edits of a controlled field wait for a manager's approval.
    controlled = models.BooleanField(
        _("controlled"),
        default=False,
        help_text=_("Changes by account managers need a manager's approval before they apply."),
    )
    # Roles listed here replace the category's rule for this one field (a sensitive field:
    # credit, licence, personal identifiers). Empty: the category rule applies.
    view_roles = models.JSONField(
        _("roles that may see it"),
        default=list,
        blank=True,
        help_text=_("Leave empty to follow the rule of the field's category."),
    )
    edit_roles = models.JSONField(
        _("roles that may edit it"),
        default=list,
        blank=True,
        help_text=_("Leave empty to follow the rule of the field's category."),
    )

    class Meta:
        verbose_name = _("card field")
        verbose_name_plural = _("card fields")
        ordering = ["category", "order", "key"]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        language = (get_language() or "en")[:2]
        return {"ja": self.label_ja, "ko": self.label_ko}.get(language) or self.label

    def choice_label(self, value) -> str:
        """A stored choice as the card shows it in the current language."""
        labels = (self.choice_labels or {}).get(value) or {}
        language = (get_language() or "en")[:2]
        return labels.get(language) or labels.get("en") or str(value)

    def choice_text(self, value) -> str:
        """A stored choice, or a multiple choice's list, by its labels, comma-separated."""
        items = value if isinstance(value, list) else [value]
        return ", ".join(self.choice_label(item) for item in items)

    def labelled_choices(self) -> list[tuple[str, str]]:
        return [(choice, self.choice_label(choice)) for choice in self.choices or []]

    @property
    def is_derived(self) -> bool:
        return self.maintenance == Maintenance.DERIVED

    def clean(self) -> None:
        errors = {}
        kind = self.field_type
        if not isinstance(self.choices, list):
            errors["choices"] = _("Give the choices as a list.")
        elif kind in CHOICE_TYPES:
            if not self.choices or not all(isinstance(c, str) and c.strip() for c in self.choices):
                errors["choices"] = _("List at least one choice.")
            elif duplicates := sorted({c for c in self.choices if self.choices.count(c) > 1}):
                errors["choices"] = _("Each choice may appear only once: %(choices)s.") % {
                    "choices": ", ".join(duplicates)
                }
            elif any(len(c) > CHOICE_MAX_LENGTH for c in self.choices):
                errors["choices"] = _("A choice may be at most %(limit)d characters long.") % {
                    "limit": CHOICE_MAX_LENGTH
                }
        elif self.choices:
            errors["choices"] = _("Only choice fields have choices.")
        if "choices" not in errors and (problem := self._choice_labels_problem()):
            errors["choice_labels"] = problem
        # Settings a type does not use would be silently ignored; say so instead.
        if kind not in NUMBER_TYPES:
            for name in ("min_value", "max_value"):
                if getattr(self, name) is not None:
                    errors[name] = _("Only integer and decimal fields have a minimum and maximum.")
        elif kind == FieldType.INTEGER:
            for name in ("min_value", "max_value"):
                value = getattr(self, name)
                if isinstance(value, Decimal) and value != value.to_integral_value():
                    errors[name] = _("An integer field's limits must be whole numbers.")
        if isinstance(self.max_length, int):
            limit = TEXT_LIMITS.get(kind)
            if limit is None:
                errors["max_length"] = _("Only text fields have a maximum length.")
            elif not 1 <= self.max_length <= limit:
                errors["max_length"] = _("Enter a length between 1 and %(limit)d.") % {
                    "limit": limit
                }
        for name in ("view_roles", "edit_roles"):
            roles = getattr(self, name)
            if not isinstance(roles, list) or not set(roles) <= set(Role.values):
                errors[name] = _("Give a list of roles from: %(roles)s.") % {
                    "roles": ", ".join(Role.values)
                }
        if (
            "view_roles" not in errors
            and "edit_roles" not in errors
            and self.view_roles
            and set(self.edit_roles) - set(self.view_roles)
        ):
            # Editing what one cannot see would write blind.
            errors["edit_roles"] = _(
                "Roles that may edit the field must also see it: %(roles)s."
            ) % {
                "roles": ", ".join(
                    str(Role(r).label) for r in sorted(set(self.edit_roles) - set(self.view_roles))
                )
            }
        if self.pattern and kind not in PATTERN_TYPES:
            errors["pattern"] = _("Only text and phone fields can have a pattern.")
        elif self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                errors["pattern"] = _("Not a valid regular expression: %(error)s") % {"error": exc}
        if (
            isinstance(self.min_value, Decimal)
            and isinstance(self.max_value, Decimal)
            and self.min_value > self.max_value
        ):
            errors["max_value"] = _("The maximum must not be below the minimum.")
        if errors:
            raise ValidationError(errors)

    def form_field(self) -> forms.Field:
        """The form field that validates this field's values, in forms, the API and imports."""
        common = {
            "label": self.display_label,
            "required": self.required and not self.is_derived,
            "help_text": self.help_text,
            "disabled": self.is_derived,
        }
        kind = self.field_type
        if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
            limit = TEXT_MAX_LENGTH if kind == FieldType.TEXT else LONG_TEXT_MAX_LENGTH
            field = forms.CharField(
                max_length=min(self.max_length or limit, limit),
                widget=forms.Textarea(attrs={"rows": 3}) if kind == FieldType.LONG_TEXT else None,
                **common,
            )
        elif kind == FieldType.INTEGER:
            field = forms.IntegerField(
                min_value=_int_or_none(self.min_value),
                max_value=_int_or_none(self.max_value),
                **common,
            )
        elif kind == FieldType.DECIMAL:
            field = forms.DecimalField(
                min_value=self.min_value,
                max_value=self.max_value,
                max_digits=18,
                decimal_places=4,
                **common,
            )
        elif kind == FieldType.DATE:
            field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        elif kind == FieldType.BOOLEAN:
            field = forms.NullBooleanField(
                widget=forms.Select(
                    choices=[("unknown", "—"), ("true", _("Yes")), ("false", _("No"))]
                ),
                **common,
            )
        elif kind == FieldType.CHOICE:
            field = forms.ChoiceField(choices=[("", "—"), *self.labelled_choices()], **common)
        elif kind == FieldType.MULTI_CHOICE:
            field = forms.MultipleChoiceField(
                choices=self.labelled_choices(),
                widget=forms.CheckboxSelectMultiple,
                **common,
            )
        elif kind == FieldType.PHONE:
            field = forms.CharField(max_length=32, validators=[validate_phone], **common)
        elif kind == FieldType.EMAIL:
            field = forms.EmailField(max_length=254, **common)
        elif kind == FieldType.URL:
            field = forms.URLField(max_length=500, assume_scheme="https", **common)
        else:  # pragma: no cover - the choices above are exhaustive
            raise ValueError(f"unknown field type {kind!r}")
        if self.pattern and kind in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE):
            field.validators.append(
                RegexValidator(
                    self.pattern,
                    _("Does not match the expected format."),
                )
            )
        return field

    def _choice_labels_problem(self) -> str | None:
        labels = self.choice_labels
        if not isinstance(labels, dict) or not all(
            isinstance(texts, dict) for texts in labels.values()
        ):
            return _("Give the labels as {choice: {language: label}}.")
        if unknown := sorted(set(labels) - set(self.choices or [])):
            return _("Labels for choices the field does not have: %(choices)s.") % {
                "choices": ", ".join(unknown)
            }
        for texts in labels.values():
            if set(texts) - set(LABEL_LANGUAGES):
                return _("Labels are in %(languages)s only.") % {
                    "languages": ", ".join(LABEL_LANGUAGES)
                }
            for text in texts.values():
                if not isinstance(text, str) or len(text) > CHOICE_MAX_LENGTH:
                    return _("A label is text of at most %(limit)d characters.") % {
                        "limit": CHOICE_MAX_LENGTH
                    }
                try:
                    validate_plain_name(text)
                except ValidationError as exc:
                    return exc.messages[0]
        return None


class CategoryRule(BaseModel):
    """Whether one role may see and edit one category of the card (GOV-1, CARD-3)."""

    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    can_view = models.BooleanField(_("may see"), default=False)
    can_edit = models.BooleanField(_("may edit"), default=False)

    class Meta:
        verbose_name = _("category rule")
        verbose_name_plural = _("category rules")
        ordering = ["category", "role"]
        constraints = [
            models.UniqueConstraint(fields=["category", "role"], name="category_rule_unique"),
            # Editing what one cannot see would write blind.
            models.CheckConstraint(
                condition=models.Q(can_edit=False) | models.Q(can_view=True),
                name="category_rule_edit_needs_view",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} / {self.get_role_display()}"


def _int_or_none(value: Decimal | None) -> int | None:
    return None if value is None else int(value)
