"""Accessibility of the certificate pages: axe-core finds no serious or critical violation.

Reuses the browser fixtures of tests/code_portal/test_accessibility.py (system Chromium, live
server, axe-core injected through the DevTools protocol).
"""

from __future__ import annotations

import pytest

from reporting import certificates as svc
from reporting.models import CertificateRegeneration, RegenerationStatus
from tests.code_portal.test_accessibility import (  # noqa: F401 (fixtures)
    CHROMIUM,
    assert_accessible,
    browser_as,
    chromium,
)
from tests.reporting.certificate_helpers import approve, submitted_report

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


@pytest.fixture
def certificates(company_a, company_admin, staff_reviewer, staff_admin,
                 django_capture_on_commit_callbacks):
    valid = approve(submitted_report(company_a), staff_reviewer, django_capture_on_commit_callbacks)
    old = approve(submitted_report(company_a, year=2029), staff_reviewer,
                  django_capture_on_commit_callbacks)
    svc.certificate_revoke(certificate=old, actor=staff_admin, reason="Evidence withdrawn")
    return valid, old


def test_public_verification_pages(browser_as, certificates):  # noqa: F811
    valid, revoked = certificates
    page = browser_as()
    assert_accessible(page, f"/verify/{valid.code}/")
    assert_accessible(page, f"/verify/{revoked.code}/")
    assert_accessible(page, "/verify/")


def test_company_certificate_list(browser_as, company_admin, company_a, certificates):  # noqa: F811
    assert_accessible(browser_as(company_admin), f"/company/{company_a.pk}/certificates/")


def test_staff_certificate_pages(browser_as, staff_admin, certificates):  # noqa: F811
    valid, revoked = certificates
    job = CertificateRegeneration.objects.create(year=2030, requested_by=staff_admin, total=4,
                                                 done=1, status=RegenerationStatus.RUNNING)
    page = browser_as(staff_admin)
    for path in ("/staff/certificates/", f"/staff/certificates/{valid.pk}/",
                 f"/staff/certificates/{revoked.pk}/",
                 f"/staff/certificates/regenerations/{job.pk}/"):
        assert_accessible(page, path)
