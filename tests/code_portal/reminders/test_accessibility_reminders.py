"""The notification log and the reminder settings page have no serious axe violations."""

from __future__ import annotations

import pytest

from code_portal.reminders.models import Notification
from tests.code_portal.test_accessibility import (  # noqa: F401 (fixtures)
    CHROMIUM,
    assert_accessible,
    browser_as,
    chromium,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


def test_log_and_settings_pages_are_accessible(browser_as, company_a, company_admin,  # noqa: F811
                                               staff_reviewer):
    rows = [Notification.objects.create(
        key=f"a11y-{i}", kind="report-due" if i % 2 else "training-refresher",
        signatory=company_a, recipients=["admin@nordic.example"],
        template="reminders/email/report_due", reason=f"Reminder {i}",
        status="sent" if i % 3 else "failed", last_error="" if i % 3 else "SMTP down")
        for i in range(30)]  # more than a page: pagination on screen
    company = browser_as(company_admin)
    for path in (f"/company/{company_a.pk}/notifications/", f"/notifications/{rows[0].pk}/",
                 "/account/reminders/"):
        assert_accessible(company, path)
    assert_accessible(browser_as(staff_reviewer), "/staff/notifications/?kind=report-due")
