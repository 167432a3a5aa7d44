from django.db.models import QuerySet

from .models import ObjectChange


def card_history(*, customer_id: int) -> QuerySet[ObjectChange]:
    """Every change on a card: the customer and its people, addresses and consents."""
    return ObjectChange.objects.filter(customer_id=customer_id).select_related("actor")


def changes_since(*, object_type: str, object_id: int, version: int) -> QuerySet[ObjectChange]:
    """The changes made to one record after the caller read ``version`` of it."""
    return (
        ObjectChange.objects.filter(
            object_type=object_type, object_id=object_id, object_version__gt=version
        )
        .select_related("actor")
        .order_by("time", "id")
    )
