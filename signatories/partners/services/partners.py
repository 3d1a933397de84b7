"""Partners: create, edit, delete, link; the kept state; imports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from code_portal.audit import audit_record, diff_fields
from code_portal.authz import require
from code_portal.errors import DomainError
from code_portal.models import User
from code_portal.uploads import check_upload
from signatories.models import Signatory
from signatories.partners.models import (
    ConfirmationRequest,
    Partner,
    PartnerImportJob,
    RequestStatus,
)

R = RequestStatus
PARTNER_FIELDS = ["kind", "name", "country", "city", "contact_email", "website", "language",
                  "contract_reference", "contract_start", "contract_end", "carries_clause"]
# Requests per e-mail task: 1,000 requests are 10 tasks, not 1,000 e-mails in the request.
EMAIL_BATCH = 100
IMPORT_MAX_BYTES = 10 * 1024 * 1024
MAX_TEXT = 2000


def _tasks():
    from signatories.partners import tasks

    return tasks


def _check_partner(partner: Partner) -> None:
    if not partner.name.strip():
        raise DomainError(_("Enter the partner's name."), field="name")
    if partner.contract_start and partner.contract_end and partner.contract_end < partner.contract_start:
        raise DomainError(_("The contract cannot end before it starts."), field="contract_end")


# --- Partners ---------------------------------------------------------------------------------------

@transaction.atomic
def partner_create(*, actor: User | None, signatory: Signatory, data: dict[str, Any]) -> Partner:
    require(actor, "partners.manage_partners", signatory)
    partner = Partner(signatory=signatory, **{k: v for k, v in data.items() if k in PARTNER_FIELDS})
    _check_partner(partner)
    partner.save()
    audit_record(actor=actor, action="partner.created", obj=partner, signatory=signatory)
    return partner


@transaction.atomic
def partner_update(*, actor: User | None, partner: Partner, data: dict[str, Any]) -> Partner:
    require(actor, "partners.manage_partners", partner.signatory)
    before = {name: getattr(partner, name) for name in PARTNER_FIELDS}
    for key, value in data.items():
        if key in PARTNER_FIELDS:
            setattr(partner, key, value)
    _check_partner(partner)
    changes = diff_fields(partner, before, PARTNER_FIELDS)
    if changes:
        partner.save()
        audit_record(actor=actor, action="partner.edited", obj=partner,
                     signatory=partner.signatory, changes=changes)
    return partner


@transaction.atomic
def partner_delete(*, actor: User | None, partner: Partner) -> None:
    require(actor, "partners.manage_partners", partner.signatory)
    audit_record(actor=actor, action="partner.deleted", obj=partner, signatory=partner.signatory,
                 changes={"name": {"from": partner.name}})
    partner.delete()


@transaction.atomic
def partner_link(*, actor: User | None, partner: Partner, linked: Signatory | None) -> Partner:
    """Link the partner to the signatory it is (or unlink it with ``linked=None``)."""
    require(actor, "partners.manage_partners", partner.signatory)
    if linked is not None and linked.pk == partner.signatory_id:
        raise DomainError(_("A company cannot be its own partner."), field="linked_signatory")
    before = partner.linked_signatory_id
    partner.linked_signatory = linked
    partner.save(update_fields=["linked_signatory", "updated_at"])
    audit_record(actor=actor, action="partner.linked" if linked else "partner.unlinked",
                 obj=partner, signatory=partner.signatory,
                 changes={"linked_signatory": {"from": before, "to": linked.pk if linked else None}})
    return partner


# --- The partner's kept state ------------------------------------------------------------------------

def partner_state_refresh(partner_ids: Iterable[int] | None = None) -> int:
    """Recompute ``Partner.last_request`` and ``Partner.confirmed_until`` from the requests, in
    one UPDATE (all partners with ``None``). Services call it for the partners they touch; the
    bench calls it after bulk SQL inserts."""
    partners = Partner.objects.all()
    if partner_ids is not None:
        partners = partners.filter(pk__in=list(partner_ids))
    latest = ConfirmationRequest.objects.filter(partner=OuterRef("pk")).order_by("-sent_at", "-id")
    return partners.update(
        last_request=Subquery(latest.values("id")[:1]),
        last_status=Coalesce(Subquery(latest.values("status")[:1]), Value("")),
        last_expires_at=Subquery(latest.values("expires_at")[:1]),
        confirmed_until=Subquery(ConfirmationRequest.objects.filter(
            partner=OuterRef("pk"), status=R.CONFIRMED).order_by("-valid_until")
            .values("valid_until")[:1]))


# --- Import -------------------------------------------------------------------------------------------

@transaction.atomic
def partner_import_create(*, actor: User, signatory: Signatory, upload: UploadedFile,
                          import_valid_rows: bool = False) -> PartnerImportJob:
    """Store the upload, check its columns now, and enqueue its import (a Celery task)."""
    require(actor, "partners.import_partners", signatory)
    try:
        checked = check_upload(upload, kinds=("csv", "xlsx"), max_bytes=IMPORT_MAX_BYTES)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="file") from exc
    from signatories.partners.importer import check_partner_file
    from training.importers import ImportFileError

    try:
        check_partner_file(upload, filename=checked.name)
    except ImportFileError as exc:
        raise DomainError(exc.message, field="file") from exc
    job = PartnerImportJob(signatory=signatory, uploaded_by=actor, original_name=checked.name,
                           import_valid_rows=import_valid_rows)
    job.file.save(checked.name, upload, save=False)
    job.save()
    audit_record(actor=actor, action="partner_import.created", obj=job, signatory=signatory,
                 changes={"file": {"to": checked.name}})

    def enqueue() -> None:
        result = _tasks().run_partner_import.delay(job.pk)
        PartnerImportJob.objects.filter(pk=job.pk, task_id="").update(task_id=result.id or "")

    transaction.on_commit(enqueue)
    return job


