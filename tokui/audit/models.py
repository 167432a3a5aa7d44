"""The change log: one row per create, update or delete made through a service."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import AccessAction, ChangeAction

USER_AGENT_LENGTH = 300


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """The audit trail is evidence: no bulk edit or delete, whoever asks.

    Used by the change log and the access records. The one sanctioned deletion is the
    retention purge of access records (``services.purge_access_records``), which deletes
    by time through the base manager.
    """

    def update(self, **kwargs):
        raise AppendOnlyError("Audit records cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit records cannot be deleted.")

    def bulk_update(self, objs, fields, *args, **kwargs):
        raise AppendOnlyError("Audit records cannot be changed.")


class ObjectChange(models.Model):
    """Who changed what, when, with the value before and after for each field.

    ``customer_id`` ties a row to the card it belongs to (the customer itself, or one of
    its people, addresses or consents) without a foreign key, so history outlives the row.
    Rows are written once and never edited or deleted.
    """

    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(_("user name"), max_length=150, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=ChangeAction.choices)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200)
    object_version = models.PositiveIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(_("changes"), default=dict)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["customer_id", "-time"], name="audit_change_customer_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_change_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit rows cannot be deleted.")


class AccessEvent(models.Model):
    """Someone read customer data: one row per card view, API read, export or print.

    A single card sits in ``customer_id`` so a card view is one INSERT; a set of cards
    (an export) gets one ``AccessEventCustomer`` row per card. Reads of a list record
    how many cards and the filter used. Rows are written once and never edited.
    """

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    count = models.PositiveIntegerField(_("cards"), default=0)
    filters = models.JSONField(_("filter"), default=dict, blank=True)
    path = models.CharField(_("page"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_LENGTH, blank=True)
    purpose = models.CharField(_("purpose"), max_length=500, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["customer_id", "-time"], name="audit_access_customer_idx"),
            models.Index(fields=["actor", "time"], name="audit_access_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_action_display()} ({self.count})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Access records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Access records are deleted only by the retention purge.")


class AccessEventCustomer(models.Model):
    """One card of a multi-card access, so "who read this card" is an index lookup."""

    event = models.ForeignKey(AccessEvent, on_delete=models.CASCADE, related_name="customers")
    customer_id = models.BigIntegerField()
    # A copy of the event's time: the per-card question is answered newest first from the index.
    time = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["customer_id", "-time"], name="audit_access_card_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.customer_id}"


class AccessAlert(models.Model):
    """A day on which a user read many more cards than their own norm (the daily check)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("cards read"))
    norm = models.FloatField(_("usual daily cards"))
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unusual access volume")
        verbose_name_plural = _("unusual access volumes")
        ordering = ["-day", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="audit_access_alert_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.count} (norm {self.norm:g})"
