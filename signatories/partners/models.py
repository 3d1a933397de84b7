"""Hotel partners (and other suppliers) of a signatory, and their confirmations of the Code's
guidelines (criterion 3: the zero-tolerance clause through the value chain).

One :class:`ConfirmationRequest` is one e-mailed link and, once answered, the confirmation (or
the refusal) itself: who answered, when, from which address and browser, against which version
of the guidelines, and until when the confirmation is valid.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from code_portal.models import ImportJobBase, ImportStatus, TimeStampedModel  # noqa: F401 (re-exported)
from signatories.models import website_domain

# A confirmation counts for this many months from the day it was given (see ``valid_until_for``).
CONFIRMATION_VALID_MONTHS = 12
# An e-mailed link can be used for this many days; reminders go out before it runs out.
LINK_VALID_DAYS = 30


class PartnerKind(models.TextChoices):
    HOTEL = "hotel", _("Hotel / accommodation")
    GROUND_HANDLER = "ground_handler", _("Ground handler")
    TRANSPORT = "transport", _("Transport")
    EXCURSIONS = "excursions", _("Excursions")
    OTHER = "other", _("Other supplier")


class Partner(TimeStampedModel):
    """A supplier a signatory contracts with. ``signatory`` is the operator that keeps the list."""

    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="partners")
    kind = models.CharField(_("kind"), max_length=20, choices=PartnerKind.choices,
                            default=PartnerKind.HOTEL)
    name = models.CharField(_("name"), max_length=200)
    country = CountryField(_("country"))
    city = models.CharField(_("city"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    website_domain = models.CharField(max_length=200, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=10, blank=True,
                                choices=settings.LANGUAGES,
                                help_text=_("The language of the e-mails and of the confirmation "
                                            "page, where available."))
    contract_reference = models.CharField(_("contract reference"), max_length=100, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    carries_clause = models.BooleanField(_("contract carries the Code clause"), default=False)
    linked_signatory = models.ForeignKey(
        "signatories.Signatory", verbose_name=_("linked signatory"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="partner_of",
        help_text=_("The partner is itself a signatory of The Code."))
    # Kept by the services (``services.partner_state_refresh``) so that lists and rates need
    # no correlated subquery per partner: the latest request (for pending / declined / link
    # expired) and the last day of the longest-running confirmation. A partner is confirmed
    # today iff confirmed_until >= today (confirmations are never dated in the future).
    last_request = models.ForeignKey("partners.ConfirmationRequest", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+", editable=False)
    # copies of the latest request's status and link expiry: a partner's state is then a CASE
    # on its own row (no join to the requests on lists, filters and counts)
    last_status = models.CharField(max_length=10, blank=True, editable=False)
    last_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_until = models.DateField(_("confirmed until"), null=True, blank=True, editable=False)
    # the import that created it: a re-run of the same import recognises its own rows
    import_job = models.ForeignKey("partners.PartnerImportJob", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contract_end__isnull=True) | models.Q(contract_start__isnull=True)
                | models.Q(contract_end__gte=models.F("contract_start")),
                name="partners_partner_contract_dates_ordered"),
            models.CheckConstraint(
                condition=~models.Q(linked_signatory=models.F("signatory")),
                name="partners_partner_not_linked_to_itself"),
        ]
        indexes = [
            # the company's partner list: WHERE signatory_id = %s ORDER BY name, id LIMIT 25
            models.Index(fields=["signatory", "name", "id"], name="partners_list_idx"),
            # import duplicate check and link suggestions: same name (case-insensitive) + country
            models.Index(Lower("name"), "country", name="partners_name_country_idx"),
            # requests addressed to a hotel signatory: WHERE linked_signatory_id = %s
            models.Index(fields=["linked_signatory"], name="partners_linked_idx"),
            # staff rates rows: EXISTS(partner of the signatory with a contract in force today),
            # answered from the index alone
            models.Index(fields=["signatory", "contract_end", "contract_start"],
                         name="partners_in_force_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.website_domain = website_domain(self.website)
        super().save(*args, **kwargs)

    def in_force_on(self, day: date) -> bool:
        return ((self.contract_start is None or self.contract_start <= day)
                and (self.contract_end is None or self.contract_end >= day))


class PartnerState(models.TextChoices):
    """What the operator sees per partner (``selectors.with_state``)."""

    NEVER_ASKED = "never_asked", _("Never asked")
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


def valid_until_for(confirmed_on: date, months: int = CONFIRMATION_VALID_MONTHS) -> date:
    """Last day a confirmation given on ``confirmed_on`` counts (inclusive): the day before the
    same date ``months`` later; from 29 February the anniversary is 1 March."""
    total = confirmed_on.month - 1 + months
    year, month = confirmed_on.year + total // 12, total % 12 + 1
    try:
        anniversary = confirmed_on.replace(year=year, month=month)
    except ValueError:  # 29-31 of a shorter month: the anniversary is the 1st of the next one
        anniversary = date(year + month // 12, month % 12 + 1, 1)
    return anniversary - timedelta(days=1)


class GuidelinesVersion(TimeStampedModel):
    """A version of the guidelines a partner confirms. Texts per language in GuidelinesText."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    published_on = models.DateField(_("published on"))
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        ordering = ["-published_on"]
        verbose_name = _("guidelines version")
        verbose_name_plural = _("guidelines versions")
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=models.Q(is_current=True),
                                    name="partners_guidelinesversion_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    def text_in(self, language: str) -> GuidelinesText | None:
        """The text in ``language``, else English, else any."""
        texts = {t.language: t for t in self.texts.all()}
        return texts.get(language) or texts.get("en") or next(iter(texts.values()), None)


