import pytest

from signatories import services
from signatories.models import SignatoryStatus

pytestmark = pytest.mark.django_db


def test_company_applies_and_staff_approves_and_company_signs(staff_reviewer, mailoutbox,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signatory = services.signatory_apply(
            data={"legal_name": "Alpine Travel GmbH", "type": "tour_operator", "country": "AT",
                  "address": "Wien", "employees": 12, "contact_name": "Anna",
                  "contact_email": "anna@alpine.example"},
            applicant_email="Anna@alpine.example", applicant_name="Anna", password="x" * 12)
    assert signatory.status == SignatoryStatus.APPLIED
    admin = signatory.memberships.get().user
    assert admin.email == "anna@alpine.example"
    assert any("Alpine Travel GmbH" in m.subject for m in mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.signatory_approve(signatory=signatory, actor=staff_reviewer)
    assert signatory.status == SignatoryStatus.APPROVED
    assert signatory.membership_number == f"TC-AT-{signatory.pk:06d}"
    services.signatory_sign(signatory=signatory, actor=admin, signer_name="Anna Berg",
                            signer_title="CEO")
    assert signatory.status == SignatoryStatus.ACTIVE
    assert signatory.signed_code_version.version == "2024"
    assert signatory.audit_events.count() == 3
