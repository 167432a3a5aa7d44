from django.db.models import QuerySet

from tokui.users.roles import FIELD_DEFINITION, has_permission

from .models import FieldDefinition


def active_field_definitions() -> list[FieldDefinition]:
    """The card's fields in display order: category, then order."""
    return list(FieldDefinition.objects.filter(is_active=True))


def field_definition_list(*, user) -> QuerySet[FieldDefinition]:
    if not has_permission(user, FIELD_DEFINITION, "view"):
        return FieldDefinition.objects.none()
    return FieldDefinition.objects.all()


def sensitive_definitions(*, user) -> list[FieldDefinition]:
    """Fields with roles of their own, for the rules page: they do not follow the grid."""
    return [
        d for d in field_definition_list(user=user) if d.view_roles or d.edit_roles or d.controlled
    ]
