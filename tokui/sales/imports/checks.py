"""Checks on single values, shared by every kind. Each returns the clean value or raises
``Rejected`` with the reason people read in the report."""

import datetime
import re
import unicodedata

from django.utils import translation
from django.utils.translation import gettext as _

FORMULA_START = ("=", "+", "-", "@")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?$")
_MARKUP = re.compile(r"[<>]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Numbers as spreadsheets write them: optional sign, digits (maybe with thousands commas).
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$", re.ASCII)


class Rejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def looks_like_formula(text: str) -> bool:
    """Text that a spreadsheet would run as a formula (=, +, -, @ that is not a number)."""
    return text.startswith(FORMULA_START) and not _NUMBER.match(text)


def refuse_formula(text: str) -> None:
    if looks_like_formula(text):
        raise Rejected(_("Looks like a spreadsheet formula."))


def text(value: str, *, max_length: int, plain: bool = False) -> str:
    """Free text: no formula, not too long; ``plain`` (names) also refuses markup."""
    value = value.strip()
    refuse_formula(value)
    if len(value) > max_length:
        raise Rejected(
            _("Too long: %(length)d characters, at most %(max)d.")
            % {"length": len(value), "max": max_length}
        )
    if plain and _MARKUP.search(value):
        raise Rejected(_("Names cannot contain the characters < or >."))
    if _CONTROL.search(value):
        raise Rejected(_("Names cannot contain control characters."))
    return value


_date_cache: dict[str, str] = {}


def date_iso(value: str) -> str:
    """``2026-01-31``, ``2026/1/31`` or ``2026.1.31`` → ``2026-01-31``; cached, as files
    repeat dates."""
    try:
        return _date_cache[value]
    except KeyError:
        pass
    match = _DATE.match(unicodedata.normalize("NFKC", value.strip()))
    try:
        if not match:
            raise ValueError
        iso = datetime.date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        refuse_formula(value.strip())
        raise Rejected(_("Not a date: write it as 2026-01-31, 2026/1/31 or 2026.1.31.")) from None
    if len(_date_cache) < 100_000:
        _date_cache[value] = iso
    return iso


def number_text(value: str, *, integer_digits: int, decimals: int, negative: bool = False) -> str:
    """A number as plain text for the database (``1,200.5`` → ``1200.5``), within the column's
    digits; negative numbers only where ``negative``."""
    value = value.strip()
    if not _NUMBER.match(value):
        refuse_formula(value)
        raise Rejected(_("Not a number."))
    value = value.replace(",", "").lstrip("+")
    if value.startswith("-"):
        if not negative and value.strip("-0.") != "":
            raise Rejected(_("Cannot be negative."))
        digits = value[1:]
    else:
        digits = value
    whole, _dot, fraction = digits.partition(".")
    fraction = fraction.rstrip("0")
    whole = whole.lstrip("0") or "0"
    if len(whole) > integer_digits:
        raise Rejected(_("Too large a number."))
    if len(fraction) > decimals:
        raise Rejected(
            _("At most %(decimals)d digits after the decimal point.") % {"decimals": decimals}
        )
    return value


def choice_lookup(choices) -> dict[str, str]:
    """What a file may write for a choice: its key, or its label in English, Japanese or Korean."""
    lookup = {}
    for key, label in choices:
        lookup[key.casefold()] = key
        for language in ("en", "ja", "ko"):
            with translation.override(language):
                lookup[str(label).casefold()] = key
    return lookup


def choice(value: str, lookup: dict[str, str]) -> str:
    key = lookup.get(value.strip().casefold())
    if key is None:
        refuse_formula(value.strip())
        raise Rejected(
            _("Not one of the choices: %(choices)s.")
            % {"choices": ", ".join(sorted(set(lookup.values())))}
        )
    return key
