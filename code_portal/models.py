"""Cross-app models: the user, the base model and the append-only audit trail."""

from __future__ import annotations

import rules
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Importing")
    INVALID = "invalid", _("Has errors: nothing imported")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJobBase(TimeStampedModel):
    """A bulk upload (CSV/XLSX), validated row by row and imported by a Celery task, with the
    progress its page shows. Each import (training completions, hotel partners) adds its
    signatory link, its file and its own counters."""

    uploaded_by = models.ForeignKey("code_portal.User", null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    original_name = models.CharField(_("file name"), max_length=200)
    import_valid_rows = models.BooleanField(
        _("import the valid rows even if some rows have errors"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices,
                              default=ImportStatus.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    FINISHED = (ImportStatus.DONE, ImportStatus.INVALID, ImportStatus.FAILED)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (ImportStatus.DONE, ImportStatus.INVALID) else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class StaffRole(models.TextChoices):
    NONE = "", _("Not Code staff")
    REVIEWER = "reviewer", _("Staff reviewer")
    ADMIN = "admin", _("Staff admin")
    LOCAL_REP = "local_rep", _("Local representative")


# Apps whose Django admin pages Code staff use (the admin classes still restrict edits where
# the data has a workflow or is append-only).
STAFF_ADMIN_APPS = {"code_portal", "signatories", "training", "reporting", "django_celery_beat",
                    "django_fsm_log", "reminders", "partners", "staff"}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("staff_role", StaffRole.ADMIN)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Company roles live on ``signatories.Membership``; Code staff roles live here."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(_("preferred language"), max_length=10, blank=True)
    staff_role = models.CharField(
        _("Code staff role"), max_length=20, choices=StaffRole.choices, blank=True, default=""
    )
    staff_countries = CountryField(
        _("countries (local representatives)"), multiple=True, blank=True,
        help_text=_("A local representative sees only the signatories of these countries."),
    )
    is_staff = models.BooleanField(
        _("Django admin access"), default=False,
        help_text=_("Code staff reviewers and admins may use the Django admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def has_perm(self, perm: str, obj=None) -> bool:
        # Our own verbs (django-rules) are always decided by their rule, superuser or not: a
        # superuser must not, say, sign The Code for a company it does not belong to.
        if rules.perm_exists(perm):
            return self.is_active and rules.has_perm(perm, self, obj)
        if obj is None and self._staff_model_perm(perm):
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER) \
                and app_label in STAFF_ADMIN_APPS:
            return True
        return super().has_module_perms(app_label)

    def _staff_model_perm(self, perm: str) -> bool:
        """Django admin rights that come with a Code staff role (no per-user grants needed):
        staff admins manage the portal's data, reviewers may look at it."""
        if not self.is_active or "." not in perm:
            return False
        app_label, codename = perm.split(".", 1)
        if app_label not in STAFF_ADMIN_APPS:
            return False
        if self.staff_role == StaffRole.ADMIN:
            return True
        return self.staff_role == StaffRole.REVIEWER and codename.startswith("view_")

    @property
    def is_code_staff(self) -> bool:
        return bool(self.is_active and self.staff_role)

    @property
    def is_local_rep(self) -> bool:
        return self.staff_role == StaffRole.LOCAL_REP


class AuditEventQuerySet(models.QuerySet):
    """Refuses bulk edits and deletes too (``save``/``delete`` on an instance already refuse).

    The only update allowed is Django's own ``SET_NULL`` when the user or signatory an event
    points at is deleted: the entry stays, its ``actor_label`` and ``object_repr`` keep the names.
    On PostgreSQL a trigger (``staff`` migration 0002) enforces the same below the ORM.
    """

    _NULLABLE_ON_DELETE = frozenset({"actor", "signatory"})

    def update(self, **kwargs):
        if kwargs and all(k in self._NULLABLE_ON_DELETE and v is None for k, v in kwargs.items()):
            return super().update(**kwargs)
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")

    def bulk_update(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Append-only record of who did what, when, to which object, and why.

    Written by services in the same transaction as the change itself. The app exposes no way
    to edit or delete an entry (the admin is read-only and ``save``/``delete`` refuse it).
    """

    occurred_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "code_portal.User", verbose_name=_("who"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=60)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=300)
    # The signatory the event concerns, so a company's history and a staff dossier are one query.
    signatory = models.ForeignKey(
        "signatories.Signatory", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            # history of one object (detail pages)
            models.Index(fields=["content_type", "object_id", "-occurred_at"],
                         name="cp_audit_object_idx"),
            # a signatory's history (dossier, company history page)
            models.Index(fields=["signatory", "-occurred_at"], name="cp_audit_signatory_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")
