"""Certificates of membership in good standing: issue, revoke, re-issue, regenerate, verify.

Writes follow the services pattern (keyword-only, atomic, audited); the reads scoped to a user
are the selectors at the bottom. The PDF is drawn by the pure :mod:`reporting.pdf` renderer and
stored through Django's default storage, which is private (no public media URL).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from code_portal.audit import audit_record
from code_portal.errors import DomainError
from code_portal.models import User
from reporting.models import (
    Certificate,
    CertificateCounter,
    CertificateRegeneration,
    RegenerationStatus,
    Report,
    ReportStatus,
)
from reporting.pdf import CertificateData, render_certificate
from signatories.models import Signatory, SignatoryStatus
from signatories.selectors import signatory_scope_q

# No 0/O, 1/I/L: a code read aloud or typed from paper cannot be mistaken.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 31**12 ≈ 8·10^17 codes: not guessable within any rate limit
REISSUE_STATUSES = (SignatoryStatus.ACTIVE, SignatoryStatus.REPORTING_OVERDUE)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """What a person typed (lower case, spaces, dashes) → the stored form."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def validity_for(approved_on: date) -> tuple[date, date]:
    """One year from the approval date; the last day is inclusive (29 Feb → 28 Feb)."""
    try:
        next_year = approved_on.replace(year=approved_on.year + 1)
    except ValueError:  # 29 February
        next_year = date(approved_on.year + 1, 3, 1)
    return approved_on, next_year - timedelta(days=1)


def verification_url(code: str) -> str:
    return settings.SITE_URL + reverse("certificate-verify", args=[code])


def _take_number(year: int) -> tuple[int, str]:
    # The counter row is locked until the issuing transaction commits: two issues in the same
    # year queue here and get consecutive numbers.
    CertificateCounter.objects.get_or_create(year=year)
    counter = CertificateCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"TC-{year}-{counter.last_number:06d}"


def _unique_code() -> str:
    while True:
        code = new_code()
        if not Certificate.objects.filter(code=code).exists():
            return code


def certificate_data(certificate: Certificate) -> CertificateData:
    """The printed texts, in the site's language."""
    from django_countries import countries

    with translation.override(settings.LANGUAGE_CODE):
        valid = _("Valid from %(start)s until %(end)s") % {
            "start": date_format(certificate.valid_from, "j F Y"),
            "end": date_format(certificate.valid_until, "j F Y")}
        issued_on = timezone.localdate(certificate.issued_at)
        return CertificateData(
            organisation=_("The Code"),
            title=_("Certificate of membership in good standing"),
            company_name=certificate.company_name,
            country=str(countries.name(certificate.country)),
            statement=_("has fulfilled its reporting obligations under The Code for %(year)s")
            % {"year": certificate.year},
            valid_label=valid,
            number_label=_("Certificate number"),
            number=certificate.number,
            issued_label=_("Issued on"),
            issued_on=issued_on,
            issued_on_text=date_format(issued_on, "j F Y"),
            code_label=_("Verification code"),
            code=certificate.code,
            verify_hint=_("Verify at"),
            verify_url=verification_url(certificate.code),
            author=_("The Code"),
            subject=_("Certificate %(number)s for %(company)s, reporting year %(year)s") % {
                "number": certificate.number, "company": certificate.company_name,
                "year": certificate.year},
        )


def _store_pdf(certificate: Certificate) -> None:
    content = render_certificate(certificate_data(certificate))
    if certificate.pdf:
        certificate.pdf.delete(save=False)
    certificate.pdf.save(f"{certificate.number}.pdf", ContentFile(content), save=False)
    certificate.pdf_size = len(content)
    certificate.rendered_at = timezone.now()
    Certificate.objects.filter(pk=certificate.pk).update(
        pdf=certificate.pdf.name, pdf_size=certificate.pdf_size,
        rendered_at=certificate.rendered_at)


def _create(*, report: Report, signatory: Signatory, valid_from: date, valid_until: date,
            replaces: Certificate | None = None) -> Certificate:
    sequence, number = _take_number(report.year)
    certificate = Certificate.objects.create(
        signatory=signatory, report=report, year=report.year, sequence=sequence, number=number,
        code=_unique_code(), company_name=signatory.legal_name, country=str(signatory.country),
        valid_from=valid_from, valid_until=valid_until, issued_at=timezone.now(),
        replaces=replaces)
    _store_pdf(certificate)
    return certificate


