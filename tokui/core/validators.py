"""Validators shared by every app that stores names and free text typed by people."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

_MARKUP = re.compile(r"[<>]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def validate_plain_name(value: str) -> None:
    """Names are printed on cards, labels and letters: no markup, no control characters."""
    if _MARKUP.search(value):
        raise ValidationError(_("Names cannot contain the characters < or >."), code="markup")
    if _CONTROL.search(value):
        raise ValidationError(_("Names cannot contain control characters."), code="control")


validate_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    _("Use letters, digits, dot, hyphen or underscore, starting with a letter or digit."),
    code="invalid_code",
)

validate_phone = RegexValidator(
    r"^\+?[0-9０-９()（）\-－ ‐ー.]{3,32}\Z",
    _("Enter a phone number: digits, spaces, hyphens, brackets and an optional leading +."),
    code="invalid_phone",
)
