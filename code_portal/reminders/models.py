"""Reminders: the notification log (which is also the exactly-once claim), the reminder
configuration staff admins edit, and each user's choice about optional reminders."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from code_portal.models import TimeStampedModel
from code_portal.reminders.kinds import KIND_CHOICES


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One e-mail for one occasion, written *before* it is sent.

    ``key`` names the occasion (kind + object + occasion, e.g. ``report-due:123:2025:30d:en``);
    its unique constraint is the claim: whoever inserts the row first sends it, a re-run or a
    second beat finds the key taken and sends nothing. The send task then claims the row itself
    with a conditional update (pending → sending), so a retried or redelivered task never
    sends what was already sent; the row is marked sent only after the mail went out.
    """

    key = models.CharField(_("occasion key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=60, choices=KIND_CHOICES)
    signatory = models.ForeignKey(
        "signatories.Signatory", verbose_name=_("signatory"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="notifications",
    )
    recipients = models.JSONField(_("recipients"), default=list)
    template = models.CharField(_("template"), max_length=200)
    context = models.JSONField(_("context"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    reason = models.TextField(_("why it was sent"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=NotificationStatus.choices,
                              default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    claimed_at = models.DateTimeField(_("send started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The scan run that inserted the row: after a bulk insert that ignores conflicts, the run
    # fans out exactly the rows it won (and not the ones another run holds).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["key"], name="reminders_notification_unique_key"),
        ]
        indexes = [
            # company log: WHERE signatory_id = … ORDER BY created_at DESC
            models.Index(fields=["signatory", "-created_at"], name="reminders_notif_sig_idx"),
            # staff log: ORDER BY created_at DESC (+ kind/status filters)
            models.Index(fields=["-created_at", "-id"], name="reminders_notif_created_idx"),
            # the dispatcher: rows still pending / stuck in sending
            models.Index(fields=["status", "created_at"], name="reminders_notif_status_idx"),
            models.Index(fields=["claim_token"], name="reminders_notif_token_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class ReminderConfig(TimeStampedModel):
    """Per kind: whether it is sent and on which days. Staff admins edit it in the Django admin;
    a kind without a row uses the defaults declared in ``code_portal/reminders/kinds.py``."""

    kind = models.CharField(_("kind"), max_length=60, choices=KIND_CHOICES, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    offsets = models.JSONField(
        _("offsets (days)"), default=list,
        help_text=_("Days before the due date (due soon, refreshers), after it (overdue, "
                    "partner confirmations), the grace period (escalation) or the waiting time "
                    "(applications). A list of whole numbers, e.g. [60, 30, 7]."),
    )
    repeat_every_days = models.PositiveSmallIntegerField(
        _("then repeat every (days)"), null=True, blank=True,
        help_text=_("Overdue reminders only: after the last offset, repeat at this interval."),
    )

    class Meta:
        ordering = ["kind"]
        verbose_name = _("reminder setting")
        verbose_name_plural = _("reminder settings")

    def __str__(self) -> str:
        return self.get_kind_display()

    def clean(self) -> None:
        offsets = self.offsets
        if (not isinstance(offsets, list) or not offsets
                or not all(isinstance(o, int) and not isinstance(o, bool) and 0 <= o <= 3660
                           for o in offsets)):
            raise ValidationError({"offsets": _("Enter a list of whole numbers of days between "
                                                "0 and 3660, e.g. [60, 30, 7].")})
        if len(set(offsets)) != len(offsets):
            raise ValidationError({"offsets": _("Each offset may appear only once.")})
        if self.repeat_every_days == 0:
            raise ValidationError({"repeat_every_days": _("Repeat at least every day.")})


class ReminderPreference(TimeStampedModel):
    """A user's choice about optional reminders. Reminders a company admin must act on (report
    due / overdue) are sent regardless."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="reminder_preference")
    optional_reminders = models.BooleanField(
        _("send me optional reminders"), default=True,
        help_text=_("Training refreshers, reminders to reporters and staff digests."),
    )

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")

    def __str__(self) -> str:
        return f"{self.user}: {'on' if self.optional_reminders else 'off'}"


class RefresherNotice(models.Model):
    """A training record whose refresher reminder went out (in ``notification``): the next day's
    scan leaves it out, so each company e-mail lists only the people newly falling due."""

    record = models.OneToOneField("training.TrainingRecord", on_delete=models.CASCADE,
                                  related_name="refresher_notice")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE,
                                     related_name="refresher_notices")

    class Meta:
        verbose_name = _("refresher notice")
        verbose_name_plural = _("refresher notices")

    def __str__(self) -> str:
        return f"{self.record_id} → {self.notification_id}"
