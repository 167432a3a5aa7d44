"""Writing the change log. Services call ``record_change`` inside their own transaction."""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import AccessAction
from .context import get_request_id
from .models import USER_AGENT_LENGTH, AccessEvent, AccessEventCustomer, ObjectChange


def diff(before: dict | None, after: dict | None) -> dict:
    """Per field ``{"old": …, "new": …}`` for every field whose value differs."""
    before, after = before or {}, after or {}
    return {
        key: {"old": before.get(key), "new": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record_change(
    *,
    actor,
    action: str,
    instance,
    before: dict | None,
    after: dict | None,
    customer_id: int | None = None,
) -> ObjectChange | None:
    """Write one audit row; an update that changed nothing writes none."""
    changes = diff(before, after)
    if action == "update" and not changes:
        return None
    return ObjectChange.objects.create(**_row(actor, action, instance, changes, customer_id))


def record_changes_bulk(*, actor, action: str, rows: Iterable[tuple]) -> None:
    """Audit rows for a bulk write: ``rows`` of (instance, before, after, customer_id)."""
    ObjectChange.objects.bulk_create(
        [
            ObjectChange(**_row(actor, action, instance, diff(before, after), customer_id))
            for instance, before, after, customer_id in rows
        ],
        batch_size=1000,
    )


def _row(actor, action, instance, changes, customer_id) -> dict:
    return {
        "actor": actor if getattr(actor, "pk", None) else None,
        "actor_name": getattr(actor, "username", "") or "system",
        "request_id": get_request_id(),
        "action": action,
        "object_type": instance._meta.label_lower,
        "object_id": instance.pk,
        "object_repr": str(instance)[:200],
        "object_version": getattr(instance, "version", None),
        "customer_id": customer_id,
        "changes": changes,
    }


# --- access records (GOV-1) -----------------------------------------------------------

# Actions whose size decides whether a purpose must be given.
PURPOSE_ACTIONS = (AccessAction.EXPORT, AccessAction.PRINT)


def purpose_threshold() -> int:
    return getattr(settings, "TOKUI_PURPOSE_THRESHOLD", 100)


def purpose_required(count: int | None) -> bool:
    """Whether an export or printout of ``count`` cards must say what it is for."""
    return (count or 0) > purpose_threshold()


def client_ip(request) -> str | None:
    """The caller's address. X-Forwarded-For is believed only behind a proxy we were told of,

    because any client can send that header; then the proxy's own entry is the last one.
    """
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "TOKUI_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            address = hops[-1]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def record_access(
    *,
    actor,
    action: str,
    customer_ids: Iterable[int] | None = None,
    count: int | None = None,
    filters: dict | None = None,
    request=None,
    purpose: str = "",
) -> AccessEvent:
    """Record that ``actor`` read customer data.

    ``customer_ids``: the cards read, when known (one card: no extra row; several: one
    row each, in one bulk INSERT). ``count``: how many cards, when the ids are not listed
    (API list pages); it defaults to the number of ids. ``filters``: the search or filter
    that chose the cards. Exports and printouts above the threshold must carry a purpose.
    """
    if action not in AccessAction.values:
        raise ValueError(f"Unknown access action {action!r}")
    ids = list(dict.fromkeys(int(pk) for pk in customer_ids)) if customer_ids is not None else []
    if count is None:
        count = len(ids)
    purpose = (purpose or "").strip()
    if action in PURPOSE_ACTIONS and purpose_required(count) and not purpose:
        raise ValidationError(
            {
                "purpose": _(
                    "Say what these %(count)s cards are for: more than %(threshold)s "
                    "need a purpose."
                )
                % {"count": count, "threshold": purpose_threshold()}
            }
        )
    meta = request.META if request is not None else {}
    event = AccessEvent(
        time=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        customer_id=ids[0] if len(ids) == 1 else None,
        count=count,
        filters=filters or {},
        path=(request.path if request is not None else "")[:200],
        ip_address=client_ip(request),
        user_agent=meta.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
        purpose=purpose[:500],
        request_id=get_request_id(),
    )
    if len(ids) <= 1:
        event.save()
        return event
    with transaction.atomic():
        event.save()
        AccessEventCustomer.objects.bulk_create(
            [AccessEventCustomer(event=event, customer_id=pk, time=event.time) for pk in ids],
            batch_size=1000,
        )
    return event
