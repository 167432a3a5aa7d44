"""Writing the change log. Services call ``record_change`` inside their own transaction."""

import datetime
import ipaddress
import logging
import statistics
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.users.choices import Role

from .choices import AccessAction
from .context import get_request_id
from .models import (
    USER_AGENT_LENGTH,
    AccessAlert,
    AccessEvent,
    AccessEventCustomer,
    ObjectChange,
)
from .selectors import daily_cards_read

logger = logging.getLogger(__name__)


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
    """The caller's address: REMOTE_ADDR, or behind ``TOKUI_PROXY_COUNT`` trusted proxies

    the address the outermost of them saw. X-Forwarded-For is never believed otherwise,
    since any client can send it; each proxy appends the address it was called from, so
    with N proxies the client is the N-th entry from the right.
    """
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "TOKUI_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
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


# --- the daily unusual-volume check and the retention purge ---------------------------

NORM_DAYS = 30


def _alert_settings() -> tuple[float, int]:
    return (
        float(getattr(settings, "TOKUI_ACCESS_ALERT_FACTOR", 3)),
        int(getattr(settings, "TOKUI_ACCESS_ALERT_FLOOR", 50)),
    )


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def check_access_volume(*, day: datetime.date) -> list[AccessAlert]:
    """Flag each user who read many more cards on ``day`` than their own norm.

    The norm is the median of the user's daily card counts over the ``NORM_DAYS`` days
    before, counting only days on which they read anything (weekends and leave do not
    pull it down). A day is unusual above max(factor × norm, floor). Running it twice
    for a day flags nobody twice. Administrators get one e-mail listing the new alerts.
    """
    rows = daily_cards_read(
        since=_local_midnight(day - datetime.timedelta(days=NORM_DAYS)),
        until=_local_midnight(day + datetime.timedelta(days=1)),
    )
    today: dict[int, int] = {}
    history: dict[int, list[int]] = {}
    for row in rows:
        if row["day"] == day:
            today[row["actor_id"]] = row["cards"]
        elif row["day"] < day:
            history.setdefault(row["actor_id"], []).append(row["cards"])
    factor, floor = _alert_settings()
    unusual = []
    for actor_id, cards in today.items():
        norm = float(statistics.median(history[actor_id])) if actor_id in history else 0.0
        if cards > max(factor * norm, floor):
            unusual.append(AccessAlert(user_id=actor_id, day=day, count=cards, norm=norm))
    already = set(
        AccessAlert.objects.filter(day=day, user_id__in=[a.user_id for a in unusual]).values_list(
            "user_id", flat=True
        )
    )
    new = AccessAlert.objects.bulk_create([a for a in unusual if a.user_id not in already])
    if new:
        _mail_administrators(day, new)
    return new


def _mail_administrators(day: datetime.date, alerts: list[AccessAlert]) -> None:
    users = get_user_model()
    names = dict(
        users.objects.filter(pk__in=[a.user_id for a in alerts]).values_list("pk", "username")
    )
    recipients = list(
        users.objects.filter(role=Role.ADMINISTRATOR, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        logger.warning("Unusual access volume on %s, but no administrator has an e-mail", day)
        return
    lines = [
        _("%(user)s read %(count)s cards (usually %(norm)s a day).")
        % {"user": names.get(a.user_id, a.user_id), "count": a.count, "norm": f"{a.norm:g}"}
        for a in alerts
    ]
    try:
        send_mail(
            subject=_("Tokui: unusual access volume on %(day)s") % {"day": day.isoformat()},
            message="\n".join(lines),
            from_email=None,
            recipient_list=recipients,
        )
    except OSError:
        # The alerts are saved and shown on the access-log page; a mail server being down
        # must not lose them or stop the check (smtplib's errors are OSErrors).
        logger.exception("Could not e-mail the administrators about unusual access volume")


def retention_days() -> int:
    return int(getattr(settings, "TOKUI_ACCESS_RETENTION_DAYS", 400))


def purge_access_records(*, now: datetime.datetime | None = None) -> int:
    """Delete access records (and alerts) older than the retention period: the only deletion.

    Returns how many access records went. Raw DELETEs by time, children first: the
    append-only managers refuse ``delete()``, and a purge must not load a year of rows.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(days=retention_days())
    with transaction.atomic():
        AccessEventCustomer._base_manager.filter(time__lt=cutoff)._raw_delete("default")
        deleted = AccessEvent._base_manager.filter(time__lt=cutoff)._raw_delete("default")
        AccessAlert.objects.filter(day__lt=timezone.localdate(cutoff)).delete()
    return deleted
