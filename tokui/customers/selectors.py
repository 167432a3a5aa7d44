"""Reads of customer cards, always restricted to what the user may see."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from tokui.core.text import digits_only, search_key
from tokui.users.choices import Role, Scope
from tokui.users.roles import CUSTOMER, scope_for

from .choices import CustomerStatus
from .models import Address, Consent, Customer, Person, Tag

# A query with at least this many digits (and nothing but phone punctuation) is also
# matched against phone numbers.
MIN_PHONE_DIGITS = 3


def customer_search(queryset: QuerySet[Customer], query: str) -> QuerySet[Customer]:
    """Match code, name, reading (any kana width or script) and phone digits."""
    key = search_key(query)
    if not key:
        return queryset
    condition = Q(search_text__contains=key)
    digits = digits_only(query)
    if len(digits) >= MIN_PHONE_DIGITS and len(digits) >= len(key) - 4:
        condition |= Q(phone_digits__contains=digits)
    return queryset.filter(condition)


def customer_list(*, user, action: str = "view") -> QuerySet[Customer]:
    return Customer.objects.restrict(user, action).select_related("owner", "area")


def customer_get(*, user, code: str, action: str = "view") -> Customer | None:
    """The customer with ``code`` if the user may act on it, else None (shown as 404)."""
    return customer_list(user=user, action=action).filter(code=code).first()


def can_act_on(*, user, customer: Customer, action: str) -> bool:
    return Customer.objects.restrict(user, action).filter(pk=customer.pk).exists()


def person_list(*, user, action: str = "view") -> QuerySet[Person]:
    return Person.objects.restrict(user, action).select_related("customer")


def person_get(*, user, pk: int, action: str = "view") -> Person | None:
    return person_list(user=user, action=action).filter(pk=pk).first()


def address_get(*, user, pk: int, action: str = "view") -> Address | None:
    return Address.objects.restrict(user, action).select_related("customer").filter(pk=pk).first()


def consents_by_channel(*, customer: Customer) -> dict[str, Consent]:
    return {c.channel: c for c in customer.consents.all()}


def customer_counts_by_status() -> list[dict]:
    """Company-wide counts per status and area: aggregates, no personal data."""
    rows = list(
        Customer.objects.values("status", "area__name")
        .annotate(total=Count("id"))
        .order_by("area__name", "status")
    )
    labels = dict(CustomerStatus.choices)
    for row in rows:
        row["status_label"] = labels.get(row["status"], row["status"])
    return rows


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.all()


def owner_filter_choices() -> QuerySet:
    """Staff who can own cards, offered as the list page's owner filter."""
    return get_user_model().objects.filter(
        is_active=True, role__in=[Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER]
    )


def assignable_owners(*, user, keep_pk: int | None = None) -> QuerySet:
    """Staff ``user`` may hand a card to: administrators anyone active, managers the staff
    of their area and its sub-areas, account managers only themselves.

    ``keep_pk`` (the card's current owner) stays in the list, so editing a card someone
    else owns does not force a handover.
    """
    users = get_user_model().objects.all()
    scope = scope_for(user, CUSTOMER, "change") or scope_for(user, CUSTOMER, "add")
    if scope == Scope.ALL:
        allowed = Q(is_active=True)
    elif scope == Scope.AREA and user.area_id is not None:
        allowed = Q(is_active=True, area__path__startswith=user.area.path)
    elif scope is not None:
        allowed = Q(pk=user.pk)
    else:
        allowed = Q(pk__in=[])
    if keep_pk is not None:
        allowed |= Q(pk=keep_pk)
    return users.filter(allowed)
