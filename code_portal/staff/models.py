"""Models of the staff app: export jobs (issue 8).

The audit trail itself is ``code_portal.models.AuditEvent``; this app only reads it (and, on
PostgreSQL, adds the trigger that makes it append-only in the database: migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from code_portal.models import TimeStampedModel


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")


def export_path(instance: ExportJob, filename: str) -> str:
    return f"staff/exports/{instance.requested_by_id}/{instance.pk}/{filename}"


class ExportJob(TimeStampedModel):
    """One export of a staff list with the filters it was asked with.

    Every export is recorded, also those small enough to be sent at once (``inline``; no file
    is kept for them); the larger ones are written by a Celery task into ``file``, which only
    the person who asked for it can download.
    """

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                     related_name="+", verbose_name=_("requested by"))
    kind = models.CharField(_("list"), max_length=40)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices)
    # the list's query string, as {name: [values]} (so the job can be re-run with it)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices,
                              default=ExportStatus.PENDING)
    inline = models.BooleanField(_("sent at once"), default=False)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=300, blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            # "my exports" page: the requester's jobs, newest first
            models.Index(fields=["requested_by", "-created_at"], name="staff_export_mine_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(format__in=["csv", "xlsx"]),
                                   name="staff_exportjob_format_known"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} #{self.pk} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def progress_percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