@transaction.atomic
def certificate_issue(*, report: Report) -> tuple[Certificate, bool]:
    """The certificate for an approved report; ``(certificate, created)``.

    Idempotent: the report row is locked first, so a second run (a retry, or a concurrent
    duplicate delivery) waits, then finds the first run's certificate and returns it. The
    partial unique constraint on the report backs this up in the database.
    """
    report = Report.objects.select_for_update().select_related("signatory").get(pk=report.pk)
    existing = (Certificate.objects.filter(report=report, replaces__isnull=True)
                .select_related("signatory").first())
    if existing is not None:
        return existing, False
    if report.status != ReportStatus.APPROVED:
        raise DomainError(_("Only an approved report earns a certificate."))
    approved_on = timezone.localdate(report.decided_at or timezone.now())
    valid_from, valid_until = validity_for(approved_on)
    certificate = _create(report=report, signatory=report.signatory, valid_from=valid_from,
                          valid_until=valid_until)
    audit_record(actor=None, action="certificate.issued", obj=certificate,
                 signatory=report.signatory, to_state="valid",
                 changes={"number": {"from": None, "to": certificate.number},
                          "report": {"from": None, "to": report.pk}})
    return certificate, True


def _require_manager(actor: User, signatory: Signatory) -> None:
    if not actor.has_perm("reporting.manage_certificates", signatory):
        raise PermissionDenied(_("You are not allowed to do this."))


def _revoke(certificate: Certificate, *, actor: User | None, reason: str,
            action: str) -> Certificate:
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = actor if actor is not None and actor.pk else None
    certificate.revocation_reason = reason
    certificate._change_reason = reason
    certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason",
                                    "updated_at"])
    audit_record(actor=actor, action=action, obj=certificate, signatory=certificate.signatory,
                 from_state="valid", to_state="revoked", reason=reason)
    return certificate


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    _require_manager(actor, certificate.signatory)
    if not reason.strip():
        raise DomainError(_("Please give a reason."), field="reason")
    certificate = (Certificate.objects.select_for_update().select_related("signatory")
                   .get(pk=certificate.pk))
    if certificate.revoked_at is not None:
        raise DomainError(_("This certificate has already been revoked."))
    return _revoke(certificate, actor=actor, reason=reason, action="certificate.revoked")


@transaction.atomic
def certificate_revoke_current(*, signatory: Signatory, actor: User | None,
                               reason: str) -> list[Certificate]:
    """Revoke the signatory's certificates still in force (called by suspend and expel, inside
    their transaction). Expired ones stay as they are: they were honest for their period."""
    today = timezone.localdate()
    current = list(Certificate.objects.select_for_update().select_related("signatory").filter(
        signatory=signatory, revoked_at__isnull=True, valid_until__gte=today))
    return [_revoke(c, actor=actor, reason=reason, action="certificate.revoked")
            for c in current]


