"""Accessibility of the audit trail and export pages: axe-core finds no serious or critical
violation (set-up shared with tests/code_portal/test_accessibility.py)."""

from __future__ import annotations

import pytest

from code_portal.audit import audit_record
from code_portal.models import AuditEvent
from code_portal.staff.models import ExportJob, ExportStatus
from tests.code_portal.test_accessibility import (  # noqa: F401 (fixtures)
    CHROMIUM,
    assert_accessible,
    browser_as,
    chromium,
)
from tests.factories import SignatoryFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


@pytest.fixture
def trail(staff_admin):
    for i in range(60):  # more than a page
        signatory = SignatoryFactory(legal_name=f"Audited Travel {i:02d}")
        audit_record(actor=staff_admin, action="signatory.reject", obj=signatory,
                     signatory=signatory, from_state="applied", to_state="rejected",
                     reason="Residential care visits",
                     changes={"legal_name": {"from": "Old name", "to": signatory.legal_name}})
    return AuditEvent.objects.order_by("-pk").first()


@pytest.fixture
def jobs(staff_reviewer):
    running = ExportJob.objects.create(requested_by=staff_reviewer, kind="audit", format="csv",
                                       status=ExportStatus.RUNNING, total_rows=5000,
                                       processed_rows=1250)
    failed = ExportJob.objects.create(requested_by=staff_reviewer, kind="signatories",
                                      format="xlsx", status=ExportStatus.FAILED,
                                      error="The export took too long and was stopped.")
    inline = ExportJob.objects.create(requested_by=staff_reviewer, kind="reports", format="csv",
                                      status=ExportStatus.DONE, inline=True, total_rows=12)
    return running, failed, inline


def test_audit_pages_have_no_serious_accessibility_violations(browser_as, staff_reviewer,  # noqa: F811
                                                              trail):
    page = browser_as(staff_reviewer)
    for path in ("/staff/audit/", "/staff/audit/?action=signatory&search=Audited&page=2",
                 f"/staff/audit/{trail.pk}/"):
        assert_accessible(page, path)


def test_export_pages_have_no_serious_accessibility_violations(browser_as, staff_reviewer,  # noqa: F811
                                                               jobs):
    page = browser_as(staff_reviewer)
    for path in ["/staff/exports/"] + [f"/staff/exports/{job.pk}/" for job in jobs]:
        assert_accessible(page, path)
