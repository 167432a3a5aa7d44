from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import QuerySet

from tokui.users.roles import FIELD_DEFINITION, has_permission

from .models import FieldDefinition

# Set by field_definitions_fixed: the definitions read once for a job that writes many cards.
_fixed_definitions: ContextVar[tuple[FieldDefinition, ...] | None] = ContextVar(
    "tokui_fixed_field_definitions", default=None
)


def active_field_definitions() -> list[FieldDefinition]:
    """The card's fields in display order: category, then order."""
    fixed = _fixed_definitions.get()
    if fixed is not None:
        return list(fixed)
    return list(FieldDefinition.objects.filter(is_active=True))


@contextmanager
def field_definitions_fixed() -> Iterator[None]:
    """Within the block, ``active_field_definitions()`` answers from one read: an import
    checks and writes thousands of cards through the card services, each of which would read
    the definitions again, and all its rows should meet the same fields anyway."""
    token = _fixed_definitions.set(tuple(active_field_definitions()))
    try:
        yield
    finally:
        _fixed_definitions.reset(token)


def field_definition_list(*, user) -> QuerySet[FieldDefinition]:
    if not has_permission(user, FIELD_DEFINITION, "view"):
        return FieldDefinition.objects.none()
    return FieldDefinition.objects.all()


def sensitive_definitions(*, user) -> list[FieldDefinition]:
    """Fields with roles of their own, for the rules page: they do not follow the grid."""
    return [
        d for d in field_definition_list(user=user) if d.view_roles or d.edit_roles or d.controlled
    ]
