"""Reads of customer cards, always restricted to what the user may see."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils.translation import gettext as _

from tokui.core.text import digits_only, search_key
from tokui.fields.access import card_access
from tokui.users.choices import Role, Scope
from tokui.users.roles import CUSTOMER, scope_for

from .choices import CustomerStatus
from .models import Address, Consent, Customer, CustomerMerge, Person, Tag

# A query with at least this many digits (and nothing but phone punctuation) is also
# matched against phone numbers.
MIN_PHONE_DIGITS = 3


# ``customer_search`` without a user: a system caller, who sees every part.
SYSTEM = object()


def customer_search(queryset: QuerySet[Customer], query: str, *, user=SYSTEM) -> QuerySet[Customer]:
    """Match code, name, reading (any kana width or script) and phone digits.

    Phone digits count only for a user who may see phones and people (tokui.fields.access):
    a match on a hidden phone would tell the number. ``user=None`` (no one) matches no phone.
    """
    key = search_key(query)
    if not key:
        return queryset
    condition = Q(search_text__contains=key)
    digits = digits_only(query)
    # The digits hold the people's phones too, so both parts must be visible.
    may_match_phone = user is SYSTEM or (
        card_access(user).can_view("phone") and card_access(user).can_view("people")
    )
    if may_match_phone and len(digits) >= MIN_PHONE_DIGITS and len(digits) >= len(key) - 4:
        condition |= Q(phone_digits__contains=digits)
    if connections[queryset.db].vendor == "sqlite":
        # SQLite cannot tell how few cards a LIKE '%…%' keeps: for the first page of a list
        # sorted by name it walks the name's index and reads the cards in that order, all
        # 100,000 of them for a rare name or a phone number (160 ms, measured). Matched in
        # a subquery first (which keeps the user's scope and its indexes), the cards are
        # read once and only the matches sorted (20-45 ms for any search). PostgreSQL's
        # trigram indexes find the matches without either.
        return queryset.filter(pk__in=queryset.filter(condition).values("pk"))
    return queryset.filter(condition)


def customer_list(*, user, action: str = "view") -> QuerySet[Customer]:
    return Customer.objects.restrict(user, action).select_related("owner", "area")


def customer_get(*, user, code: str, action: str = "view") -> Customer | None:
    """The customer with ``code`` if the user may act on it, else None (shown as 404)."""
    return customer_list(user=user, action=action).filter(code=code).first()


def trash_list(*, user, action: str = "view") -> QuerySet[Customer]:
    """Cards in the trash the user may ``action`` there (view, change: restore), newest
    deletion first. ``customer_list`` never holds them."""
    return (
        Customer.objects.restrict_trash(user, action)
        .select_related("owner", "area", "deleted_by")
        .order_by("-deleted_at", "code")
    )


def trash_get(*, user, code: str, action: str = "view") -> Customer | None:
    return trash_list(user=user, action=action).filter(code=code).first()


def trashed_codes(codes) -> set[str]:
    """Which of ``codes`` belong to cards in the trash, so an import or a form can say so
    instead of calling them unknown."""
    codes = list(codes)
    found: set[str] = set()
    for start in range(0, len(codes), 500):
        found.update(
            Customer._base_manager.filter(
                code__in=codes[start : start + 500], deleted_at__isnull=False
            ).values_list("code", flat=True)
        )
    return found


def trash_in_import_message() -> str:
    return _("This customer's card is in the trash: restore it first to import for it.")


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
        Customer.objects.filter(deleted_at__isnull=True)
        .values("status", "area__name")
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


# --- likely duplicates (CARD-12) ------------------------------------------------------

# Why two cards look alike, and how much each reason counts towards a pair's score.
DUPLICATE_REASON_WEIGHTS = {"name": 3, "reading": 2, "phone": 3, "address": 2}
# The card part (tokui.fields.access) each reason reads; name and reading are identity.
# (A shared phone may be a contact's, so it also needs the people.)
DUPLICATE_REASON_PARTS = {"phone": ("phone", "people"), "address": ("addresses",)}
HIDDEN_REASON = "hidden"
# A name, phone or address shared by more cards than this is a chain, a switchboard or a
# building, not a duplicate: suggesting every pair among them would bury the real ones.
DUPLICATE_MAX_GROUP = 20
# Fewer digits than this ("110", an extension) say nothing about who the customer is.
DUPLICATE_MIN_PHONE_DIGITS = 6
# Characters validate_phone lets through besides ASCII digits, and what they become.
_PHONE_FOLDS = [(c, "") for c in "+()（）-－ ‐ー.　"] + [
    (chr(ord("０") + n), str(n)) for n in range(10)
]


@dataclass(frozen=True)
class DuplicatePair:
    """Two cards that look like one customer, with the reasons and a score (higher: likelier)."""

    first: Customer
    second: Customer
    reasons: tuple[str, ...]
    score: int


def _phone_digits(field: str):
    """The digits of a phone column, folded in SQL so both databases group on them.
    (Nested REPLACE calls: on PostgreSQL one TRANSLATE measured slower.)"""
    expression = F(field)
    for old, new in _PHONE_FOLDS:
        expression = Replace(expression, Value(old), Value(new))
    return expression


def _duplicate_keys(user) -> list[tuple[QuerySet, int]]:
    """One query per reason, each giving (customer id, reason, folded key) for the cards
    ``user`` may change, with the shortest key that counts; their union is what detection
    groups on."""
    customers = Customer.objects.restrict(user, "change").order_by()
    people = Person.objects.restrict(user, "change").order_by()
    addresses = Address.objects.restrict(user, "change").order_by()

    def keys(queryset, customer, reason, key):
        return queryset.annotate(dup_key=key).values(
            "dup_key", dup_customer=F(customer), dup_reason=Value(reason, CharField())
        )

    phone = DUPLICATE_MIN_PHONE_DIGITS
    return [
        (keys(customers.exclude(name_key=""), "pk", "name", F("name_key")), 1),
        (keys(customers.exclude(name_reading=""), "pk", "reading", F("sort_key")), 1),
        (keys(customers.exclude(phone=""), "pk", "phone", _phone_digits("phone")), phone),
        (keys(people.exclude(phone=""), "customer_id", "phone", _phone_digits("phone")), phone),
        (keys(people.exclude(mobile=""), "customer_id", "phone", _phone_digits("mobile")), phone),
        (keys(addresses.exclude(match_key=""), "customer_id", "address", F("match_key")), 1),
    ]


def duplicate_pairs(*, user, limit: int = 200) -> list[DuplicatePair]:
    """Pairs of cards ``user`` may change that share a folded name, reading, phone or address.

    Set-based: the keys of every card in scope are grouped in SQL, keys held by between two
    and ``DUPLICATE_MAX_GROUP`` cards are joined back to their cards, and each pair's
    reasons and score come out of one GROUP BY; Python only reads the result. A key a card
    holds twice (its own phone and a contact's) counts once: the keys are made distinct
    first, by GROUP BY rather than COUNT(DISTINCT), which PostgreSQL can only sort for.
    """
    parts, params = [], []
    for queryset, min_length in _duplicate_keys(user):
        try:
            sql, part_params = queryset.query.sql_with_params()
        except EmptyResultSet:  # a role that may change no card at all
            continue
        # The length is checked out here so the folding runs once per row.
        parts.append(
            f"SELECT dup_customer, dup_reason, dup_key FROM ({sql}) AS part"  # noqa: S608
            " WHERE LENGTH(dup_key) >= %s"
        )
        params.extend([*part_params, min_length])
    if not parts:
        return []
    flags, flag_params = [], []
    for reason in DUPLICATE_REASON_WEIGHTS:
        flags.append("MAX(CASE WHEN a.dup_reason = %s THEN 1 ELSE 0 END)")
        flag_params.append(reason)
    score = " + ".join(
        f"MAX(CASE WHEN a.dup_reason = %s THEN {int(weight)} ELSE 0 END)"
        for weight in DUPLICATE_REASON_WEIGHTS.values()
    )
    # The keys are built by the ORM above (scope included); only their assembly is SQL.
    sql = f"""
        WITH dup_keys AS (
            SELECT dup_customer, dup_reason, dup_key FROM ({" UNION ALL ".join(parts)}) AS k
            GROUP BY dup_customer, dup_reason, dup_key
        ),
        shared AS (
            SELECT dup_reason, dup_key FROM dup_keys
            GROUP BY dup_reason, dup_key
            HAVING COUNT(*) BETWEEN 2 AND %s
        )
        SELECT a.dup_customer, b.dup_customer, {", ".join(flags)}, {score} AS score
        FROM dup_keys a
        JOIN shared s ON s.dup_reason = a.dup_reason AND s.dup_key = a.dup_key
        JOIN dup_keys b
          ON b.dup_reason = a.dup_reason AND b.dup_key = a.dup_key
         AND b.dup_customer > a.dup_customer
        GROUP BY a.dup_customer, b.dup_customer
        ORDER BY score DESC, a.dup_customer, b.dup_customer
        LIMIT %s
    """  # noqa: S608
    params = [*params, DUPLICATE_MAX_GROUP, *flag_params, *DUPLICATE_REASON_WEIGHTS, int(limit)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ids = {customer_id for row in rows for customer_id in row[:2]}
    cards = Customer.objects.select_related("owner", "area").in_bulk(ids)
    # A match on a part the user may not see is told as "hidden", never which part.
    access = card_access(user)
    reasons = tuple(
        reason
        if all(access.can_view(part) for part in DUPLICATE_REASON_PARTS.get(reason, ()))
        else HIDDEN_REASON
        for reason in DUPLICATE_REASON_WEIGHTS
    )
    return [
        DuplicatePair(
            first=cards[row[0]],
            second=cards[row[1]],
            reasons=tuple(
                dict.fromkeys(r for r, flag in zip(reasons, row[2:-1], strict=True) if flag)
            ),
            score=int(row[-1]),
        )
        for row in rows
        if row[0] in cards and row[1] in cards
    ]


def merged_customer_ids(customer_id: int) -> list[int]:
    """Ids of the cards merged into this one (earlier merges follow the card they went to)."""
    return list(
        CustomerMerge.objects.filter(kept_id=customer_id).values_list(
            "merged_customer_id", flat=True
        )
    )


def card_history_customer_ids(customer: Customer) -> list[int]:
    """Whose audit rows make up this card's history: its own and those of merged cards."""
    return [customer.pk, *merged_customer_ids(customer.pk)]


def merge_list(*, user) -> QuerySet[CustomerMerge]:
    return CustomerMerge.objects.restrict(user, "view").select_related("kept", "merged_by")


def customer_ids_in_scope(*, user, action: str, ids) -> set[int]:
    """Which of ``ids`` the user may ``action``: one query for a whole page of pairs."""
    return set(
        Customer.objects.restrict(user, action)
        .filter(pk__in=list(ids))
        .values_list("pk", flat=True)
    )


def merge_counts(customer: Customer) -> dict[str, int]:
    """What hangs off a card and would move with it in a merge."""
    return {
        "people": customer.people.count(),
        "addresses": customer.addresses.count(),
        "consents": customer.consents.count(),
        "orders": customer.orders.count(),
        "order_lines": customer.order_lines.count(),
        "payments": customer.payments.count(),
    }


# --- handover (CARD-9) and privacy requests -------------------------------------------


def handover_sources(*, user) -> QuerySet:
    """Staff whose customers ``user`` may hand over: account managers and managers, of the
    manager's own area for a manager (former staff included: they are who leaves)."""
    staff = get_user_model().objects.filter(role__in=[Role.ACCOUNT_MANAGER, Role.MANAGER])
    scope = scope_for(user, CUSTOMER, "change")
    if scope == Scope.ALL:
        return staff
    if scope == Scope.AREA and user.area_id is not None:
        return staff.filter(area__path__startswith=user.area.path)
    return staff.none()


def handover_customers(*, user, from_user) -> QuerySet[Customer]:
    """The cards ``from_user`` owns or is assigned to that ``user`` may change."""
    links = Customer.assigned_users.through.objects.filter(user_id=from_user.pk)
    return customer_list(user=user, action="change").filter(
        Q(owner_id=from_user.pk) | Q(pk__in=links.values("customer_id"))
    )


# Roles that may take a customer's personal data out (privacy requests): those who keep
# the card. The service desk and analysts may not, whatever else they see.
PRIVACY_EXPORT_ROLES = (Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER, Role.AUDITOR)


def may_export_personal_data(user) -> bool:
    """The privacy export holds the whole card, so only a role that sees every part of it
    (tokui.fields.access) may make one: a partial file would not answer the request."""
    return (
        bool(user and user.is_authenticated and user.is_active)
        and user.role in PRIVACY_EXPORT_ROLES
        and card_access(user).sees_everything
    )


def _row(instance, fields) -> dict:
    data = {}
    for name in fields:
        value = getattr(instance, name)
        if value is not None and not isinstance(value, (bool, int, str, list, dict)):
            value = value.isoformat() if hasattr(value, "isoformat") else str(value)
        data[name] = value
    return data


def customer_privacy_export(customer: Customer) -> dict:
    """Everything held about one customer, as plain JSON-safe data (privacy requests).

    Reads the card unrestricted: the caller has checked that the user may see it.
    """
    from tokui.audit.selectors import card_history
    from tokui.metrics.models import CustomerMetrics
    from tokui.sales.models import Order, Payment

    customer = (
        Customer.objects.select_related("owner", "area")
        .prefetch_related("tags")
        .get(pk=customer.pk)
    )
    card = _row(
        customer,
        (
            "code",
            "kind",
            "name",
            "name_reading",
            "status",
            "phone",
            "email",
            "preferred_channel",
            "notes",
            "field_values",
            "version",
            "created_at",
            "updated_at",
        ),
    )
    card["owner"] = customer.owner.username if customer.owner_id else None
    card["area"] = customer.area.code if customer.area_id else None
    card["tags"] = sorted(tag.name for tag in customer.tags.all())
    card["assigned_users"] = sorted(customer.assigned_users.values_list("username", flat=True))
    people = [
        _row(
            person,
            (
                "id",
                "relation",
                "name",
                "name_reading",
                "gender",
                "birthday",
                "anniversary",
                "phone",
                "mobile",
                "email",
                "hobbies",
                "preferences",
                "notes",
            ),
        )
        for person in customer.people.all()
    ]
    addresses = [
        _row(
            address,
            (
                "id",
                "kind",
                "postal_code",
                "region",
                "locality",
                "line1",
                "line2",
                "latitude",
                "longitude",
                "is_primary",
            ),
        )
        for address in customer.addresses.all()
    ]
    consents = [
        _row(consent, ("channel", "granted", "recorded_on", "source"))
        for consent in customer.consents.all()
    ]
    orders = []
    for order in Order.objects.filter(customer_id=customer.pk).prefetch_related("lines__product"):
        row = _row(order, ("number", "date", "channel", "status", "total_amount", "line_count"))
        row["lines"] = [
            {
                **_row(line, ("line_no", "quantity", "unit_price", "amount")),
                "product": line.product.code,
            }
            for line in order.lines.all()
        ]
        orders.append(row)
    payments = [
        _row(payment, ("reference", "date", "amount", "method"))
        for payment in Payment.objects.filter(customer_id=customer.pk)
    ]
    metrics = CustomerMetrics.objects.filter(customer_id=customer.pk).first()
    figures = (
        _row(metrics, [f.name for f in metrics._meta.fields if f.name != "customer"])
        if metrics
        else None
    )
    history = [
        {
            "time": change.time.isoformat(),
            "user": change.actor_name,
            "action": change.action,
            "object": change.object_repr,
            "object_type": change.object_type,
            "changes": change.changes,
        }
        for change in card_history(customer_id=customer.pk).order_by("time", "id")
    ]
    return {
        "customer": card,
        "people": people,
        "addresses": addresses,
        "consents": consents,
        "orders": orders,
        "payments": payments,
        "figures": figures,
        "history": history,
    }
