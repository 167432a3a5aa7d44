from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from tokui.users.choices import Scope
from tokui.users.roles import ACCESS_ALERT, ACCESS_LOG, CARD_HISTORY, has_permission, scope_for

from .models import AccessAlert, AccessEvent, AccessEventCustomer, ObjectChange


def card_history(
    *, customer_id: int | None = None, customer_ids: Iterable[int] | None = None
) -> QuerySet[ObjectChange]:
    """Every change on a card: the customer and its people, addresses and consents.

    With ``customer_id`` the history also holds the cards merged into that one (CARD-12),
    whose rows keep their old card's id because the log is never rewritten. With
    ``customer_ids`` it holds exactly the changes of those cards.
    """
    ids = set(customer_ids or ())
    if customer_id is not None:
        # Imported here: the log sits below the customer app; merges are the app's to know.
        from tokui.customers.selectors import merged_customer_ids

        ids |= {customer_id, *merged_customer_ids(customer_id)}
    return ObjectChange.objects.filter(customer_id__in=sorted(ids)).select_related("actor")


def changes_since(*, object_type: str, object_id: int, version: int) -> QuerySet[ObjectChange]:
    """The changes made to one record after the caller read ``version`` of it."""
    return (
        ObjectChange.objects.filter(
            object_type=object_type, object_id=object_id, object_version__gt=version
        )
        .select_related("actor")
        .order_by("time", "id")
    )


def may_read_change_log(user) -> bool:
    """The global change log is for those who see the history of every card.

    That is auditors and administrators: a manager's history reaches only their area.
    """
    return scope_for(user, CARD_HISTORY, "view") == Scope.ALL


def change_log(*, user) -> QuerySet[ObjectChange]:
    """Every recorded change, newest first, for readers of the change log; nothing otherwise."""
    if not may_read_change_log(user):
        return ObjectChange.objects.none()
    return ObjectChange.objects.select_related("actor").order_by("-time", "-id")


def change_log_object_types() -> list[str]:
    """The kinds of record the log holds (``app.model``), for its filter."""
    return list(
        ObjectChange.objects.order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )


# --- access records -------------------------------------------------------------------


def access_log(*, user) -> QuerySet[AccessEvent]:
    """Every access record, newest first, for those who may read the log; nothing otherwise."""
    if not has_permission(user, ACCESS_LOG, "view"):
        return AccessEvent.objects.none()
    return AccessEvent.objects.select_related("actor").order_by("-time", "-id")


def accesses_to_customer(queryset: QuerySet[AccessEvent], customer_id: int) -> QuerySet:
    """The records that read one card: alone (its own column) or in a set (the card rows).

    Two index lookups joined by OR on the primary key, not a join that multiplies rows.
    """
    in_a_set = AccessEventCustomer.objects.filter(customer_id=customer_id).values("event_id")
    return queryset.filter(Q(customer_id=customer_id) | Q(pk__in=in_a_set))


def access_alerts(*, user) -> QuerySet[AccessAlert]:
    """Days of unusual volume, for administrators."""
    if not has_permission(user, ACCESS_ALERT, "view"):
        return AccessAlert.objects.none()
    return AccessAlert.objects.select_related("user").order_by("-day", "user__username")


def daily_cards_read(*, since, until) -> list[dict]:
    """Cards read per user and local day in [since, until): one GROUP BY, not a loop.

    A card viewed twice counts twice; a list read counts the cards it returned.
    """
    return list(
        AccessEvent.objects.filter(time__gte=since, time__lt=until, actor__isnull=False)
        .annotate(day=TruncDate("time"))
        .values("actor_id", "day")
        .annotate(cards=Sum("count"))
        .order_by()
    )


def access_log_users() -> QuerySet:
    """Everyone who may appear in the log, for its user filter (staff leave; records stay)."""
    return get_user_model().objects.order_by("username")
