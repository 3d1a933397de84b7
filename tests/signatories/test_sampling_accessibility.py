"""Accessibility of the dossier and the audit sampling pages: axe-core in the system Chromium
finds no serious or critical violation, with tables, progress, overdue flags and form errors on
screen. One browser session walks every page (browser tests are slow on this machine)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from signatories import sampling, services
from signatories.models import AuditItemStatus
from tests.code_portal.test_accessibility import (  # noqa: F401  (fixtures)
    CHROMIUM,
    assert_accessible,
    browser_as,
    chromium,
    serious_violations,
)
from tests.factories import SignatoryFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


def test_dossier_and_sampling_pages_have_no_serious_accessibility_violations(
        browser_as, staff_reviewer, company_a, company_admin):  # noqa: F811
    for _ in range(5):
        SignatoryFactory(country="SE", status="active", active=True)
    services.staff_note_add(signatory=company_a, actor=staff_reviewer, text="Internal note")
    sample = sampling.audit_sample_draw(actor=staff_reviewer, country="SE", percentage=100,
                                        title="Accessible sample")
    first = sample.items.order_by("position").first()
    sampling.audit_item_update(item=first, actor=staff_reviewer, data={
        "status": AuditItemStatus.IN_PROGRESS, "auditor": staff_reviewer,
        "follow_up_on": timezone.localdate() - timedelta(days=1)})
    page = browser_as(staff_reviewer)
    for path in (f"/staff/signatories/{company_a.pk}/", "/staff/audit-samples/",
                 "/staff/audit-samples/new/", f"/staff/audit-samples/{sample.pk}/?verify=1",
                 f"/staff/audit-items/{first.pk}/"):
        assert_accessible(page, path)
    # forms with their errors on screen
    page.goto("/staff/audit-samples/new/")
    page.get_by_role("button", name="Draw the sample").click()
    assert page.locator(".errors").count() > 0
    problems = serious_violations(page)
    assert not problems, "\n".join(problems)
    page.goto(f"/staff/audit-items/{first.pk}/")
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Save").click()
    assert page.locator(".field.has-error").count() > 0
    problems = serious_violations(page)
    assert not problems, "\n".join(problems)
