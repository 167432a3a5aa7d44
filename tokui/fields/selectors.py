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