@transaction.atomic
def certificate_reissue(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """A new certificate (new number and code, same validity) in place of this one, which is
    revoked if it was not already. Only the latest certificate of a chain can be re-issued."""
    _require_manager(actor, certificate.signatory)
    if not reason.strip():
        raise DomainError(_("Please give a reason."), field="reason")
    old = (Certificate.objects.select_for_update().select_related("signatory", "report")
           .get(pk=certificate.pk))
    if Certificate.objects.filter(replaces=old).exists():
        raise DomainError(_("This certificate has already been re-issued."))
    signatory = Signatory.objects.get(pk=old.signatory_id)
    if signatory.status not in REISSUE_STATUSES:
        raise DomainError(_("Only a member in good standing can receive a certificate."))
    if old.revoked_at is None:
        _revoke(old, actor=actor, reason=reason, action="certificate.revoked")
    new = _create(report=old.report, signatory=signatory, valid_from=old.valid_from,
                  valid_until=old.valid_until, replaces=old)
    audit_record(actor=actor, action="certificate.reissued", obj=new, signatory=signatory,
                 to_state="valid", reason=reason,
                 changes={"number": {"from": old.number, "to": new.number}})
    transaction.on_commit(lambda: _tasks().certificate_send.delay(new.pk))
    return new


def certificate_claim_email(certificate_id: int) -> bool:
    """Win the right to send the certificate's e-mail (once per certificate)."""
    return bool(Certificate.objects.filter(pk=certificate_id, emailed_at__isnull=True)
                .update(emailed_at=timezone.now()))


def certificate_release_email(certificate_id: int) -> None:
    """Sending failed: let the retry claim it again."""
    Certificate.objects.filter(pk=certificate_id).update(emailed_at=None)


# --- bulk regeneration --------------------------------------------------------------------------

@transaction.atomic
def regeneration_start(*, actor: User, year: int) -> CertificateRegeneration:
    if not actor.has_perm("reporting.manage_certificates", None):
        raise PermissionDenied(_("You are not allowed to do this."))
    if CertificateRegeneration.objects.filter(
            year=year, status__in=[RegenerationStatus.PENDING, RegenerationStatus.RUNNING]).exists():
        raise DomainError(_("The certificates of %(year)s are already being regenerated.")
                          % {"year": year})
    total = Certificate.objects.filter(year=year).count()
    if not total:
        raise DomainError(_("There are no certificates for %(year)s.") % {"year": year})
    job = CertificateRegeneration.objects.create(year=year, requested_by=actor, total=total)
    audit_record(actor=actor, action="certificate.regeneration_started", obj=job,
                 changes={"year": {"from": None, "to": year}, "total": {"from": None, "to": total}})
    transaction.on_commit(lambda: _tasks().certificates_regenerate.delay(job.pk))
    return job


def regeneration_run(*, job_id: int, batch: int = 20) -> CertificateRegeneration:
    """Re-render every PDF of the job's year in id order, saving progress after each batch.

    Claim first: only a pending (or, after a lost worker, running) job is worked on; a finished
    one is left alone. Numbers and codes are never touched.
    """
    claimed = CertificateRegeneration.objects.filter(
        pk=job_id, status__in=[RegenerationStatus.PENDING, RegenerationStatus.RUNNING]
    ).update(status=RegenerationStatus.RUNNING, updated_at=timezone.now())
    job = CertificateRegeneration.objects.select_related("requested_by").get(pk=job_id)
    if not claimed:
        return job
    try:
        while True:
            chunk = list(Certificate.objects.select_related("signatory").filter(
                year=job.year, pk__gt=job.last_certificate_id).order_by("pk")[:batch])
            if not chunk:
                break
            with transaction.atomic():
                for certificate in chunk:
                    _store_pdf(certificate)
                    audit_record(actor=job.requested_by, action="certificate.regenerated",
                                 obj=certificate, signatory=certificate.signatory,
                                 reason=_("Bulk regeneration of %(year)s") % {"year": job.year})
                job.done += len(chunk)
                job.last_certificate_id = chunk[-1].pk
                job.save(update_fields=["done", "last_certificate_id", "updated_at"])
    except Exception as exc:
        job.status, job.error, job.finished_at = RegenerationStatus.FAILED, str(exc)[:2000], \
            timezone.now()
        job.save(update_fields=["status", "error", "finished_at", "updated_at"])
        raise
    job.status, job.finished_at = RegenerationStatus.DONE, timezone.now()
    job.total = max(job.total, job.done)
    job.save(update_fields=["status", "finished_at", "total", "updated_at"])
    return job


def _tasks():
    from reporting import tasks

    return tasks


# --- selectors ----------------------------------------------------------------------------------

def certificate_list_for(user: User) -> QuerySet[Certificate]:
    ids = Signatory.objects.filter(signatory_scope_q(user)).values("pk")
    return Certificate.objects.filter(signatory__in=ids).select_related(
        "signatory", "revoked_by", "replaces", "replaced_by")


def certificate_get_for(user: User, pk: int | str) -> Certificate:
    try:
        return certificate_list_for(user).get(pk=int(pk))
    except (Certificate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def certificate_verify(code: str) -> Certificate | None:
    """Public lookup by verification code (the caller shows only public fields)."""
    code = normalise_code(code)
    if not code or len(code) > 20:
        return None
    return Certificate.objects.filter(code=code).first()


def regeneration_get_for(user: User, pk: int | str) -> CertificateRegeneration:
    if not user.has_perm("reporting.manage_certificates", None):
        raise Http404
    try:
        return CertificateRegeneration.objects.get(pk=int(pk))
    except (CertificateRegeneration.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
