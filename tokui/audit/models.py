"""The change log: one row per create, update or delete made through a service."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ChangeAction


class AppendOnlyError(Exception):
    pass


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