class GuidelinesText(models.Model):
    version = models.ForeignKey(GuidelinesVersion, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))

    class Meta:
        verbose_name = _("guidelines text")
        verbose_name_plural = _("guidelines texts")
        constraints = [
            models.UniqueConstraint(fields=["version", "language"],
                                    name="partners_guidelinestext_one_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.version.version} [{self.language}]"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Link expired")
    CANCELLED = "cancelled", _("Cancelled")


class ConfirmationRequest(TimeStampedModel):
    """One request to a partner, its e-mailed link, and the answer.

    The link's token is never stored: it is an HMAC of ``token_salt`` with the secret key
    (``tokens.py``), and only its SHA-256 is kept for the lookup. ``status`` ``pending`` with
    ``expires_at`` in the past is an expired link even before the daily job marks it so.
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE,
                                related_name="confirmation_requests")
    # the operator (the partner's signatory), kept here so scoped lists need no join
    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="partner_confirmation_requests")
    token_salt = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(_("sent to"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"))
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # the answer
    responder_name = models.CharField(_("name"), max_length=200, blank=True)
    responder_position = models.CharField(_("position"), max_length=200, blank=True)
    responder_date = models.DateField(_("date"), null=True, blank=True)
    responder_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+",
                                       help_text=_("Set when answered from a signatory's account."))
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=400, blank=True)
    guidelines_version = models.ForeignKey(GuidelinesVersion, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    new_link_asked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("confirmation request")
        verbose_name_plural = _("confirmation requests")
        ordering = ["-sent_at", "-id"]
        constraints = [
            # one open request per partner: sending again while one is pending does nothing
            # (also under concurrency: the second insert fails on this index)
            models.UniqueConstraint(fields=["partner"],
                                    condition=models.Q(status=RequestStatus.PENDING),
                                    name="partners_request_one_pending_per_partner"),
            models.CheckConstraint(
                condition=~models.Q(status=RequestStatus.CONFIRMED)
                | (models.Q(confirmed_on__isnull=False, valid_until__isnull=False,
                            responded_at__isnull=False) & ~models.Q(responder_name="")),
                name="partners_request_confirmed_has_answer"),
            models.CheckConstraint(
                condition=~models.Q(status=RequestStatus.DECLINED) | ~models.Q(decline_reason=""),
                name="partners_request_declined_has_reason"),
        ]
        indexes = [
            # per-partner status on lists: latest request of a partner
            # (WHERE partner_id = %s ORDER BY sent_at DESC, id DESC LIMIT 1)
            models.Index(fields=["partner", "-sent_at", "-id"], name="partners_req_latest_idx"),
            # confirmation rates: EXISTS(confirmed WHERE partner_id = %s AND confirmed_on <= D
            # AND valid_until >= D)
            models.Index(fields=["partner", "valid_until", "confirmed_on"],
                         condition=models.Q(status=RequestStatus.CONFIRMED),
                         name="partners_req_valid_idx"),
            # reminders and the expiry job: pending requests by send date
            models.Index(fields=["sent_at"], condition=models.Q(status=RequestStatus.PENDING),
                         name="partners_req_pending_idx"),
            # the operator's request list
            models.Index(fields=["signatory", "-sent_at"], name="partners_req_signatory_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} ({self.get_status_display()}, {self.sent_at:%Y-%m-%d})"

    @property
    def link_expired(self) -> bool:
        return self.status == RequestStatus.EXPIRED or (
            self.status == RequestStatus.PENDING and self.expires_at <= timezone.now())

    @property
    def effective_status(self) -> str:
        return RequestStatus.EXPIRED if self.link_expired else self.status

    def confirmation_valid_on(self, day: date) -> bool:
        return (self.status == RequestStatus.CONFIRMED and self.confirmed_on is not None
                and self.confirmed_on <= day <= self.valid_until)


def import_path(instance: PartnerImportJob, filename: str) -> str:
    return f"partner-imports/{instance.signatory_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class PartnerImportJob(ImportJobBase):
    """A bulk upload of partners."""

    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="partner_imports")
    file = models.FileField(upload_to=import_path, max_length=300)
    created_partners = models.PositiveIntegerField(default=0)

    class Meta(ImportJobBase.Meta):
        verbose_name = _("partner import")
        verbose_name_plural = _("partner imports")
        # the import page's list of earlier imports
        indexes = [models.Index(fields=["signatory", "-created_at"], name="partners_import_list_idx")]
