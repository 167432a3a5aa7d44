"""Change requests: edits of controlled card fields waiting for a manager (GOV-2)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tokui.core.models import BaseModel
from tokui.core.querysets import RestrictedQuerySet
from tokui.users.roles import CHANGE_REQUEST

from .choices import RequestSource, RequestStatus


class ChangeRequest(BaseModel):
    """Proposed values for controlled fields of one card, the reason, and the decision.

    ``proposed`` holds the values as ``customer_update`` takes them
    (``{"field_values": {key: value}}``); ``current`` the values the requester saw, and
    ``base_version`` the card's version then: approving checks it, so a card that moved
    on shows the approver a conflict instead of overwriting.
    """

    scope_resource = CHANGE_REQUEST
    scope_customer_path = "customer__"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="change_requests",
    )
    proposed = models.JSONField(_("proposed values"))
    current = models.JSONField(_("values when requested"), default=dict)
    base_version = models.PositiveIntegerField(_("card version when requested"))
    reason = models.TextField(_("reason"), max_length=2000)
    source = models.CharField(
        _("made in"), max_length=16, choices=RequestSource.choices, default=RequestSource.WEB
    )
    source_reference = models.CharField(_("source reference"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_change_requests",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), max_length=2000, blank=True)
    # The requester's inbox: a decision stays unread until they open it.
    outcome_seen_at = models.DateTimeField(_("outcome seen"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "customer"], name="change_request_status_idx"),
            models.Index(fields=["requested_by", "status"], name="change_request_requester_idx"),
        ]
        constraints = [
            # A decided request names who decided and when; a pending one names nobody.
            models.CheckConstraint(
                condition=(
                    Q(
                        status=RequestStatus.PENDING,
                        decided_by__isnull=True,
                        decided_at__isnull=True,
                    )
                    | Q(status=RequestStatus.WITHDRAWN, decided_at__isnull=False)
                    | Q(
                        status__in=[RequestStatus.APPROVED, RequestStatus.REJECTED],
                        decided_by__isnull=False,
                        decided_at__isnull=False,
                    )
                ),
                name="change_request_decision_consistent",
            ),
            # Nobody approves their own request (GOV-2), whatever path wrote the row.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="change_request_not_self_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING
