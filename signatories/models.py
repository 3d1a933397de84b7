"""Signatories of The Code, the people who act for them, and the Code text they sign."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description
from simple_history.models import HistoricalRecords

from code_portal.models import TimeStampedModel


class SignatoryType(models.TextChoices):
    TOUR_OPERATOR = "tour_operator", _("Tour operator")
    TRAVEL_AGENCY = "travel_agency", _("Travel agency")
    HOTEL = "hotel", _("Hotel / accommodation")
    HOTEL_GROUP = "hotel_group", _("Hotel group")
    AIRLINE = "airline", _("Airline")
    TRANSPORT = "transport", _("Transport")
    TMC = "tmc", _("Travel management company")
    TOURISM_BOARD = "tourism_board", _("Tourism board")
    OTHER = "other", _("Other")


class SignatoryStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved, awaiting signature")
    ACTIVE = "active", _("Active")
    REPORTING_OVERDUE = "reporting_overdue", _("Reporting overdue")
    SUSPENDED = "suspended", _("Suspended")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPELLED = "expelled", _("Expelled")


S = SignatoryStatus
# Members in good standing: listed publicly.
GOOD_STANDING = (S.ACTIVE,)


class CodeVersion(TimeStampedModel):
    """A version of the text of The Code that a signatory signs."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    published_on = models.DateField(_("published on"))
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        ordering = ["-published_on"]
        verbose_name = _("Code text version")
        verbose_name_plural = _("Code text versions")
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=models.Q(is_current=True),
                                    name="signatories_codeversion_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


def website_domain(url: str) -> str:
    """The registrable-looking host of a website, for duplicate detection: no scheme, no www."""
    if not url:
        return ""
    host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
    return host.lower().removeprefix("www.")


