"""Writing the change log. Services call ``record_change`` inside their own transaction."""

from collections.abc import Iterable

from .context import get_request_id
from .models import ObjectChange


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