class Signatory(ConcurrentTransitionMixin, TimeStampedModel):
    """A travel company that applied to, or signed, The Code."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    trading_name = models.CharField(_("trading name"), max_length=200, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=SignatoryType.choices)
    country = CountryField(_("country"))
    address = models.TextField(_("address"))
    website = models.URLField(_("website"), blank=True)
    website_domain = models.CharField(max_length=200, blank=True, editable=False, db_index=True)
    employees = models.PositiveIntegerField(_("number of employees"))
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)

    status = FSMField(_("status"), max_length=20, choices=SignatoryStatus.choices,
                      default=S.APPLIED, protected=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    membership_number = models.CharField(_("membership number"), max_length=30, null=True,
                                         blank=True, unique=True, editable=False)
    applied_at = models.DateTimeField(_("applied"), default=timezone.now)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    member_since = models.DateField(_("member since"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signer_name = models.CharField(_("signed by"), max_length=200, blank=True)
    signer_title = models.CharField(_("signer's title"), max_length=200, blank=True)
    signed_code_version = models.ForeignKey(
        CodeVersion, verbose_name=_("Code version signed"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="signatories",
    )
    reporting_deadline = models.DateField(_("reporting deadline"), null=True, blank=True,
                                          help_text=_("Set by Code staff; by default one year "
                                                      "after signing, then each anniversary."))
    possible_duplicate = models.BooleanField(
        _("possible duplicate"), default=False,
        help_text=_("Same legal name and country, or same website domain, as another signatory."),
    )

    history = HistoricalRecords(excluded_fields=["status", "updated_at", "status_changed_at"])

    class Meta:
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")
        ordering = ["legal_name", "id"]
        indexes = [
            # staff list / API list unfiltered: ORDER BY legal_name, id LIMIT 25 reads 25 index
            # entries instead of sorting every row (bench/README.md)
            models.Index(fields=["legal_name", "id"], name="sig_name_order_idx"),
            # search by membership number: Django's iexact is UPPER(number) = UPPER(%s). The
            # name search (icontains) has trigram indexes, on PostgreSQL only: migration 0003.
            models.Index(Upper("membership_number"), name="sig_upper_number_idx"),
            # staff list / API filters: status + country, ordered by name
            models.Index(fields=["status", "country", "legal_name"], name="sig_status_country_idx"),
            # application queue: status=applied ordered by applied_at
            models.Index(fields=["status", "applied_at"], name="sig_status_applied_idx"),
            # duplicate detection: same legal name (case-insensitive) + country
            models.Index(Lower("legal_name"), "country", name="sig_lower_name_country_idx"),
            models.Index(fields=["type", "status"], name="sig_type_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=[S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED])
                | models.Q(signed_at__isnull=False),
                name="signatories_signatory_member_has_signed",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[S.APPLIED, S.REJECTED])
                | models.Q(membership_number__isnull=False)
                | models.Q(status=S.WITHDRAWN),
                name="signatories_signatory_approved_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.trading_name or self.legal_name

    def save(self, *args, **kwargs):
        self.website_domain = website_domain(self.website)
        super().save(*args, **kwargs)

    # --- The lifecycle. Only services call these (they also check roles and write audit rows).
    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.APPLIED, target=S.APPROVED)
    def approve(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.APPLIED, target=S.REJECTED)
    def reject(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.APPROVED, target=S.ACTIVE)
    def sign(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.ACTIVE, target=S.REPORTING_OVERDUE)
    def flag_overdue(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.ACTIVE, S.REPORTING_OVERDUE], target=S.SUSPENDED)
    def suspend(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.REPORTING_OVERDUE, S.SUSPENDED], target=S.ACTIVE)
    def reinstate(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.APPLIED, S.APPROVED, S.ACTIVE, S.REPORTING_OVERDUE,
                                      S.SUSPENDED], target=S.WITHDRAWN)
    def withdraw(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED],
                target=S.EXPELLED)
    def expel(self, *, by=None, description=""):
        pass


class MembershipRole(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    REPORTER = "reporter", _("Reporter")
    VIEWER = "viewer", _("Viewer")


class Membership(TimeStampedModel):
    """A user acting for a signatory, with a role inside the company."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    signatory = models.ForeignKey(Signatory, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["signatory_id", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "signatory"],
                                    name="signatories_membership_one_per_company"),
        ]
        indexes = [models.Index(fields=["signatory", "role"], name="sig_membership_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} – {self.signatory} ({self.get_role_display()})"


class Invitation(TimeStampedModel):
    """A single-use, expiring invitation to join a signatory's team. Only a hash is stored."""

    signatory = models.ForeignKey(Signatory, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            # one open invitation per address and company
            models.UniqueConstraint(
                Lower("email"), "signatory",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="signatories_invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.signatory}"

    @property
    def is_open(self) -> bool:
        return (self.accepted_at is None and self.revoked_at is None
                and self.expires_at > timezone.now())


class StaffNote(TimeStampedModel):
    """Internal note by Code staff on a signatory; never shown to the company."""

    signatory = models.ForeignKey(Signatory, on_delete=models.CASCADE, related_name="staff_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    text = models.TextField(_("note"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("staff note")
        verbose_name_plural = _("staff notes")


# --- Sampling for audits (issue 8) ---------------------------------------------------------------

class AuditItemStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class AuditOutcome(models.TextChoices):
    COMPLIANT = "compliant", _("Compliant")
    MINOR = "minor_findings", _("Minor findings")
    MAJOR = "major_findings", _("Major findings")


class AuditSample(TimeStampedModel):
    """A random draw of active signatories to audit in depth, recorded so it can be reproduced.

    The population is the active signatories matching ``country`` (blank: every country) and
    ``types`` (empty: every type), ordered by id; ``random.Random(seed).sample`` picks the
    signatories. The same seed over the same population gives the same sample;
    ``population_digest`` (SHA-256 of the ordered ids) shows whether the population is still the
    one that was drawn from.
    """

    title = models.CharField(_("title"), max_length=200, blank=True)
    country = CountryField(_("country"), blank=True,
                           help_text=_("Blank: every country (central Code staff only)."))
    types = models.JSONField(_("types"), default=list, blank=True)
    requested_size = models.PositiveIntegerField(_("requested size"), null=True, blank=True)
    requested_percentage = models.DecimalField(_("requested percentage"), max_digits=5,
                                               decimal_places=2, null=True, blank=True)
    seed = models.CharField(_("seed"), max_length=64)
    population_size = models.PositiveIntegerField(_("population size"))
    population_digest = models.CharField(_("population digest"), max_length=64)
    sample_size = models.PositiveIntegerField(_("sample size"))
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("drawn by"), null=True,
                                 on_delete=models.SET_NULL, related_name="+")
    drawn_at = models.DateTimeField(_("drawn"), default=timezone.now)

    class Meta:
        verbose_name = _("audit sample")
        verbose_name_plural = _("audit samples")
        ordering = ["-drawn_at", "-id"]
        indexes = [
            # sample list: newest first; local representatives filter by country first
            models.Index(fields=["country", "-drawn_at"], name="sig_auditsample_country_idx"),
            models.Index(fields=["-drawn_at", "-id"], name="sig_auditsample_drawn_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_size__lte=models.F("population_size")),
                name="signatories_auditsample_size_within_population"),
        ]

    def __str__(self) -> str:
        return self.title or _("Sample of %(date)s") % {"date": f"{self.drawn_at:%Y-%m-%d}"}

    @property
    def type_labels(self) -> list[str]:
        labels = dict(SignatoryType.choices)
        return [str(labels.get(t, t)) for t in self.types]


class AuditItem(TimeStampedModel):
    """One sampled signatory and the audit of it: who audits, what was found, what follows."""

    sample = models.ForeignKey(AuditSample, on_delete=models.CASCADE, related_name="items",
                               verbose_name=_("sample"))
    signatory = models.ForeignKey(Signatory, on_delete=models.PROTECT, related_name="audit_items",
                                  verbose_name=_("signatory"))
    position = models.PositiveIntegerField(_("order drawn"))
    status = models.CharField(_("status"), max_length=20, choices=AuditItemStatus.choices,
                              default=AuditItemStatus.PLANNED)
    auditor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auditor"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="+")
    findings = models.TextField(_("findings"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=AuditOutcome.choices,
                               blank=True)
    follow_up_on = models.DateField(_("follow-up date"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit item")
        verbose_name_plural = _("audit items")
        ordering = ["sample_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "signatory"],
                                    name="signatories_audititem_once_per_sample"),
            models.UniqueConstraint(fields=["sample", "position"],
                                    name="signatories_audititem_unique_position"),
            models.CheckConstraint(
                condition=~models.Q(status=AuditItemStatus.CLOSED) | ~models.Q(outcome=""),
                name="signatories_audititem_closed_has_outcome"),
        ]
        indexes = [
            # the dossier: a signatory's audits, newest sample first
            models.Index(fields=["signatory", "-sample"], name="sig_audititem_signatory_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sample} – {self.signatory}"

    def is_overdue_on(self, day) -> bool:
        return (self.status != AuditItemStatus.CLOSED and self.follow_up_on is not None
                and self.follow_up_on < day)
